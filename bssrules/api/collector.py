"""Python's cyclic garbage collector, tuned for a serving worker (once per process).

A worker's heap holds what it loaded to serve — modules, the OpenAPI definitions and their
validators, the compiled rule books, the rating contexts — some 150,000 objects that live as
long as the process. With the collector's defaults (a young collection every 700 objects
allocated, thresholds 700/10/10), the objects of the requests being served are found alive
by the young collections, promoted, and every so often make a full collection walk that
whole heap. Measured on the online-rating benchmark's batches of 100 usages (in process,
``benchmarks/online_rating_bench.py --profile``, 14,000 usages): the collector took 430–470 ms
of the run, about 30 µs of a worker's CPU per usage — a quarter of it — with 885 young,
80 middle and 5 full collections; tuned as below, 27–46 ms.

:func:`tune_for_serving`, called when a worker's app has started:

- collects once, then **freezes** what is there (``gc.freeze``): the objects loaded to serve
  are moved out of the collector's sight; they are still freed when nothing refers to them
  (reference counting), and the collection just before the freeze leaves no garbage cycle
  behind to be kept for ever;
- raises the **young generation's threshold** to :data:`THRESHOLDS` (20,000 objects): a
  request's objects are mostly freed (reference counting) before the next collection looks
  at them, so few are promoted and the full collections, which the promoted objects trigger,
  become rare.

Cycles are still collected: later, that is all. ``BSSRULES_GC=default`` leaves the
collector as Python sets it; ``BSSRULES_GC=a,b,c`` sets those three thresholds instead.
"""
from __future__ import annotations

import gc
import os
import threading
from typing import Mapping

THRESHOLDS = (20_000, 10, 10)
_done = threading.Lock()
_tuned: list[tuple[int, int, int]] = []  # what this process was tuned with (once)


def thresholds_of(setting: str | None) -> tuple[int, int, int] | None:
    """The thresholds ``BSSRULES_GC`` asks for: None for ``default``, :data:`THRESHOLDS`
    when unset or empty; ValueError naming the variable for anything else than three
    positive integers."""
    if setting is None or not setting.strip():
        return THRESHOLDS
    if setting.strip().lower() == "default":
        return None
    parts = [p.strip() for p in setting.split(",")]
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"BSSRULES_GC={setting!r}: expected 'default' or three positive integers "
                         "(the collector's thresholds, as 20000,10,10)")
    return int(parts[0]), int(parts[1]), int(parts[2])


def tune_for_serving(environ: Mapping[str, str] | None = None) -> tuple[int, int, int] | None:
    """Tune this process's collector for serving (see the module), once per process; the
    thresholds set (None: left as Python sets them)."""
    thresholds = thresholds_of((os.environ if environ is None else environ).get("BSSRULES_GC"))
    with _done:
        if _tuned:
            return _tuned[0]
        if thresholds is None:
            return None
        gc.collect()
        gc.freeze()
        gc.set_threshold(*thresholds)
        _tuned.append(thresholds)
        return thresholds


__all__ = ["THRESHOLDS", "thresholds_of", "tune_for_serving"]
