"""`fupin demo generate`: write the county's monthly files as bureaus send them, plus the manifest.

Files go to `<data root>/drops/<month>/<source>/<name>` with the mtime of the moment the bureau
drops them (early in the next month; some late), so a replay can put them into the inboxes
month by month. `manifest.json` beside them holds the ground truth that tests use.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import multiprocessing
import multiprocessing.pool
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fupin.calendar import next_month
from fupin.config import assessment as config_assessment
from fupin.config import contracts
from fupin.demo import plan, render
from fupin.demo.population import Population, build_population, expected_findings
from fupin.demo.writers import SheetSpec, dataset_sheet, write, write_csv_stream

LATE = {("water", "2017-03"): 18, ("water", "2017-04"): 17}  # day of the next month the file arrives
RESENT = ("health", "2017-05")  # first sent with errors, then corrected


@dataclass(frozen=True)
class Drop:
    source: str
    month: str
    path: Path
    dropped_at: dt.datetime


def _label(month: str, style: str) -> str:
    y, m = month[:4], int(month[5:])
    return {"cn": f"{y}年{m}月", "compact": f"{y}{m:02d}", "dash": f"{y}-{m:02d}", "under": f"{y}_{m:02d}"}[style]


def _title(source: str, month: str, what: str) -> tuple[str, str]:
    label = contracts().sources[source].label
    return f"仁化县{_label(month, 'cn')}{what}", f"填报单位：{label}（盖章）"


def _sheet(population: Population, dataset: str, month: str, titled: bool = True, footer: bool = True) -> SheetSpec:
    ds = contracts().datasets[dataset]
    title, unit = _title(ds.source, month, ds.title + "情况表") if titled else (None, None)
    return dataset_sheet(ds, render.rows(population, dataset, month), title=title, unit_line=unit, footer=footer)


def files_for(population: Population, source: str, month: str) -> list[tuple[str, list[SheetSpec], str]]:
    """(file name, sheets, csv encoding) of what `source` sends for `month`."""
    if source == "poverty_office":
        return [(f"扶贫办_建档立卡_{_label(month, 'cn')}.xlsx", [_sheet(population, "registry", month)], ""),
                (f"扶贫办_扶贫项目库_{_label(month, 'cn')}.xlsx",
                 [_sheet(population, "projects", month), _sheet(population, "project_households", month, footer=False)], "")]
    if source == "finance":
        return [(f"财政局扶贫资金拨付明细_{_label(month, 'compact')}.xlsx", [_sheet(population, "fund_payments", month)], "")]
    if source == "civil_affairs":
        return [(f"民政局低保名册_{_label(month, 'compact')}.xls", [_sheet(population, "dibao", month, footer=False)], "")]
    if source == "agriculture":
        return [(f"农业局_{_label(month, 'dash')}.xlsx", [_sheet(population, "industry", month), _sheet(population, "cooperative", month, footer=False)], "")]
    if source == "hrss":
        return [(f"人社局就业培训_{_label(month, 'compact')}.csv", [_sheet(population, "employment", month, titled=False, footer=False)], "gbk")]
    if source == "health":
        return [(f"卫计局_{_label(month, 'cn')}.xlsx", [_sheet(population, "medical", month), _sheet(population, "clinic", month, footer=False)], "")]
    if source == "education":
        return [(f"教育局_{_label(month, 'under')}.xlsx",
                 [_sheet(population, "student_aid", month), _sheet(population, "teacher_subsidy", month, footer=False)], "")]
    if source == "water":
        if month < "2017-01":
            return [(f"水务局_{_label(month, 'cn')}.csv", [_sheet(population, "water_supply", month, titled=False, footer=False)], "utf-8-sig")]
        return [(f"水务局_{_label(month, 'cn')}.xlsx", [_sheet(population, "water_supply", month)], "")]
    raise KeyError(source)


def _with_errors(sheets: list[SheetSpec]) -> list[SheetSpec]:
    """The first, faulty version of the resent file: three cells a clerk got wrong."""
    bad = copy.deepcopy(sheets)
    rows = bad[0].rows
    rows[3][0] = rows[3][0][:-1] + ("0" if rows[3][0][-1] != "0" else "1")  # check digit
    rows[10][4] = "不清楚"  # 基本医疗保险
    rows[20][7] = 99999.0  # 医疗救助 above 住院费用
    return bad


def _drop_time(rng: random.Random, source: str, month: str) -> dt.datetime:
    """When a bureau drops its file: a working hour on the campaign's clock (Beijing time)."""
    from fupin.calendar import current

    day = LATE.get((source, month), rng.randrange(2, 10))
    nxt = next_month(month)
    return dt.datetime(int(nxt[:4]), int(nxt[5:]), day, rng.randrange(8, 18), rng.randrange(60), tzinfo=current().tz)


