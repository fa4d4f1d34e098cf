"""`fupin demo run`: generate the county and replay the campaign month by month through the
real DAGs (dag.test(), from the dags folder Airflow is configured with), then sum up.

Generation runs in a second process, a month ahead of the replay (the machine has two cores).
Each month the bureaus' files are copied into their inboxes with their drop time as mtime (so
timeliness is judged on it), `bureau_ingest` runs as the scheduler would run it, then
`registry_reconcile` as the two registries' Assets would trigger it, and at the end of June and
December `assessment` for the half year or the year.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

from fupin.config import project_root
from fupin.demo import plan
from fupin.demo.generate import READY
from fupin.funds.rules import FUND_RULES
from fupin.vocab import SHARE_DROP, SHARES, ScoreStatus


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


def _dags() -> dict:
    from airflow.dag_processing.dagbag import DagBag

    folder = os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", str(project_root() / "dags"))
    bag = DagBag(dag_folder=folder)
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    _load_pools()
    return bag.dags


def _load_pools() -> None:
    """The county's pools (config/pools.json) in the demo's Airflow, as `airflow pools import`
    would load them, from this process: an Airflow command is 3 s of start-up."""
    from airflow.models.pool import Pool

    from fupin.assets import pools

    for name, pool in pools().items():
        Pool.create_or_update_pool(name=name, slots=int(pool["slots"]), description=pool["description"],
                                   include_deferred=bool(pool.get("include_deferred", False)))


def _wait_for(month_dir: Path, generator: multiprocessing.Process | None) -> None:
    while not (month_dir / READY).exists():
        if generator is not None and not generator.is_alive() and not (month_dir / READY).exists():
            raise RuntimeError(f"the generator stopped before writing {month_dir.name}")
        time.sleep(0.2)


def _drop_into_inboxes(month_dir: Path, root: Path, before: float | None = None, after: float | None = None) -> int:
    """Copy the month's files dropped in [after, before) into the inboxes, keeping their mtime."""
    files = sorted((p for p in month_dir.glob("*/*") if p.is_file()), key=lambda p: p.stat().st_mtime)
    files = [p for p in files if (before is None or p.stat().st_mtime < before) and (after is None or p.stat().st_mtime >= after)]
    for src in files:
        target = root / SHARES / src.parent.name / SHARE_DROP / src.name  # the unit's share: 报送
        target.parent.mkdir(parents=True, exist_ok=True)
        st = src.stat()
        shutil.copyfile(src, target)
        os.utime(target, (st.st_atime, st.st_mtime))
    return len(files)


def replay(root: Path, months: list[str], log_path: Path, say=print, generator: multiprocessing.Process | None = None) -> dict:
    """Run every month through the DAGs; returns what the summary reports."""
    from fupin import queries
    from fupin.calendar import current, month_end
    from fupin.warehouse import db

    with quiet(log_path):
        dags = _dags()
        db.upgrade()
    started = time.time()
    findings_total: Counter = Counter()
    assessments: dict[str, dict[str, list[str]]] = {}
    for month in months:
        _wait_for(root / "drops" / month, generator)
        t = time.time()
        ingest, reminded = _month_of_drops(dags, root, month, log_path)
        with quiet(log_path):
            reconcile = dags["registry_reconcile"].test()
            dags["funds_supervision"].test()
        with db.engine().connect() as conn:
            statuses = Counter(queries.ledger(conn, month)["status"])
            run = queries.reconciliation_run(conn, month)
            funds = queries.fund_check_run(conn, month)
        counts = json.loads(run.counts) if run else {}
        findings_total.update(counts)
        files = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        found = " ".join(f"{r}:{n}" for r, n in counts.items()) if counts else "not reconciled"
        fund_counts = {r: n for r, n in json.loads(funds.counts).items() if n} if funds else None
        found += "  资金: " + (" ".join(f"{r}:{n}" for r, n in fund_counts.items()) or "none") if fund_counts is not None else "  资金: not checked"
        if reminded:
            files += "  催报: " + ", ".join(reminded)
        say(f"{month}  ingest {ingest.state}, reconcile {reconcile.state}  files: {files}  findings: {found}"
            f"  ({time.time() - t:.0f}s, {time.time() - started:.0f}s in all)")
        period = current().period_of(month_end(month))
        if current().period_last_month(period) == month:  # the period closes with this month: assess it on its last day
            with quiet(log_path):
                run = dags["assessment"].test(run_conf={"period": period, "as_of": month_end(month).isoformat()})
            lagging = _lagging(period)
            assessments[period] = lagging
            say(f"{period}  assessment {run.state}: " + ("; ".join(f"{u} {', '.join(i)}" for u, i in lagging.items()) or "every unit met every target"))
    with db.engine().connect() as conn:
        totals = Counter(queries.ledger(conn)["status"])
        fund_findings = queries.distinct_findings(conn, FUND_RULES)
    return {"files": dict(totals), "findings": dict(findings_total), "fund_findings": fund_findings, "lagging": assessments}


