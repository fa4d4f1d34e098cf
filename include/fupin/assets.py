"""Airflow Asset names, one per dataset (`fupin/registry`, `fupin/dibao`, ...).

Cheap to import (no pandas, no GX): DAG files use it at parse time.
"""

from __future__ import annotations

from fupin.config import contracts

INGEST_ALIAS = "fupin/ingest"


def asset_name(dataset: str) -> str:
    return f"fupin/{dataset}"


def asset_uri(dataset: str) -> str:
    return f"fupin://warehouse/{dataset}"


def dataset_names() -> list[str]:
    return list(contracts().datasets)