def write_month(population: Population, month: str, root: Path, rng: random.Random) -> list[Drop]:
    drops: list[Drop] = []
    for source in contracts().sources:
        if population.scale > 1:  # province scale: a streamed CSV of the mandatory dataset, fast and lean
            ds = contracts().of_source(source)[0]
            path = write_csv_stream(root / "drops" / month / source / f"{ds.name}_{_label(month, 'compact')}.csv", ds,
                                    render.iter_rows(population, ds.name, month))
            when = _drop_time(rng, source, month)
            os.utime(path, (when.timestamp(), when.timestamp()))
            drops.append(Drop(source, month, path, when))
            continue
        for name, sheets, encoding in files_for(population, source, month):
            when = _drop_time(rng, source, month)
            folder = root / "drops" / month / source
            if (source, month) == RESENT and population.scale == 1:
                first = write(folder / f"{Path(name).stem}_初报{Path(name).suffix}", _with_errors(sheets), encoding=encoding or "utf-8")
                early = when.replace(day=5, hour=9)
                os.utime(first, (early.timestamp(), early.timestamp()))
                drops.append(Drop(source, month, first, early))
                when = when.replace(day=8, hour=15)
            path = write(folder / name, sheets, encoding=encoding or "utf-8")
            os.utime(path, (when.timestamp(), when.timestamp()))
            drops.append(Drop(source, month, path, when))
    return drops


def census(population: Population, month: str = plan.FIRST_MONTH) -> dict:
    """The seed's numbers as the county holds them (for the manifest and the tests)."""
    kinds = {"A": "poor_village_capable", "B": "other_capable", "C": "no_capacity"}
    out = {"households": len(population.households), "persons": sum(len(h.members) for h in population.households)}
    for k, key in kinds.items():
        hs = [h for h in population.households if h.kind == k]
        out[key] = {"households": len(hs), "persons": sum(len(h.members) for h in hs)}
    out["exits_cumulative"] = {
        str(y): sum(len(h.members) for h in population.households if h.exit_month and h.exit_month <= f"{y}-12") for y in (2016, 2017, 2018)
    }
    return out


def expected_assessment(population: Population, *, funds: bool = True) -> dict:
    """What the assessment must find on this county: (unit, indicator) missed per period, and
    the interviews (约谈) at year end. Every other unit meets every target, by construction.
    `funds=False`: of the indicators I01–I19 only (an assessment without the fund checks)."""
    s = population.scenarios
    late_months = sorted(m for (_, m) in LATE)
    missed = {
        "2016H1": [], "2016Y": [],
        "2017H1": [[s["coverage_lag_town"], "I05"], ["civil_affairs", "I05"], [s["employment_lag_town"], "I07"], ["water", "I19"]],
        "2017Y": [[s["exit_lag_town"], "I01"], ["water", "I19"]],
        "2018H1": [], "2018Y": [],
    }
    for period, misses in (expected_fund_misses(population) if funds else {}).items():
        missed[period] += misses
    out, before = {}, set()
    for period, m in missed.items():
        now = {tuple(x) for x in m}
        # 约谈 at year end: a town behind its exit task, or a unit behind on the same indicator twice running
        talks = {u for u, i in now if (u, i) in before} | {u for u, i in now if i == "I01"} if period.endswith("Y") else set()
        out[period] = {"missed": sorted(map(list, now)), "interviews": sorted(talks)}
        before = now
    out["2017H1"]["late_months"] = late_months
    return out


def expected_fund_misses(population: Population) -> dict[str, list[list[str]]]:
    """The fund indicators' misses (I20–I22, docs/spec/funds.md) the planted cases cause, told
    from the generated projects and payments themselves: I20 and I21 per town and 责任单位 over the
    projects due by each period's end; I22 for every planted finding, none of which is put right,
    in the period it falls due (the end of the month after it is first found), for its town and
    its checking unit — unless it had already gone from the data by then."""
    from fupin.calendar import add_months, current, month_end, months_later
    from fupin.config import geography, responsible_unit, settings

    cal, codes, grace = current(), geography().towns, settings()["funds"]["grace"]
    money = render.funds_of(population)
    paid: dict[str, float] = {}
    out: dict[str, list[list[str]]] = {}
    for period in ("2016H1", "2016Y", "2017H1", "2017Y", "2018H1", "2018Y"):
        end = month_end(cal.period_last_month(period))
        start = dt.date.fromisoformat(cal.period_months(period)[0] + "-01")
        paid = {}
        for x in money.payments:
            if x.paid_on <= end:
                paid[x.project_no] = paid.get(x.project_no, 0.0) + x.amount
        parts = []  # (indicator, project, numerator, denominator)
        for p in money.projects:
            if months_later(p.accept_plan, int(grace["pay_months"])) <= end:
                parts.append(("I20", p, min(paid.get(p.no, 0.0), p.planned * 10_000), p.planned * 10_000))
            limit = p.complete_plan + dt.timedelta(days=int(grace["complete_days"]))
            if limit <= end:
                parts.append(("I21", p, float(p.completed_on is not None and p.completed_on <= limit), 1.0))
        shares: dict[tuple[str, str], list[float]] = {}
        for kind, p, num, den in parts:  # each project counts for its town and its 责任单位
            for unit in (codes[p.town], responsible_unit(p.unit)):
                got = shares.setdefault((kind, unit), [0.0, 0.0])
                got[0], got[1] = got[0] + num, got[1] + den
        targets = {i["id"]: i["targets"].get(period) for i in config_assessment()["indicators"] if i["id"] in ("I20", "I21", "I22")}
        misses = {(u, k) for (k, u), (num, den) in shares.items() if den and num / den < targets[k] - 1e-9}
        for f in money.planted:
            due = month_end(add_months(f.first, int(settings()["funds"]["rectify_months"])))
            if start <= due <= end and f.last >= add_months(f.first, 1):  # still found in the month after it was first found
                misses |= {(u, "I22") for u in (f.unit, codes.get(f.town)) if u}
        out[period] = sorted(map(list, misses))
    return out


