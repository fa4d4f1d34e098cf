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


def asset_name(dataset: str) -> str:
    return f"fupin/{dataset}"


def asset_uri(dataset: str) -> str:
    return f"fupin://warehouse/{dataset}"


def dataset_names() -> list[str]:
    return list(contracts().datasets)
