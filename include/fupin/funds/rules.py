"""Checks F1–F6 of 资金项目监管 (docs/spec/funds.md) on the engine of R1–R6.

`check(...)` takes what the read layer hands: every payment loaded up to the month (县财政局's
拨付明细, cumulative), the latest project library (县扶贫办's 扶贫项目库), the month's registry and
县人社局's employment records of the months before each enterprise reward, as Arrow tables or
pandas frames. The joins run as SQL in an in-memory DuckDB (`reconcile.engine.Session`), as
R1–R6 do; Python writes each finding's detail. No I/O: the caller loads and stores.

Findings have the columns of R1–R6's (`FINDING_COLUMNS`) plus the project, the payment and, for
F6, the project's 责任单位 (`unit`): the unit that checks it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from fupin.calendar import months_later
from fupin.ids import mask
from fupin.reconcile.engine import Session
from fupin.validate.issues import amount

# rule -> (Chinese name, owner, cc); F6's owner is each project's 责任单位 (the finding's `unit`)
FUND_RULES = {
    "F1": ("收款户不在册", "poverty_office", "finance"),
    "F2": ("疑似重复拨付", "finance", "poverty_office"),
    "F3": ("超标准拨付", "finance", "poverty_office"),
    "F4": ("奖补无稳定就业", "hrss", "finance"),
    "F5": ("未立项先拨付或超预算", "finance", "poverty_office"),
    "F6": ("项目进度滞后", "responsible", "poverty_office"),
}
# findings about a payment made (F1–F5): put right, they hold while their data are unchanged (verify.state_of)
PAST_EVENTS = frozenset({"F1", "F2", "F3", "F4", "F5"})
FUND_FINDING_COLUMNS = ["rule", "key", "town", "household_id", "card_no", "person_id", "other_id", "detail",
                        "project_no", "payment_no", "unit"]

# what each check reads of each dataset: the read layer fetches only these
FUND_COLUMNS = {
    "fund_payments": ["payment_no", "paid_on", "project_no", "fund_type", "payee_type", "payee_name", "payee_id",
                      "household_id", "worker_id", "amount"],
    "projects": ["project_no", "project_name", "project_type", "town", "village", "responsible_unit", "planned_investment",
                 "length_km", "approved_on", "start_plan", "started_on", "complete_plan", "completed_on", "accepted_on"],
    "registry": ["id_number", "household_id", "town", "labor_capacity"],
    "employment": ["month", "id_number", "employer", "employment_status"],
}
DATE_COLUMNS = frozenset({"paid_on", "approved_on", "start_plan", "started_on", "complete_plan", "completed_on", "accepted_on"})
NUMBER_COLUMNS = frozenset({"amount", "planned_investment", "length_km"})

HOUSEHOLD_FUND = "到户扶贫专项资金"
ENTERPRISE_REWARD = "企业吸纳就业奖补"
ROAD, UPKEEP = "村道建设", "村道养护"
HOUSEHOLD_PAYEE = "农户"
EMPLOYED = ("县内务工", "县外务工", "公益性岗位")  # 就业状态 with an 用工单位
WAN = 10_000  # 计划投资 is written in 万元
CENT = 0.005  # sums of amounts in 元 compared with a standard: equal within half a fen (floating point)


@dataclass(frozen=True)
class Standards:
    """The numbers the checks judge by (settings.yaml → funds)."""

    household_per_person: float
    enterprise_per_worker: float
    road_per_km: float
    upkeep_per_km_year: float
    duplicate_days: int
    stable_months: int
    start_days: int
    complete_days: int
    accept_months: int
    pay_months: int

    @classmethod
    def of(cls, funds: dict) -> Standards:
        s, g = funds["standards"], funds["grace"]
        return cls(float(s["household_per_person"]), float(s["enterprise_per_worker"]), float(s["road_per_km"]),
                   float(s["upkeep_per_km_year"]), int(funds["duplicate_days"]), int(funds["stable_months"]),
                   int(g["start_days"]), int(g["complete_days"]), int(g["accept_months"]), int(g["pay_months"]))


@dataclass
class FundResult:
    findings: pd.DataFrame  # FUND_FINDING_COLUMNS
    counts: dict[str, int] = field(default_factory=dict)


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=FUND_FINDING_COLUMNS) if rows else pd.DataFrame(columns=FUND_FINDING_COLUMNS)


def _yuan(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else amount(value, "元")


def _date(value: object) -> str:
    return "—" if value is None or pd.isna(value) else f"{value.year}年{value.month}月{value.day}日"


def _load(s: Session, name: str, source: object, columns: list[str], where: str = "true") -> None:
    """Table `name`: `source`'s columns (its rows `where` holds), dates as dates and amounts as
    doubles whatever the source typed them as."""
    s.register(f"{name}_in", source, columns, keep=(DATE_COLUMNS | NUMBER_COLUMNS) & set(columns))
    cols = ", ".join(f"try_cast({c} as date) as {c}" if c in DATE_COLUMNS else f"try_cast({c} as double) as {c}" if c in NUMBER_COLUMNS
                     else c for c in columns)
    s.sql(f"create or replace temp table {name} as select _row, {cols} from {name}_in where {where}")


# --- the checks ---------------------------------------------------------------------------------

def f1_payee_not_registered(s: Session, p: Standards) -> pd.DataFrame:
    """F1: a payment to a household (农户) whose 户编号 is not in the month's registry, or whose
    payee is not a member of that household (one per payment)."""
    rows = s.rows("""select f.payment_no, f.household_id, f.payee_id, f.project_no, f.paid_on, f.amount,
               h.household_id is not null as known, h.town
        from pay f
        left join (select household_id, first(town order by _row) as town from reg group by household_id) h
          on h.household_id = f.household_id
        left join reg r on r.id_number = f.payee_id and r.household_id = f.household_id
        where f.payee_type = '农户' and r.id_number is null
        order by f.paid_on, f.payment_no""")
    out = []
    for no, hid, pid, project, paid, amt, known, town in rows:
        why = "收款人不是该户在册成员" if known else "户编号不在本月建档立卡名单中"
        out.append({"rule": "F1", "key": no, "town": town, "household_id": hid, "person_id": pid, "project_no": project,
                    "payment_no": no, "detail": f"{_date(paid)} 拨付 {_yuan(amt)}，{why}"})
    return _frame(out)


def f2_duplicates(s: Session, p: Standards) -> pd.DataFrame:
    """F2: two payments to the same payee (for an enterprise reward: for the same labourer), of the
    same fund type and project, with the same 拨付单号 or the same amount within `duplicate_days`
    (one per pair)."""
    rows = s.rows(f"""select a.payment_no, b.payment_no, a.payee_id, a.payee_name, a.household_id, a.project_no, a.fund_type,
               a.amount, a.paid_on, b.paid_on, a.payment_no = b.payment_no as same_no,
               -- where it happened: the household's town (its registry's), else the project's
               case when a.household_id is not null then (select first(town order by _row) from reg where reg.household_id = a.household_id)
                    else (select first(town) from proj where proj.project_no = a.project_no) end as town
        from pay a join pay b
          on a.payee_id = b.payee_id and a.fund_type = b.fund_type and a.project_no = b.project_no
         -- each pair once, the earlier payment first (by date and number: the order the rows were read in is no order)
         and (a.paid_on, a.payment_no, a.amount, a._row) < (b.paid_on, b.payment_no, b.amount, b._row)
         and a.worker_id is not distinct from b.worker_id  -- an enterprise is rewarded once per labourer: two labourers are two rewards
        where a.payment_no = b.payment_no
           or (a.amount = b.amount and abs(date_diff('day', a.paid_on, b.paid_on)) <= {p.duplicate_days})
        order by a.paid_on, a.payment_no, b.payment_no""")
    out = []
    for no_a, no_b, pid, name, hid, project, kind, amt, day_a, day_b, same_no, town in rows:
        how = f"拨付单号 {no_a} 出现两次" if same_no else f"拨付单号 {no_a}、{no_b} 金额相同，相隔 {abs((day_b - day_a).days)} 天"
        household = bool(hid)
        out.append({"rule": "F2", "key": f"{no_a}|{no_b}|{day_a}|{day_b}", "town": town, "household_id": hid,
                    "person_id": pid if household else None, "project_no": project, "payment_no": f"{no_a}、{no_b}",
                    "detail": f"{kind}：{mask(pid) if household else name}，{how}，各 {_yuan(amt)}（{_date(day_a)}、{_date(day_b)}）"})
    return _frame(out)


def f3_above_standard(s: Session, p: Standards) -> pd.DataFrame:
    """F3: cumulative payments above the plan's standard: a labour-capable household's 到户扶贫专项资金
    above `household_per_person` × its members; an enterprise's 吸纳就业奖补 above
    `enterprise_per_worker` × its distinct labourers; a road above `road_per_km` × its length; its
    upkeep above `upkeep_per_km_year` × its length in a year (one per household, enterprise, project or project-year)."""
    out = []
    households = s.rows(f"""with paid as (select household_id, sum(amount) as total from pay
                where fund_type = '{HOUSEHOLD_FUND}' and household_id is not null group by household_id),
             members as (select household_id, count(*) as n, first(town order by _row) as town,
                bool_or(labor_capacity in ('有劳动能力', '部分丧失劳动能力')) as capable from reg group by household_id)
        select paid.household_id, m.town, paid.total, m.n from paid join members m using (household_id)
        where m.capable and paid.total > m.n * {p.household_per_person!r} + {CENT} order by paid.household_id""")
    out += [{"rule": "F3", "key": f"household:{hid}", "town": town, "household_id": hid,
             "detail": f"{HOUSEHOLD_FUND}累计 {_yuan(total)}，标准为 {n} 人 × {_yuan(p.household_per_person)} = {_yuan(n * p.household_per_person)}"}
            for hid, town, total, n in households]
    enterprises = s.rows(f"""select payee_id, first(payee_name order by _row), sum(amount), count(distinct worker_id) from pay
        where fund_type = '{ENTERPRISE_REWARD}' group by payee_id
        having sum(amount) > count(distinct worker_id) * {p.enterprise_per_worker!r} + {CENT} order by payee_id""")
    per = p.enterprise_per_worker
    out += [{"rule": "F3", "key": f"enterprise:{pid}", "other_id": pid,
             "detail": f"{name}：{ENTERPRISE_REWARD}累计 {_yuan(total)}，标准为 {n} 名劳动力 × {_yuan(per)} = {_yuan(n * per)}"}
            for pid, name, total, n in enterprises]
    roads = s.rows(f"""select j.project_no, j.project_name, j.town, j.responsible_unit, sum(f.amount), j.length_km from pay f
        join proj j using (project_no)
        where f.fund_type = '{ROAD}' and j.length_km is not null
        group by all having sum(f.amount) > j.length_km * {p.road_per_km!r} + {CENT} order by j.project_no""")
    out += [{"rule": "F3", "key": f"road:{no}", "town": town, "project_no": no,
             "detail": f"{name}：{ROAD}累计 {_yuan(total)}，标准为 {km:g} 公里 × {_yuan(p.road_per_km)} = {_yuan(km * p.road_per_km)}"}
            for no, name, town, _unit, total, km in roads]
    upkeep = s.rows(f"""select j.project_no, j.project_name, j.town, year(f.paid_on) as y, sum(f.amount), j.length_km from pay f
        join proj j using (project_no)
        where f.fund_type = '{UPKEEP}' and j.length_km is not null
        group by all having sum(f.amount) > j.length_km * {p.upkeep_per_km_year!r} + {CENT} order by j.project_no, y""")
    out += [{"rule": "F3", "key": f"upkeep:{no}:{y}", "town": town, "project_no": no,
             "detail": f"{name}：{y} 年{UPKEEP}累计 {_yuan(total)}，标准为 {km:g} 公里 × {_yuan(p.upkeep_per_km_year)} = {_yuan(km * p.upkeep_per_km_year)}"}
            for no, name, town, y, total, km in upkeep]
    return _frame(out)


def f4_reward_without_employment(s: Session, p: Standards) -> pd.DataFrame:
    """F4: an enterprise reward for a labourer not in the registry, or not employed by that
    enterprise (用工单位 = the payee's name) in each of the `stable_months` months before the
    payment in 县人社局's records (one per payment). A month with no record counts as not employed."""
    rows = s.rows(f"""with rewards as (
            select payment_no, paid_on, payee_name, worker_id, project_no, amount,
                   strftime(paid_on, '%Y-%m') as pay_month from pay where fund_type = '{ENTERPRISE_REWARD}'),
        months as (
            select r.payment_no, count(distinct e.month) as n from rewards r
            join emp e on e.id_number = r.worker_id and e.employer = r.payee_name
                      and e.employment_status in ({", ".join(f"'{v}'" for v in EMPLOYED)})
                      and e.month < r.pay_month
                      and e.month >= strftime(r.paid_on - interval {p.stable_months} month, '%Y-%m')
            group by r.payment_no)
        select r.payment_no, r.paid_on, r.payee_name, r.worker_id, r.project_no, r.amount,
               g.id_number is not null as registered, g.town, coalesce(m.n, 0)
        from rewards r
        left join (select id_number, first(town order by _row) as town from reg group by id_number) g on g.id_number = r.worker_id
        left join months m using (payment_no)
        where g.id_number is null or coalesce(m.n, 0) < {p.stable_months}
        order by r.paid_on, r.payment_no""")
    out = []
    for no, paid, name, worker, project, amt, registered, town, n in rows:
        why = "受奖劳动力不在建档立卡名单中" if not registered else f"拨付前 {p.stable_months} 个月中只有 {n} 个月在该企业就业（县人社局记录）"
        out.append({"rule": "F4", "key": no, "town": town, "person_id": worker, "project_no": project, "payment_no": no,
                    "detail": f"{name} {_date(paid)} 获奖补 {_yuan(amt)}，{why}"})
    return _frame(out)


def f5_before_approval_or_over_budget(s: Session, p: Standards) -> pd.DataFrame:
    """F5: a payment to a project not in the library, not yet approved, or dated before its
    approval (one per payment); a project paid above its planned investment (one per project)."""
    early = s.rows("""select f.payment_no, f.paid_on, f.project_no, f.amount, f.payee_name, j.project_no is not null as known,
               j.approved_on, j.town, j.project_name from pay f
        left join proj j using (project_no)
        where j.project_no is null or j.approved_on is null or f.paid_on < j.approved_on
        order by f.paid_on, f.payment_no""")
    out = []
    for no, paid, project, amt, _payee, known, approved, town, name in early:
        why = ("项目库中没有该项目" if not known else "项目尚未立项" if approved is None
               else f"早于项目立项日期 {_date(approved)}")
        out.append({"rule": "F5", "key": f"payment:{no}", "town": town, "project_no": project, "payment_no": no,
                    "detail": f"{name or project}：{_date(paid)} 拨付 {_yuan(amt)}，{why}"})
    over = s.rows(f"""select j.project_no, j.project_name, j.town, sum(f.amount), j.planned_investment from pay f
        join proj j using (project_no)
        group by all having sum(f.amount) > j.planned_investment * {WAN} + {CENT} order by j.project_no""")
    out += [{"rule": "F5", "key": f"project:{no}", "town": town, "project_no": no,
             "detail": f"{name}：累计拨付 {_yuan(total)}，超过计划投资 {_yuan(planned * WAN)}"}
            for no, name, town, total, planned in over]
    return _frame(out)


def f6_behind_schedule(s: Session, p: Standards, as_of: dt.date) -> pd.DataFrame:
    """F6: a project past a planned date by more than its grace on `as_of`: not started, not
    completed, completed but not accepted, or accepted but not paid in full (one per project, at
    the first stage it is behind in; the stage is in its key, so the next stage is a new finding)."""
    rows = s.rows("""with paid as (select project_no, sum(amount) as total from pay group by project_no)
        select j.project_no, j.project_name, j.town, j.responsible_unit, j.start_plan, j.started_on, j.complete_plan,
               j.completed_on, j.accepted_on, j.planned_investment, coalesce(paid.total, 0)
        from proj j left join paid using (project_no) order by j.project_no""")
    out = []
    for no, name, town, unit, start_plan, started, complete_plan, completed, accepted, planned, total in rows:
        stage = None
        if started is None and start_plan is not None and as_of > start_plan + dt.timedelta(days=p.start_days):
            stage, what = "start", f"计划 {_date(start_plan)} 开工，至今未开工"
        elif started is not None and completed is None and complete_plan is not None and as_of > complete_plan + dt.timedelta(days=p.complete_days):
            stage, what = "complete", f"计划 {_date(complete_plan)} 完工，至今未完工"
        elif completed is not None and accepted is None and as_of > months_later(completed, p.accept_months):
            stage, what = "accept", f"{_date(completed)} 完工，{p.accept_months} 个月内未验收"
        elif accepted is not None and planned is not None and total < planned * WAN - CENT and as_of > months_later(accepted, p.pay_months):
            stage, what = "pay", f"{_date(accepted)} 验收，{p.pay_months} 个月后累计拨付 {_yuan(total)}，计划投资 {_yuan(planned * WAN)}"
        if stage:
            out.append({"rule": "F6", "key": f"{no}:{stage}", "town": town, "project_no": no, "unit": unit,
                        "detail": f"{name}：{what}"})
    return _frame(out)


FUND_CHECKS = {"F1": f1_payee_not_registered, "F2": f2_duplicates, "F3": f3_above_standard,
               "F4": f4_reward_without_employment, "F5": f5_before_approval_or_over_budget}


def check(payments: object, projects: object, registry: object, employment: object, *, standards: Standards,
          as_of: dt.date) -> FundResult:
    """Every check on the payments up to `as_of` (cumulative), the project library, the month's
    registry and the employment records, judged on `as_of` (the month's last day)."""
    with Session() as s:
        _load(s, "pay", payments, FUND_COLUMNS["fund_payments"])
        s.sql(f"delete from pay where paid_on > date '{as_of.isoformat()}'")  # a later month's payments are not yet known
        _load(s, "proj", projects, FUND_COLUMNS["projects"])
        _load(s, "reg", registry, FUND_COLUMNS["registry"])
        # F4 reads the rewarded labourers' records only (the read brings everyone's: a semi-join here is cheapest)
        _load(s, "emp", employment, FUND_COLUMNS["employment"], where="id_number in (select worker_id from pay)")
        found = {rule: f(s, standards) for rule, f in FUND_CHECKS.items()}
        found["F6"] = f6_behind_schedule(s, standards, as_of)
    frames = [f for f in found.values() if not f.empty]
    findings = pd.concat(frames, ignore_index=True) if frames else _frame([])
    counts = findings["rule"].value_counts().to_dict()
    return FundResult(findings, {r: int(counts.get(r, 0)) for r in FUND_RULES})