def manifest(population: Population, months: list[str], drops: list[Drop]) -> dict:
    s = population.scenarios
    return {
        "seed": population.seed,
        "scale": population.scale,
        "months": months,
        "census_2016_01": census(population),
        "findings": {m: expected_findings(population, m) for m in months},
        # 资金监管: the F1–F6 findings each month's check must give, exactly (the planted cases)
        "fund_findings": {m: sorted([p.rule, p.key] for p in render.funds_planted(population) if p.found_in(m)) for m in months},
        "scenarios": {
            "exit_task_missed": {"period": "2017Y", "town_code": s["exit_lag_town"], "shortfall": s["exit_plan"]["shortfall"]},
            "exit_task_exceeded": {"period": "2017Y", "town_code": s["exit_extra_town"]},
            "employment_lag": {"period": "2017H1", "town_code": s["employment_lag_town"], "indicator": "I07"},
            "coverage_lag": {"period": "2017H1", "town_code": s["coverage_lag_town"], "indicator": "I05", "rule": "R1"},
            "late_files": [{"source": src, "month": m, "day": d} for (src, m), d in LATE.items()],
            "rejected_then_resent": {"source": RESENT[0], "month": RESENT[1]},
        },
        "exit_targets": s["exit_plan"]["targets"],
        "expected_assessment": expected_assessment(population),
        "drops": [{"source": d.source, "month": d.month, "file": str(d.path), "dropped_at": d.dropped_at.isoformat()} for d in drops],
    }


READY = ".ready"
_POPULATION: Population | None = None  # shared with forked workers, never pickled


def _write(args: tuple[str, Path, int]) -> list[Drop]:
    month, root, seed = args
    assert _POPULATION is not None
    return write_month(_POPULATION, month, root, random.Random(f"{seed}-{month}"))


def _default_signals() -> None:
    """In each forked worker: the default TERM/INT handling, whatever the parent installed (a
    test session that ran Airflow tasks replaces SIGTERM's handler; a worker that ignores TERM
    makes Pool.terminate() wait for ever)."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def worker_pool(workers: int) -> Iterator[multiprocessing.pool.Pool]:
    """Forked workers with default signal handling that leave on their own when the work is
    done (close + join). `with Pool()` terminates instead: it sends TERM to workers that may be
    waiting on the task queue's lock, and a worker that inherited a TERM handler from its parent
    (a pytest session that ran Airflow tasks) never exits — a CI run hung there once."""
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_default_signals)
    try:
        yield pool
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def generate(root: Path, seed: int = 2016, scale: int = 1, months: list[str] | None = None, progress=None,
             workers: int | None = None) -> dict:
    """Write every month's files (in parallel: months are independent) and the manifest."""
    global _POPULATION
    months = months or plan.months()
    population = _POPULATION = build_population(seed, scale)
    workers = workers or min(2, os.cpu_count() or 1, len(months))
    jobs = [(m, root, seed) for m in months]
    drops: list[Drop] = []

    def finished(month: str, done: list[Drop]) -> None:
        drops.extend(done)
        (root / "drops" / month / READY).touch()  # a replay may take the month from here on
        if progress:
            progress(month)

    if workers > 1:
        with worker_pool(workers) as pool:
            for month, done in zip(months, pool.imap(_write, jobs), strict=True):
                finished(month, done)
    else:
        for month, job in zip(months, jobs, strict=True):
            finished(month, _write(job))
    data = manifest(population, months, drops)
    root.mkdir(parents=True, exist_ok=True)
    (root / "drops" / "manifest.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return data
