"""The officials' pages (扶贫数据) as a FastAPI app, mounted at `/fupin` on Airflow's api-server by
`plugins/fupin_dashboard.py`.

Every route requires a logged-in Airflow user — Airflow does not protect plugin routes — read
from the same JWT Airflow's UI uses (its `_token` cookie, or an `Authorization: Bearer` token
from `POST /auth/token`): an API call without one gets 401 (403 for a bad token), a page
redirects to Airflow's login. Pages are HTML shells whose script reads the JSON endpoints.

Endpoints (all GET but the verification):
  api/submissions?year=2017          报送情况: unit × month, reporting and on-time rates
  api/receipts/{drop_id}             a drop's receipt, as the clerk got it
  api/findings?month=2017-06         比对结果: per rule new/persisting/resolved/dismissed, the list
  api/verify                         核查: the viewer's unit's open findings
  POST api/findings/{id}/verification  {outcome, due, reason}
  api/scorecard?period=2017Y         考核: unit × indicator, actions, trend
  api/households?q=...               一户一档 search; api/households/{household_no} the file
`?county=CODE` picks the county in a province (default: the first).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from fupin.dashboard.access import Viewer, roles_of, viewer_of

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
PAGES = {"": ("submissions", "报送情况"), "findings": ("findings", "比对结果"), "funds": ("funds", "资金项目"),
         "scorecard": ("scorecard", "考核"), "household": ("household", "一户一档"), "verify": ("verify", "核查")}

# the Airflow user behind a request: raises HTTPException 401/403 without a valid login
UserResolver = Callable[[Request], Awaitable[Any]]


async def airflow_user(request: Request) -> Any:  # an auth manager's user
    """The logged-in Airflow user, exactly as Airflow's own API authenticates: a bearer token
    first, else the UI's session cookie."""
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    auth = request.headers.get("authorization", "")
    token = auth[7:] if auth.lower().startswith("bearer ") else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    return await resolve_user_from_token(token)


def login_url(next_url: str) -> str:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().get_url_login(next_url=next_url)


def _county(code: str | None):  # a County
    from fupin import county

    if code:
        try:
            return county.find(code)
        except LookupError as exc:
            raise HTTPException(404, f"没有编码为 {code} 的县") from exc
    return county.counties()[0]


async def viewer(request: Request, county: Annotated[str | None, Query()] = None) -> Viewer:
    """The logged-in viewer of a request (401/403 without a login), as the county's config sees them."""
    from fupin.config import settings, town_offices

    user = await request.app.state.resolve_user(request)
    with _county(county).active():
        cfg, towns = settings().get("dashboard", {}), town_offices()
    return viewer_of(user.get_name(), roles_of(user), cfg, towns)


ViewerDep = Annotated[Viewer, Depends(viewer)]
api = APIRouter(prefix="/api")


def _read(county: str | None, fn: Callable, *, write: bool = False) -> Any:
    """`fn(conn, county)` on the county's warehouse (in a transaction if it writes)."""
    from fupin.warehouse.db import engine

    with _county(county).active() as c:
        eng = engine()
        with (eng.begin() if write else eng.connect()) as conn:
            return fn(conn, c)


def _now() -> dt.datetime:
    """Now on the campaign's clock (local, naive: what the calendar's deadlines are written in)."""
    from fupin.calendar import current

    return current().local(dt.datetime.now(dt.UTC)).replace(tzinfo=None)


