"""Counties: the partition of a provincial deployment (one Airflow for many counties).

A county deployment has no county file: its one county takes the data root, warehouse and
config of the environment, and the DAGs keep their plain ids (`bureau_ingest`...).

A province lists its counties in the YAML file named by `FUPIN_COUNTIES`:

    counties:
      - code: "440224"
        name: 仁化县
        data_root: /data/440224                               # its inbox, archive, quarantine, reports
        warehouse_url: postgresql+psycopg2://fupin@pg/fupin_440224   # its own database, or instead
        # warehouse_conn_id: fupin_warehouse_440224                  # an Airflow connection (UI, secrets backend)
        config_dir: /opt/fupin/counties/440224                 # optional: its own config/ (units, targets)

Every DAG file then builds one DAG per county (`bureau_ingest__440224`...), whose tasks run
inside `county.active()`: the county's files, warehouse and units, nothing of another county's
(a context variable that the config loader, the data root and the warehouse read).
Its Assets carry the code (`fupin/440224/registry`), so one county's data never triggers
another county's reconciliation. Cheap to import: DAG files use it at parse time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import yaml

COUNTIES_ENV = "FUPIN_COUNTIES"


@dataclass(frozen=True)
class County:
    code: str | None = None  # None: the single county of a county deployment
    name: str = ""
    data_root: str | None = None
    warehouse_url: str | None = None
    config_dir: str | None = None
    warehouse_conn_id: str | None = None  # an Airflow connection holding the warehouse (instead of the URL)

    def dag_id(self, workflow: str) -> str:
        return workflow if self.code is None else f"{workflow}__{self.code}"

    @property
    def tags(self) -> list[str]:
        return [] if self.code is None else [f"county:{self.code}"]

    @contextmanager
    def active(self) -> Iterator[County]:
        """Make this county the current one (`current()`) for the code run inside: its config,
        data root and warehouse. A context variable, not the environment: two counties can be
        active at once in two threads (or two requests of one web server) without mixing."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)


# The county the running code works for. Unset: the county of the environment (a county
# deployment's FUPIN_DATA_ROOT / FUPIN_WAREHOUSE_URL / FUPIN_CONFIG_DIR, or the defaults).
_current: ContextVar[County | None] = ContextVar("fupin_county", default=None)
ENVIRONMENT = County()


def current() -> County:
    """The active county (see `County.active`), else the environment's."""
    return _current.get() or ENVIRONMENT


def find(code: str) -> County:
    """The county `code` of FUPIN_COUNTIES; LookupError naming the ones there are."""
    listed = counties()
    for c in listed:
        if c.code == code:
            return c
    raise LookupError(f"no county {code} in {os.environ.get(COUNTIES_ENV)}: the counties are "
                      + ", ".join(f"{c.code} {c.name}".strip() for c in listed))


def _entry(c: dict) -> County:
    return County(code=str(c["code"]), name=c.get("name", ""), data_root=c["data_root"], warehouse_url=c.get("warehouse_url"),
                  config_dir=c.get("config_dir"), warehouse_conn_id=c.get("warehouse_conn_id"))


def _listing(path: str) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def counties() -> list[County]:
    """The counties of this deployment: those of `FUPIN_COUNTIES`, else the one of the environment."""
    path = os.environ.get(COUNTIES_ENV)
    if not path:
        return [County()]
    data = _listing(path)
    found = [_entry(c) for c in data.get("counties", [])]
    codes = [c.code for c in found]
    if not found or len(set(codes)) != len(codes) or any(not (c.warehouse_url or c.warehouse_conn_id) for c in found):
        raise ValueError(f"{path}: list each county once under `counties:` (code, data_root, warehouse_url or warehouse_conn_id)")
    return found


def province() -> County | None:
    """The province over the counties (省级), when `FUPIN_COUNTIES` has a `province:` entry: its
    code, name, data root (reports), its own warehouse (the cross-county findings and its outbox)
    and config dir (its units.yaml: the province office as `poverty_office`, its engineers as
    `ops`). Entered with `active()` like a county; None in a county deployment or without one.

        province:
          code: "440000"
          name: 广东省
          data_root: /data/province
          warehouse_url: postgresql+psycopg2://fupin@pg/fupin_province
          config_dir: /opt/fupin/province
    """
    path = os.environ.get(COUNTIES_ENV)
    if not path:
        return None
    raw = _listing(path).get("province")
    if not raw:
        return None
    if not raw.get("data_root") or not (raw.get("warehouse_url") or raw.get("warehouse_conn_id")) or "code" not in raw:
        raise ValueError(f"{path}: the province needs code, data_root and warehouse_url or warehouse_conn_id")
    return _entry(raw)
