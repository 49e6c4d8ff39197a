"""The rating kernels compiled ahead of time, and a watch on their compilation.

Bulk rating's kernels (:mod:`bssrules.pricing.bulk_kernels`) are compiled by numba on their
first use and cached on disk (next to the package, or in ``NUMBA_CACHE_DIR``): the first
rating after an install compiles them, which takes tens of seconds on a small machine. Two
ways not to meet that wait unannounced:

- :func:`warm_up` rates a small built-in workload that goes through every kernel (graduated
  and volume tiers, graduated tiers over the month's total, unit conversions, unit and money buckets, notify, changeRate and block
  thresholds, caps at ``rateUpToCap`` on volume and on money, shares between two payers), so
  that they are compiled and cached before the first real file (``bssrules rate
  --warm-up``; a container image runs it when it is built);
- :func:`watch_compilation` tells its caller when numba starts compiling (it does not when
  the kernels come from the cache) and how long it took, so that a command can say so;
- :func:`compile_apart` runs :func:`warm_up` in a process of its own when none of the kernels
  is in the cache (:func:`kernels_cached`), so that the compiler's memory is not the rating
  process's (``bssrules rate`` on its first run: 1,079 MB peak with the compiler in it).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

WARM_UP_RULES = """\
ruleSets:
  - id: warm-up
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: data-month
        measure: volume
        period: month
        when: {usage.service: data}
        thresholds:
          - {id: data-warn, at: 2, action: notify}
          - id: data-slow
            at: 3
            action: changeRate
            rate: {currency: EUR, per: MB, tiersCount: {accumulator: data-month},
                   tiers: [{upTo: 4500, amount: 0.0006}, {amount: 0.0004}]}
          - id: data-cap
            at: 6
            action: block
            crossing: rateUpToCap
            reason: {code: dataCap, label: Six GB a month}
      - id: voice-spend
        measure: amount
        period: month
        when: {usage.service: voice}
        thresholds:
          - id: voice-cap
            at: 2
            action: block
            crossing: rateUpToCap
            reason: {code: voiceCap, label: Two EUR of calls a month}
      - id: sms-count
        measure: volume
        period: day
        when: {usage.service: sms}
        thresholds:
          - {id: sms-block, at: 1, action: block, reason: {code: smsCap, label: One message a day}}
    rules:
      - id: data
        when: {usage.service: data}
        rate: {currency: EUR, per: GB, tiers: [{upTo: 1, amount: 2}, {upTo: 5, amount: 1.5}, {amount: 1}]}
      - id: voice
        when: {usage.service: voice}
        rate: {amount: 0.07, currency: EUR, per: min}
      - id: sms
        when: {usage.service: sms}
        rate: {currency: EUR, per: message, tierMode: volume, tiers: [{upTo: 2, amount: 0.1}, {amount: 0.05}]}
  - id: shared
    kind: splitBilling
    default: payer
    rules:
      - id: halves
        when: {charge.service: data}
        shares: [{payer: employer, weight: 1}, {payer: payer, weight: 1}]
