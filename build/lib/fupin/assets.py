"""Airflow Asset names, one per dataset (`fupin/registry`, `fupin/dibao`, ...), and the pool.

Cheap to import (no pandas, no GX): DAG files use it at parse time.
"""

from __future__ import annotations

from fupin.config import contracts

INGEST_ALIAS = "fupin/ingest"
# Tasks that write the warehouse or hold a month's snapshots in memory take a slot of this pool
# (slots in config/pools.json, loaded with `airflow pools import`): adding workers speeds up the
# light work without flooding the warehouse with concurrent loads.
WAREHOUSE_POOL = "fupin_warehouse"


def asset_name(dataset: str, county: str | None = None) -> str:
    """`fupin/registry`; in a provincial deployment `fupin/440224/registry` (see fupin.county)."""
    return f"fupin/{dataset}" if county is None else f"fupin/{county}/{dataset}"


def asset_uri(dataset: str, county: str | None = None) -> str:
    return f"fupin://warehouse/{dataset}" if county is None else f"fupin://warehouse/{county}/{dataset}"


def dataset_asset(dataset: str, county: str | None = None):  # noqa: ANN201 - airflow.sdk.Asset
    """The Asset a dataset's loads emit on, and downstream DAGs are scheduled on."""
    from airflow.sdk import Asset

    return Asset(name=asset_name(dataset, county), uri=asset_uri(dataset, county))


def ingest_alias(county: str | None = None) -> str:
    return INGEST_ALIAS if county is None else f"{INGEST_ALIAS}/{county}"


def dataset_names() -> list[str]:
    return list(contracts().datasets)
