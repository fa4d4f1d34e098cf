"""Reconcile a month: load the two snapshots, apply R1–R6, store findings and rates.

Re-running a month replaces its findings, rates and run record in one transaction. Each
finding carries how many consecutive months it has been found (its key is what it is about:
a household, a card, a person or a pair); from three months on it is escalated.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, delete, insert

from fupin import queries
from fupin.calendar import add_months
from fupin.config import settings
from fupin.reconcile import verify
from fupin.reconcile.catalog import past_event
from fupin.reconcile.rules import RULE_COLUMNS, RULES, reconcile
from fupin.runs import Run
from fupin.vocab import FindingState
from fupin.warehouse import db
from fupin.warehouse.db import engine
from fupin.warehouse.schema import findings, reconciliation_rates, reconciliation_runs

log = logging.getLogger(__name__)
ESCALATE_AFTER = 3


@dataclass
class Summary:
    month: str
    registry_month: str
    dibao_month: str
    note: str
    counts: dict[str, int]
    rates: dict[str, dict[str, float | None]]  # kind -> town -> rate
    new: dict[str, int] = field(default_factory=dict)
    persisting: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)
    escalated: int = 0
    dismissed: dict[str, int] = field(default_factory=dict)  # verified 不属实, data unchanged: not reported

    def to_dict(self) -> dict:
        return self.__dict__.copy()

    @classmethod
    def from_dict(cls, d: dict) -> Summary:
        """A summary back from XCom's JSON (the task edge)."""
        return cls(**d)


class NotReady(Exception):
    """A snapshot of the month is missing and it is not yet the deadline."""


def choose_snapshots(conn: Connection, month: str, at_deadline: bool) -> tuple[str, str, str]:
    """(registry month, dibao month, note): the month's own, or at the deadline the latest earlier
    for the one that has not arrived. With neither of the month's own there is nothing new to
    compare: last months' data under a new month's name would only repeat old findings."""
    chosen, notes = {}, []
    latest_of = {d: queries.latest_month(conn, d, month) for d in ("registry", "dibao")}
    if at_deadline and month not in latest_of.values():
        raise NotReady(f"neither the registry nor the dibao snapshot of {month} is loaded: nothing to reconcile")
    for dataset, label in (("registry", "建档立卡"), ("dibao", "低保")):
        latest = latest_of[dataset]
        if latest == month:
            chosen[dataset] = month
        elif at_deadline and latest is not None:
            chosen[dataset] = latest
            notes.append(f"{label}本月数据未到，使用 {latest} 的数据比对")
        else:
            raise NotReady(f"{dataset} snapshot of {month} not loaded" + ("" if at_deadline else " (waiting for it)"))
    return chosen["registry"], chosen["dibao"], "；".join(notes)


def reconcile_month(month: str, *, at_deadline: bool = False) -> Summary:
    eng = engine()
    with eng.connect() as conn:
        reg_month, dib_month, note = choose_snapshots(conn, month, at_deadline)
        registry, dibao = queries.snapshots_arrow([(eng.url, "registry", reg_month, RULE_COLUMNS["registry"]),
                                                   (eng.url, "dibao", dib_month, RULE_COLUMNS["dibao"])], conn)
        previous = queries.persistence(conn, add_months(month, -1))
    year = int(month[:4])
    cfg = settings()["reconciliation"]
    if year not in cfg["exit_threshold"]:
        raise ValueError(f"no exit threshold (脱贫标准) for {year}: add reconciliation.exit_threshold.{year} "
                         "to config/settings.yaml, then re-run the month")
    result = reconcile(registry, dibao, poverty_standard=float(cfg["poverty_standard"]),
                       exit_threshold=float(cfg["exit_threshold"][year]))
    with eng.connect() as conn:
        f = apply_verifications(result.findings, month, previous, lambda ids: queries.latest_verifications(conn, ids))
    changes = month_changes(zip(f["rule"], f["key"], f["state"], strict=True), previous)
    summary = Summary(month, reg_month, dib_month, note, {r: c["new"] + c["persisting"] for r, c in changes.items()},
                      _rate_map(result.rates), dismissed={r: c["dismissed"] for r, c in changes.items()})
    for rule, c in changes.items():
        summary.new[rule], summary.persisting[rule], summary.resolved[rule] = c["new"], c["persisting"], c["resolved"]
    summary.escalated = int(f["escalated"].sum())
    with eng.begin() as conn:
        for table in (reconciliation_rates, reconciliation_runs):
            conn.execute(delete(table).where(table.c.month == month))
        conn.execute(delete(findings).where(findings.c.month == month, findings.c.rule.in_(list(RULES))))  # not the fund checks' (F1–F6)
        rows = f.astype(object).where(f.notna(), None).to_dict("records")
        if rows:
            conn.execute(insert(findings), [{**r, "month": month} for r in rows])
        rates = result.rates.to_dict("records")
        if rates:
            conn.execute(insert(reconciliation_rates), [{**r, "month": month} for r in rates])
        conn.execute(insert(reconciliation_runs).values(
            month=month, registry_month=reg_month, dibao_month=dib_month, note=note,
            counts=json.dumps(summary.counts), dismissed=json.dumps(summary.dismissed), ran_at=dt.datetime.now(dt.UTC)))
    log.info("reconciled %s (registry %s, dibao %s): %s", month, reg_month, dib_month, summary.counts)
    return summary