# --- proof of intent (no cross-site writes) --------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The token a page of this login carries (a keyed hash of the login's own session cookie):
    another site can make the browser send the cookie, never read this."""
    import hashlib
    import hmac

    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    session = request.cookies.get(COOKIE_NAME_JWT_TOKEN, "")
    return hmac.new(session.encode(), b"fupin-csrf", hashlib.sha256).hexdigest()[:32] if session else ""


def _same_origin(request: Request) -> bool:
    """Whether the request comes from this site's own pages (Origin, else Referer), or from an
    origin configured as the site's own (`dashboard.allowed_origins`: a reverse proxy's)."""
    from urllib.parse import urlsplit

    from fupin.config import settings

    own = {f"{request.url.scheme}://{request.url.netloc}".lower()}
    own |= {o.rstrip("/").lower() for o in settings().get("dashboard", {}).get("allowed_origins", [])}
    said = request.headers.get("origin") or ""
    if not said and request.headers.get("referer"):
        parts = urlsplit(request.headers["referer"])
        said = f"{parts.scheme}://{parts.netloc}"
    return said.lower() in own


def require_intent(request: Request) -> None:
    """A state change only as JSON, from this site's own pages, with the page's token (a login by
    bearer token, which no other site can make a browser send, needs no page token)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise HTTPException(415, "请求须为 JSON（Content-Type: application/json）")
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return  # a script's own token: no browser sends one for another site (this app answers no CORS preflight)
    if not _same_origin(request):
        raise HTTPException(403, "请求不是来自本站的页面，已拒绝")
    expected = csrf_token(request)
    if not expected or request.headers.get("x-csrf-token") != expected:
        raise HTTPException(403, "页面已过期或请求来源不明：请刷新页面后重试")


# --- searches: rate-limited and audited ----------------------------------------------------------


class SearchLimit:
    """At most `dashboard.search_limit` searches and household files a minute per user (per
    api-server process): probing ID after ID is slowed to a trickle, and each try is audited."""

    def __init__(self) -> None:
        import threading
        from collections import defaultdict, deque

        self._seen: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def take(self, who: str, limit: int, now: float | None = None) -> bool:
        import time

        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen[who]
            while seen and now - seen[0] >= 60:
                seen.popleft()
            if len(seen) >= limit:
                return False
            seen.append(now)
            return True


def _limited(request: Request, v: Viewer, county: str | None) -> None:
    from fupin.config import settings

    with _county(county).active():
        limit = int(settings().get("dashboard", {}).get("search_limit", 30))
    if not request.app.state.search_limit.take(v.name, limit):
        log.warning("search limit reached by %s", v.name)
        raise HTTPException(429, f"查询过于频繁（每分钟最多 {limit} 次），请稍后再试")


@api.get("/submissions")
def submissions(v: ViewerDep, year: int | None = None, county: str | None = None) -> dict:
    from fupin.calendar import current
    from fupin.dashboard import data

    def go(conn, c):
        now = _now()
        years = _years(conn) or [now.year]
        return data.submissions(conn, year or years[-1], current(), now, v) | {"years": years}
    return _read(county, go)


@api.get("/receipts/{drop_id}")
def receipt(drop_id: str, v: ViewerDep, county: str | None = None) -> dict:
    from fupin.dashboard import data

    got = _read(county, lambda conn, c: data.receipt(conn, drop_id, v))
    if got is None:
        raise HTTPException(404, "没有这份回执")
    return got


@api.get("/findings")
def findings(v: ViewerDep, month: str | None = None, rule: str | None = None, town: str | None = None,
             state: str | None = None, county: str | None = None) -> dict:
    from fupin import queries
    from fupin.dashboard import data

    def go(conn, c):
        m = month or (queries.reconciled_months(conn) or [None])[-1]
        if m is None:
            return {"month": None, "reconciled": False, "findings": [], "rules": {}, "towns": [], "trend": data.trend(conn, v)}
        return data.findings(conn, _month(m), v, _now().date(), rule=rule, town=town, state=state) | {"trend": data.trend(conn, v)}
    return _read(county, go)


@api.get("/verify")
def to_verify(v: ViewerDep, county: str | None = None) -> dict:
    from fupin.dashboard import data

    return _read(county, lambda conn, c: data.to_verify(conn, v, _now().date()) | {"unit": v.unit})


@api.post("/findings/{finding_id}/verification")
async def verification(finding_id: str, request: Request, v: ViewerDep, county: str | None = None) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool

    from fupin.dashboard import data
    from fupin.reconcile.verify import Refused

    require_intent(request)
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "请求内容不是 JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "请求内容应为 {outcome, due, reason}")
    try:
        shown = await run_in_threadpool(
            _read, county, lambda conn, c: data.record_verification(conn, finding_id, body, v, _now().date()), write=True)
    except LookupError:
        raise HTTPException(404, "没有这条比对结果") from None
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    except Refused as exc:
        raise HTTPException(422, str(exc)) from None
    log.info("finding %s verified %s by %s", finding_id, body.get("outcome"), v.name)
    return JSONResponse(shown)


