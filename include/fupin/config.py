"""The one config loader: contracts, settings, the county's geography, paths.

Configuration is data in the repo (`config/`, `reference/`, `expectations/`); this module is
the only place that knows where those files live and how to read them.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml


def project_root() -> Path:
    """The repo (or installed tree) that holds config/, reference/ and expectations/."""
    env = os.environ.get("FUPIN_HOME")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """Where inboxes, archive, quarantine and the default SQLite warehouse live: the active
    county's (fupin.county), else `FUPIN_DATA_ROOT`, else `<project>/data`."""
    own = _county().data_root
    if own:
        return Path(own).resolve()
    return Path(os.environ.get("FUPIN_DATA_ROOT", project_root() / "data")).resolve()


def _county():  # fupin.county imports nothing of this module: no cycle at import
    from fupin.county import current

    return current()


def config_dir() -> Path | None:
    """The active county's own config dir (`config_dir` in FUPIN_COUNTIES, or `FUPIN_CONFIG_DIR`
    for a county deployment): its files override the project's, one by one."""
    own = _county().config_dir or os.environ.get("FUPIN_CONFIG_DIR")
    return Path(own) if own else None


def county_file(folder: str, name: str) -> Path:
    """`<folder>/<name>` of the active county's config dir when it has one, else the project's:
    a county overrides only what differs."""
    own = config_dir()
    if own and (own / folder / name).exists():
        return own / folder / name
    return project_root() / folder / name


@cache
def _read_yaml(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _load_yaml(name: str) -> dict[str, Any]:
    """A config file of the active county, parsed once per file per process (callers copy
    before changing anything: the parsed dict is shared)."""
    return _read_yaml(county_file("config", name))


def clear_caches() -> None:
    """Forget every parsed file (a test rewrote one)."""
    for loader in (_read_yaml, _settings, _contracts, _geography, _units, _assessment):
        loader.cache_clear()


def settings() -> dict[str, Any]:
    return _settings(county_file("config", "settings.yaml"), os.environ.get("FUPIN_STABLE_SECONDS"))


@cache
def _settings(path: Path, stable: str | None) -> dict[str, Any]:
    data = copy.deepcopy(_read_yaml(path))
    if stable is not None:
        data["ingest"]["stable_seconds"] = float(stable)
    return data


def task_timeout(task_id: str = "default") -> dt.timedelta:
    """How long a task may run (settings.yaml → task_timeouts): its own limit, else the default."""
    limits = settings()["task_timeouts"]
    return dt.timedelta(minutes=float(limits.get(task_id, limits["default"])))


def county_settings() -> dict[str, Any]:
    """The active county's own facts (settings.yaml → county): code, name, its plan's title and
    the region codes of its residents' ID numbers (default: its code). A county of FUPIN_COUNTIES
    is what that file says it is, whatever else its config dir holds: its code and name there win,
    and a settings.yaml not its own (the project's, for a county given only its `reference/`)
    lends it nothing of another county's — not its ID prefixes, not its plan."""
    return _county_facts(settings()["county"], *_listed())


def _listed() -> tuple[str | None, str, bool]:
    """(the active county's code in FUPIN_COUNTIES or None, its name there, whether the settings.yaml
    in use is its own)."""
    county = _county()
    own = config_dir() is not None and county_file("config", "settings.yaml").parent.parent == config_dir()
    return county.code, county.name, own


def _county_facts(raw: dict[str, Any], listed_code: str | None = None, listed_name: str = "", own: bool = True) -> dict[str, Any]:
    code = str(raw["code"])
    if listed_code and (listed_code != code or not own):  # another county's settings: take nothing that is its own
        return {"code": listed_code, "name": listed_name or listed_code, "plan": "", "id_prefixes": (listed_code,)}
    return {"code": code, "name": listed_name or str(raw.get("name", "")), "plan": str(raw.get("plan", "")),
            "id_prefixes": tuple(str(p) for p in (raw.get("id_prefixes") or [code]))}


def id_prefixes() -> tuple[str, ...]:
    return county_settings()["id_prefixes"]


# --- contracts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """`required` when another column of the same row holds one of `values`."""

    column: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    type: str
    required: bool | Condition
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    value_aliases: dict[str, str] = field(default_factory=dict)
    pattern: str | None = None  # a regex, the county's values filled in ({county_code})
    pattern_text: str | None = None  # what the pattern asks for, in words, for the clerk
    unique: bool = False
    min: float | None = None
    max: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    not_after_month: bool = False
    not_before_month: bool = False  # with not_after_month: a date in the reporting month
    not_above: str | None = None
    masked: bool = False  # personal though not typed `id` (a 证件号码 that is a 身份证号 for a household)
    text_limit: int | None = None  # most characters a text cell may hold (max_length, else the type's)

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)

    @property
    def unit(self) -> str:
        """The unit the header states in its closing brackets: （元）→ 元, （万元）→ 万元, （元/月）→ 元/月."""
        m = re.search(r"[（(]([^）)]+)[）)]\s*$", self.header)
        return m[1] if m else ""

    @property
    def always_required(self) -> bool:
        return self.required is True

    @property
    def personal(self) -> bool:
        """Values that must be masked wherever they are shown."""
        return self.type == "id" or self.masked


