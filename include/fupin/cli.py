"""`fupin`: the engineers' command line. Same code as the DAGs, without the scheduler.

Every command works on one county: the environment's (a county deployment), or, when
FUPIN_COUNTIES lists a province's counties, the one named by `--county CODE`. Quiet by
default (warnings and errors only; `-v` for more); bad arguments exit 2 with what is expected.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path


class Refused(Exception):
    """What the user asked for cannot be done as asked: printed, exit 2."""


def _county(args: argparse.Namespace):  # a fupin.county.County
    """The county the command works on (`--county`, FUPIN_COUNTIES), with `--data-root` applied."""
    import os

    from fupin.county import COUNTIES_ENV, County, counties, find

    code = getattr(args, "county", None)
    if os.environ.get(COUNTIES_ENV):
        if code:
            try:
                county = find(code)
            except LookupError as exc:
                raise Refused(str(exc)) from exc
        elif getattr(args, "all_counties", False) or getattr(args, "every_county", False):
            county = County()
        else:
            listed = ", ".join(f"{c.code} {c.name}".strip() for c in counties())
            raise Refused(f"{os.environ[COUNTIES_ENV]} lists several counties: say which with --county CODE ({listed})")
    elif code:
        raise Refused(f"--county {code}: this is a county deployment ({COUNTIES_ENV} is not set); leave --county out")
    else:
        county = County()
    if getattr(args, "data_root", None):
        county = dataclasses.replace(county, data_root=str(Path(args.data_root).resolve()))
    return county


def _warehouse_ready() -> None:
    """The warehouse is at this code's migration, or the command stops saying how to fix it."""
    from fupin.warehouse import db

    try:
        db.require_current()
    except db.SchemaBehind as exc:
        raise Refused(str(exc)) from exc


def _has_data() -> None:
    """A command that reads the campaign's data on a warehouse that has none says so."""
    from fupin import queries
    from fupin.warehouse import db

    with db.engine().connect() as conn:
        if not queries.has_data(conn):
            raise Refused(f"the warehouse {_redact(db.warehouse_url())} holds no data yet: ingest the bureaus' files first "
                          "(fupin inbox, or fupin ingest --source SOURCE FILE)")


def cmd_db(args: argparse.Namespace) -> int:
    import os

    from fupin.county import COUNTIES_ENV, counties, province
    from fupin.warehouse import db

    targets = counties() if args.all_counties and os.environ.get(COUNTIES_ENV) else [None]
    prov = province() if targets != [None] else None
    if prov is not None:
        targets.append(prov)  # the province's warehouse: the cross-county findings and its outbox
    for county in targets:
        if county is None:
            db.upgrade()
            print(f"warehouse at revision {db.current_revision()} ({_redact(db.warehouse_url())})")
            continue
        with county.active():
            db.upgrade()
            print(f"{county.code} {county.name}: warehouse at revision {db.current_revision()} ({_redact(db.warehouse_url())})")
    return 0


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_ingest(args: argparse.Namespace) -> int:
    from fupin.faults import describe
    from fupin.ingest.inbox import ensure_folders, sources, verifying_units
    from fupin.ingest.pipeline import ingest_files
    from fupin.vocab import VERIFICATION_SOURCE, DropStatus

    if args.source not in sources():
        raise Refused(f"unknown source {args.source!r}: one of {', '.join(sources())}")
    if (args.source == VERIFICATION_SOURCE) != bool(args.unit) or (args.unit and args.unit not in verifying_units()):
        raise Refused(f"--unit UNIT goes with --source {VERIFICATION_SOURCE} only, and names the unit whose checks the workbook "
                      f"holds: one of {', '.join(verifying_units())}")
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        raise Refused(f"no such file: {', '.join(missing)}")
    _warehouse_ready()
    ensure_folders()
    failed = False
    receipts = []
    for f in args.files:  # one file's failure never stops the others
        try:
            receipts += ingest_files(args.source, [Path(f)], sender=args.unit)
        except Exception as exc:  # reported, and the file stays claimed for a re-run
            failed = True
            print(f"{Path(f).name}: ingest failed — {describe(exc)}; fix the cause and run the command again", file=sys.stderr)
    _print_receipts(receipts, args.json)
    return 0 if not failed and all(r.status != DropStatus.REJECTED for r in receipts) else 1