def _month_of_drops(dags: dict, root: Path, month: str, log_path: Path):
    """The files of `month` as they arrive in the next month: those before the 10th, then the
    催报 of the 10th and the 15th (through `submission_reminders`, when a bureau is missing),
    then the late ones."""
    import datetime as dt

    from fupin.calendar import add_months, current
    from fupin.notify.reminders import missing_sources

    nxt = add_months(month, 1)
    days = (current().report_day, current().final_day)
    cut = {d: dt.datetime.fromisoformat(f"{nxt}-{d:02d}T00:00:00").replace(tzinfo=current().tz).timestamp() for d in days}
    reminded: list[str] = []
    ingest = None
    windows = [(None, cut[days[0]]), (cut[days[0]], cut[days[1]]), (cut[days[1]], None)]
    for i, (after, before) in enumerate(windows):
        if _drop_into_inboxes(root / "drops" / month, root, before=before, after=after) or ingest is None:
            with quiet(log_path):
                ingest = dags["bureau_ingest"].test()
        if i < 2 and missing_sources(month):
            day = days[i]
            with quiet(log_path):
                dags["submission_reminders"].test(run_conf={"date": f"{nxt}-{day:02d}"})
            reminded.append(f"{day}日 " + "、".join(missing_sources(month)))
    return ingest, reminded


def _lagging(period: str) -> dict[str, list[str]]:
    """Lagging units of a stored assessment, by name, with their missed indicators."""
    from fupin import queries
    from fupin.warehouse.db import engine
    from fupin.wording import unit_name

    out: dict[str, list[str]] = {}
    with engine().connect() as conn:
        for r in queries.scores_of(conn, period, ScoreStatus.MISSED):
            out.setdefault(unit_name(r.unit), []).append(r.indicator)
    return out


def _generate(root: Path, seed: int, scale: int, months: list[str]) -> None:
    from fupin.demo.generate import generate

    with quiet(root / "generate.log"):
        generate(root, seed=seed, scale=scale, months=months, workers=1)


def run_demo(root: Path, seed: int, scale: int = 1, months: list[str] | None = None) -> int:
    root.mkdir(parents=True, exist_ok=True)
    os.environ["FUPIN_DATA_ROOT"] = str(root)
    os.environ.setdefault("FUPIN_WAREHOUSE_URL", f"sqlite:///{root / 'warehouse.sqlite'}")
    # a replay of history: every file it drops was written and settled long ago (its mtime is
    # the historical drop time; its ctime is now, which the stability window would wait out)
    os.environ["FUPIN_STABLE_SECONDS"] = "0"
    for name in ("drops", "inbox", SHARES, "work", "archive", "quarantine", "reports", "mail", "watch"):
        shutil.rmtree(root / name, ignore_errors=True)  # a demo starts from nothing
    for db_file in root.glob("warehouse.sqlite*"):
        db_file.unlink()
    t = time.time()
    say = lambda s: print(s, flush=True)  # noqa: E731
    say(f"demo county (seed {seed}) into {root}: generating {len(months or plan.months())} months' files a month ahead of the replay")
    months = months or plan.months()
    generator = multiprocessing.get_context("fork").Process(target=_generate, args=(root, seed, scale, months), daemon=True)
    generator.start()
    from fupin.ops import mailsink

    mail_dir = root / "mail"
    shutil.rmtree(mail_dir, ignore_errors=True)
    smtp, port, conn = mailsink.start(mail_dir)
    os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = conn
    say(f"local SMTP server on 127.0.0.1:{port}, every email stored as .eml in {mail_dir}")
    log_path = root / "airflow-tasks.log"
    try:
        result = replay(root, months, log_path, say, generator)
    finally:
        smtp.stop()
    generator.join()
    result["emails"] = len(list(mail_dir.glob("*.eml")))
    say("")
    say("== summary ==")
    say("files:    " + ", ".join(f"{k} {v}" for k, v in sorted(result["files"].items())))
    say("findings: " + ", ".join(f"{r} {n}" for r, n in sorted(result["findings"].items())) + " (summed over the months)")
    say("funds:    " + ", ".join(f"{r} {FUND_RULES[r][0]} {n}" for r, n in sorted(result["fund_findings"].items()))
        + " (distinct findings of 资金监管 F1–F6)")
    for period, lagging in result["lagging"].items():
        say(f"{period}:  " + ("; ".join(f"{u} {', '.join(i)}" for u, i in lagging.items()) or "no lagging unit"))
    say(f"emails sent:     {result['emails']} (in {mail_dir})")
    say(f"receipts:        {root / 'archive' / 'receipts'}")
    say(f"rejected files:  {root / 'quarantine'}")
    say(f"reports:         {root / 'reports'}")
    say(f"warehouse:       {os.environ['FUPIN_WAREHOUSE_URL']}")
    say(f"task logs:       {log_path}")
    say(f"ground truth:    {root / 'drops' / 'manifest.json'}")
    say(f"done in {time.time() - t:.0f}s")
    (root / "summary.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if result["files"].get("accepted") else 1
