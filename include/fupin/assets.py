"""Airflow Asset names, one per dataset (`fupin/registry`, `fupin/dibao`, ...), and the pool.

Cheap to import (no pandas, no GX): DAG files use it at parse time.
"""

from __future__ import annotations

from fupin.config import contracts

INGEST_ALIAS = "fupin/ingest"
# Tasks that write the warehouse or hold a month's snapshots in memory take a slot of their
# county's pool (slots in config/pools.json): adding workers speeds up the light work without
# flooding a warehouse with concurrent loads, and one county's hundred files never hold every
# slot while another county's reconciliation waits — each county's warehouse has its own.
WAREHOUSE_POOL = "fupin_warehouse"


def warehouse_pool(county: str | None = None) -> str:
    """`fupin_warehouse`; in a provincial deployment `fupin_warehouse__440224`."""
    return WAREHOUSE_POOL if county is None else f"{WAREHOUSE_POOL}__{county}"


def pools() -> dict:
    """Every county's pool, as `airflow pools import` reads them (`fupin pools FILE`): each with
    the slots and description of config/pools.json's `fupin_warehouse`."""
    import json

    from fupin.config import project_root
    from fupin.county import counties

    template = json.loads((project_root() / "config" / "pools.json").read_text(encoding="utf-8"))[WAREHOUSE_POOL]
    return {warehouse_pool(c.code): {**template, "description": f"{c.name or c.code or ''} {template['description']}".strip()}
            for c in counties()}


def asset_name(dataset: str, county: str | None = None) -> str:
    """`fupin/registry`; in a provincial deployment `fupin/440224/registry` (see fupin.county)."""
    return f"fupin/{dataset}" if county is None else f"fupin/{county}/{dataset}"


def asset_uri(dataset: str, county: str | None = None) -> str:
    return f"fupin://warehouse/{dataset}" if county is None else f"fupin://warehouse/{county}/{dataset}"


def dataset_asset(dataset: str, county: str | None = None):  # airflow.sdk.Asset
    """The Asset a dataset's loads emit on, and downstream DAGs are scheduled on."""
    from airflow.sdk import Asset

    return Asset(name=asset_name(dataset, county), uri=asset_uri(dataset, county))


def ingest_alias(county: str | None = None) -> str:
    return INGEST_ALIAS if county is None else f"{INGEST_ALIAS}/{county}"


def announce_loaded(outlet_events, county: str | None, rows: dict[str, int], drop: dict) -> None:
    """Emit, through the county's ingest alias, an event on the Asset of every dataset an accepted
    drop loaded: its rows, and the drop's month, source and id, as the event's extra."""
    from airflow.sdk import AssetAlias

    alias = outlet_events[AssetAlias(ingest_alias(county))]
    for dataset, n in rows.items():
        alias.add(dataset_asset(dataset, county), extra={**drop, "rows": n})


def dataset_names() -> list[str]:
    return list(contracts().datasets)
