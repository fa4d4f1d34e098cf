"""The demo county's money (资金项目监管): its project library and every payment, 2016–2018, at the
plan's scale — a road and a water project in each of the 33 相对贫困村, each town's industry
projects, the 2 万元 到户 fund paid to every labour-capable household, 2,000 元 to an enterprise
per registered labourer employed a year, the roads' upkeep — plus the planted F1–F6 cases.

Everything is derived from the population and its seed, once (`funds_of`); `rows(funds, dataset,
month)` renders the month's 扶贫资金拨付明细 (payments made that month) and the 扶贫项目库 and its
受益户 as known at the month's end. `Planted` says which finding each plant must raise, and from
which month to which (the tests' ground truth).
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fupin.calendar import add_months, month_end, months, months_later
from fupin.config import county_settings, geography, unit_named
from fupin.demo.population import Household, Population
from fupin.ids import USCC_ALPHABET, check_digit, uscc_check

D = dt.date
HOUSEHOLD_FUND, REWARD, ROAD, UPKEEP, WATER, INDUSTRY = "到户扶贫专项资金", "企业吸纳就业奖补", "村道建设", "村道养护", "饮水安全", "产业发展"
CONTRACTORS = ["仁化县路桥工程有限公司", "韶关市水利水电建设有限公司", "仁化县建筑工程公司", "仁化县公路养护站"]
PUBLIC_POSTS = ("村保洁公益岗",)  # a 公益岗 is no enterprise: never rewarded
INDUSTRY_PAYEES = ["仁化县丹霞农业发展有限公司", "仁化县贡柑专业合作社", "仁化县白毛茶产业有限公司"]
FIRST, LAST = "2016-01", "2018-12"


@dataclass
class Project:
    no: str
    name: str
    kind: str
    town: str
    village: str | None
    unit: str
    planned: float  # 万元
    length_km: float | None
    approved_plan: dt.date
    approved_on: dt.date | None
    start_plan: dt.date
    started_on: dt.date | None
    complete_plan: dt.date
    completed_on: dt.date | None
    accept_plan: dt.date
    accepted_on: dt.date | None
    households: list[tuple[str, str]] = field(default_factory=list)  # (户编号, 户主身份证号)


@dataclass
class Payment:
    no: str
    paid_on: dt.date
    project_no: str
    fund_type: str
    payee_type: str
    payee_name: str
    payee_id: str
    amount: float
    household_id: str | None = None
    worker_id: str | None = None


@dataclass(frozen=True)
class Planted:
    """A planted case: finding `key` of `rule` in every month from `first` to `last` (inclusive),
    stored under `town` (None: the registry places it nowhere) and checked by `unit` (units.yaml)."""

    rule: str
    key: str
    first: str
    last: str = LAST
    why: str = ""
    town: str | None = None
    unit: str = ""

    def found_in(self, month: str) -> bool:
        return self.first <= month <= self.last


@dataclass
class Funds:
    projects: list[Project]
    payments: list[Payment]
    planted: list[Planted]


def uscc(rng: random.Random, region: str) -> str:
    """A valid 统一社会信用代码 of a company (91) registered in `region`."""
    body = "91" + region + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check(body)


def _day(month: str, day: int) -> dt.date:
    return min(dt.date(int(month[:4]), int(month[5:]), 1) + dt.timedelta(days=day - 1), month_end(month))


def _month(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


Employment = Callable[[str], Iterable[dict]]  # a month's employment rows (render.employment)


def funds_of(population: Population, employment: Employment, employers: list[str]) -> Funds:
    """The county's projects and payments (built once per population), rewards following the
    monthly `employment` records of the `employers`."""
    if "funds" not in population.scenarios:
        population.scenarios["funds"] = _build(population, employment, [e for e in employers if e not in PUBLIC_POSTS])
    return population.scenarios["funds"]


class _Numbers:
    """Project numbers (county, XM, year, serial) and payment numbers (CZ, month, serial)."""

    def __init__(self, code: str):
        self.code, self.projects, self.payments = code, {}, 0

    def project(self, year: int) -> str:
        self.projects[year] = self.projects.get(year, 0) + 1
        return f"{self.code}XM{year}{self.projects[year]:04d}"

    def payment(self, day: dt.date) -> str:
        self.payments += 1
        return f"CZ{day:%Y%m}{self.payments:06d}"


class _Ledger:
    """What the county builds and pays, as it is written down: projects, payments, numbers, payees."""

    def __init__(self, rng: random.Random, code: str, enterprises: list[str]):
        self.numbers = _Numbers(code)
        self.payees = {name: uscc(rng, code) for name in CONTRACTORS + enterprises + INDUSTRY_PAYEES}
        self.projects: list[Project] = []
        self.payments: list[Payment] = []

    def paid(self, day: dt.date, project: Project, fund: str, payee_type: str, name: str, pid: str, amount: float, **kw) -> Payment:
        p = Payment(self.numbers.payment(day), day, project.no, fund, payee_type, name, pid, round(amount, 2), **kw)
        self.payments.append(p)
        return p

    def instalments(self, project: Project, fund: str, payee: str, payee_type: str = "施工单位") -> None:
        """30% after the start, 40% half-way, the rest after the acceptance: the plan's money, in full."""
        total = project.planned * 10_000
        first, second = round(total * 0.3, 2), round(total * 0.4, 2)
        mid = project.started_on + (project.completed_on - project.started_on) / 2
        self.paid(project.started_on + dt.timedelta(days=7), project, fund, payee_type, payee, self.payees[payee], first)
        self.paid(mid, project, fund, payee_type, payee, self.payees[payee], second)
        self.paid(project.accepted_on + dt.timedelta(days=10), project, fund, payee_type, payee, self.payees[payee], total - first - second)


