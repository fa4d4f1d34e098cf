"""The process's heap and Python's garbage collector (垃圾回收): the libraries out of its way.

A task's process holds Airflow, pandas and Great Expectations — some 900,000 objects that live as
long as it does. Python's collector walked them all on each of its full passes (~0.3 s a pass on
these machines) and its youngest generation every 700 new containers, which a frame or a
validation makes by the thousand: a tenth of the demo's time went to collection (10–11 s of a
year's months, 85–100 s; 5 s once settled).

`settle()` — once per process, at its entry points, after what they import — moves every object
alive then to the permanent generation (`gc.freeze()`, as Airflow's Celery executor does before it
forks its workers: it also spares the forked reader's pages from being copied when the collector
would have touched them) and lets the youngest generation grow to 10,000 objects before a pass.
Garbage that exists at that moment is frozen too, never freed: cheap once, at a process's start;
`settle(collect=True)` collects first, for a long-lived process that has already worked (the demo).
"""

from __future__ import annotations

import gc

# young, middle, old: the youngest generation is collected after this many new containers (700 by
# default); the older ones keep Python's default ratios
THRESHOLDS = (10_000, 10, 10)

_settled = False


def settle(collect: bool = False) -> None:
    """Freeze what the process holds now and raise the collector's first threshold (once per process
    unless `collect`: then what is garbage now is freed first, and the rest frozen again)."""
    global _settled
    if _settled and not collect:
        return
    if collect:
        gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    _settled = True
