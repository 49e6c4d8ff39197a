"""The memory allocators tuned for bulk rating, before polars is loaded.

Bulk rating allocates and frees arrays of a chunk's size (megabytes) hundreds of times per
chunk. With the allocators' defaults much of that memory goes back to the kernel at once and
is asked for again a moment later, and every new page is a page fault the kernel zeroes.
Measured on 2,000,000 records of the rating benchmark's workload (a shared, busy machine:
noisy figures), the two settings below took 4-10 % off rating's CPU time, for 30-70 MB more
peak RSS. Two allocators are concerned, and this module tunes both, once, when imported:

- polars' own allocator (jemalloc) keeps freed pages for ``dirty_decay_ms`` before it
  gives them back; polars sets 500 ms. :data:`JEMALLOC_CONF` keeps them 5 s, in **one
  arena** (``narenas:1``; jemalloc's default is four per core). How much a time-based decay
  keeps depends on the host's speed: the faster chunks go by, the more pages were freed
  within the last 5 s. With several arenas the pages a thread frees stay in its own arena,
  where only the threads of that arena reuse them, so each arena grows to its own high-water
  mark — the peak RSS of the benchmark's 5,000,000 records was 910 MB on a slow host and
  1,170 MB on one twice as fast, and 1,084 MB here with pages never given back
  (``dirty_decay_ms:-1``). In one arena every freed page is reused by the next allocation of
  any thread: jemalloc's footprint stays at the high-water mark of what polars holds at
  once, whatever the timing (919–931 MB with decay 5 s, 922 MB never giving pages back; no
  CPU cost measured — the chunk's polars queries run on two threads, and jemalloc's
  per-thread caches serve most allocations without the arena's lock). jemalloc reads
  its settings when polars is loaded, so this must be imported **before** polars:
  :mod:`bssrules.pricing.bulk_io` imports it first, and ``bssrules rate`` imports that before
  polars. If polars is already loaded, or ``_RJEM_MALLOC_CONF`` holds something else than
  what polars itself puts there (the user's choice wins), nothing is changed.
- the C library's ``malloc`` (numpy's arrays, pyarrow's buffers): arrays above a threshold
  get pages of their own from the kernel, returned as soon as they are freed. ``mallopt``
  raises that threshold to 32 MB, the largest glibc allows, and keeps up to 64 MB free at the
  top of the heap (:data:`GLIBC_OPTIONS`); it applies at any time. Only on glibc; skipped
  where ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or ``MALLOC_ARENA_MAX`` are
  set in the environment.

``BSSRULES_ALLOCATOR=default`` leaves both allocators as they are.

A Dask worker process loads polars before any bssrules module (importing this module there
comes too late for jemalloc), and its nanny sets ``MALLOC_TRIM_THRESHOLD_`` (so ``mallopt``
is skipped): its allocators are tuned from its start by environment variables instead
(:func:`worker_environment`), which ``bssrules rate --workers`` gives its local cluster and
which a cluster's own workers can be started with (docs/bulk-rating.md).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import MutableMapping

JEMALLOC_CONF = "dirty_decay_ms:5000,muzzy_decay_ms:5000,narenas:1"
# what polars itself puts in _RJEM_MALLOC_CONF when it loads (a child process inherits it from a
# parent that loaded polars): nobody's choice, so still ours to tune (absent counts as the first)
_POLARS_OWN = ("", "dirty_decay_ms:500,muzzy_decay_ms:1000",
               "dirty_decay_ms:500,muzzy_decay_ms:1000,thp:always,metadata_thp:always")
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
GLIBC_OPTIONS = {_M_MMAP_THRESHOLD: 32 * 1024 * 1024, _M_TRIM_THRESHOLD: 64 * 1024 * 1024, _M_ARENA_MAX: 2}
_GLIBC_ENVIRONMENT = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX")


def tune(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Tune what can still be tuned; the allocators tuned ("jemalloc", "glibc")."""
    env: MutableMapping[str, str] = os.environ if environ is None else environ
    if env.get("BSSRULES_ALLOCATOR") == "default":
        return []
    tuned = []
    if "polars" not in sys.modules and env.get("_RJEM_MALLOC_CONF", _POLARS_OWN[0]) in _POLARS_OWN:
        env["_RJEM_MALLOC_CONF"] = JEMALLOC_CONF  # polars adds it after its own settings: it wins
        tuned.append("jemalloc")
    if sys.platform.startswith("linux") and not any(name in env for name in _GLIBC_ENVIRONMENT) \
            and _glibc_mallopt():
        tuned.append("glibc")
    return tuned


def worker_environment(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """The environment variables that tune both allocators of a process from its start (what
    :func:`tune` does in a running one): for worker processes. Empty with
    ``BSSRULES_ALLOCATOR=default``; the user's own settings (here, in ``environ``) are left out."""
    env: MutableMapping[str, str] = os.environ if environ is None else environ
    if env.get("BSSRULES_ALLOCATOR") == "default":
        return {}
    variables = {}
    if env.get("_RJEM_MALLOC_CONF", _POLARS_OWN[0]) in (*_POLARS_OWN, JEMALLOC_CONF):
        variables["_RJEM_MALLOC_CONF"] = JEMALLOC_CONF
    if sys.platform.startswith("linux") and not any(name in env for name in _GLIBC_ENVIRONMENT):
        # glibc reads these when the process starts: the same settings as GLIBC_OPTIONS
        variables.update({"MALLOC_MMAP_THRESHOLD_": str(GLIBC_OPTIONS[_M_MMAP_THRESHOLD]),
                          "MALLOC_TRIM_THRESHOLD_": str(GLIBC_OPTIONS[_M_TRIM_THRESHOLD]),
                          "MALLOC_ARENA_MAX": str(GLIBC_OPTIONS[_M_ARENA_MAX])})
    return variables


def _glibc_mallopt() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(option, value) == 1 for option, value in GLIBC_OPTIONS.items())


TUNED = tune()