def _build(population: Population, employment: Employment, enterprises: list[str]) -> Funds:
    rng = random.Random(population.seed * 7 + 25)
    book = _Ledger(rng, county_settings()["code"], enterprises)
    capable = [h for h in population.households if h.capable]
    _village_works(book)
    _industry(book, capable)
    household_projects = _household_fund(book, capable)
    reward_projects = _rewards(book, employment, enterprises)
    _upkeep(book)
    planted = _plant(rng, book, household_projects, reward_projects, capable, employment, enterprises)
    for p in [*household_projects.values(), *reward_projects.values()]:  # budgeted at what the year pays, planted cases included
        p.planned = round(sum(x.amount for x in book.payments if x.project_no == p.no) / 10_000, 2)
    book.payments.sort(key=lambda p: (p.paid_on, p.no))
    return Funds(book.projects, book.payments, planted)


def _village_works(book: _Ledger) -> None:
    """A road and a water project in each 相对贫困村: the first fifteen villages in 2016, the rest in 2017."""
    for i, v in enumerate(v for v in geography().villages if v.is_poor):
        year = 2016 if i < 15 else 2017
        for kind, unit, offset in ((ROAD, "县交通局", 0), (WATER, "县水务局", 60)):
            km = round(2.0 + (i * 37 % 60) / 10, 1) if kind == ROAD else None
            planned = round(km * 2, 2) if kind == ROAD else float(15 + i * 13 % 30)  # a road: 2 万元 a kilometre
            approve = D(year, 2, 1) + dt.timedelta(days=offset + i * 3)
            start = approve + dt.timedelta(days=30)
            complete = start + dt.timedelta(days=150)
            completed = complete + dt.timedelta(days=(i % 5 - 2) * 5)
            p = Project(book.numbers.project(year), f"{v.name}{'村道硬底化' if kind == ROAD else '饮水安全巩固提升'}工程", kind, v.town, v.name,
                        unit, planned, km, approve, approve + dt.timedelta(days=i % 7), start, start + dt.timedelta(days=i % 10),
                        complete, completed, complete + dt.timedelta(days=45), completed + dt.timedelta(days=30 + (i % 4) * 7))
            book.projects.append(p)
            book.instalments(p, kind, CONTRACTORS[0] if kind == ROAD else CONTRACTORS[1])