@dataclass(frozen=True)
class Dataset:
    name: str
    source: str
    title: str
    grain: str
    columns: tuple[Column, ...]
    rules: tuple[str, ...] = ()
    optional: bool = False
    snapshot: bool = False
    key: tuple[str, ...] = ()  # the natural key: one row per key in a file
    may_be_empty: bool = False  # a month may have no row (a month without a payment sends the header only)

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


@dataclass(frozen=True)
class Source:
    """A unit that reports (报送单位): its datasets, and the monthly files (报表) they come in —
    one file holding them all unless the contracts name several (县扶贫办's 建档立卡 and 扶贫项目库)."""

    name: str
    label: str
    datasets: tuple[str, ...]
    error_threshold: float
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # file title -> its datasets

    @property
    def reports(self) -> dict[str, tuple[str, ...]]:
        """Each monthly file of the unit (its title) and the datasets it holds."""
        return self.files or {self.label: self.datasets}

    def file_label(self, title: str) -> str:
        """How a file of the unit is named (its template, the example in a 催报): the unit, and the
        file's title where the unit sends more than one (县扶贫办_扶贫项目库)."""
        return self.label if title == self.label else f"{self.label}_{title}"

    def arrivals(self, files: Sequence[str | None], times: Sequence[object]) -> dict[str, list]:
        """When each of the unit's monthly files arrived, from its valid drops of a month (each
        drop's file title — None when unknown — and its time): title → times, [] for a file not
        come. A unit that sends one file: every drop is that file."""
        if len(self.reports) == 1:
            return {next(iter(self.reports)): list(times)}
        return {title: [t for f, t in zip(files, times, strict=True) if f == title] for title in self.reports}

    def file_of(self, dataset: str) -> str:
        """The title of the file `dataset` comes in."""
        return next(title for title, held in self.reports.items() if dataset in held)


@dataclass(frozen=True)
class Contracts:
    sources: dict[str, Source]
    datasets: dict[str, Dataset]

    def of_source(self, source: str) -> list[Dataset]:
        return [self.datasets[d] for d in self.sources[source].datasets]


def _column(raw: dict[str, Any], enums: dict[str, list[str]], text_limits: dict[str, int], county: dict[str, Any]) -> Column:
    raw = dict(raw)
    if raw.get("pattern"):
        # the county's own values in its patterns: `^{county_code}\d{10}$` → `^440224\d{10}$`
        raw["pattern"] = raw["pattern"].replace("{county_code}", re.escape(county["code"]))
        raw["pattern_text"] = str(raw.get("pattern_text") or "规定的格式").replace("{county_code}", county["code"])
    raw.setdefault("text_limit", raw.get("max_length") or text_limits.get(raw["type"]))
    req = raw.pop("required")
    if isinstance(req, dict):
        req = Condition(req["column"], tuple(req["in"]))
    values = raw.pop("values", ())
    if isinstance(values, str):
        values = enums[values]
    return Column(
        required=req,
        aliases=tuple(raw.pop("aliases", ())),
        values=tuple(values),
        value_aliases=dict(raw.pop("value_aliases", {})),
        **raw,
    )


def contracts() -> Contracts:
    """The data contracts of the active county (config/contracts.yaml), its code filled in."""
    return _contracts(county_file("config", "contracts.yaml"), county_file("config", "settings.yaml"), *_listed())


