"""Valid sample rows for every dataset, from a small made-up population of the county.

Deterministic for a seed. Rows are dicts keyed by contract key, with values as a clerk types
them (Chinese enumerations, 是/否, numbers, dates), ready for `writers.dataset_sheet`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from fupin.config import county_settings, geography
from fupin.ids import check_digit

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
            "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国文斌志勇春梅海燕金凤永红"
RELATIONS_CHILD = ["之子", "之女"]


def make_id(rng: random.Random, birth: dt.date, region: str | None = None) -> str:
    """A valid ID number born on `birth`, in `region` (default: the active county's code)."""
    body = f"{region or county_settings()['code']}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + check_digit(body)


def make_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


@dataclass
class Person:
    id_number: str
    name: str
    household_id: str
    relation: str
    town: str
    village: str
    labor_capacity: str
    poverty_cause: str
    income_per_capita: float
    exit_status: str
    exit_year: int | None
    birth: dt.date


def make_population(households: int, seed: int = 1) -> list[Person]:
    """`households` poor households spread over the county's villages, 1–5 members each."""
    rng = random.Random(seed)
    villages = geography().villages
    code = county_settings()["code"]
    people: list[Person] = []
    used: set[str] = set()
    for h in range(households):
        v = villages[h % len(villages)]
        hid = f"{code}{h + 1:010d}"
        size = rng.choice((1, 2, 3, 3, 4, 5))
        labor = rng.choice(("有劳动能力", "有劳动能力", "部分丧失劳动能力", "无劳动能力"))
        exited = rng.random() < 0.3
        income = float(rng.randrange(7500, 9000) if exited else rng.randrange(2500, 7000))
        for m in range(size):
            relation = "户主" if m == 0 else ("配偶" if m == 1 else rng.choice(RELATIONS_CHILD))
            year = rng.randrange(1950, 1985) if m < 2 else rng.randrange(2000, 2012)
            birth = dt.date(year, rng.randrange(1, 13), rng.randrange(1, 29))
            pid = make_id(rng, birth, code)
            while pid in used:
                pid = make_id(rng, birth, code)
            used.add(pid)
            people.append(
                Person(pid, make_name(rng), hid, relation, v.town, v.name, labor, rng.choice(("因病", "因残", "缺技术", "缺劳力")),
                       income, "已脱贫" if exited else "未脱贫", 2016 if exited else None, birth)
            )
    return people


def _registry(p: Person, month: str) -> dict:
    return {
        "household_id": p.household_id, "id_number": p.id_number, "name": p.name, "relation": p.relation,
        "town": p.town, "village": p.village, "labor_capacity": p.labor_capacity, "poverty_cause": p.poverty_cause,
        "income_per_capita": p.income_per_capita, "exit_status": p.exit_status, "exit_year": p.exit_year,
        "helper_unit": "县扶贫办", "helper_name": "张帮扶",
    }


def _dibao(p: Person, month: str) -> dict:
    return {
        "dibao_card_no": f"DB{p.household_id[-8:]}", "id_number": p.id_number, "name": p.name, "relation": p.relation,
        "town": p.town, "village": p.village, "category": "低保", "monthly_benefit": 280.0,
        "income_per_capita": p.income_per_capita, "start_date": dt.date(2015, 3, 1), "status": "在保",
    }


def _industry(p: Person, month: str) -> dict:
    return {
        "household_id": p.household_id, "head_id_number": p.id_number, "head_name": p.name, "town": p.town,
        "village": p.village, "industry": "茶叶", "driver_entity": "丹霞茶业合作社", "driver_mode": "合作社",
        "coop_member": "是", "monthly_income": 600.0,
    }


def _employment(p: Person, month: str) -> dict:
    employed = int(p.id_number[-4:-1]) % 3 != 0
    return {
        "id_number": p.id_number, "name": p.name, "town": p.town, "village": p.village,
        "employment_status": "县内务工" if employed else "未就业", "employer": "韶关某制衣厂" if employed else None,
        "employment_start": dt.date(2016, 3, 1) if employed else None, "monthly_wage": 2600.0 if employed else None,
        "training_willing": "是", "trained": "是", "training_program": "电工",
    }


def _medical(p: Person, month: str) -> dict:
    return {
        "id_number": p.id_number, "name": p.name, "town": p.town, "village": p.village, "basic_insurance": "是",
        "critical_insurance": "是", "inpatient_cost_ytd": 1200.0, "medical_aid_ytd": 800.0,
    }


def _student_aid(p: Person, month: str) -> dict:
    return {
        "id_number": p.id_number, "name": p.name, "town": p.town, "village": p.village, "stage": "小学",
        "school": f"{p.town}中心小学", "enrollment": "在读", "aid_amount": 250.0,
    }


def sample_rows(dataset: str, people: list[Person], month: str = "2017-06") -> list[dict]:
    """Valid rows of `dataset` for `people` (person datasets pick the fitting subset)."""
    geo = geography()
    heads = [p for p in people if p.relation == "户主"]
    if dataset == "registry":
        return [_registry(p, month) for p in people]
    if dataset == "dibao":
        return [_dibao(p, month) for p in people if p.labor_capacity == "无劳动能力"]
    if dataset == "industry":
        return [_industry(p, month) for p in heads if p.labor_capacity != "无劳动能力"]
    if dataset == "employment":
        return [_employment(p, month) for p in people if p.labor_capacity != "无劳动能力" and p.birth.year < 2000]
    if dataset == "medical":
        return [_medical(p, month) for p in people]
    if dataset == "student_aid":
        return [_student_aid(p, month) for p in people if p.birth.year >= 2000]
    poor = [v for v in geo.villages if v.is_poor]
    if dataset == "cooperative":
        return [{"town": v.town, "village": v.name, "coop_name": f"{v.name}种养合作社", "households_driven": 12} for v in poor]
    if dataset == "clinic":
        return [{"town": v.town, "village": v.name, "clinic_standard": "是"} for v in poor]
    if dataset == "teacher_subsidy":
        return [{"school": f"{t}中心小学", "town": t, "teachers": 20, "subsidy_per_teacher": 1000.0} for t in geo.towns]
    if dataset == "water_supply":
        return [{"town": v.town, "village": v.name, "households_total": v.households, "households_tap": int(v.households * 0.95),
                 "water_safe": "是", "investment": 3.5} for v in geo.villages]
    if dataset in ("projects", "project_households", "fund_payments"):
        return _money_rows(dataset, heads, poor, month)
    raise KeyError(dataset)


def _money_rows(dataset: str, heads: list[Person], poor: list, month: str) -> list[dict]:  # poor: config.Village
    """资金项目监管: a road in each poor village, the heads' households as one project's
    beneficiaries, and a 2,000 元 到户 payment to each head in the month."""
    code = county_settings()["code"]
    year = int(month[:4])
    if dataset == "projects":
        return [_project(f"{code}XM{year}{i + 1:04d}", v.town, v.name, month) for i, v in enumerate(poor)]
    if dataset == "project_households":
        return [{"project_no": f"{code}XM{year}0001", "household_id": p.household_id, "id_number": p.id_number} for p in heads]
    paid = dt.date(year, int(month[5:]), 10)
    return [{"payment_no": f"CZ{paid:%Y%m}{i + 1:06d}", "paid_on": paid, "project_no": f"{code}XM{year}0001",
             "fund_type": "到户扶贫专项资金", "payee_type": "农户", "payee_name": p.name, "payee_id": p.id_number,
             "household_id": p.household_id, "worker_id": None, "amount": 2000.0} for i, p in enumerate(heads)]


def _project(no: str, town: str, village: str, month: str) -> dict:
    """A village road of the year, approved, started and built before `month` ends."""
    y = int(month[:4])
    return {"project_no": no, "project_name": f"{village}村道硬底化工程", "project_type": "村道建设", "town": town, "village": village,
            "responsible_unit": "县交通局", "planned_investment": 8.0, "length_km": 4.0,
            "approved_plan": dt.date(y, 1, 5), "approved_on": dt.date(y, 1, 6), "start_plan": dt.date(y, 1, 10),
            "started_on": dt.date(y, 1, 12), "complete_plan": dt.date(y, 12, 31), "completed_on": None,
            "accept_plan": dt.date(y + 1, 1, 31), "accepted_on": None}
