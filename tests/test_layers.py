"""The package's layers have one direction: a module imports its own layer or lower ones, and
no module is in an import cycle — in-function imports included (an import moved into a
function to dodge a cycle is still the cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "include" / "fupin"

# Bottom up; a module belongs to the first entry whose prefix names it (most specific first).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("entry points", ("fupin.tasking", "fupin.cli", "fupin.dashboard", "fupin.demo", "fupin.ops")),
    ("delivery", ("fupin.notify.outbox", "fupin.notify.mail", "fupin.notify.alerts", "fupin.ops.mailsink")),
    ("domains", ("fupin.ingest", "fupin.reconcile", "fupin.funds", "fupin.assess", "fupin.receipts", "fupin.notify")),
    ("storage and validation", ("fupin.warehouse", "fupin.queries", "fupin.validate", "fupin.export", "fupin.assets")),
    ("core", ("fupin.config", "fupin.calendar", "fupin.county", "fupin.runs", "fupin.vocab", "fupin.ids", "fupin.files", "fupin.heap",
              "fupin.faults", "fupin.shares", "fupin.wording", "fupin")),
]
ORDER = ["core", "storage and validation", "delivery", "domains", "entry points"]


def _module(path: Path) -> str:
    parts = ("fupin", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _exists(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").exists() or (PACKAGE / rel / "__init__.py").exists()


def imports() -> dict[str, set[str]]:
    """Every project module → the project modules it imports, anywhere in its text."""
    out: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        mod, found = _module(path), set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "fupin":
                subs = [f"{node.module}.{a.name}" for a in node.names if _exists(f"{node.module}.{a.name}")]
                found.update(subs if subs and node.module == "fupin" else [node.module, *subs])
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.split(".")[0] == "fupin")
        out[mod] = found - {mod}
    return out


def layer(module: str) -> str:
    return next(name for name, prefixes in LAYERS if any(module == p or module.startswith(p + ".") for p in prefixes))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_has_a_layer():
    assert all(layer(m) for m in imports())


def test_no_module_imports_a_layer_above_its_own():
    upward = sorted(f"{m} ({layer(m)}) → {t} ({layer(t)})" for m, targets in imports().items() for t in targets
                    if ORDER.index(layer(t)) > ORDER.index(layer(m)))
    assert upward == []


def test_no_import_cycle():
    assert cycles(imports()) == []


def test_the_check_sees_an_upward_import_and_a_cycle():
    """The checks themselves: a made-up graph with one of each is caught."""
    graph = {"fupin.config": {"fupin.queries"}, "fupin.queries": {"fupin.config"}}
    assert cycles(graph) == [["fupin.config", "fupin.queries"]]
    assert ORDER.index(layer("fupin.queries")) > ORDER.index(layer("fupin.config"))
