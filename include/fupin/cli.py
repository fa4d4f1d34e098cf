"""`fupin`: the engineers' command line. Same code as the DAGs, without the scheduler."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path


def _data_root(args: argparse.Namespace) -> None:
    import os

    if getattr(args, "data_root", None):
        os.environ["FUPIN_DATA_ROOT"] = str(Path(args.data_root).resolve())


def cmd_db(args: argparse.Namespace) -> int:
    from fupin.warehouse import db

    db.upgrade()
    print(f"warehouse at revision {db.current_revision()} ({_redact(db.warehouse_url())})")
    return 0


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_ingest(args: argparse.Namespace) -> int:
    from fupin.ingest.inbox import ensure_folders
    from fupin.ingest.pipeline import ingest_files
    from fupin.vocab import DropStatus
    from fupin.warehouse import db

    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        print(f"no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    db.upgrade()
    ensure_folders()
    failed = False
    receipts = []
    for f in args.files:  # one file's failure never stops the others
        try:
            receipts += ingest_files(args.source, [Path(f)])
        except Exception as exc:  # noqa: BLE001 - reported, and the file stays claimed for a re-run
            failed = True
            print(f"{Path(f).name}: ingest failed ({type(exc).__name__}); the file is kept in work/ and taken again by the next run",
                  file=sys.stderr)
    _print_receipts(receipts, args.json)
    return 0 if not failed and all(r.status != DropStatus.REJECTED for r in receipts) else 1


def _print_receipts(receipts: list, as_json: bool) -> None:
    """One receipt per file: the JSON line, or the text a clerk reads."""
    for r in receipts:
        print(json.dumps(r.to_dict(), ensure_ascii=False) if as_json else r.text())


def cmd_inbox(args: argparse.Namespace) -> int:
    from fupin.ingest.tasks import ingest_inbox
    from fupin.receipts import Receipt
    from fupin.vocab import DropStatus

    out = ingest_inbox()
    receipts = [Receipt(**r) for r in out if r.get("status") != "failed"]
    failures = [r for r in out if r.get("status") == "failed"]
    _print_receipts(receipts, args.json)
    for f in failures:
        print(f"{f['source']}: ingest failed ({f['error']}); the file is kept in work/ and taken again by the next run", file=sys.stderr)
    if not out:
        print("no file to ingest", file=sys.stderr)
    return 1 if failures or any(r.status == DropStatus.REJECTED for r in receipts) else 0


def cmd_templates(args: argparse.Namespace) -> int:
    from fupin.ingest.templates import write_templates

    for path in write_templates(Path(args.dir)):
        print(path)
    return 0


def cmd_expectations(args: argparse.Namespace) -> int:
    from fupin.validate.suites import write_suites

    for path in write_suites():
        print(path)
    return 0


def _months(spec: str | None) -> list[str] | None:
    from fupin.calendar import months

    if not spec:
        return None
    first, _, last = spec.partition(":")
    return months(first, last or first)


def cmd_demo(args: argparse.Namespace) -> int:
    from fupin.config import data_root

    root = data_root()
    if args.action == "generate":
        from fupin.demo.generate import generate

        manifest = generate(root, seed=args.seed, scale=args.scale, months=_months(args.months),
                            progress=lambda m: print(f"generated {m}", flush=True))
        print(f"{len(manifest['drops'])} files under {root / 'drops'}; ground truth in {root / 'drops' / 'manifest.json'}")
        return 0
    from fupin.demo.replay import run_demo

    return run_demo(root, seed=args.seed, scale=args.scale, months=_months(args.months))


def cmd_reconcile(args: argparse.Namespace) -> int:
    from fupin.reconcile.rules import RULES
    from fupin.reconcile.run import NotReady, reconcile_month
    from fupin.vocab import COUNTY_TOTAL
    from fupin.warehouse import db

    db.upgrade()
    try:
        s = reconcile_month(args.month, at_deadline=args.at_deadline)
    except NotReady as exc:
        hint = "" if args.at_deadline else "; use --at-deadline to use the latest earlier snapshot"
        print(f"cannot reconcile {args.month}: {exc}{hint}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a configuration gap, e.g. no exit threshold for the year
        print(f"cannot reconcile {args.month}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(s.to_dict(), ensure_ascii=False))
        return 0
    print(f"{args.month}: registry {s.registry_month}, dibao {s.dibao_month} {s.note}")
    for rule, (name, _, _) in RULES.items():
        print(f"  {rule} {name}: {s.counts[rule]} (new {s.new[rule]}, persisting {s.persisting[rule]}, resolved {s.resolved[rule]})")
    for kind, by_town in s.rates.items():
        value = by_town.get(COUNTY_TOTAL)
        print(f"  {kind}: {'—' if value is None else f'{value:.2%}'}")
    print(f"  escalated (3+ months): {s.escalated}")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from fupin.notify.outbox import notices, problems, resend, send_pending
    from fupin.vocab import NoticeStatus
    from fupin.warehouse import db

    db.upgrade()
    if args.resend:
        if not resend(args.resend):
            print(f"no interrupted or failed notice {args.resend} (see `fupin outbox`)", file=sys.stderr)
            return 2
        print(f"{args.resend}: queued again for the recipients that do not have it")
    if args.send:
        print(json.dumps(send_pending()))
    rows = notices() if args.all else problems()
    for n in rows:
        error = f"  last error: {n.last_error}" if n.last_error else ""
        hint = "  (interrupted after it was handed over: check with the recipients, then --resend)" if n.status == NoticeStatus.SENDING else ""
        print(f"{n.status:<8} {n.kind}/{n.period}/{n.unit}  attempts {n.attempts}  {n.subject}{error}{hint}")
    if not rows:
        print("outbox: nothing failed or stuck" if not args.all else "outbox is empty")
    return 1 if not args.all and rows else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from fupin.config import data_root
    from fupin.ops.serve import serve

    return serve(data_root(), port=args.port, smtp_port=args.smtp_port)


def cmd_assess(args: argparse.Namespace) -> int:
    from fupin.assess.run import BadPeriod, assess_period
    from fupin.notify.notices import show, unit_name
    from fupin.vocab import ScoreStatus
    from fupin.warehouse import db

    db.upgrade()
    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(f"--as-of {args.as_of}: not a date (YYYY-MM-DD)", file=sys.stderr)
        return 2
    try:
        result = assess_period(args.period, as_of)
    except BadPeriod as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        return 0
    print(f"{args.period} scorecard (data: " + ", ".join(f"{k} {v or '无数据'}" for k, v in result.data_months.items()) + ")")
    for unit in dict.fromkeys(s.unit for s in result.scores):
        print(f"  {unit_name(unit)} ({unit})")
        for s in (s for s in result.scores if s.unit == unit):
            mark = "" if s.status == ScoreStatus.MET else "  <-- " + (s.reason or ScoreStatus.MISSED)
            print(f"    {s.indicator} {show(s.indicator, s.value):>12} target {s.compare} {show(s.indicator, s.target):<10} {s.status}{mark}")
    print("actions:" if result.actions else "actions: none")
    for a in result.actions:
        due = f" due {a.due}" if a.due else ""
        print(f"  {a.action} {unit_name(a.unit)}: {', '.join(a.indicators)}{due} {a.reason}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fupin", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("db", help="warehouse migrations")
    d.add_argument("action", choices=["upgrade"])
    d.add_argument("--data-root")
    d.set_defaults(func=cmd_db)

    i = sub.add_parser("ingest", help="ingest bureau files now, printing one receipt per file")
    i.add_argument("--source", required=True, help="poverty_office, civil_affairs, agriculture, hrss, health, education, water")
    i.add_argument("--data-root")
    i.add_argument("--json", action="store_true", help="one JSON receipt per line")
    i.add_argument("files", nargs="+")
    i.set_defaults(func=cmd_ingest)

    ib = sub.add_parser("inbox", help="ingest every settled file in every inbox (and claims left by dead processes) once, "
                                      "printing one receipt per file and queueing its mail: what bureau_ingest does, without the scheduler")
    ib.add_argument("--data-root")
    ib.add_argument("--json", action="store_true", help="one JSON receipt per line")
    ib.set_defaults(func=cmd_inbox)

    t = sub.add_parser("templates", help="write a blank Excel template per source")
    t.add_argument("dir")
    t.set_defaults(func=cmd_templates)

    r = sub.add_parser("reconcile", help="reconcile a month's dibao and poverty registries (R1-R6)")
    r.add_argument("--month", required=True)
    r.add_argument("--data-root")
    r.add_argument("--at-deadline", action="store_true", help="use the latest earlier snapshot of a missing registry")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_reconcile)

    o = sub.add_parser("outbox", help="notices that failed or were interrupted (all with --all); --send drains it now")
    o.add_argument("--all", action="store_true")
    o.add_argument("--send", action="store_true", help="send what is due now")
    o.add_argument("--resend", metavar="KEY", help="kind/period/unit of an interrupted or failed notice: queue it again for the "
                   "recipients that do not have it (after checking it did not arrive)")
    o.add_argument("--data-root")
    o.set_defaults(func=cmd_outbox)

    a = sub.add_parser("assess", help="score a period (2017H1, 2017Y) and print the scorecard and actions")
    a.add_argument("--period", required=True, help="2017H1 or 2017Y")
    a.add_argument("--as-of", help="the assessment date (YYYY-MM-DD) the deadlines count from; default: the date the period "
                   "was first assessed with (a re-run keeps the record as mailed), else today")
    a.add_argument("--data-root")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_assess)

    dm = sub.add_parser("demo", help="the demo county: generate its files, or run the whole campaign")
    dm.add_argument("action", choices=["generate", "run"])
    dm.add_argument("--data-root")
    dm.add_argument("--seed", type=int, default=2016)
    dm.add_argument("--scale", type=int, default=1, help="K counties' worth of households (same shape)")
    dm.add_argument("--months", help="YYYY-MM or YYYY-MM:YYYY-MM (default: 2016-01:2018-12)")
    dm.set_defaults(func=cmd_demo)

    sv = sub.add_parser("serve", help="the whole platform locally: airflow standalone (SQLite) + an SMTP sink")
    sv.add_argument("--data-root")
    sv.add_argument("--port", type=int, default=8080)
    sv.add_argument("--smtp-port", type=int, default=1025)
    sv.set_defaults(func=cmd_serve)

    e = sub.add_parser("expectations", help="rewrite expectations/*.json from config/contracts.yaml")
    e.add_argument("action", choices=["build"])
    e.set_defaults(func=cmd_expectations)
    return p


def main(argv: list[str] | None = None) -> int:
    from fupin.files import restrict_umask

    restrict_umask()  # everything the platform writes holds personal data
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    _data_root(args)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
