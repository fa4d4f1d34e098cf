"""A made-up county whose numbers are the plan's own, month by month from 2016-01 to 2018-12.

`build_population(seed, scale)` makes the households once; `rows(population, dataset, month)` renders
any month of any dataset from them. Everything is deterministic for a seed. The county carries
its ground truth: the reconciliation discrepancies planted in the dibao registry, the units
made to lag, the late and rejected files (see `manifest`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from fupin.assess.targets import h1_target
from fupin.calendar import add_months
from fupin.config import county_settings, geography
from fupin.demo import plan
from fupin.ids import check_digit

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢钟谭陆汪范金廖夏邹熊邱江谢侯龙黎贺顾邵钱覃"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛超霞平刚桂玉萍红玲芬燕彬鹏辉春梅金凤永宝荣福贵兰英秀珍德文才生"
# one character → another with the same pinyin (tones aside), for the 疑似同一人 plant
HOMOPHONES = {"明": "鸣", "华": "化", "伟": "维", "芳": "方", "丽": "莉", "军": "君", "平": "萍", "红": "宏", "英": "鹰", "文": "雯"}
SCHOOL_STAGE = [(6, 11, "小学"), (12, 14, "初中"), (15, 17, "高中")]
INDUSTRIES = ["优质稻", "茶叶", "贡柑", "沙田柚", "马蹄", "石斛", "蔬菜", "畜禽", "香菇", "何首乌", "猕猴桃", "乡村旅游", "电商"]
DRIVER_MODES = ["公司+农户", "土地入股", "资金入股", "务工", "合作社", "自主经营"]
CAUSES = ["因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金", "交通条件落后", "自身发展动力不足"]


@dataclass(slots=True)
class Member:
    id_number: str
    name: str
    relation: str
    birth: dt.date
    labor: str
    willing: bool = True


@dataclass(slots=True)
class Household:
    hid: str
    town: str
    town_code: str
    village: str
    poor_village: bool
    kind: str  # A capable in a poor village, B capable elsewhere, C no labour capacity (兜底)
    members: list[Member]
    offset: float
    cause: str
    employ_rank: float
    industry: str
    exit_month: str | None = None

    @property
    def capable(self) -> bool:
        return self.kind != "C"


@dataclass(slots=True)
class DibaoFamily:
    """A dibao card: a registry household's (兜底) or a family outside the poverty registry."""

    card: str
    town: str
    village: str
    members: list[Member]
    income: float
    benefit: float
    start: dt.date
    household: Household | None = None


@dataclass
class Episode:
    """A planted discrepancy: `rule` holds for `key` in months [start, start + months)."""

    rule: str
    start: str
    months: int
    target: dict

    def active(self, month: str) -> bool:
        return self.start <= month <= add_months(self.start, self.months - 1)


@dataclass
class Population:
    seed: int
    scale: int
    households: list[Household]
    dibao: list[DibaoFamily]
    episodes: list[Episode] = field(default_factory=list)
    scenarios: dict = field(default_factory=dict)


class _Ids:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.region = county_settings()["code"]  # everyone born in the county

    def new(self, birth: dt.date) -> str:
        while True:
            body = f"{self.region}{birth:%Y%m%d}{self.rng.randrange(1000):03d}"
            pid = body + check_digit(body)
            if pid not in self.used:
                self.used.add(pid)
                return pid


def _sizes(rng: random.Random, n: int, total: int, lo: int, hi: int) -> list[int]:
    """`n` household sizes in [lo, hi] summing to exactly `total`."""
    avg = total / n
    sizes = [max(lo, min(hi, round(rng.gauss(avg, 1.0)))) for _ in range(n)]
    diff = total - sum(sizes)
    while diff:
        i = rng.randrange(n)
        step = 1 if diff > 0 else -1
        if lo <= sizes[i] + step <= hi:
            sizes[i] += step
            diff -= step
    return sizes


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _members(rng: random.Random, ids: _Ids, size: int, kind: str) -> list[Member]:
    out = []
    for i in range(size):
        if kind == "C":
            relation = "户主" if i == 0 else ("配偶" if i == 1 else rng.choice(["之子", "之女", "之母", "之父"]))
            year = rng.randrange(1930, 1960) if i < 2 else rng.randrange(1960, 2000)
            labor = "无劳动能力"
        else:
            relation = ["户主", "配偶"][i] if i < 2 else rng.choice(["之子", "之女", "之子", "之女", "之父", "之母"])
            if relation in ("之父", "之母"):
                year, labor = rng.randrange(1935, 1955), rng.choice(["部分丧失劳动能力", "无劳动能力"])
            elif i < 2:
                year, labor = rng.randrange(1962, 1990), "有劳动能力" if i == 0 else rng.choice(["有劳动能力", "部分丧失劳动能力"])
            else:
                year = rng.randrange(1996, 2014)
                labor = "有劳动能力" if year < 2000 else "无劳动能力"
        birth = dt.date(year, rng.randrange(1, 13), rng.randrange(1, 29))
        out.append(Member(ids.new(birth), _name(rng), relation, birth, labor, rng.random() < 0.7))
    return out