def _industry(book: _Ledger, capable: list[Household]) -> None:
    """Each town's industry project, every year, paid to the company or co-operative that runs it."""
    by_town: dict[str, list[Household]] = {}
    for h in capable:
        by_town.setdefault(h.town, []).append(h)
    for year in (2016, 2017, 2018):
        for j, (town, hs) in enumerate(sorted(by_town.items())):
            approve = D(year, 3, 1) + dt.timedelta(days=j * 2)
            start, complete = approve + dt.timedelta(days=20), approve + dt.timedelta(days=200)
            p = Project(book.numbers.project(year), f"{town}{year}年特色产业扶贫项目", INDUSTRY, town, None, "县农业局",
                        float(50 + (j * 17 + year) % 60), None, approve, approve, start, start, complete, complete,
                        complete + dt.timedelta(days=40), complete + dt.timedelta(days=35))
            p.households = [(h.hid, h.members[0].id_number) for h in hs[(year - 2016) * 20:(year - 2016) * 20 + 20]]
            book.projects.append(p)
            book.instalments(p, INDUSTRY, INDUSTRY_PAYEES[j % len(INDUSTRY_PAYEES)], "企业")


def _household_fund(book: _Ledger, capable: list[Household]) -> dict[int, Project]:
    """The 2 万元 到户 fund: every labour-capable household, once a year, 2,000 元 a member."""
    out = {}
    for year in (2016, 2017, 2018):
        p = Project(book.numbers.project(year), f"{year}年到户扶贫专项资金", "到户帮扶", next(iter(geography().towns)), None, "县扶贫办",
                    0.0, None, D(year, 1, 15), D(year, 1, 20), D(year, 2, 1), D(year, 2, 1), D(year, 12, 31), D(year, 12, 20),
                    D(year + 1, 1, 31), D(year + 1, 1, 25))
        p.households = [(h.hid, h.members[0].id_number) for h in capable]
        out[year] = p
        book.projects.append(p)
        for h in capable:
            seed = zlib.crc32(f"{h.hid}{year}".encode())
            day = D(year, 3 + seed % 9, 5 + seed // 9 % 20)
            book.paid(day, p, HOUSEHOLD_FUND, "农户", h.members[0].name, h.members[0].id_number, 2000.0 * len(h.members), household_id=h.hid)
    return out


def _rewards(book: _Ledger, employment: Employment, enterprises: list[str]) -> dict[int, Project]:
    """2,000 元 to an enterprise for each registered labourer it has employed twelve months running
    (县人社局's monthly records), paid on the 15th of the month after the twelfth, once."""
    out = {}
    for year in (2017, 2018):
        out[year] = Project(book.numbers.project(year), f"{year}年企业吸纳贫困劳动力就业奖补", "就业扶贫", next(iter(geography().towns)), None,
                            "县人社局", 0.0, None, D(year, 1, 5), D(year, 1, 5), D(year, 1, 10), D(year, 1, 10), D(year, 12, 31),
                            D(year, 12, 25), D(year + 1, 1, 31), D(year + 1, 1, 20))
        book.projects.append(out[year])
    runs: dict[tuple[str, str], int] = {}
    rewarded: set[str] = set()
    for month in months(FIRST, add_months(LAST, -1)):
        now = {(r["id_number"], r["employer"]) for r in employment(month)
               if r["employer"] in enterprises and r["employment_status"] in ("县内务工", "县外务工")}
        runs = {k: runs.get(k, 0) + 1 for k in now}  # a month away starts the count again
        for (worker, employer), n in sorted(runs.items()):
            day = _day(add_months(month, 1), 15)
            if n == 12 and worker not in rewarded and day.year in out:
                rewarded.add(worker)
                book.paid(day, out[day.year], REWARD, "企业", employer, book.payees[employer], 2000.0, worker_id=worker)
    return out


def _upkeep(book: _Ledger) -> None:
    """The roads' upkeep: 1,000 元 a kilometre a year for those built, paid by quarter."""
    roads = [p for p in book.projects if p.kind == ROAD]
    for year in (2017, 2018):
        built = [r for r in roads if r.accepted_on and r.accepted_on < D(year, 1, 1)]
        km = round(sum(r.length_km for r in built), 1)
        p = Project(book.numbers.project(year), f"{year}年农村公路养护", UPKEEP, built[0].town, None, "县交通局", round(km * 0.1, 2), km,
                    D(year, 1, 10), D(year, 1, 10), D(year, 1, 15), D(year, 1, 15), D(year, 12, 31), D(year, 12, 28),
                    D(year + 1, 1, 20), D(year + 1, 1, 15))
        book.projects.append(p)
        for q in range(4):
            book.paid(D(year, 3 * q + 3, 20), p, UPKEEP, "施工单位", CONTRACTORS[3], book.payees[CONTRACTORS[3]], round(km * 1000 / 4, 2))


def _plant(rng: random.Random, book: _Ledger, household_projects: dict[int, Project], reward_projects: dict[int, Project],
           capable: list[Household], employment: Employment, enterprises: list[str]) -> list[Planted]:
    """The planted cases, one or two of each rule (docs/spec/funds.md), each with the months it shows."""
    code = county_settings()["code"]
    numbers, projects, payments, payees = book.numbers, book.projects, book.payments, book.payees
    out = []

    def add(p: Payment) -> Payment:
        payments.append(p)
        return p

    # F1: a 到户 payment to a household not in the registry (a made-up 户编号 and someone unregistered)
    body = f"{code}19790615{rng.randrange(1000):03d}"
    stranger = add(Payment(numbers.payment(D(2017, 3, 10)), D(2017, 3, 10), household_projects[2017].no, HOUSEHOLD_FUND, "农户",
                           "冒名户", body + check_digit(body), 6000.0, household_id=f"{code}9999990001"))
    out.append(Planted("F1", stranger.no, "2017-03", why="户编号不在册", unit="poverty_office"))

    # F2: a household's yearly payment made twice, a week apart, under two payment numbers
    twice = next(p for p in payments if p.fund_type == HOUSEHOLD_FUND and _month(p.paid_on) == "2017-06")
    again = add(Payment(numbers.payment(twice.paid_on + dt.timedelta(days=7)), twice.paid_on + dt.timedelta(days=7), twice.project_no,
                        twice.fund_type, twice.payee_type, twice.payee_name, twice.payee_id, twice.amount, twice.household_id))
    out.append(Planted("F2", f"{twice.no}|{again.no}|{twice.paid_on}|{again.paid_on}", _month(again.paid_on), why="一周内重复拨付",
                       town=next(h.town for h in capable if h.hid == twice.household_id), unit="finance"))

    # F3: a household topped up far above 2 万元 a member
    top = capable[len(capable) // 2]
    add(Payment(numbers.payment(D(2018, 4, 16)), D(2018, 4, 16), household_projects[2018].no, HOUSEHOLD_FUND, "农户", top.members[0].name,
                top.members[0].id_number, 20000.0 * len(top.members), household_id=top.hid))
    out.append(Planted("F3", f"household:{top.hid}", "2018-04", why="超过人均 2 万元", town=top.town, unit="finance"))

    # F4: a reward for someone not registered poor, and one for a registered labourer not employed
    outsider = f"{code}19920202{rng.randrange(1000):03d}"
    outsider += check_digit(outsider)
    enterprise = enterprises[1]
    r1 = add(Payment(numbers.payment(D(2017, 9, 12)), D(2017, 9, 12), reward_projects[2017].no, REWARD, "企业", enterprise,
                     payees[enterprise], 2000.0, worker_id=outsider))
    out.append(Planted("F4", r1.no, "2017-09", why="受奖劳动力未建档立卡", unit="hrss"))
    employed = {r["id_number"] for m in months("2017-02", "2018-01") for r in employment(m) if r["employer"] == enterprise}
    idle, idle_town = next((m.id_number, h.town) for h in capable for m in h.members if m.labor != "无劳动能力" and m.id_number not in employed)
    r2 = add(Payment(numbers.payment(D(2018, 2, 8)), D(2018, 2, 8), reward_projects[2018].no, REWARD, "企业", enterprise,
                     payees[enterprise], 2000.0, worker_id=idle))
    out.append(Planted("F4", r2.no, "2018-02", why="未在该企业稳定就业", town=idle_town, unit="hrss"))

    # F5: a 2017 road's first instalment paid three weeks before the project was approved ...
    road = next(p for p in projects if p.kind == ROAD and p.approved_on.year == 2017)
    first = next(p for p in payments if p.project_no == road.no)
    first.paid_on = road.approved_on - dt.timedelta(days=21)
    first.no = numbers.payment(first.paid_on)
    out.append(Planted("F5", f"payment:{first.no}", _month(first.paid_on), why="未立项先拨付", town=road.town, unit="finance"))
    # ... and a 2018 industry project paid a fifth above its plan after its acceptance
    over = next(p for p in projects if p.kind == INDUSTRY and p.approved_on.year == 2018)
    extra = add(Payment(numbers.payment(over.accepted_on + dt.timedelta(days=20)), over.accepted_on + dt.timedelta(days=20), over.no,
                        INDUSTRY, "企业", INDUSTRY_PAYEES[0], payees[INDUSTRY_PAYEES[0]], round(over.planned * 2000, 2)))
    out.append(Planted("F5", f"project:{over.no}", _month(extra.paid_on), why="超预算", town=over.town, unit="finance"))

    # F6: a 2017 road never started (nothing paid on it) ...
    idle_road = [p for p in projects if p.kind == ROAD and p.approved_on.year == 2017][-1]
    idle_road.started_on = idle_road.completed_on = idle_road.accepted_on = None
    payments[:] = [p for p in payments if p.project_no != idle_road.no]
    out.append(Planted("F6", f"{idle_road.no}:start", _month(idle_road.start_plan + dt.timedelta(days=31)), why="未开工",
                       town=idle_road.town, unit=unit_named(idle_road.unit)))
    # ... a water project accepted five months after its completion ...
    slow = next(p for p in projects if p.kind == WATER and p.approved_on.year == 2017)
    slow.accepted_on = slow.completed_on + dt.timedelta(days=150)
    late_pay = [p for p in payments if p.project_no == slow.no][-1]
    late_pay.paid_on = slow.accepted_on + dt.timedelta(days=10)
    late_pay.no = numbers.payment(late_pay.paid_on)
    overdue = months_later(slow.completed_on, 3)
    out.append(Planted("F6", f"{slow.no}:accept", _month(overdue + dt.timedelta(days=1)), add_months(_month(slow.accepted_on), -1),
                       why="完工未验收", town=slow.town, unit=unit_named(slow.unit)))
    # ... and an accepted 2016 water project whose last instalment never came
    unpaid = next(p for p in projects if p.kind == WATER and p.approved_on.year == 2016)
    last = [p for p in payments if p.project_no == unpaid.no][-1]
    payments.remove(last)
    out.append(Planted("F6", f"{unpaid.no}:pay", _month(months_later(unpaid.accepted_on, 1) + dt.timedelta(days=1)), why="验收后未付清",
                       town=unpaid.town, unit=unit_named(unpaid.unit)))
    return out


# --- the month's rows, as the clerks type them ----------------------------------------------------

def _known(day: dt.date | None, month: str) -> dt.date | None:
    """A date as the library knows it at the month's end: not yet, if it is later."""
    return day if day is not None and day <= month_end(month) else None


def in_library(p: Project, month: str) -> bool:
    """A project is in the library two months before its planned approval."""
    return p.approved_plan <= month_end(add_months(month, 2))


def project_rows(funds: Funds, month: str) -> list[dict]:
    return [{
        "project_no": p.no, "project_name": p.name, "project_type": p.kind, "town": p.town, "village": p.village,
        "responsible_unit": p.unit, "planned_investment": p.planned, "length_km": p.length_km,
        "approved_plan": p.approved_plan, "approved_on": _known(p.approved_on, month), "start_plan": p.start_plan,
        "started_on": _known(p.started_on, month), "complete_plan": p.complete_plan, "completed_on": _known(p.completed_on, month),
        "accept_plan": p.accept_plan, "accepted_on": _known(p.accepted_on, month),
    } for p in funds.projects if in_library(p, month)]


def project_household_rows(funds: Funds, month: str) -> list[dict]:
    return [{"project_no": p.no, "household_id": hid, "id_number": head}
            for p in funds.projects if in_library(p, month) for hid, head in p.households]


def payment_rows(funds: Funds, month: str) -> list[dict]:
    return [{
        "payment_no": p.no, "paid_on": p.paid_on, "project_no": p.project_no, "fund_type": p.fund_type, "payee_type": p.payee_type,
        "payee_name": p.payee_name, "payee_id": p.payee_id, "household_id": p.household_id, "worker_id": p.worker_id,
        "amount": p.amount,
    } for p in funds.payments if _month(p.paid_on) == month]
