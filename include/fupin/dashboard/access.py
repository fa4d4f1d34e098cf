"""Who is looking, and what they may see (访问控制): an Airflow user as the dashboard sees them —
the unit they act for, whether they see full ID numbers, which findings they may verify — and the
one access policy every route and export applies on the server. Pure: the Airflow user comes in as
a name and roles; the rules come from `settings.yaml → dashboard` and the unit directory.

The policy (need-to-know), by the viewer's unit:

| what                        | county office¹          | a town                         | a bureau                            | no unit |
| --------------------------- | ----------------------- | ------------------------------ | ----------------------------------- | ------- |
| 报送情况 (board), receipts   | every unit's            | its own receipts only          | its own row and receipts            | nothing |
| 比对结果 (findings), trend   | the county's            | its town's                     | its rules' (none for most bureaus)  | nothing |
| 核查 (to verify), verifying  | its rules' (admin: any) | its town's                     | its rules'                          | nothing |
| 考核 (scores, actions)       | every unit's            | its own                        | its own                             | nothing |
| 一户一档 search and file     | the county's            | households of its town         | households in its own files: the     | nothing |
|                             |                         |                                | registry's members and its own data |         |
| 资金项目 (projects, F1–F6)²  | the county's            | its town's projects and        | the projects it is responsible for, | nothing |
|                             |                         | findings                       | the findings it checks              |         |
| full ID numbers             | only roles in `full_id_roles`; everyone else sees 440224********123X  |  |  |  |

¹ the units in `dashboard.county_units` (县扶贫办, 县民政局, the leadership), and the roles in
`verify_any_roles`. ² the units in `dashboard.funds_units` (县财政局: it pays every project) see
the whole county's money; those in `dashboard.audit_units` (县审计局) see only the F1, F2 and F4
cases copied to them as 疑似 (`funds.run.goes_to_audit`) and nothing else. A masked-ID search takes exactly the masked shape (440224********123X), a full
ID only from a role that sees full IDs; every search and household file is counted against
`dashboard.search_limit` per minute and written to the audit table. Something outside a viewer's
scope answers as if it did not exist (404), so no search confirms more than it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fupin.funds.rules import FUND_RULES
from fupin.ids import mask, mask_ids_in
from fupin.reconcile.verify import may_check, units_of_rule


@dataclass(frozen=True)
class Viewer:
    name: str
    roles: frozenset[str]
    unit: str | None  # a units.yaml key, or None: reads only
    full_ids: bool
    verify_any: bool
    county_wide: bool = False  # a county office (dashboard.county_units) or a verify_any role: the whole county
    town: str | None = None  # the town's name, when the unit is a town's office
    funds_wide: bool = False  # a unit that sees the whole county's money (dashboard.funds_units: 县财政局)
    audit_only: bool = False  # a unit that sees only the 疑似 cases copied to it (dashboard.audit_units: 县审计局)

    def id(self, value: object) -> str | None:
        """An ID number as this viewer may see it."""
        if value is None or (isinstance(value, float) and value != value):
            return None
        return str(value) if self.full_ids else mask(value)

    def text(self, value: str | None) -> str | None:
        """Free text (a receipt, a detail) with any ID numbers in it masked for this viewer."""
        return value if value is None or self.full_ids else mask_ids_in(value)


def roles_of(user: object) -> frozenset[str]:
    """An Airflow user's role names, lower-case: the simple auth manager's one `role`, or the FAB
    manager's `roles`."""
    role = getattr(user, "role", None)
    names = [role] if isinstance(role, str) else []
    for r in getattr(user, "roles", None) or []:
        names.append(getattr(r, "name", r))
    return frozenset(str(n).lower() for n in names if n)


def viewer_of(name: str, roles: frozenset[str], cfg: Mapping, town_units: Mapping[str, str] | None = None) -> Viewer:
    """The viewer of an Airflow user: `cfg` is settings.yaml → dashboard, `town_units` each town
    office's unit key → the town's name."""
    entry = (cfg.get("users") or {}).get(name) or {}
    unit = None if entry.get("unit") is None else str(entry["unit"])
    verify_any = bool(roles & {r.lower() for r in cfg.get("verify_any_roles", [])})
    county_units = set(cfg.get("county_units", ["poverty_office", "civil_affairs", "leadership"]))
    audit_only = unit in set(cfg.get("audit_units", ["audit"])) and not verify_any
    return Viewer(name=name, roles=roles, unit=unit, full_ids=bool(roles & {r.lower() for r in cfg.get("full_id_roles", [])}),
                  verify_any=verify_any, county_wide=verify_any or unit in county_units,
                  town=(town_units or {}).get(unit) if unit else None,
                  funds_wide=unit in set(cfg.get("funds_units", ["finance"])), audit_only=audit_only)


def sees_unit(viewer: Viewer, unit: str | None) -> bool:
    """A unit's rows of the board, its receipts, its scores and actions."""
    return viewer.county_wide or (viewer.unit is not None and viewer.unit == unit)


def sees_finding(viewer: Viewer, finding: Mapping, owner: str, suspected: bool = False) -> bool:
    """A finding: the county's for a county office, a town's own, a bureau its rules'; of the money
    (F1–F6) all for the funds units, and for the audit units only the `suspected` (疑似) ones."""
    money = finding.get("rule") in FUND_RULES
    if viewer.audit_only:
        return money and suspected
    if viewer.county_wide or (money and viewer.funds_wide):
        return True
    if viewer.town is not None:
        return finding.get("town") == viewer.town
    return viewer.unit is not None and viewer.unit in units_of_rule(owner)


def sees_household(viewer: Viewer, town: str | None, sources: set[str]) -> bool:
    """A household whose latest registry town is `town` and whose persons are in the files of
    `sources`: the county's for a county office, a town's own, a bureau those in its own files."""
    if viewer.county_wide:
        return True
    if viewer.town is not None:
        return town == viewer.town
    return viewer.unit is not None and viewer.unit in sources


def sees_project(viewer: Viewer, town: str | None, unit: str | None) -> bool:
    """A project of the library (扶贫项目库) with its payments: the county's for a county office and
    the funds units, a town's own, a bureau those it is responsible for (`unit`); never the audit units'."""
    if viewer.audit_only:
        return False
    if viewer.county_wide or viewer.funds_wide:
        return True
    if viewer.town is not None:
        return town == viewer.town
    return viewer.unit is not None and viewer.unit == unit


def sees_source(viewer: Viewer, source: str) -> bool:
    """In a household's file, a source's months: all for the county and the household's town, a
    bureau its own (and the registry's members, which it found the household by)."""
    return viewer.county_wide or viewer.town is not None or viewer.unit == source


def may_verify(viewer: Viewer, finding: Mapping, owner: str, unit_names: Mapping[str, str]) -> bool:
    """Whether `viewer` may record the check of `finding`: any finding for the roles configured so;
    otherwise the unit's own (`verify.may_check`, the rule a returned 核查 workbook obeys too)."""
    return viewer.verify_any or may_check(viewer.unit, finding, owner, unit_names)