def _pick_exact(rng: random.Random, pool: list[Household], persons: int) -> list[Household]:
    """Households from `pool` holding exactly `persons` members (singles kept to close the gap)."""
    multi = [h for h in pool if len(h.members) > 1]
    singles = [h for h in pool if len(h.members) == 1]
    rng.shuffle(multi)
    chosen, left = [], persons
    for h in multi:
        if left == 0:
            break
        if len(h.members) <= left:
            chosen.append(h)
            left -= len(h.members)
    if left > len(singles):
        raise ValueError(f"cannot pick exactly {persons} persons")
    return chosen + singles[:left]


def _schedule_exits(rng: random.Random, households: list[Household], lag_town: str, extra_town: str) -> dict:
    """Give each household an exit month so that town and county totals meet the plan.

    `lag_town` exits fewer than its 2017 task (and catches up in 2018); `extra_town` exits the
    same number more in 2017, so the county's totals stay exact.
    """
    by_town: dict[str, list[Household]] = {}
    for h in households:
        by_town.setdefault(h.town_code, []).append(h)
    persons = {t: sum(len(h.members) for h in hs) for t, hs in by_town.items()}
    targets = plan.exit_targets(persons)
    shortfall = max(5, (targets[2017][lag_town] - targets[2016][lag_town]) // 12)
    prev = {t: 0 for t in by_town}
    for year in (2016, 2017, 2018):
        for town, hs in by_town.items():
            goal = targets[year][town]
            if year == 2017 and town == lag_town:
                goal -= shortfall
            if year == 2017 and town == extra_town:
                goal += shortfall
            pool = [h for h in hs if h.exit_month is None]
            need = goal - prev[town]
            chosen = pool if year == 2018 else _pick_exact(rng, pool, need)
            assert sum(len(h.members) for h in chosen) == need, (year, town)
            h1 = h1_target(targets[year - 1][town] if year > 2016 else 0, targets[year][town]) - prev[town]
            rng.shuffle(chosen)
            done = 0
            for h in chosen:
                first_half = done < h1 + max(2, need // 20)
                month = rng.randrange(1, 7) if first_half else rng.randrange(7, 13)
                h.exit_month = f"{year}-{month:02d}"
                done += len(h.members)
            prev[town] = goal
    return {"targets": {str(y): t for y, t in targets.items()}, "shortfall": shortfall}


def build_population(seed: int = 2016, scale: int = 1) -> Population:
    rng = random.Random(seed)
    geo = geography()
    ids = _Ids(rng)
    poor = [v for v in geo.villages if v.is_poor]
    other = [v for v in geo.villages if not v.is_poor]
    village_index = {v.code: i for i, v in enumerate(geo.villages)}
    households: list[Household] = []
    dibao: list[DibaoFamily] = []
    county_households: list[list[Household]] = []
    code = county_settings()["code"]  # household numbers start with the county's code
    for copy in range(scale):
        mine: list[Household] = []
        for kind, key, villages in (("A", "poor_village_capable", poor), ("B", "other_capable", other), ("C", "no_capacity", geo.villages)):
            n, total = plan.HOUSEHOLDS[key], plan.PERSONS[key]
            sizes = _sizes(rng, n, total, 1 if kind == "C" else 2, 3 if kind == "C" else 7)
            weights = [v.population for v in villages]
            for size in sizes:
                v = rng.choices(villages, weights)[0]
                mine.append(
                    Household(
                        hid="", town=v.town, town_code=v.town_code, village=v.name, poor_village=v.is_poor, kind=kind,
                        members=_members(rng, ids, size, kind), offset=rng.gauss(0, 350), cause=rng.choice(CAUSES),
                        employ_rank=rng.random(), industry=rng.choice(INDUSTRIES),
                    )
                )
        seq: dict[str, int] = {}
        for h in mine:
            v = next(x for x in geo.villages if x.name == h.village and x.town == h.town)
            seq[v.code] = seq.get(v.code, 0) + 1
            h.hid = f"{code}{copy:03d}{village_index[v.code]:03d}{seq[v.code]:04d}"
        county_households.append(mine)
        households += mine
    _spread_employment(households)
    towns = sorted(geo.towns.values())
    lag_town, extra_town, employ_town, cover_town = towns[3], towns[0], towns[5], towns[8]
    schedules = [_schedule_exits(random.Random(seed * 1000 + copy), mine, lag_town, extra_town) for copy, mine in enumerate(county_households)]
    # dibao: every 兜底 household, plus families outside the poverty registry
    registry_births = {(h.village, m.birth) for h in households for m in h.members}
    for h in households:
        if h.kind == "C":
            dibao.append(DibaoFamily(f"DB{h.hid[6:]}", h.town, h.village, h.members, 0.0, round(rng.uniform(180, 420)),
                                     dt.date(2015, rng.randrange(1, 13), 1), household=h))
    for copy in range(scale):
        for i in range(int(plan.TOTAL_PERSONS * 0.55 / 2)):
            v = rng.choices(geo.villages, [x.population for x in geo.villages])[0]
            members = []
            for j in range(rng.choice((1, 2, 2, 3))):
                while True:
                    birth = dt.date(rng.randrange(1930, 2010), rng.randrange(1, 13), rng.randrange(1, 29))
                    if (v.name, birth) not in registry_births:
                        break
                members.append(Member(ids.new(birth), _name(rng), "户主" if j == 0 else rng.choice(["配偶", "之子", "之女"]), birth, "无劳动能力"))
            dibao.append(DibaoFamily(f"DO{copy:03d}{i:06d}", v.town, v.name, members, float(rng.randrange(4200, 6500, 10)),
                                     round(rng.uniform(150, 350)), dt.date(rng.randrange(2012, 2016), rng.randrange(1, 13), 1)))
    population = Population(seed, scale, households, dibao)
    population.scenarios = {
        "exit_lag_town": lag_town, "exit_extra_town": extra_town, "employment_lag_town": employ_town,
        "coverage_lag_town": cover_town, "exit_plan": schedules[0],
    }
    population.episodes = plant(random.Random(seed + 7), population, ids)
    return population


def _spread_employment(households: list[Household]) -> None:
    """Within each town, capable households' employment ranks become even quantiles, so a
    coverage of c employs c of every town's households (no town lags by chance)."""
    by_town: dict[str, list[Household]] = {}
    for h in households:
        if h.capable:
            by_town.setdefault(h.town_code, []).append(h)
    for hs in by_town.values():
        hs.sort(key=lambda h: h.employ_rank)
        for i, h in enumerate(hs):
            h.employ_rank = (i + 0.5) / len(hs)


# --- income ------------------------------------------------------------------------------------

_LEVELS = [("2016-01", 3300.0), ("2016-12", 7000.0), ("2017-12", 7600.0), ("2018-12", 8100.0)]


@cache
def _level(month: str) -> float:
    """The registry's typical income per capita in `month` (a piecewise-linear rise)."""
    return interpolate(_LEVELS, month)


def interpolate(anchors: list[tuple[str, float]], month: str) -> float:
    if month <= anchors[0][0]:
        return anchors[0][1]
    for (m0, v0), (m1, v1) in zip(anchors, anchors[1:], strict=False):
        if m0 <= month <= m1:
            return v0 + (v1 - v0) * month_distance(m0, month) / month_distance(m0, m1)
    return anchors[-1][1]


def month_distance(a: str, b: str) -> int:
    return (int(b[:4]) - int(a[:4])) * 12 + int(b[5:]) - int(a[5:])


def exited(h: Household, month: str) -> bool:
    return h.exit_month is not None and h.exit_month <= month


def income(h: Household, month: str) -> float:
    """家庭年人均可支配收入 of the household as the registry states it that month."""
    value = max(2000.0, _level(month) + h.offset)
    if exited(h, month):
        value = max(value, plan.EXIT_THRESHOLD[int(month[:4])] + 100 + abs(h.offset) / 4)
    return float(round(value, -1))


# --- planted discrepancies -----------------------------------------------------------------------

_PLANTS = {
    "R1": [("2016-03", 1), ("2016-09", 3), ("2017-02", 2), ("2017-08", 4), ("2018-03", 1), ("2018-09", 2)],
    "R2": [("2016-04", 2), ("2016-10", 1), ("2017-03", 3), ("2017-09", 2), ("2018-04", 1), ("2018-08", 3)],
    "R3": [("2016-02", 3), ("2016-06", 2), ("2017-01", 4), ("2017-07", 1), ("2018-02", 2), ("2018-07", 3)],
    "R4": [("2016-05", 2), ("2016-11", 2), ("2017-04", 3), ("2017-10", 1), ("2018-01", 4), ("2018-10", 2)],
    "R5": [("2016-02", 1), ("2016-07", 3), ("2017-01", 2), ("2017-05", 3), ("2018-02", 4), ("2018-06", 1)],
    "R6": [("2016-08", 2), ("2017-03", 2), ("2017-09", 3), ("2018-02", 1), ("2018-08", 2), ("2018-10", 2)],
}


def _variants(pid: str) -> set[str]:
    """IDs one digit off, or with two neighbouring digits swapped, among the first 17."""
    out = set()
    body = pid[:17]
    for i in range(17):
        for d in "0123456789":
            if d != body[i]:
                b = body[:i] + d + body[i + 1 :]
                out.add(b + check_digit(b))
        if i < 16 and body[i] != body[i + 1]:
            b = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
            out.add(b + check_digit(b))
    return out


@dataclass
class _Planter:
    """Draws the households (and dibao cards) of the planted discrepancies, each at most once.
    The draws happen in a fixed order (R1 … R6): a seed always plants the same cases."""

    rng: random.Random
    population: Population
    ids: _Ids
    used: set[str] = field(default_factory=set)

    @property
    def first(self) -> list[Household]:
        """The households of the first county copy: only they carry planted cases."""
        return [h for h in self.population.households if h.hid[6:9] == "000"]

    def take(self, pred: Callable[[Household], bool]) -> Household:
        h = self.rng.choice([h for h in self.first if h.hid not in self.used and pred(h)])
        self.used.add(h.hid)
        return h


def _plant_r1(p: _Planter) -> list[Episode]:
    """兜底户 members dropped from dibao; the extra 2017-06 case is in the coverage-lag town (I05)."""
    lag = p.population.scenarios["coverage_lag_town"]
    out = []
    for start, n in _PLANTS["R1"] + [("2017-06", 1)]:
        in_lag_town = start == "2017-06"
        h = p.take(lambda h, in_lag_town=in_lag_town: h.kind == "C" and len(h.members) >= 2 and (not in_lag_town or h.town_code == lag))
        out.append(Episode("R1", start, n, {"household": h.hid, "member": h.members[-1].id_number}))
    return out


def _plant_r2(p: _Planter) -> list[Episode]:
    """Dibao families under the standard who are not in the registry."""
    outsiders = [f for f in p.population.dibao if f.household is None and f.card.startswith("DO000")]
    out = []
    for start, n in _PLANTS["R2"]:
        f = p.rng.choice([f for f in outsiders if f.card not in p.used])
        p.used.add(f.card)
        out.append(Episode("R2", start, n, {"card": f.card, "persons": [m.id_number for m in f.members]}))
    return out


def _plant_r3(p: _Planter) -> list[Episode]:
    """A name (a different sound: not 疑似) or a village that differs between the registries."""
    out = []
    for k, (start, n) in enumerate(_PLANTS["R3"]):
        h = p.take(lambda h: h.kind == "C")
        m = h.members[0]
        if k % 2 == 0:
            new = m.name[0] + ("强" if m.name[1] != "强" else "刚") + m.name[2:]
            out.append(Episode("R3", start, n, {"person": m.id_number, "field": "name", "value": new}))
        else:
            other = next(v.name for v in geography().villages if v.town == h.town and v.name != h.village)
            out.append(Episode("R3", start, n, {"person": m.id_number, "field": "village", "value": other}))
    return out


def _plant_r4(p: _Planter) -> list[Episode]:
    """A card absorbing a neighbour's household, or a member moved onto a card of their own."""
    out = []
    for k, (start, n) in enumerate(_PLANTS["R4"]):
        if k % 2 == 0:
            a = p.take(lambda h: h.kind == "C")
            b = p.take(lambda h, a=a: h.kind == "C" and h.village == a.village and h.town == a.town)
            out.append(Episode("R4", start, n, {"kind": "card", "card": f"DB{a.hid[6:]}", "absorbed": f"DB{b.hid[6:]}"}))
        else:
            h = p.take(lambda h: h.kind == "C" and len(h.members) >= 2)
            out.append(Episode("R4", start, n, {"kind": "household", "household": h.hid, "card": f"DB{h.hid[6:]}",
                                                "moved": h.members[-1].id_number, "new_card": f"DS{h.hid[6:]}"}))
    return out


def _suspect_id(p: _Planter, m: Member, mode: str) -> tuple[str, str] | None:
    """(dibao ID, name) of a dibao record that looks like `m` in `mode`, or None if `m` cannot."""
    if mode == "homophone":
        i = next(i for i, c in enumerate(m.name) if i > 0 and c in HOMOPHONES)
        return p.ids.new(m.birth), m.name[:i] + HOMOPHONES[m.name[i]] + m.name[i + 1 :]
    body = m.id_number[:17]
    if mode == "digit":
        b = body[:15] + str((int(body[15]) + 3) % 10) + body[16]
    elif body[14] == body[15]:
        return None
    else:
        b = body[:14] + body[15] + body[14] + body[16]
    pid = b + check_digit(b)
    if pid in p.ids.used:
        return None
    p.ids.used.add(pid)
    return pid, m.name


def _plant_r5(p: _Planter) -> list[Episode]:
    """A dibao record of a registry person under an ID one digit off, two digits swapped, or a
    new ID with a homophone name — never one that would also pair with a neighbour."""
    village_ids: dict[tuple[str, str], set[str]] = {}
    for h in p.first:
        for m in h.members:
            village_ids.setdefault((h.town, h.village), set()).add(m.id_number)
    out = []
    for k, (start, n) in enumerate(_PLANTS["R5"]):
        mode = ("digit", "swap", "homophone")[k % 3]
        while True:
            h = p.take(lambda h: h.kind != "C")
            cand = [m for m in h.members if mode != "homophone" or any(c in HOMOPHONES for c in m.name[1:])]
            found = _suspect_id(p, cand[0], mode) if cand else None
            if found and not _variants(found[0]) & (village_ids[(h.town, h.village)] - {cand[0].id_number}):
                break
        m, (pid, name) = cand[0], found
        out.append(Episode("R5", start, n, {"registry_id": m.id_number, "dibao_id": pid, "name": name, "birth": m.birth.isoformat(),
                                            "town": h.town, "village": h.village, "card": f"DT{k:02d}{h.hid[6:]}", "mode": mode}))
    return out


def _plant_r6(p: _Planter) -> list[Episode]:
    """Households that exited before the case starts and fall under the year's exit threshold."""
    out = []
    for start, n in _PLANTS["R6"]:
        h = p.take(lambda h, start=start: h.kind != "C" and h.exit_month is not None and h.exit_month < start)
        out.append(Episode("R6", start, n, {"household": h.hid, "persons": [m.id_number for m in h.members]}))
    return out


def plant(rng: random.Random, population: Population, ids: _Ids) -> list[Episode]:
    """Choose the entities of every planted discrepancy (the first county copy only)."""
    planter = _Planter(rng, population, ids)
    return [e for scenario in (_plant_r1, _plant_r2, _plant_r3, _plant_r4, _plant_r5, _plant_r6) for e in scenario(planter)]


def expected_findings(population: Population, month: str) -> dict[str, list]:
    """The planted findings active in `month`, keyed as reconciliation reports them."""
    out: dict[str, list] = {r: [] for r in ("R1", "R2", "R3", "R4", "R5", "R6")}
    for e in population.episodes:
        if not e.active(month):
            continue
        t = e.target
        if e.rule == "R1":
            out["R1"].append(t["household"])
        elif e.rule == "R2":
            out["R2"] += t["persons"]
        elif e.rule == "R3":
            out["R3"].append(t["person"])
        elif e.rule == "R4":
            out["R4"].append(["card", t["card"]] if t["kind"] == "card" else ["household", t["household"]])
        elif e.rule == "R5":
            out["R5"].append([t["registry_id"], t["dibao_id"]])
        elif e.rule == "R6":
            out["R6"] += t["persons"]
    return {r: sorted(v) for r, v in out.items()}
