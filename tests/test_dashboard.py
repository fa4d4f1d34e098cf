"""扶贫数据 on Airflow's real api-server: the plugin mounts /fupin and its navigation entry; every
route wants an Airflow login; the JSON matches the warehouse; a real Chromium logs in, opens each
page, reads the numbers, verifies a finding and sees it closed (screenshots at 1280 px and at
phone width are saved under the test's tmp folder)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from fupin import queries
from fupin.calendar import month_end, months
from fupin.reconcile.rules import RULES
from fupin.warehouse.db import engine
from tests.helpers import fill_demo_warehouse, on_warehouse

pytestmark = [pytest.mark.slow]
MONTHS = months("2017-06", "2017-11")  # registries reconciled month by month (the last: findings in 黄坑镇)
FUND_MONTHS = months("2017-04", "2017-06")  # the money checked month by month (June: the planted F1 in its 4th month, 疑似)


def _browser_missing() -> list[str]:
    return [f"{b} not found (Debian's chromium and chromium-driver; `make setup` installs them)"
            for b in ("chromium", "chromedriver") if shutil.which(b) is None]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo county's 2017 (registries of June to November, reconciled month by month; every
    dataset at 2017-06, assessed as 2017H1; a year's submission ledger) behind `airflow api-server`
    with the project's plugins: (base URL, passwords, warehouse url, home)."""
    from fupin.assess.run import assess_period
    from fupin.config import contracts
    from fupin.demo.population import build_population
    from fupin.funds.run import check_month
    from fupin.ops.cluster import free_port, local_airflow_env, stop_groups
    from fupin.reconcile.run import reconcile_month
    from fupin.warehouse import db

    home = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{home / 'w.sqlite'}"
    db.upgrade(url)
    wanted = {(d, "2017-06") for d in contracts().datasets} | {("registry", "2016-12")}
    wanted |= {(d, m) for m in MONTHS for d in ("registry", "dibao")} | {("student_aid", m) for m in months("2017-01", "2017-06")}
    # the money: every payment up to June, the rewarded labourers' employment, the project library of April to June
    wanted |= {(d, m) for m in months("2016-01", "2017-06") for d in ("fund_payments", "employment")}
    wanted |= {(d, m) for m in FUND_MONTHS for d in ("projects", "project_households")}
    fill_demo_warehouse(url, build_population(2016), wanted, months("2017-01", "2017-12"))
    for m in MONTHS:
        with on_warehouse(url):
            reconcile_month(m)
    for m in FUND_MONTHS:
        with on_warehouse(url):
            check_month(m, at_deadline=True)
    with on_warehouse(url):
        assess_period("2017H1", month_end("2017-06"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(local_airflow_env(port), AIRFLOW_HOME=str(home / "airflow"), FUPIN_WAREHOUSE_URL=url,
               AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin,fpb:user,mzj:user,huangkeng:viewer,rsj:viewer,guest:viewer,probe:viewer,czj:viewer,jtj:viewer,sjj:viewer",
               AIRFLOW__CORE__LAZY_LOAD_PLUGINS="False")
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    log = open(home / "api.log", "wb")  # open for the server's life
    proc = subprocess.Popen([airflow, "api-server", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, (home / "api.log").read_text()[-3000:]
            try:
                urllib.request.urlopen(base + "/api/v2/monitor/health", timeout=2)
                break
            except OSError:
                time.sleep(1)
        passwords = json.loads((home / "airflow" / "simple_auth_manager_passwords.json.generated").read_text())
        yield base, passwords, url, home
    finally:
        stop_groups([proc.pid], grace=10)
        log.close()


def _get(url: str, token: str | None = None) -> tuple[int, dict | str, dict]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            body = r.read().decode()
            return r.status, json.loads(body) if r.headers.get_content_type() == "application/json" else body, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _token(base: str, user: str, password: str) -> str:
    req = urllib.request.Request(base + "/auth/token", data=json.dumps({"username": user, "password": password}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["access_token"]


def test_every_route_wants_an_airflow_login(server):
    base, _, _, _ = server
    for path in ("api/submissions", "api/findings?month=2017-06", "api/scorecard", "api/households/4402240000850061", "api/verify",
                 "api/funds", "api/funds?month=2017-06"):
        status, _, _ = _get(f"{base}/fupin/{path}")
        assert status == 401, path
        status, _, _ = _get(f"{base}/fupin/{path}", token="not-a-token")
        assert status in (401, 403), path
    status, _, headers = _get(f"{base}/fupin/findings")
    assert status == 303 and "/auth/login" in headers["location"] and "next=" in headers["location"]


def test_the_json_is_the_warehouse_and_ids_are_masked_by_role(server):
    base, passwords, url, _ = server
    admin, town = _token(base, "admin", passwords["admin"]), _token(base, "huangkeng", passwords["huangkeng"])
    status, board, _ = _get(f"{base}/fupin/api/submissions?year=2017", admin)
    assert status == 200
    water = next(u for u in board["units"] if u["unit"] == "water")
    assert [c["month"] for c in water["cells"] if c["status"] == "late"] == ["2017-03", "2017-04"]  # the generator's late files
    assert water["rates"]["2017H1"]["on_time"] == 4 and water["rates"]["2017H1"]["expected"] == 6
    with engine(url).connect() as conn:
        stored = queries.findings_of(conn, "2017-06", rules=RULES)  # the registries' (the money's have their own page)
        scores = queries.scores_of(conn, "2017H1")
    _, f, _ = _get(f"{base}/fupin/api/findings?month=2017-06", admin)
    assert {r: v["found"] for r, v in f["rules"].items()} == {r: sum(s["rule"] == r for s in stored) for r in f["rules"]}
    assert sorted(x["id"] for x in f["findings"]) == sorted(s["finding_id"] for s in stored)
    with engine(url).connect() as conn:
        late = queries.findings_of(conn, "2017-11")  # the month with findings in 黄坑镇
    with_id = next(s for s in late if s["person_id"] and s["town"] == "黄坑镇")  # the town sees its own findings
    _, seen, _ = _get(f"{base}/fupin/api/findings?month=2017-11", town)
    masked = {x["id"]: x["person_id"] for x in seen["findings"]}[with_id["finding_id"]]
    assert masked != with_id["person_id"] and masked.startswith(with_id["person_id"][:6]) and "*" in masked
    _, f11, _ = _get(f"{base}/fupin/api/findings?month=2017-11", admin)
    assert {x["id"]: x["person_id"] for x in f11["findings"]}[with_id["finding_id"]] == with_id["person_id"]
    _, card, _ = _get(f"{base}/fupin/api/scorecard?period=2017H1", admin)
    assert len(card["scores"]) == len(scores)
    assert {(s["unit"], s["indicator"]): s["status"] for s in card["scores"]} == {(s.unit, s.indicator): s.status for s in scores}
    hid = with_id["household_id"] or next(s["household_id"] for s in late if s["household_id"] and s["town"] == "黄坑镇")
    _, file_, _ = _get(f"{base}/fupin/api/households/{hid}", town)
    assert file_["household_id"] == hid and file_["members"] and all("*" in m["id"] for m in file_["members"])
    assert {t["dataset"] for t in file_["timeline"]} >= {"registry"}
    # found again by a member's name and village, and by the masked ID the town sees
    from urllib.parse import quote

    member = file_["members"][0]
    _, by_name, _ = _get(f"{base}/fupin/api/households?q={quote(member['name'])}&village={quote(file_['village'])}", town)
    assert hid in [r["household_id"] for r in by_name["results"]]
    _, by_id, _ = _get(f"{base}/fupin/api/households?q={quote(member['id'])}", town)
    assert hid in [r["household_id"] for r in by_id["results"]]


def _post(url: str, body: bytes, headers: dict) -> int:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_each_role_sees_only_what_its_unit_may_on_every_route(server):
    """The access policy, route by route, for a county office (县扶贫办, 县民政局), the admin, a town
    (黄坑镇), a bureau (县人社局) and a user with no unit: the board, receipts, findings, the list to
    check, scores, the household file and the search. Outside its scope a thing answers as if it
    did not exist."""
    from urllib.parse import quote

    from fupin.warehouse.schema import drops

    base, passwords, url, _ = server
    tok = {u: _token(base, u, passwords[u]) for u in ("admin", "fpb", "mzj", "huangkeng", "rsj", "guest")}
    with engine(url).connect() as conn:
        stored = queries.findings_of(conn, "2017-11")  # the month with findings in 黄坑镇
        from sqlalchemy import select

        drop_of = {src: d for src, d in conn.execute(select(drops.c.source, drops.c.drop_id))}
        reg = queries.snapshot(conn, "registry", "2017-06", ["household_id", "town", "id_number", "name", "village"])
        hrss_ids = set(queries.snapshot(conn, "employment", "2017-06", ["id_number"])["id_number"])
    mine = {s["finding_id"] for s in stored if s["town"] == "黄坑镇"}
    assert mine and len(mine) < len(stored)
    board = {u: {x["unit"] for x in _get(f"{base}/fupin/api/submissions?year=2017", t)[1]["units"]} for u, t in tok.items()}
    assert board["admin"] == board["fpb"] == board["mzj"] == {"poverty_office", "civil_affairs", "agriculture", "hrss", "health",
                                                               "education", "water", "finance"}
    assert board["rsj"] == {"hrss"} and board["huangkeng"] == set() and board["guest"] == set()
    for user, own, other in (("rsj", "hrss", "health"), ("fpb", "health", None), ("huangkeng", None, "hrss")):
        if own:
            assert _get(f"{base}/fupin/api/receipts/{drop_of[own]}", tok[user])[0] == 200, user
        if other:
            assert _get(f"{base}/fupin/api/receipts/{drop_of[other]}", tok[user])[0] == 404, user
    seen = {u: {x["id"] for x in _get(f"{base}/fupin/api/findings?month=2017-11", t)[1]["findings"]} for u, t in tok.items()}
    assert seen["admin"] == seen["fpb"] == seen["mzj"] == {s["finding_id"] for s in stored}
    assert seen["huangkeng"] == mine and seen["rsj"] == set() and seen["guest"] == set()
    _, todo, _ = _get(f"{base}/fupin/api/verify", tok["huangkeng"])
    assert todo["findings"] and {f["town"] for f in todo["findings"]} == {"黄坑镇"}
    cards = {u: {x["unit"] for x in _get(f"{base}/fupin/api/scorecard?period=2017H1", t)[1]["scores"]} for u, t in tok.items()}
    assert len(cards["admin"]) > 5 and cards["fpb"] == cards["admin"]
    assert cards["rsj"] <= {"hrss"} and cards["huangkeng"] <= {"440224109"} and cards["guest"] == set()
    ours = reg[reg["town"] == "黄坑镇"].iloc[0]
    working = set(reg[reg["id_number"].isin(hrss_ids)]["household_id"])  # households with a member in 县人社局's file
    theirs = reg[(reg["town"] != "黄坑镇") & ~reg["household_id"].isin(working)].iloc[0]
    worker = reg[reg["id_number"].isin(hrss_ids) & (reg["town"] != "黄坑镇")].iloc[0]
    for user, hid, status in (("huangkeng", ours.household_id, 200), ("huangkeng", theirs.household_id, 404),
                              ("rsj", worker.household_id, 200), ("rsj", theirs.household_id, 404),
                              ("guest", ours.household_id, 404), ("mzj", theirs.household_id, 200)):
        assert _get(f"{base}/fupin/api/households/{hid}", tok[user])[0] == status, (user, hid)
    _, bureau_file, _ = _get(f"{base}/fupin/api/households/{worker.household_id}", tok["rsj"])
    assert {t["dataset"] for t in bureau_file["timeline"]} <= {"registry", "employment"}
    name_q = f"{base}/fupin/api/households?q={quote(theirs['name'])}&village={quote(theirs['village'])}"
    assert _get(name_q, tok["huangkeng"])[1]["results"] == [] and _get(name_q, tok["admin"])[1]["results"]
    full = theirs["id_number"]
    assert _get(f"{base}/fupin/api/households?q={full}", tok["admin"])[1]["results"][0]["household_id"] == theirs["household_id"]
    status, body, _ = _get(f"{base}/fupin/api/households?q={full}", tok["huangkeng"])
    assert status == 422 and "脱敏" in body


def test_the_money_is_shown_on_a_need_to_know_basis(server):
    """资金项目 and a household's payments, role by role: the county office and 县财政局 see the
    county's projects and findings, a town its own, 县交通局 the projects it builds and the findings
    it checks, 县审计局 only the 疑似 cases copied to it (and no project, no household), a unit
    with no business nothing; a payee's ID is masked for every role that does not see full IDs."""
    from fupin.funds.rules import FUND_RULES
    from fupin.funds.run import audit_after, goes_to_audit
    from fupin.ids import mask
    from fupin.reconcile.catalog import owner_of

    base, passwords, url, _ = server
    users = ("admin", "fpb", "czj", "huangkeng", "jtj", "sjj", "rsj", "guest")
    tok = {u: _token(base, u, passwords[u]) for u in users}
    with engine(url).connect() as conn:
        stored = [f for f in queries.all_findings(conn, "2017-06") if f["rule"] in FUND_RULES]
        projects = queries.snapshot(conn, "projects", "2017-06", ["project_no", "town", "responsible_unit"])
        paid = queries.snapshot(conn, "fund_payments", "2017-06", ["household_id", "payee_id"]).dropna()
        reg = queries.snapshot(conn, "registry", "2017-06", ["household_id", "town"])
    got = {u: _get(f"{base}/fupin/api/funds?month=2017-06", t) for u, t in tok.items()}
    assert all(status == 200 for status, _, _ in got.values())
    shown = {u: {f["id"] for f in body["findings"]} for u, (_, body, _) in got.items()}
    listed = {u: {p["project_no"] for p in body["projects"]} for u, (_, body, _) in got.items()}
    every = {f["finding_id"] for f in stored}
    assert every and shown["admin"] == shown["fpb"] == shown["czj"] == every
    assert listed["fpb"] == listed["czj"] == set(projects["project_no"])
    assert shown["huangkeng"] == {f["finding_id"] for f in stored if f["town"] == "黄坑镇"}
    assert listed["huangkeng"] == set(projects[projects["town"] == "黄坑镇"]["project_no"]) and listed["huangkeng"]
    assert listed["jtj"] == set(projects[projects["responsible_unit"] == "县交通局"]["project_no"]) and listed["jtj"]
    assert shown["jtj"] == {f["finding_id"] for f in stored if owner_of(f) == "transport"}
    suspected = {f["finding_id"] for f in stored if goes_to_audit(f["rule"], f["persisted_months"], f["escalated"], audit_after())}
    assert suspected and shown["sjj"] == suspected and listed["sjj"] == set()
    assert shown["rsj"] == {f["finding_id"] for f in stored if owner_of(f) == "hrss"} and listed["rsj"] <= set(
        projects[projects["responsible_unit"] == "县人社局"]["project_no"])
    assert shown["guest"] == set() and listed["guest"] == set()
    # a household paid: its payments in its file, the payee's ID masked unless the role sees full IDs
    hid = next(h for h in paid["household_id"] if h in set(reg[reg["town"] == "黄坑镇"]["household_id"]))
    payee = paid[paid["household_id"] == hid]["payee_id"].iloc[0]
    for user, status in (("admin", 200), ("huangkeng", 200), ("czj", 200), ("sjj", 404), ("jtj", 404)):
        code, body, _ = _get(f"{base}/fupin/api/households/{hid}", tok[user])
        assert code == status, user
        if code == 200:
            ids = {r["payee_id"] for r in body["payments"]["rows"]}
            assert body["payments"]["rows"] and ids == ({payee} if user == "admin" else {mask(payee)}), user
            assert payee not in json.dumps(body, ensure_ascii=False) or user == "admin", user


def test_a_masked_id_search_is_no_oracle(server):
    """Only the exact masked shape is taken (a prefix of any length is refused, so an ID cannot be
    recovered digit by digit); searches are rate-limited per user and every one is audited."""
    from urllib.parse import quote

    from sqlalchemy import select

    from fupin.warehouse.schema import access_log

    base, passwords, url, _ = server
    town = _token(base, "huangkeng", passwords["huangkeng"])
    with engine(url).connect() as conn:
        reg = queries.snapshot(conn, "registry", "2017-06", ["household_id", "town", "id_number"])
    person = reg[reg["town"] == "黄坑镇"].iloc[0]["id_number"]
    masked = person[:6] + "*" * 8 + person[-4:]
    assert _get(f"{base}/fupin/api/households?q={masked}", town)[1]["results"]
    for probe in (person[:7] + "*" + person[-4:], person[:8] + "*" + person[-4:], person[:17] + "*", person[:6] + "*" + person[-4:]):
        status, body, _ = _get(f"{base}/fupin/api/households?q={probe}", town)
        assert status == 422 and "脱敏格式" in body, probe
    probe = _token(base, "probe", passwords["probe"])
    answers = [_get(f"{base}/fupin/api/households?q={quote('张三')}", probe)[0] for _ in range(31)]
    assert answers[:30] == [200] * 30 and answers[30] == 429
    with engine(url).connect() as conn:
        logged = conn.execute(select(access_log.c.by_user, access_log.c.target, access_log.c.results)).all()
    assert sum(r.by_user == "probe" for r in logged) == 30
    assert any(r.by_user == "huangkeng" and r.target == masked and r.results for r in logged)
    assert not any(person in r.target for r in logged)  # a full ID typed is stored masked
    assert _get(f"{base}/fupin/api/openapi.json")[0] == 404
    status, body, _ = _get(f"{base}/fupin/api/submissions?year=abc", town)
    assert status == 422 and "格式不对" in body


def test_no_state_change_without_proof_of_intent(server):
    """A verification is taken only as JSON; from a browser session only from the site's own pages
    with the page's token; a script's bearer token needs no page."""
    base, passwords, url, _ = server
    admin = _token(base, "admin", passwords["admin"])
    with engine(url).connect() as conn:
        target = queries.findings_of(conn, "2017-06")[0]["finding_id"]
    post = f"{base}/fupin/api/findings/{target}/verification"
    body = json.dumps({"outcome": "dismissed", "reason": "测试"}).encode()
    assert _post(post, body, {"Authorization": f"Bearer {admin}", "Content-Type": "text/plain"}) == 415
    cookie = {"Cookie": f"_token={admin}", "Content-Type": "application/json"}
    assert _post(post, body, cookie | {"Origin": "http://127.0.0.1:1"}) == 403  # another site
    assert _post(post, body, cookie | {"Origin": base}) == 403  # no page token
    with engine(url).connect() as conn:
        assert queries.verification_history(conn, target) == []


ATTACK = """<!doctype html><html><body>
<form id="f" method="POST" enctype="text/plain" action="{post}"><input name='{{"outcome":"dismissed","reason":"x","pad":"' value='"}}'></form>
<script>
fetch("{post}", {{method: "POST", mode: "no-cors", credentials: "include", headers: {{"Content-Type": "text/plain"}},
  body: JSON.stringify({{outcome: "dismissed", reason: "forged"}})}}).finally(() => document.getElementById("f").submit());
</script></body></html>"""


def test_a_page_on_another_site_cannot_record_a_check_in_a_real_browser(server, tmp_path):
    """A logged-in official opens a page served from another port: its auto-submitting
    text/plain form and its no-cors fetch reach the server with the session cookie, and are refused."""
    import http.server
    import threading

    from fupin.ops.cluster import free_port

    skip_or_fail = __import__("tests.conftest", fromlist=["skip_or_fail"]).skip_or_fail
    skip_or_fail(_browser_missing(), "the browser tests")
    base, passwords, url, _ = server
    with engine(url).connect() as conn:
        target = queries.findings_of(conn, "2017-11")[0]["finding_id"]
    (tmp_path / "index.html").write_text(ATTACK.format(post=f"{base}/fupin/api/findings/{target}/verification"), encoding="utf-8")
    port = free_port()
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    d = _chrome(1280, 900)
    try:
        _login(d, base, "admin", passwords["admin"], "verify")
        d.get(f"http://127.0.0.1:{port}/index.html")
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(d, 30).until(lambda drv: drv.current_url.startswith(f"{base}/fupin/api/"))  # the form went
        assert "JSON" in d.page_source or "本站" in d.page_source
    finally:
        d.quit()
        evil.shutdown()
    with engine(url).connect() as conn:
        assert queries.verification_history(conn, target) == []


def _chrome(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},{height}",
              "--lang=zh-CN", "--no-first-run", "--disable-background-networking", "--disable-component-update"):
        opts.add_argument(a)
    if width < 500:  # a headless window is at least 500 px wide: a phone is emulated instead
        opts.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1}})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def _no_sideways_scroll(d) -> bool:
    return d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def _login(d, base: str, user: str, password: str, page: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    d.get(f"{base}/fupin/{page}")
    WebDriverWait(d, 30).until(ec.presence_of_element_located((By.NAME, "username"))).send_keys(user)
    d.find_element(By.NAME, "password").send_keys(password)
    d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(d, 30).until(lambda drv: drv.current_url.startswith(f"{base}/fupin/"))


def _wait(d, css: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(d, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def test_an_official_reads_each_page_and_a_town_closes_a_finding_in_a_real_browser(server):
    from fupin.funds.rules import FUND_RULES

    skip_or_fail = __import__("tests.conftest", fromlist=["skip_or_fail"]).skip_or_fail
    skip_or_fail(_browser_missing(), "the browser tests")
    from selenium.webdriver.common.by import By

    base, passwords, url, home = server
    shots = home / "screenshots"
    shots.mkdir(exist_ok=True)
    with engine(url).connect() as conn:
        stored = queries.findings_of(conn, "2017-11")
        scores = queries.scores_of(conn, "2017H1")
        n_projects = len(queries.snapshot(conn, "projects", "2017-06", ["project_no"]))
        money_here = {f["finding_id"] for f in queries.findings_of(conn, "2017-06", rules=FUND_RULES) if f["town"] == "黄坑镇"}
        paid_households = list(queries.snapshot(conn, "fund_payments", "2017-06", ["household_id"])["household_id"].dropna())
        registered = set(queries.snapshot(conn, "registry", "2017-06", ["household_id"])["household_id"])
    d = _chrome(1280, 900)
    try:
        _login(d, base, "admin", passwords["admin"], "")
        board = _wait(d, "#board")
        water = board.find_element(By.CSS_SELECTOR, "tr[data-unit=water]")
        assert [b.get_attribute("data-month") for b in water.find_elements(By.CSS_SELECTOR, "button.late")] == ["2017-03", "2017-04"]
        d.save_screenshot(str(shots / "submissions_1280.png"))
        water.find_element(By.CSS_SELECTOR, "button[data-month='2017-03']").click()
        assert "water_2017-03.xlsx" in _wait(d, "#dialog h2").text
        d.get(f"{base}/fupin/findings")
        rules = _wait(d, "#rules")
        shown = {r.get_attribute("data-rule"): int(r.find_elements(By.CSS_SELECTOR, "td")[0].text)
                 for r in rules.find_elements(By.CSS_SELECTOR, "tbody tr")}
        assert shown == {r: sum(s["rule"] == r for s in stored) for r in shown}
        assert d.find_element(By.CSS_SELECTOR, ".chart svg polyline")
        d.save_screenshot(str(shots / "findings_1280.png"))
        d.get(f"{base}/fupin/scorecard")
        rows = _wait(d, "#scores").find_elements(By.CSS_SELECTOR, "tbody tr")
        assert len(rows) == len(scores)
        d.save_screenshot(str(shots / "scorecard_1280.png"))
        hid = next(s["household_id"] for s in stored if s["household_id"])
        d.get(f"{base}/fupin/household?q={hid}")
        assert hid in _wait(d, "#summary").find_element(By.XPATH, "preceding::h2[1]").text
        assert d.find_element(By.CSS_SELECTOR, "details.timeline[data-dataset=registry][open]")
        assert "true" not in d.find_element(By.ID, "app").text and "false" not in d.find_element(By.ID, "app").text
        d.save_screenshot(str(shots / "household_1280.png"))
        d.get(f"{base}/fupin/funds")
        listed = _wait(d, "#projects").find_elements(By.CSS_SELECTOR, "tbody tr")
        assert len(listed) == n_projects and d.find_element(By.CSS_SELECTOR, "#stages tbody tr")
        assert "NaN" not in d.find_element(By.ID, "app").text and "undefined" not in d.find_element(By.ID, "app").text
        d.save_screenshot(str(shots / "funds_1280.png"))
        d.execute_script("document.getElementById('list').scrollIntoView()")
        d.save_screenshot(str(shots / "funds_findings_1280.png"))
        paid_hid = next(h for h in paid_households if h in registered)
        d.get(f"{base}/fupin/household?q={paid_hid}")
        assert _wait(d, "#paid tbody tr")  # the payments a household received, in its file
        d.execute_script("document.getElementById('payments').scrollIntoView()")
        d.save_screenshot(str(shots / "household_payments_1280.png"))
    finally:
        d.quit()
    # the town's clerk, on a phone: its findings to check, one dismissed, gone from the list
    mine = [s for s in stored if s["town"] == "黄坑镇"]
    assert mine, "the demo plants findings in 黄坑镇"
    d = _chrome(390, 844)
    try:
        # every page at phone width, without the page scrolling sideways (wide tables scroll in their box)
        _login(d, base, "admin", passwords["admin"], "")
        hid = next(s["household_id"] for s in stored if s["household_id"])
        for page in ("", "findings", "funds", "scorecard", f"household?q={hid}", "verify"):
            d.get(f"{base}/fupin/{page}")
            _wait(d, "#app table, #app .summary, #app p")
            from selenium.webdriver.support.ui import WebDriverWait

            WebDriverWait(d, 30).until(lambda drv: "正在读取" not in drv.find_element(By.ID, "app").text)
            assert _no_sideways_scroll(d), page
            d.save_screenshot(str(shots / f"{page.split('?')[0] or 'submissions'}_390.png"))
    finally:
        d.quit()
    d = _chrome(390, 844)
    try:
        _login(d, base, "huangkeng", passwords["huangkeng"], "findings")
        # a town's clerk starts on their own town, and the view is in the address: a reload keeps it
        from selenium.webdriver.support.ui import Select, WebDriverWait

        WebDriverWait(d, 30).until(lambda drv: "town=" in drv.current_url)
        assert Select(_wait(d, "#town")).first_selected_option.text == "黄坑镇"
        Select(d.find_element(By.ID, "month")).select_by_value("2017-09")
        WebDriverWait(d, 30).until(lambda drv: "month=2017-09" in drv.current_url)
        d.refresh()
        WebDriverWait(d, 30).until(lambda drv: Select(drv.find_element(By.ID, "month")).first_selected_option.get_attribute("value")
                                   == "2017-09")
        d.get(f"{base}/fupin/verify")
        listed = _wait(d, "#list").find_elements(By.CSS_SELECTOR, "tbody tr")
        # the town checks its registries' findings and the money's in the town (F1–F6 of June)
        assert sorted(r.get_attribute("data-id") for r in listed) == sorted({s["finding_id"] for s in mine} | money_here)
        assert all("*" in c.text for r in listed for c in r.find_elements(By.CSS_SELECTOR, "td:nth-child(5)") if c.text)  # 月份 first
        d.save_screenshot(str(shots / "verify_390.png"))
        target = mine[0]["finding_id"]
        d.find_element(By.CSS_SELECTOR, f"button.verify[data-id='{target}']").click()
        form = _wait(d, "#vf")
        form.find_element(By.CSS_SELECTOR, "input[value=dismissed]").click()
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        from selenium.webdriver.support.ui import WebDriverWait

        # no reason: the server refuses, in words, and nothing is stored
        assert "说明理由" in WebDriverWait(d, 20).until(lambda drv: drv.find_element(By.ID, "verr").text)
        form.find_element(By.NAME, "reason").send_keys("经入户核实为两个不同的人")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        ids = "return [...document.querySelectorAll('#list tbody tr')].map(r => r.dataset.id)"  # one read, no stale rows
        WebDriverWait(d, 20).until(lambda drv: target not in drv.execute_script(ids))
        assert sorted(d.execute_script(ids)) == sorted({s["finding_id"] for s in mine if s["finding_id"] != target} | money_here)
        d.save_screenshot(str(shots / "verified_390.png"))
    finally:
        d.quit()
    with engine(url).connect() as conn:
        (check,) = queries.verification_history(conn, target)
    assert (check["outcome"], check["by_user"], check["by_unit"], check["reason"]) == ("dismissed", "huangkeng", "440224109",
                                                                                        "经入户核实为两个不同的人")
    if os.environ.get("FUPIN_SCREENSHOTS"):  # where to keep them (the README's come from here)
        shutil.copytree(shots, os.environ["FUPIN_SCREENSHOTS"], dirs_exist_ok=True)