def _print_receipts(receipts: list, as_json: bool) -> None:
    """One receipt per file: the JSON line, or the text a clerk reads."""
    for r in receipts:
        print(json.dumps(r.to_dict(), ensure_ascii=False) if as_json else r.text())


def cmd_inbox(args: argparse.Namespace) -> int:
    from fupin.ingest.batch import Failed, ingest_inbox
    from fupin.vocab import DropStatus

    _warehouse_ready()
    out = ingest_inbox()
    receipts = [r for r in out if not isinstance(r, Failed)]
    failures = [r for r in out if isinstance(r, Failed)]
    _print_receipts(receipts, args.json)
    for f in failures:
        print(f"{f.source}: ingest failed — {f.error}; the file stays claimed in work/ and is taken again by the next run",
              file=sys.stderr)
    if not out:
        print("no file to ingest", file=sys.stderr)
    return 1 if failures or any(r.status == DropStatus.REJECTED for r in receipts) else 0


def cmd_templates(args: argparse.Namespace) -> int:
    from fupin.ingest.templates import write_templates

    for path in write_templates(Path(args.dir)):
        print(path)
    return 0


def cmd_pools(args: argparse.Namespace) -> int:
    from fupin.assets import pools

    Path(args.file).write_text(json.dumps(pools(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{args.file}: {len(pools())} pool(s); load them with `airflow pools import {args.file}`")
    return 0


def cmd_share_config(args: argparse.Namespace) -> int:
    """Samba's configuration of the units' shared folders, and their folders laid out."""
    from fupin import shares
    from fupin.config import data_root
    from fupin.ingest import inbox

    root = data_root()  # the samba service mounts the same data root at the same path
    inbox.ensure_folders()
    units = inbox.share_units()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    accounts = shares.accounts(units)
    for name, text in (("smb.conf", shares.smb_conf(units, root)), ("accounts", accounts)):
        tmp = out / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out / name)
    print(f"{out}/smb.conf: {len(units)} unit share(s); passwords in .env as "
          + ", ".join(shares.password_variable(a.split()[0]) for a in accounts.splitlines()[:3]) + ", ...")
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
    first, last = _month(first), _month(last or first)
    if last < first:
        raise argparse.ArgumentTypeError(f"{spec}: the last month comes before the first")
    return months(first, last)


def _month(text: str) -> str:
    """An argparse type: a real YYYY-MM month (2017-13 is refused, exit 2)."""
    from fupin.calendar import BadMonth, check_month

    try:
        return check_month(text)
    except BadMonth as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _period(text: str) -> str:
    """An argparse type: a period of the calendar (2017H1, 2017Y)."""
    from fupin.calendar import BadPeriod, current

    try:
        return current().check_period(text)
    except BadPeriod as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text}: not a date (YYYY-MM-DD)") from exc


def _development(module: str) -> None:
    """The demo and the local platform are development code, not in the production package."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise Refused("the demo and `fupin serve` are development code, not in the production package: "
                      "run them from a checkout (make demo, make serve)")


def cmd_demo(args: argparse.Namespace) -> int:
    from fupin.config import data_root

    _development("fupin.demo")
    root = data_root()
    if args.action == "generate":
        from fupin.demo.generate import generate

        manifest = generate(root, seed=args.seed, scale=args.scale, months=args.months,
                            progress=lambda m: print(f"generated {m}", flush=True))
        print(f"{len(manifest['drops'])} files under {root / 'drops'}; ground truth in {root / 'drops' / 'manifest.json'}")
        return 0
    from fupin.demo.replay import run_demo

    return run_demo(root, seed=args.seed, scale=args.scale, months=args.months)


def cmd_reconcile(args: argparse.Namespace) -> int:
    from fupin.reconcile.rules import RULES
    from fupin.reconcile.run import NotReady, reconcile_month
    from fupin.vocab import COUNTY_TOTAL

    _warehouse_ready()
    _has_data()
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


def cmd_crosscheck(args: argparse.Namespace) -> int:
    from fupin.county import COUNTIES_ENV, counties, province
    from fupin.reconcile.crosscheck import CROSS_RULES, crosscheck_month
    from fupin.warehouse.db import SchemaBehind

    prov = province()
    if prov is None:
        raise Refused(f"the cross-check is the province's: {COUNTIES_ENV} must list the counties and a `province:` entry "
                      "(code, name, data_root, warehouse_url)")
    listed = counties()
    try:
        s = crosscheck_month(args.month, listed, prov)
    except SchemaBehind as exc:
        raise Refused(str(exc)) from exc
    if args.json:
        print(json.dumps(s.to_dict(), ensure_ascii=False))
        return 0
    name = s.names
    print(f"{args.month}: {len(listed)} counties of {prov.name or prov.code}")
    for rule, title in CROSS_RULES.items():
        print(f"  {rule} {title}: {s.counts[rule]}")
    print(f"  escalated (3+ months): {s.escalated}")
    if s.behind:
        print("  behind the month (their latest data used): " + ", ".join(f"{c} {name.get(c, '')}".strip() for c in s.behind))
    if s.missing:
        print("  without a registry or dibao (not checked): " + ", ".join(f"{c} {name.get(c, '')}".strip() for c in s.missing))
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from fupin.notify.outbox import notices, problems, resend, send_pending
    from fupin.vocab import NoticeStatus

    _warehouse_ready()
    if args.resend:
        if args.resend.count("/") < 2:
            raise Refused(f"--resend {args.resend}: give the notice as kind/period/unit, as `fupin outbox` prints it")
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
    _development("fupin.ops")
    from fupin.config import data_root
    from fupin.ops.serve import serve

    return serve(data_root(), port=args.port, smtp_port=args.smtp_port)


def cmd_assess(args: argparse.Namespace) -> int:
    from fupin.assess.run import assess_period
    from fupin.vocab import ScoreStatus
    from fupin.wording import show, unit_name

    _warehouse_ready()
    _has_data()
    result = assess_period(args.period, args.as_of)
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
    from fupin.config import project_root

    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given before the command or after it, one value, and no default overwriting it
    common.add_argument("--county", metavar="CODE", default=argparse.SUPPRESS,
                        help="the county to work on, when FUPIN_COUNTIES lists a province's counties")
    common.add_argument("--data-root", metavar="DIR", default=argparse.SUPPRESS,
                        help=f"the data root (inboxes, archive, reports; default FUPIN_DATA_ROOT, else {project_root() / 'data'})")
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="say more: -v the platform's progress, -vv also the libraries' (Alembic, Great Expectations)")
    p = argparse.ArgumentParser(prog="fupin", description=__doc__, parents=[common],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_: str, func, **kw) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_, description=help_, parents=[common], **kw)
        c.set_defaults(func=func)
        return c

    d = command("db", "warehouse migrations: what deploy runs (airflow-init, make); tasks only check the revision", cmd_db)
    d.add_argument("action", choices=["upgrade"], help="upgrade: create the warehouse or bring it to this code's migration")
    d.add_argument("--all", dest="all_counties", action="store_true", help="every county of FUPIN_COUNTIES, one after the other")

    i = command("ingest", "ingest bureau files now, printing one receipt per file", cmd_ingest)
    i.add_argument("--source", required=True, metavar="SOURCE", help="the unit that sent them: poverty_office, civil_affairs, "
                   "agriculture, hrss, health, education, water; verification for returned 核查结果 workbooks")
    i.add_argument("--unit", metavar="UNIT", help="with --source verification: the unit whose checks the workbook holds "
                   "(a units.yaml key; only its own findings are taken)")
    i.add_argument("--json", action="store_true", help="one JSON receipt per line")
    i.add_argument("files", nargs="+", metavar="FILE", help="the files, as the bureau sent them")

    ib = command("inbox", "ingest every settled file in every inbox (and claims left by dead processes) once, printing one "
                 "receipt per file and queueing its mail: what bureau_ingest does, without the scheduler", cmd_inbox)
    ib.add_argument("--json", action="store_true", help="one JSON receipt per line")

    t = command("templates", "write a blank Excel template per source", cmd_templates)
    t.add_argument("dir", metavar="DIR", help="where to write them")

    r = command("reconcile", "reconcile a month's dibao and poverty registries (R1-R6)", cmd_reconcile)
    r.add_argument("--month", required=True, type=_month, metavar="YYYY-MM", help="the reporting month, e.g. 2017-06")
    r.add_argument("--at-deadline", action="store_true", help="use the latest earlier snapshot of a missing registry")
    r.add_argument("--json", action="store_true", help="the summary as one JSON object")

    x = command("crosscheck", "the province's cross-county check of a month (R7-R9) over every county of FUPIN_COUNTIES, "
                "stored in the province's warehouse", cmd_crosscheck)
    x.add_argument("--month", required=True, type=_month, metavar="YYYY-MM", help="the month; each county's latest data up to it")
    x.add_argument("--json", action="store_true", help="the summary as one JSON object")
    x.set_defaults(every_county=True)

    o = command("outbox", "notices that failed or were interrupted (all with --all); --send drains it now", cmd_outbox)
    o.add_argument("--all", action="store_true", help="every notice, not only those that need a person")
    o.add_argument("--send", action="store_true", help="send what is due now")
    o.add_argument("--resend", metavar="KEY", help="kind/period/unit of an interrupted or failed notice: queue it again for the "
                   "recipients that do not have it (after checking it did not arrive)")

    a = command("assess", "score a period (2017H1, 2017Y) and print the scorecard and actions", cmd_assess)
    a.add_argument("--period", required=True, type=_period, metavar="PERIOD", help="2017H1 (half year) or 2017Y (year end)")
    a.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="the assessment date the deadlines count from; default: "
                   "the date the period was first assessed with (a re-run keeps the record as mailed), else today")
    a.add_argument("--json", action="store_true", help="the scorecard as one JSON object")

    dm = command("demo", "the demo county: generate its files, or run the whole campaign", cmd_demo)
    dm.add_argument("action", choices=["generate", "run"], help="generate: only the files; run: what `make demo` does")
    dm.add_argument("--seed", type=int, default=2016, help="the random seed (default 2016)")
    dm.add_argument("--scale", type=int, default=1, help="K counties' worth of households (same shape; default 1)")
    dm.add_argument("--months", type=_months, metavar="YYYY-MM[:YYYY-MM]", help="the months to generate (default: 2016-01:2018-12)")

    sv = command("serve", "the whole platform locally: airflow standalone (SQLite) + an SMTP sink", cmd_serve)
    sv.add_argument("--port", type=int, default=8080, help="the Airflow UI and API port (default 8080)")
    sv.add_argument("--smtp-port", type=int, default=1025, help="the SMTP sink's port (default 1025)")

    sc = command("share-config", "write Samba's configuration (smb.conf, accounts) of every unit's shared folder, "
                 "and lay the folders out", cmd_share_config)
    sc.add_argument("--out", required=True, metavar="DIR", help="where smb.conf and accounts go (the samba service reads them)")
    pl = command("pools", "write every county's warehouse pool for `airflow pools import` (deploy runs it)", cmd_pools)
    pl.add_argument("file", metavar="FILE", help="where to write the pools JSON")
    pl.set_defaults(every_county=True)

    e = command("expectations", "rewrite expectations/*.json from config/contracts.yaml (the county's own, in its config dir)",
                cmd_expectations)
    e.add_argument("action", choices=["build"], help="build: write the suites")
    return p


def _logging(verbosity: int) -> None:
    """Warnings by default; -v the platform's own progress; -vv every library's too."""
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)
    if verbosity == 1:
        logging.getLogger("fupin").setLevel(logging.INFO)
        for noisy in ("alembic", "great_expectations", "airflow", "py.warnings"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    from fupin.files import restrict_umask

    restrict_umask()  # everything the platform writes holds personal data
    args = build_parser().parse_args(argv)
    _logging(getattr(args, "verbose", 0))
    try:
        county = _county(args)
        with county.active():
            return args.func(args)
    except Refused as exc:
        print(f"fupin {args.command}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a fault (disk, database): its cause in one line, the traceback only with -v
        from fupin.faults import describe

        logging.getLogger("fupin").debug("fupin %s failed", args.command, exc_info=True)
        print(f"fupin {args.command}: {describe(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