@cache
def _contracts(path: Path, settings_yaml: Path, listed_code: str | None = None, listed_name: str = "", own: bool = True) -> Contracts:
    data = _read_yaml(path)
    county = _county_facts(_read_yaml(settings_yaml)["county"], listed_code, listed_name, own)
    enums = data.get("enums", {})
    limits = data.get("text_max_length", {})
    datasets = {
        name: Dataset(
            name=name,
            source=d["source"],
            title=d["title"],
            grain=d["grain"],
            columns=tuple(_column(c, enums, limits, county) for c in d["columns"]),
            rules=tuple(d.get("rules", ())),
            optional=bool(d.get("optional", False)),
            snapshot=bool(d.get("snapshot", False)),
            key=tuple(d.get("key", ())),
            may_be_empty=bool(d.get("may_be_empty", False)),
        )
        for name, d in data["datasets"].items()
    }
    sources = {
        name: Source(name, s["name"], tuple(s["datasets"]), float(s.get("error_threshold", 0)),
                     {title: tuple(held) for title, held in (s.get("files") or {}).items()})
        for name, s in data["sources"].items()
    }
    for src in sources.values():
        held = [d for ds in src.reports.values() for d in ds]
        if sorted(held) != sorted(src.datasets):
            raise ValueError(f"contracts: the files of {src.name} must hold each of its datasets exactly once")
    return Contracts(sources, datasets)


# --- geography -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    town_code: str
    town: str
    is_poor: bool
    households: int
    population: int


@dataclass(frozen=True)
class Geography:
    towns: dict[str, str]  # name -> code
    villages: tuple[Village, ...]

    @property
    def villages_by_town(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {t: set() for t in self.towns}
        for v in self.villages:
            out[v.town].add(v.name)
        return out


def geography() -> Geography:
    """The active county's towns and villages (`reference/towns.csv`, `villages.csv`)."""
    return _geography(county_file("reference", "towns.csv"), county_file("reference", "villages.csv"))


@cache
def _geography(towns_csv: Path, villages_csv: Path) -> Geography:
    with open(towns_csv, encoding="utf-8") as fh:
        towns = {r["town"]: r["town_code"] for r in csv.DictReader(fh)}
    with open(villages_csv, encoding="utf-8") as fh:
        villages = tuple(
            Village(
                r["village_code"], r["village"], r["town_code"], r["town"],
                r["is_poor_village"] == "1", int(r["households"]), int(r["population"]),
            )
            for r in csv.DictReader(fh)
        )
    return Geography(towns, villages)


def fold(text: str) -> str:
    """Fold the width and spacing variants clerks type: full-width → half-width, no spaces."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).replace("\u3000", "")


# --- unit directory ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    key: str
    name: str
    to: tuple[str, ...]
    leaders: tuple[str, ...]


def units() -> dict[str, Unit]:
    """The active county's unit directory (config/units.yaml)."""
    return _units(county_file("config", "units.yaml"))


@cache
def _units(path: Path) -> dict[str, Unit]:
    data = _read_yaml(path)
    return {str(k): Unit(str(k), u["name"], tuple(u["to"]), tuple(u.get("leaders", ()))) for k, u in data["units"].items()}


def unit_named(name: object) -> str | None:
    """The directory's key of the unit called `name` (县交通局 → transport), None if none is."""
    return next((k for k, u in units().items() if u.name == name), None) if isinstance(name, str) else None


def project_library_unit() -> str:
    """The unit that keeps the project library (the sender of `projects`: 县扶贫办)."""
    return contracts().datasets["projects"].source


def responsible_unit(name: object) -> str:
    """A project's 责任单位 as the directory's unit key; a unit the directory does not know (or
    none) answers to the unit that keeps the project library."""
    return unit_named(name) or project_library_unit()


def town_offices() -> dict[str, str]:
    """Each town office's unit key (units.yaml, by the town's code) → the town's name."""
    towns = set(geography().towns.values())  # town name → its code
    return {k: u.name for k, u in units().items() if k in towns}


def outbox_settings() -> dict[str, Any]:
    data = _load_yaml("units.yaml")
    return {"sender": data["sender"], "reply_to": data.get("reply_to"), **data["outbox"]}


def assessment() -> dict[str, Any]:
    """config/assessment.yaml: indicators with their targets, rectification days."""
    return _assessment(county_file("config", "assessment.yaml"), county_file("config", "settings.yaml"))


@cache
def _assessment(path: Path, settings_yaml: Path) -> dict[str, Any]:
    data = copy.deepcopy(_read_yaml(path))
    thresholds = _read_yaml(settings_yaml)["reconciliation"]["exit_threshold"]
    for ind in data["indicators"]:
        # `targets: exit_threshold`: each year-end's target is that year's exit threshold
        # (脱贫标准), kept once in settings.yaml for R6 and I03 alike
        if ind.get("targets") == "exit_threshold":
            ind["targets"] = {f"{year}Y": value for year, value in thresholds.items()}
    return data
