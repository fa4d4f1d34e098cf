"""Render any month of any dataset from the population, planted discrepancies included.

Rows are dicts keyed by contract key, with values as clerks type them.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Iterator

from fupin.config import geography
from fupin.demo import funds, plan
from fupin.demo.population import SCHOOL_STAGE, DibaoFamily, Household, Member, Population, _level, exited, income, interpolate

HELPERS = "张建国 李卫东 王志强 陈国华 刘永红 黄伟明 赵德胜 周文军 吴海燕 郑晓峰".split()
EMPLOYERS = ["丹霞山景区管理处", "韶关市某制衣厂", "仁化县城建公司", "东莞某电子厂", "广州某物流公司", "村保洁公益岗"]
STATUSES = ["县内务工", "县外务工", "县外务工", "公益性岗位", "自主创业"]


EMPLOYMENT = [("2016-01", 0.40), ("2016-06", 0.56), ("2016-12", 0.66), ("2017-06", 0.80), ("2017-12", 0.90),
              ("2018-06", 0.94), ("2018-11", 1.0)]
YEAR_SHARE = {
    "cooperative": {2016: 0.55, 2017: 0.85, 2018: 1.0},
    "clinic": {2016: 0.45, 2017: 0.75, 2018: 1.0},
    "water_safe": {2016: 0.85, 2017: 0.93, 2018: 1.0},
    "tap": {2016: 0.915, 2017: 0.95, 2018: 0.985},
}
TEACHER_SUBSIDY = {2016: 950.0, 2017: 1050.0, 2018: 1150.0}


def _episodes(population: Population, rule: str, month: str) -> list[dict]:
    return [e.target for e in population.episodes if e.rule == rule and e.active(month)]


def employment_coverage(population: Population, h: Household, month: str) -> float:
    if h.town_code == population.scenarios["employment_lag_town"] and "2017-04" <= month <= "2017-06":
        return 0.68
    return interpolate(EMPLOYMENT, month)


def registry(population: Population, month: str) -> Iterator[dict]:
    low = {t["household"] for t in _episodes(population, "R6", month)}
    threshold = plan.EXIT_THRESHOLD[int(month[:4])]
    for h in population.households:
        inc = threshold - 300.0 if h.hid in low else income(h, month)
        done = exited(h, month)
        helper = HELPERS[int(h.hid[-3:]) % len(HELPERS)]
        for m in h.members:
            yield {
                "household_id": h.hid, "id_number": m.id_number, "name": m.name, "relation": m.relation, "town": h.town,
                "village": h.village, "labor_capacity": m.labor, "poverty_cause": h.cause, "income_per_capita": inc,
                "exit_status": "已脱贫" if done else "未脱贫", "exit_year": int(h.exit_month[:4]) if done else None,
                "helper_unit": f"{h.town}驻村工作队", "helper_name": helper,
            }


def _dibao_row(card: str, m: Member, f: DibaoFamily, inc: float, *, name: str | None = None, village: str | None = None,
               status: str = "在保") -> dict:
    return {
        "dibao_card_no": card, "id_number": m.id_number, "name": name or m.name, "relation": m.relation, "town": f.town,
        "village": village or f.village, "category": "特困供养" if len(f.members) == 1 and m.birth.year < 1940 else "低保",
        "monthly_benefit": f.benefit, "income_per_capita": inc, "start_date": f.start, "status": status,
    }


def dibao(population: Population, month: str) -> Iterator[dict]:
    missing = {t["member"] for t in _episodes(population, "R1", month)}
    poor_income_cards = {t["card"] for t in _episodes(population, "R2", month)}
    changed = {t["person"]: t for t in _episodes(population, "R3", month)}
    merged = {t["absorbed"]: t["card"] for t in _episodes(population, "R4", month) if t["kind"] == "card"}
    moved = {t["moved"]: t["new_card"] for t in _episodes(population, "R4", month) if t["kind"] == "household"}
    for f in population.dibao:
        if f.household is not None:
            inc = income(f.household, month)
            card = merged.get(f.card, f.card)
        else:
            inc = 3500.0 if f.card in poor_income_cards else f.income
            card = f.card
        stopped = f.household is None and int(f.card[-3:]) % 37 == 0  # 停保 families: out of force, never R2
        for m in f.members:
            if m.id_number in missing:
                continue
            change = changed.get(m.id_number, {})
            yield _dibao_row(
                moved.get(m.id_number, card), m, f, 3600.0 if stopped else inc,
                name=change.get("value") if change.get("field") == "name" else None,
                village=change.get("value") if change.get("field") == "village" else None,
                status="停保" if stopped else "在保",
            )
    for t in _episodes(population, "R5", month):
        fake = Member(t["dibao_id"], t["name"], "户主", dt.date.fromisoformat(t["birth"]), "无劳动能力")
        fam = DibaoFamily(t["card"], t["town"], t["village"], [fake], 4500.0, 260.0, dt.date(2016, 1, 1))
        yield _dibao_row(t["card"], fake, fam, 4500.0)


def industry(population: Population, month: str) -> Iterator[dict]:
    for h in population.households:
        if not h.capable:
            continue
        head = h.members[0]
        mode = plan_mode(h)
        yield {
            "household_id": h.hid, "head_id_number": head.id_number, "head_name": head.name, "town": h.town, "village": h.village,
            "industry": h.industry, "driver_entity": f"{h.village}{h.industry}合作社" if mode == "合作社" else "韶关某农业公司",
            "driver_mode": mode, "coop_member": "是" if mode in ("合作社", "土地入股") else "否",
            "monthly_income": float(round(300 + _level(month) / 20 + h.offset / 10, -1)),
        }


def plan_mode(h: Household) -> str:
    return ["公司+农户", "土地入股", "资金入股", "务工", "合作社", "自主经营"][int(h.hid[-2:]) % 6]


def _poor_villages_share(population: Population, key: str, month: str) -> list:
    poor = sorted((v for v in geography().villages if v.is_poor), key=lambda v: (zlib.crc32(f"{population.seed}{key}{v.code}".encode()), v.code))
    share = YEAR_SHARE[key][int(month[:4])]
    n = math.ceil(share * len(poor))
    return [(v, i < n) for i, v in enumerate(poor)]


def cooperative(population: Population, month: str) -> list[dict]:
    return [{"town": v.town, "village": v.name, "coop_name": f"仁化县{v.name}种养专业合作社", "households_driven": 8 + len(v.name)}
            for v, has in _poor_villages_share(population, "cooperative", month) if has]


def employment(population: Population, month: str) -> Iterator[dict]:
    first_half = int(month[5:]) <= 6
    for h in population.households:
        if not h.capable:
            continue
        covered = h.employ_rank < employment_coverage(population, h, month)
        for i, m in enumerate(h.members):
            if m.labor == "无劳动能力":
                continue
            working = covered and (i == 0 or (int(m.id_number[-2]) % 2 == 0))
            status = STATUSES[int(m.id_number[-3]) % len(STATUSES)] if working else "未就业"
            trained = m.willing and (not first_half or int(m.id_number[-4]) % 10 < 6)
            yield {
                "id_number": m.id_number, "name": m.name, "town": h.town, "village": h.village, "employment_status": status,
                "employer": EMPLOYERS[int(m.id_number[-5]) % len(EMPLOYERS)] if status in ("县内务工", "县外务工", "公益性岗位") else None,
                "employment_start": dt.date(2016, 1 + int(m.id_number[-6]) % 12, 1).isoformat() if working and month >= "2017-01"
                else (f"{month}-01" if working else None),
                "monthly_wage": float(2200 + 100 * (int(m.id_number[-7]) % 9)) if working else None,
                "training_willing": "是" if m.willing else "否", "trained": "是" if trained else "否",
                "training_program": ["电工", "焊工", "家政服务", "电子商务", "种养技术"][int(m.id_number[-8]) % 5] if trained else None,
            }


def medical(population: Population, month: str) -> Iterator[dict]:
    moy = int(month[5:])
    for h in population.households:
        for m in h.members:
            sick = int(m.id_number[-4:-1]) % 7 == 0
            cost = float(800 * moy) if sick else 0.0
            yield {
                "id_number": m.id_number, "name": m.name, "town": h.town, "village": h.village, "basic_insurance": "是",
                "critical_insurance": "是", "inpatient_cost_ytd": cost, "medical_aid_ytd": round(cost * 0.6, 2),
            }


def clinic(population: Population, month: str) -> list[dict]:
    return [{"town": v.town, "village": v.name, "clinic_standard": "是" if ok else "否"} for v, ok in _poor_villages_share(population, "clinic", month)]


def age(m: Member, month: str) -> int:
    d = dt.date.fromisoformat(month + "-01")
    return d.year - m.birth.year - ((d.month, 1) < (m.birth.month, m.birth.day))


def student_aid(population: Population, month: str) -> Iterator[dict]:
    for h in population.households:
        for m in h.members:
            a = age(m, month)
            stage = next((s for lo, hi, s in SCHOOL_STAGE if lo <= a <= hi), None)
            if stage is None:
                continue
            school = f"{h.town.removesuffix('镇').removesuffix('街道')}{'中心小学' if stage == '小学' else '中学'}"
            yield {"id_number": m.id_number, "name": m.name, "town": h.town, "village": h.village, "stage": stage,
                        "school": school, "enrollment": "在读", "aid_amount": 125.0 if stage == "小学" else 250.0}


def teacher_subsidy(population: Population, month: str) -> list[dict]:
    amount = TEACHER_SUBSIDY[int(month[:4])]
    return [{"school": f"{t.removesuffix('镇').removesuffix('街道')}中心小学", "town": t, "teachers": 18 + len(t), "subsidy_per_teacher": amount}
            for t in geography().towns]


def water_supply(population: Population, month: str) -> list[dict]:
    year = int(month[:4])
    safe = {v.code: ok for v, ok in _poor_villages_share(population, "water_safe", month)}
    out = []
    for v in geography().villages:
        total = v.households * population.scale
        out.append({"town": v.town, "village": v.name, "households_total": total,
                    "households_tap": min(total, math.ceil(total * YEAR_SHARE["tap"][year])),
                    "water_safe": "是" if safe.get(v.code, True) else "否", "investment": 2.5 if year < 2018 else 1.0})
    return out


def _funds(population: Population) -> funds.Funds:
    return funds.funds_of(population, lambda month: employment(population, month), EMPLOYERS)


def funds_planted(population: Population) -> list[funds.Planted]:
    """The planted F1–F6 cases of the county's money (demo.funds)."""
    return _funds(population).planted


def funds_of(population: Population) -> funds.Funds:
    """The county's projects, payments and planted cases (demo.funds)."""
    return _funds(population)


RENDER = {
    "fund_payments": lambda p, month: funds.payment_rows(_funds(p), month),
    "projects": lambda p, month: funds.project_rows(_funds(p), month),
    "project_households": lambda p, month: funds.project_household_rows(_funds(p), month),
    "registry": registry, "dibao": dibao, "industry": industry, "cooperative": cooperative, "employment": employment,
    "medical": medical, "clinic": clinic, "student_aid": student_aid, "teacher_subsidy": teacher_subsidy, "water_supply": water_supply,
}


def iter_rows(population: Population, dataset: str, month: str) -> Iterator[dict]:
    """The rows one at a time (a province-scale month does not fit in memory as dicts)."""
    yield from RENDER[dataset](population, month)


def rows(population: Population, dataset: str, month: str) -> list[dict]:
    return list(iter_rows(population, dataset, month))