def month_changes(found: Iterable[tuple[str, str, str]], previous: Iterable[tuple[str, str]],
                  rules: Iterable[str] = RULES) -> dict[str, dict[str, int]]:
    """Per rule (of `rules`), a month's findings (rule, key, state) against last month's reported
    (rule, key): new, persisting, resolved (gone; a dismissed one is not resolved) and dismissed."""
    now, left_out = set(), set()
    for rule, key, state in found:
        (left_out if state == FindingState.DISMISSED else now).add((rule, key))
    before = set(previous)
    out = {}
    for rule in rules:
        mine, prior, out_ = ({k for r, k in keys if r == rule} for keys in (now, before, left_out))
        out[rule] = {"new": len(mine - prior), "persisting": len(mine & prior), "resolved": len(prior - mine - out_),
                     "dismissed": len(out_)}
    return out


def apply_verifications(found: pd.DataFrame, month: str, previous: dict, latest_of) -> pd.DataFrame:
    """The month's findings with their id, data fingerprint, state under their latest verification
    (`latest_of(ids)`; a finding about a payment made is judged as a past event, `verify.state_of`),
    months persisted (counting reported months only) and escalation."""
    f = found.copy()
    f["finding_id"] = [verify.finding_id(r, k) for r, k in zip(f["rule"], f["key"], strict=True)]
    f["fingerprint"] = [verify.fingerprint(r) for r in f[list(verify.FINGERPRINT_COLUMNS)].to_dict("records")]
    latest = latest_of(list(f["finding_id"])) if len(f) else {}
    as_of = verify.as_of_month(month)
    f["state"] = [str(verify.state_of(latest.get(i), fp, month, as_of, past_event=past_event(r)))
                  for r, i, fp in zip(f["rule"], f["finding_id"], f["fingerprint"], strict=True)]
    f["persisted_months"] = [0 if s == FindingState.DISMISSED else previous.get((r, k), 0) + 1
                             for r, k, s in zip(f["rule"], f["key"], f["state"], strict=True)]
    f["escalated"] = [verify.escalates(FindingState(s), n, ESCALATE_AFTER) for s, n in zip(f["state"], f["persisted_months"], strict=True)]
    return f


def _rate_map(rates: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for r in rates.itertuples(index=False):
        out.setdefault(r.kind, {})[r.town] = None if r.denominator == 0 else r.numerator / r.denominator
    return out


def months_due() -> list[str]:
    """Months whose two snapshots are both loaded and that have no run since the later load."""
    with engine().connect() as conn:
        loaded = queries.loaded_times(conn, ("registry", "dibao"))
        runs = queries.reconciliation_runs_by_month(conn)
    due = []
    for month, both in sorted(loaded.items()):
        if len(both) < 2:
            continue
        run = runs.get(month)
        if run is None or run.ran_at < max(both.values()) or (run.registry_month, run.dibao_month) != (month, month):
            due.append(month)
    return due


# --- what the registry_reconcile DAG's tasks run ---------------------------------------------------

def months_to_reconcile(run: Run) -> list[dict]:
    """What this run reconciles (`Run.months`): on data, every month whose two snapshots are
    loaded and newer than its last reconciliation."""
    db.require_current()
    return run.months(months_due())


def reconcile_months(items: list[dict]) -> list[Summary]:
    """Reconcile each month asked for; one whose snapshots are not in yet is left (said in the log)."""
    out = []
    for item in items:
        try:
            out.append(reconcile_month(item["month"], at_deadline=item["at_deadline"]))
        except NotReady as exc:
            log.warning("not reconciling %s: %s", item["month"], exc)
    return out
