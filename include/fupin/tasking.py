"""A county's Airflow task (任务), made one way: `county_task`.

A DAG file declares each task as a stub — its id, its arguments (the XComs it takes), its
Airflow options — and names the library function it runs. At run time (never at parse time)
the function is imported and called inside the county's context (`County.active`: its files,
warehouse and units), with the process's umask made private first (what a task writes holds
personal data) and, once its imports are done, its heap settled (`fupin.heap`). Results cross
XCom as JSON, and this is the one edge where dicts stand for the domain's types: a result with
`to_dict()` (a domain dataclass) leaves as its dict, and an argument whose annotation is such a
class (or a list of one) arrives as it, by its `from_dict`.

Two arguments are filled in rather than passed: a stub parameter named `run` receives the
run's `fupin.runs.Run` (how it was started, its logical date, its params), and Airflow's own
context keys (`outlet_events`) reach the function as Airflow passes them to the stub.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from fupin.county import County


def to_xcom(value: Any) -> Any:
    """What a task returns, as XCom's JSON holds it: dataclasses by their `to_dict()`."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [to_xcom(v) for v in value]
    return value


def from_xcom(value: Any, annotation: Any) -> Any:
    """An XCom value as the function's annotation asks: `Summary` (or `Summary | None`) from its
    dict, `list[Summary]` from a list."""
    if isinstance(value, dict):
        union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
        typed = next((t for t in (typing.get_args(annotation) if union else (annotation,)) if hasattr(t, "from_dict")), None)
        return typed.from_dict(value) if typed else value
    if typing.get_origin(annotation) is list and not isinstance(value, str | bytes | dict) and hasattr(value, "__iter__"):
        # a list, or the lazy sequence of a mapped task's results
        (item,) = typing.get_args(annotation) or (None,)
        return [from_xcom(v, item) for v in value]
    return value


def call(function: Callable, args: tuple, kwargs: dict) -> Any:
    """`function(*args, **kwargs)` with its XCom arguments typed and its result made XCom's."""
    hints = typing.get_type_hints(function)
    bound = inspect.signature(function).bind(*args, **kwargs)
    for name, value in bound.arguments.items():
        bound.arguments[name] = from_xcom(value, hints.get(name))
    return to_xcom(function(*bound.args, **bound.kwargs))


def current_run() -> Any:
    """The running task's run, as `fupin.runs.Run`."""
    from airflow.sdk import get_current_context

    from fupin.runs import Run

    ctx = get_current_context()
    run = ctx.get("dag_run")
    kind = getattr(run, "run_type", "manual") if run is not None else "manual"
    return Run(kind=str(getattr(kind, "value", kind)), logical_date=ctx.get("logical_date"), params=dict(ctx.get("params") or {}))


def county_task(county: County, target: str, **task_options: Any) -> Callable[[Callable], Any]:
    """Decorate a stub into the Airflow task that runs `target` ("package.module:function") for
    `county`; `task_options` are `@task`'s (pool, outlets, trigger_rule, map_index_template...)."""
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"{target!r}: name the function as 'package.module:function'")

    def decorate(stub: Callable) -> Any:
        from airflow.sdk import task

        wants_run = "run" in inspect.signature(stub).parameters

        @functools.wraps(stub)
        def body(*args: Any, **kwargs: Any) -> Any:
            from fupin.files import restrict_umask
            from fupin.heap import settle

            restrict_umask()  # once per task process: every task enters here
            function = getattr(importlib.import_module(module), name)
            settle()  # the libraries just imported out of the collector's way (once per process)
            if wants_run:
                kwargs["run"] = current_run()
            with county.active():
                return call(function, args, kwargs)

        # one XCom per result: @task splits a result annotated `dict` into an XCom per key
        # (multiple_outputs), each a round trip to the API server, that no task here reads
        return task(**{"multiple_outputs": False, **task_options})(body)

    return decorate