@api.get("/funds")
def funds(v: ViewerDep, month: str | None = None, county: str | None = None) -> dict:
    from fupin.dashboard import data

    return _read(county, lambda conn, c: data.funds(conn, _month(month) if month else None, v, _now().date()))


@api.get("/scorecard")
def scorecard(v: ViewerDep, period: str | None = None, county: str | None = None) -> dict:
    from fupin import queries
    from fupin.calendar import current
    from fupin.dashboard import data

    def go(conn, c):
        p = period or (queries.assessed_periods(conn) or [None])[-1]
        if p is None:
            return {"period": None, "assessed": False, "periods": [], "scores": [], "actions": [], "trend": {}}
        try:
            current().check_period(p)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return data.scorecard(conn, p, v)
    return _read(county, go)


@api.get("/households")
def search(request: Request, v: ViewerDep, q: str = "", village: str | None = None, county: str | None = None) -> dict:
    from fupin.dashboard import data

    _limited(request, v, county)

    def go(conn, c):
        try:
            found = data.search(conn, q, v, village)
        except data.BadQuery as exc:
            data.audit(conn, v, "search", q, None)
            raise HTTPException(422, str(exc)) from None
        data.audit(conn, v, "search", q, len(found))
        return found
    return {"results": _read(county, go, write=True)}


@api.get("/households/{household_id}")
def household(request: Request, household_id: str, v: ViewerDep, county: str | None = None) -> dict:
    from fupin.dashboard import data

    _limited(request, v, county)

    def go(conn, c):
        got = data.household(conn, household_id, v, _now().date())
        data.audit(conn, v, "household", household_id, None if got is None else 1)
        return got
    got = _read(county, go, write=True)
    if got is None:
        raise HTTPException(404, f"没有您可以查看的户编号为 {household_id} 的建档立卡户")
    return got


def _page(app: FastAPI, path: str) -> None:
    """An HTML shell at `/{path}`; without a login, a redirect to Airflow's."""
    template, title = PAGES[path]

    async def show(request: Request, county: str | None = None) -> Response:
        from fupin.config import county_settings
        from fupin.dashboard import data

        try:
            v = await viewer(request, county)
        except HTTPException:
            return RedirectResponse(request.app.state.login(str(request.url)), status_code=303)
        with _county(county).active():
            names = data.unit_names()
            county_name = county_settings().get("name", "")
        html = request.app.state.pages.get_template(f"{template}.html").render(
            title=title, pages=PAGES, current=path, viewer=v, county=county or "", county_name=county_name,
            unit_name=names.get(v.unit) if v.unit else None, csrf=csrf_token(request))
        return HTMLResponse(html)

    app.add_api_route(f"/{path}", show, methods=["GET"], response_class=HTMLResponse, name=f"page_{template}")


def create_app(resolve_user: UserResolver = airflow_user, login: Callable[[str], str] = login_url) -> FastAPI:
    from fastapi.exceptions import RequestValidationError
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from fupin.files import restrict_umask

    restrict_umask()  # the web server is an entry point: whatever it writes holds personal data
    # no OpenAPI document: it would answer without a login (Airflow protects none of a plugin's routes)
    app = FastAPI(title="扶贫数据", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.resolve_user, app.state.login = resolve_user, login
    app.state.search_limit = SearchLimit()

    @app.exception_handler(RequestValidationError)
    async def in_chinese(request: Request, exc: RequestValidationError) -> JSONResponse:
        names = "、".join(str(e.get("loc", ["", "?"])[-1]) for e in exc.errors())
        return JSONResponse({"detail": f"参数 {names} 的格式不对：请检查后重试"}, status_code=422)

    app.state.pages = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape())
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api)
    for path in PAGES:
        _page(app, path)
    return app


def _years(conn) -> list[int]:
    """The years any file was dropped for."""
    from fupin import queries

    return sorted({int(m[:4]) for m in queries.ledger(conn)["month"].dropna()})


def _month(m: str) -> str:
    from fupin.calendar import check_month

    try:
        check_month(m)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return m
