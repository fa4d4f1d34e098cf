"""The process's heap and Python's garbage collector (垃圾回收): the libraries out of its way.

A task's process holds Airflow, pandas and Great Expectations — some 700,000 objects that live as
long as it does. Python's collector walked them all on each of its full passes (~0.3 s a pass on
these machines), and its youngest generation every 700 new containers, which a frame or a
validation makes by the thousand: a tenth of the demo's time went to collection (10–11 s of a
year's months that took 85–100 s; under 5 s once settled).

`settle()` — once per process, by the first task it runs (`fupin.tasking`, after importing the
task's function) — moves every object alive then to the permanent generation (`gc.freeze()`, as
Airflow's Celery executor does before it forks its workers; it also spares the pages the forked
reader shares from being copied when the collector would have touched them) and lets the
youngest generation grow to 10,000 objects before a pass. Garbage that exists at that moment is
frozen too and never freed: little, at a process's first task. At exit the heap is given back to
the collector (`gc.unfreeze()`), so that the interpreter's last collection frees it: DuckDB's
bindings report every object of theirs still alive then as a leak, on the process's stderr.
"""

from __future__ import annotations

import atexit
import gc

# young, middle, old: the youngest generation is collected after this many new containers (700 by
# default); the older ones keep Python's default ratios
THRESHOLDS = (10_000, 10, 10)

_settled = False


def settle() -> None:
    """Freeze what the process holds now and raise the collector's first threshold, once per process."""
    global _settled
    if _settled:
        return
    atexit.register(gc.unfreeze)
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    _settled = True