"""

_SUBSCRIBERS = 'id,payers,splitBilling\nw1,"{""payer"": ""A1"", ""employer"": ""E1""}",shared\nw2,"{""payer"": ""A2""}",\n'
_BUCKETS = (
    '{"id": "w1-data", "subscriber": "w1", "unit": "MB", "remaining": "700", "precedence": 1, "services": ["data"]}\n'
    '{"id": "w2-wallet", "subscriber": "w2", "unit": "EUR", "remaining": "3.00", "floor": "-1"}\n'
    '{"id": "w2-voice", "subscriber": "w2", "unit": "min", "remaining": "2.5", "validTo": "2026-07-01T00:00:00Z"}\n'
)


def _usage() -> str:
    rows = ["id,subscriber,service,start,volume,unit"]
    kinds = [("data", "1536", "MB"), ("data", "0.75", "GB"), ("voice", "95", "s"), ("voice", "7.5", "min"),
             ("sms", "1", "message"), ("data", "2", "GB")]
    for i in range(48):
        service, volume, unit = kinds[i % len(kinds)]
        rows.append(f"w{i:03d},w{1 + i % 2},{service},2026-06-{1 + i // 4:02d}T{(7 * i) % 24:02d}:15:00Z,{volume},{unit}")
    return "\n".join(rows) + "\n"


@dataclass
class Compilation:
    """What numba compiled while watched: whether it did, and the seconds from its first
    compilation to the end of its last (0 when it compiled nothing)."""

    compiled: bool = False
    seconds: float = 0.0


@contextmanager
def watch_compilation(on_start: Callable[[], None] | None = None) -> Iterator[Compilation]:
    """Watch numba while the block runs: ``on_start`` is called once, when it starts to
    compile (loading a kernel from the cache compiles nothing)."""
    from numba.core import event

    seen = Compilation()
    first: list[float] = []

    class _Listener(event.Listener):  # type: ignore[misc,unused-ignore]  # numba is untyped
        def on_start(self, _event: Any) -> None:
            if not first:
                first.append(time.perf_counter())
                seen.compiled = True
                if on_start is not None:
                    on_start()

        def on_end(self, _event: Any) -> None:
            seen.seconds = time.perf_counter() - first[0]

    with event.install_listener("numba:compile", _Listener()):
        yield seen


def warm_up() -> Compilation:
    """Rate the built-in workload (its results thrown away) so that every kernel is compiled
    and in numba's cache; return what was compiled and how long it took."""
    from bssrules.pricing.bulk_io import rate_file
    from bssrules.rules.project import load_project_texts

    book = load_project_texts({"warm-up.yaml": WARM_UP_RULES}).rules
    with tempfile.TemporaryDirectory(prefix="bssrules-warm-up-") as folder, watch_compilation() as compilation:
        here = Path(folder)
        (here / "usage.csv").write_text(_usage(), encoding="utf-8")
        (here / "subscribers.csv").write_text(_SUBSCRIBERS, encoding="utf-8")
        (here / "buckets.jsonl").write_text(_BUCKETS, encoding="utf-8")
        for chunk_size in (1_000, 10):  # one chunk, and several partitions
            rate_file(book, here / "usage.csv", here / "subscribers.csv", here / "rated.parquet",
                      buckets=here / "buckets.jsonl", chunk_size=chunk_size)
    return compilation


def kernels_cached() -> bool:
    """Whether numba's cache holds any of the rating kernels compiled from this source (an
    index written for another version of ``bulk_kernels`` does not count): False after an
    install, an upgrade, or with an empty ``NUMBA_CACHE_DIR``. A cache that cannot be read
    counts as warm: the kernels are then compiled where they are first used, as before."""
    from numba.core.dispatcher import Dispatcher

    from bssrules.pricing import bulk_kernels

    try:
        kernels: list[Any] = [kernel for kernel in vars(bulk_kernels).values() if isinstance(kernel, Dispatcher)]
        return any(kernel._cache._cache_file._load_index() for kernel in kernels)
    except Exception:  # numba's cache internals moved: no compilation apart
        return True


def compile_apart(on_start: Callable[[], None] | None = None) -> Compilation:
    """When no kernel is in numba's cache: :func:`warm_up` run in a child process (the same
    interpreter, environment and ``bssrules``), ``on_start`` called first; what it compiled
    and how long it took. Nothing when the cache is warm, or when the child fails (the
    kernels are then compiled on first use, in this process)."""
    if kernels_cached():
        return Compilation()
    if on_start is not None:
        on_start()
    began = time.perf_counter()
    here = str(Path(__file__).resolve().parents[2])  # this bssrules, whatever sys.path the child starts with
    path = os.environ.get("PYTHONPATH")
    env = dict(os.environ, PYTHONPATH=here + (os.pathsep + path if path else ""))
    done = subprocess.run([sys.executable, "-c", "from bssrules.pricing.bulk_warm import warm_up; warm_up()"],
                          env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        return Compilation()
    return Compilation(compiled=True, seconds=time.perf_counter() - began)


__all__ = ["warm_up", "watch_compilation", "compile_apart", "kernels_cached", "Compilation", "WARM_UP_RULES"]
