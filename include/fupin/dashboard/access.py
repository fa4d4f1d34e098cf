"""Who is looking (访问控制): an Airflow user as the dashboard sees them — the unit they act for,
whether they see full ID numbers, which findings they may verify. Pure: the Airflow user comes in
as a name and roles; the rules come from `settings.yaml → dashboard`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fupin.ids import mask, mask_ids_in
from fupin.reconcile.verify import may_check


@dataclass(frozen=True)
class Viewer:
    name: str
    roles: frozenset[str]
    unit: str | None  # a units.yaml key, or None: reads only
    full_ids: bool
    verify_any: bool

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


def viewer_of(name: str, roles: frozenset[str], cfg: Mapping) -> Viewer:
    entry = (cfg.get("users") or {}).get(name) or {}
    unit = entry.get("unit")
    return Viewer(name=name, roles=roles, unit=None if unit is None else str(unit),
                  full_ids=bool(roles & {r.lower() for r in cfg.get("full_id_roles", [])}),
                  verify_any=bool(roles & {r.lower() for r in cfg.get("verify_any_roles", [])}))


def may_verify(viewer: Viewer, finding: Mapping, owner: str, unit_names: Mapping[str, str]) -> bool:
    """Whether `viewer` may record the check of `finding`: any finding for the roles configured so;
    otherwise the unit's own (`verify.may_check`, the rule a returned 核查 workbook obeys too)."""
    return viewer.verify_any or may_check(viewer.unit, finding, owner, unit_names)
