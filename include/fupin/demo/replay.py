"""`fupin demo run`: generate the county, then replay the campaign month by month through the
real DAGs (dag.test(), in the dags folder Airflow is configured with), and sum up.

Each month the bureaus' files are moved into their inboxes (keeping the drop time as mtime, so
timeliness is judged on it) and `bureau_ingest` runs exactly as the scheduler would run it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

from fupin.config import project_root


def _dags() -> dict:
    from airflow.dag_processing.dagbag import DagBag

    folder = os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", str(project_root() / "dags"))
    bag = DagBag(dag_folder=folder)
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags


@contextlib.contextmanager
def quiet(log_path: Path):
    """Send everything written to fd 1 and 2 (Airflow's task logs included) to `log_path`."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _drop_into_inboxes(drops: list[dict], root: Path) -> None:
    for d in sorted(drops, key=lambda d: d["dropped_at"]):
        src = Path(d["file"])
        target = root / "inbox" / d["source"] / src.name
        target.parent.mkdir(parents=True, exist_ok=True)
        st = src.stat()
        shutil.copyfile(src, target)
        os.utime(target, (st.st_atime, st.st_mtime))


def replay(root: Path, manifest: dict, log_path: Path, say=print) -> dict:
    """Run every month of `manifest` through the DAGs; returns counts for the summary."""
    from sqlalchemy import select

    from fupin.warehouse import db
    from fupin.warehouse.schema import drops as drops_table

    with quiet(log_path):
        dags = _dags()
        db.upgrade()
    by_month: dict[str, list[dict]] = {}
    for d in manifest["drops"]:
        by_month.setdefault(d["month"], []).append(d)
    started = time.time()
    for month in manifest["months"]:
        t = time.time()
        _drop_into_inboxes(by_month.get(month, []), root)
        with quiet(log_path):
            run = dags["bureau_ingest"].test()
        with db.engine().connect() as conn:
            statuses = Counter(r.status for r in conn.execute(select(drops_table.c.status).where(drops_table.c.month == month)))
        say(f"{month}  ingest {run.state:<7}  files: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
            + f"  ({time.time() - t:.0f}s, total {time.time() - started:.0f}s)")
    with db.engine().connect() as conn:
        totals = Counter(r.status for r in conn.execute(select(drops_table.c.status)))
    return {"files": dict(totals)}


def run_demo(root: Path, seed: int, scale: int = 1) -> int:
    from fupin.demo.generate import generate

    root.mkdir(parents=True, exist_ok=True)
    os.environ["FUPIN_DATA_ROOT"] = str(root)
    os.environ.setdefault("FUPIN_WAREHOUSE_URL", f"sqlite:///{root / 'warehouse.sqlite'}")
    t = time.time()
    say = lambda s: print(s, flush=True)  # noqa: E731
    say(f"generating 36 months of the demo county into {root / 'drops'} ...")
    manifest = generate(root, seed=seed, scale=scale, progress=lambda m: say(f"  generated {m}"))
    say(f"generated {len(manifest['drops'])} files in {time.time() - t:.0f}s; replaying month by month through the DAGs")
    log_path = root / "airflow-tasks.log"
    result = replay(root, manifest, log_path, say)
    say("")
    say("== summary ==")
    say("files: " + ", ".join(f"{k} {v}" for k, v in sorted(result["files"].items())))
    say(f"receipts:      {root / 'archive' / 'receipts'}")
    say(f"quarantine:    {root / 'quarantine'}")
    say(f"warehouse:     {os.environ['FUPIN_WAREHOUSE_URL']}")
    say(f"task logs:     {log_path}")
    say(f"ground truth:  {root / 'drops' / 'manifest.json'}")
    say(f"done in {time.time() - t:.0f}s")
    (root / "summary.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if result["files"].get("accepted") else 1


if __name__ == "__main__":
    sys.exit(run_demo(Path(sys.argv[1]), 2016))
