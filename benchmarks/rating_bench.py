"""Rating benchmark: a Parquet file of usage records rated in bulk into a Parquet file.

1. Writes a rule project into a temporary folder: a usage rule set with time-of-day and
   day-of-week windows, graduated tiers, a monthly spending accumulator with a notify and
   a block threshold; a split billing rule set sharing data charges between two payers.
2. Generates (numpy, seeded, in blocks) 5,000,000 usage records (quick: 50,000) of three
   services for 100,000 subscribers (quick: 1,000), the subscribers (some sharing their
   bill with an employer, some VIP), and balances: data and voice buckets for some
   subscribers, a promotion bucket with precedence over them for others, prepaid money
   buckets for a few.
3. Rates Parquet -> Parquet through :func:`bssrules.pricing.bulk_io.rate_file` in bounded
   chunks, in a fresh process, so that its peak RSS (``resource.getrusage``) is rating's
   own; prints records per second, peak RSS and where the time goes per stage. In full
   mode it rates a file twice as big too: the peak RSS should hardly move; and it rates the
   first file once more in a process whose allocator never gives freed pages back — the peak
   RSS of a host too fast for any to be given back in time, which a faster host cannot pass.
4. Measures the floor on the same file, in a fresh process too: a polars pipeline that reads
   the usage file, prices each record (a decimal price per service, rounded to the cent),
   sorts by subscriber and time, keeps a running total per subscriber and writes Parquet —
   what any bulk rating must at least do — and prints the ratio of bssrules to it.

Targets: 1,000,000 records/s on a 2-core machine and 60 % of the floor, peak RSS within
1 GB whatever the file size.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import queue
import resource
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

NAME = "rating"
SEED = 7
TARGET_PER_S = 1_000_000
TARGET_RATIO = 0.60  # of the polars floor
TARGET_RSS_MB = 1024


@dataclass(frozen=True)
class Sizes:
    records: int
    subscribers: int
    chunk_size: int
    twice: bool  # also rate a file twice as big (memory stays bounded)


FULL = Sizes(records=5_000_000, subscribers=100_000, chunk_size=200_000, twice=True)  # 200,000: within 1 GB
QUICK = Sizes(records=50_000, subscribers=1_000, chunk_size=20_000, twice=False)

RULES = """\
ruleSets:
  - id: mobile-usage
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: monthly-spend
        measure: amount
        period: month
        thresholds:
          - {id: warn-15, at: 15, action: notify}
          - id: cap-40
            at: 40
            action: block
            reason: {code: spendCap, label: The monthly spending cap is reached}
    rules:
      - id: data-night
        when:
          usage.service: data
          usage.start: {timeOfDay: {from: "23:00", to: "06:59"}}
        rate: {currency: EUR, per: GB, tiers: [{upTo: 1, amount: 0.50}, {amount: 0.20}]}
      - id: data-roaming
        when: {usage.service: data, usage.roaming: true}
        rate: {currency: EUR, per: GB, tiers: [{upTo: 0.5, amount: 5}, {upTo: 2, amount: 3}, {amount: 1}]}
      - id: data
        when: {usage.service: data}
        rate: {currency: EUR, per: GB, tiers: [{upTo: 1, amount: 2.00}, {upTo: 5, amount: 1.50}, {amount: 1.00}]}
      - id: voice-weekend
        when: {usage.service: voice, usage.start: {dayOfWeek: [sat, sun]}}
        rate: {amount: 0.02, currency: EUR, per: min}
      - id: voice
        when: {usage.service: voice}
        rate: {amount: 0.05, currency: EUR, per: min}
      - id: sms-vip
        when: {usage.service: sms, party.classification: VIP}
        rate: {amount: 0, currency: EUR, per: sms}
      - id: sms
        when: {usage.service: sms}
        rate: {amount: 0.10, currency: EUR, per: sms}
  - id: business-split
    kind: splitBilling
    default: payer
    rules:
      - id: data-shared
        when: {charge.service: data}
        shares: [{payer: employer, weight: 70}, {payer: payer, weight: 30}]
"""

START = np.datetime64("2026-06-25T00:00:00", "us").astype(np.int64)  # into July: two monthly periods
SPAN_US = 10 * 86_400 * 1_000_000
BLOCK = 1_000_000  # records generated at a time


def _subscriber_ids(indexes: np.ndarray) -> Any:
    import polars as pl

    return pl.select(pl.format("sub-{}", pl.lit(pl.Series(indexes)).cast(pl.Utf8).str.zfill(7))).to_series()


def write_usage(path: Path, records: int, subscribers: int, seed: int = SEED) -> None:
    """``records`` usage records for ``subscribers`` subscribers, as Parquet, in blocks."""
    import polars as pl
    import pyarrow.parquet as pq

    from bssrules.pricing.bulk import decimal_column

    rng = np.random.default_rng(seed)
    writer = None
    try:
        for first in range(0, records, BLOCK):
            n = min(BLOCK, records - first)
            service = rng.choice(np.array([0, 1, 2], np.int8), size=n, p=[0.5, 0.3, 0.2])
            # data: GB to the MB; voice: minutes to the second (rounded to 1/100); sms: one
            volume = np.where(service == 0, rng.integers(1, 2_500, n) * 10,
                              np.where(service == 1, rng.integers(1, 3_000, n) * 10, 1_000)).astype(np.int64)
            frame = pl.DataFrame({
                "id": pl.select(pl.format("r{}", pl.lit(pl.Series(np.arange(first, first + n))).cast(pl.Utf8)
                                          .str.zfill(10))).to_series(),
                "subscriber": _subscriber_ids(rng.integers(0, subscribers, n)),
                "service": pl.Series(np.array(["data", "voice", "sms"])[service]),
                "start": pl.Series(START + rng.integers(0, SPAN_US // 1_000_000, n) * 1_000_000)
                .cast(pl.Datetime("us", "UTC")),
                "volume": decimal_column("volume", volume, 4, pl.Decimal(18, 4)),
                "unit": pl.Series(np.array(["GB", "min", "sms"])[service]),
                "roaming": pl.Series(rng.random(n) < 0.05),
            })
            table = frame.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd", compression_level=1)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def write_subscribers_and_buckets(folder: Path, subscribers: int, seed: int = SEED) -> tuple[Path, Path]:
    """The subscribers (Parquet) and their buckets (JSON lines)."""
    import polars as pl

    rng = np.random.default_rng(seed + 1)
    business = rng.random(subscribers) < 0.3
    ids = _subscriber_ids(np.arange(subscribers))
    payers = [[{"role": "payer", "account": f"ba-{i}"}] + ([{"role": "employer", "account": f"corp-{i % 50}"}]
                                                         if business[i] else []) for i in range(subscribers)]
    pl.DataFrame({
        "id": ids,
        "party_id": pl.Series([f"party-{i}" for i in range(subscribers)]),
        "classification": pl.Series(np.where(rng.random(subscribers) < 0.1, "VIP", "STANDARD")),
        "active_offerings": [["mobile-plan"]] * subscribers,
        "payers": pl.Series(payers, dtype=pl.List(pl.Struct({"role": pl.Utf8, "account": pl.Utf8}))),
        "split_billing": pl.Series(["business-split" if b else None for b in business], dtype=pl.Utf8),
    }).write_parquet(folder / "subscribers.parquet")
    names = ids.to_list()
    with open(folder / "buckets.jsonl", "w", encoding="utf-8") as out:
        for i, name in enumerate(names):
            draw = rng.random()
            if draw < 0.4:
                out.write(json.dumps({"id": f"data-{i}", "subscriber": name, "unit": "GB", "remaining": "10",
                                      "precedence": 10, "services": ["data"]}) + "\n")
            if draw < 0.15:  # a promotion, used first while it lasts
                out.write(json.dumps({"id": f"promo-{i}", "subscriber": name, "unit": "GB", "remaining": "2",
                                      "precedence": 1, "services": ["data"],
                                      "validTo": "2026-07-01T00:00:00Z"}) + "\n")
            if 0.4 <= draw < 0.6:
                out.write(json.dumps({"id": f"voice-{i}", "subscriber": name, "unit": "min", "remaining": "100",
                                      "precedence": 10}) + "\n")
            if draw > 0.95:  # prepaid: every charge comes out of the balance
                out.write(json.dumps({"id": f"wallet-{i}", "subscriber": name, "unit": "EUR", "remaining": "15.00",
                                      "floor": "0"}) + "\n")
    return folder / "subscribers.parquet", folder / "buckets.jsonl"


def _rate_in_child(project: str, usage: str, subscribers: str, buckets: str, output: str, state: str,
                   chunk_size: int, results: Any) -> None:
    """Runs in a fresh process: its peak RSS is rating's own."""
    from bssrules.pricing.bulk_io import rate_file
    from bssrules.rules.project import load_project

    from bssrules.pricing.bulk_memory import TUNED

    rules = load_project(project).rules
    warm_up_s = _warm_up(rules)
    before = resource.getrusage(resource.RUSAGE_SELF)
    summary = rate_file(rules, Path(usage), Path(subscribers), Path(output), buckets=Path(buckets),
                        state_out=Path(state), chunk_size=chunk_size)
    results.put({"records": summary.records, "rated": summary.rated, "rejected": dict(summary.rejected),
                 "by_reference": summary.by_reference, "partitions": summary.partitions,
                 "seconds": summary.seconds, "timings": summary.timings,
                 "totals": {k: str(v) for k, v in summary.totals.items()}, "warm_up_s": warm_up_s,
                 "allocators": TUNED,
                 "cpu_s": _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)) - _cpu_seconds(before),
                 "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _cpu_seconds(usage: Any) -> float:
    return usage.ru_utime + usage.ru_stime


def _warm_up(rules: Any) -> float:
    """Load the compiled scan (numba's cache; compiled on the first run after a change) by
    rating a few records, so that the figures are rating's, not the compiler's."""
    import datetime as dt
    from decimal import Decimal

    from bssrules.pricing.bulk import BulkState, rate_chunk, records_frame, subscribers_frame
    from bssrules.pricing.bulk_ids import SeenIds
    from bssrules.pricing.usage import Subscriber, UsageRecord

    started = time.perf_counter()
    start = dt.datetime(2026, 6, 25, tzinfo=dt.timezone.utc)
    records = [UsageRecord(f"w{i}", "warm", "data", start, Decimal(i), "GB") for i in range(3)]
    rate_chunk(records_frame(records), subscribers_frame([Subscriber("warm", payers={"payer": "x"})]), rules,
               BulkState.empty())
    SeenIds().repeated(records_frame(records)["id"])  # the ids check's compiled table
    return time.perf_counter() - started


def polars_floor(usage: Path, output: Path) -> None:
    """The floor: read the usage file, price each record (a decimal price per service,
    rounded to the cent), sort by subscriber and time, keep a running total per subscriber,
    write Parquet — in polars' streaming engine, with no rules, buckets or thresholds."""
    import polars as pl

    def price(value: str) -> pl.Expr:
        return pl.lit(Decimal(value), pl.Decimal(18, 2))

    service = pl.col("service")
    rate = pl.when(service == "data").then(price("1.50")).when(service == "voice").then(price("0.05")) \
        .otherwise(price("0.10"))
    (pl.scan_parquet(usage)
     .with_columns(amount=(pl.col("volume") * rate).round(2).cast(pl.Decimal(38, 2)))
     .sort("subscriber", "start")
     .with_columns(total=pl.col("amount").cum_sum().over("subscriber"))
     .sink_parquet(output))


def io_only(usage: Path, rated: Path, output: Path) -> tuple[float, float]:
    """What reading and writing alone cost, nothing computed: the usage file read, and the
    rated file's rows (read into memory first, not timed) written as rating writes them
    (polars' streaming sink, Snappy, no statistics). (seconds, CPU seconds). Not a target: it
    says how much of a run the floor's much smaller output leaves out (the floor writes 9
    columns, the rated file 25, four of them lists of structs)."""
    import polars as pl

    rows = pl.read_parquet(rated)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    pl.read_parquet(usage)
    rows.lazy().sink_parquet(output, compression="snappy", statistics=False)
    seconds = time.perf_counter() - started
    return seconds, _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)) - _cpu_seconds(before)


def _io_in_child(usage: str, rated: str, output: str, results: Any) -> None:
    from bssrules.pricing import bulk_memory  # noqa: F401 - the allocators of rating's process
    seconds, cpu_s = io_only(Path(usage), Path(rated), Path(output))
    results.put({"seconds": seconds, "cpu_s": cpu_s})


def _floor_in_child(usage: str, output: str, results: Any) -> None:
    # the floor's process gets the allocators rating's gets (bulk_memory, before polars):
    # the ratio compares the work done, not the allocators' settings
    from bssrules.pricing import bulk_memory  # noqa: F401
    import polars as pl

    pl.select(pl.lit(1)).to_series()  # load polars before timing
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    polars_floor(Path(usage), Path(output))
    seconds = time.perf_counter() - started
    results.put({"seconds": seconds,
                 "cpu_s": _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)) - _cpu_seconds(before),
                 "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _in_process(target: Any, arguments: tuple[Any, ...], isolated: bool) -> dict[str, Any]:
    """``target(*arguments, results)`` in a fresh process when ``isolated`` (so that its peak
    RSS is its own), else here; what it put in ``results``."""
    if not isolated:
        here: queue.Queue[dict[str, Any]] = queue.Queue()
        target(*arguments, here)
        return here.get()
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=target, args=(*arguments, results))
    child.start()
    figures = None
    while figures is None:
        try:
            figures = results.get(timeout=1)
        except queue.Empty:
            if not child.is_alive():  # it died without a word: its traceback is on stderr
                raise RuntimeError(f"the benchmark process failed with exit code {child.exitcode}") from None
    child.join()
    assert isinstance(figures, dict)
    return figures


def never_given_back() -> str:
    """polars' allocator settings of rating (:data:`bssrules.pricing.bulk_memory.JEMALLOC_CONF`)
    with freed pages never given back to the system: the peak RSS of a host so fast that no
    page is ever returned in time — the bound the allocator's own timing cannot pass."""
    from bssrules.pricing.bulk_memory import JEMALLOC_CONF

    kept = [part for part in JEMALLOC_CONF.split(",") if not part.startswith(("dirty_decay_ms", "muzzy_decay_ms"))]
    return ",".join(["dirty_decay_ms:-1", "muzzy_decay_ms:-1", *kept])


def _rate_never_given_back(arguments: tuple[Any, ...]) -> dict[str, Any]:
    """:func:`_rate_in_child` in a fresh process whose allocator never gives pages back."""
    before = os.environ.get("_RJEM_MALLOC_CONF")
    os.environ["_RJEM_MALLOC_CONF"] = never_given_back()  # the child's own choice: bulk_memory keeps it
    try:
        return _in_process(_rate_in_child, arguments, True)
    finally:
        if before is None:
            del os.environ["_RJEM_MALLOC_CONF"]
        else:
            os.environ["_RJEM_MALLOC_CONF"] = before


def rate_once(work: Path, records: int, subscribers: int, chunk_size: int, isolated: bool = True,
              worst_case: bool = False) -> dict[str, Any]:
    """Generate a usage file of ``records`` records, rate it and run the floor on it — each
    in a fresh process when ``isolated`` (so that the peak RSS is its own), else here; with
    ``worst_case``, rate it once more with freed memory never given back (its peak RSS only)."""
    usage = work / f"usage-{records}.parquet"
    started = time.perf_counter()
    write_usage(usage, records, subscribers)
    generate_s = time.perf_counter() - started
    arguments = (str(work / "project"), str(usage), str(work / "subscribers.parquet"), str(work / "buckets.jsonl"),
                 str(work / f"rated-{records}.parquet"), str(work / f"state-{records}"), chunk_size)
    figures = _in_process(_rate_in_child, arguments, isolated)
    if worst_case and isolated:
        figures["peak_rss_never_mb"] = _rate_never_given_back(arguments)["peak_rss_mb"]
    figures["floor"] = _in_process(_floor_in_child, (str(usage), str(work / f"floor-{records}.parquet")), isolated)
    figures["io_only"] = _in_process(_io_in_child, (str(usage), str(work / f"rated-{records}.parquet"),
                                                    str(work / f"io-{records}.parquet")), isolated)
    figures["generate_s"] = generate_s
    figures["file_mb"] = usage.stat().st_size / 1e6
    for path in (usage, work / f"rated-{records}.parquet", work / f"floor-{records}.parquet",
                 work / f"io-{records}.parquet"):
        path.unlink(missing_ok=True)
    return figures


def _print(figures: dict[str, Any], chunk_size: int) -> None:
    per_s = figures["records"] / figures["seconds"]
    print(f"usage file: {figures['records']:,} records ({figures['file_mb']:.0f} MB Parquet, generated in "
          f"{figures['generate_s']:.1f} s); {figures['partitions']} partitions of about {chunk_size:,} records")
    print(f"rated: {figures['rated']:,}; rejected: " + ", ".join(f"{code} {count:,}" for code, count in
                                                                sorted(figures["rejected"].items())) +
          f"; by the reference path: {figures['by_reference']:,}; totals: " +
          ", ".join(f"{c} {t}" for c, t in sorted(figures["totals"].items())))
    print(f"(before timing: {figures['warm_up_s']:.1f} s to load the compiled scan — longer the first time, when "
          f"numba compiles it); allocators tuned (bssrules.pricing.bulk_memory, in rating's process and the "
          f"floor's alike): {', '.join(figures['allocators']) or 'none'}")
    print(f"\n{'stage':<40} {'seconds':>8} {'share':>6}")
    total = figures["seconds"]
    for stage, seconds in figures["timings"].items():
        print(f"{stage:<40} {seconds:>8.2f} {seconds / total * 100:>5.0f}%")
    print(f"{'total (rate_file)':<40} {total:>8.2f}")
    verdict = "met" if per_s >= TARGET_PER_S else "MISSED"
    print(f"\nParquet -> Parquet: {figures['records']:,} records in {total:.2f} s = {per_s:,.0f} records/s "
          f"(target {TARGET_PER_S:,}/s: {verdict}); peak RSS {figures['peak_rss_mb']:,.0f} MB "
          f"(target {TARGET_RSS_MB:,} MB: {'met' if figures['peak_rss_mb'] <= TARGET_RSS_MB else 'MISSED'})",
          flush=True)
    if "peak_rss_never_mb" in figures:
        never = figures["peak_rss_never_mb"]
        print(f"peak RSS with freed memory never given back (polars' allocator: {never_given_back()}), what a "
              f"host of any speed stays within: {never:,.0f} MB (target {TARGET_RSS_MB:,} MB: "
              f"{'met' if never <= TARGET_RSS_MB else 'MISSED'})", flush=True)
    # the machine may be shared: CPU time says what rating costs whatever else runs
    print(f"CPU time of rating (all threads): {figures['cpu_s']:.1f} s = "
          f"{figures['records'] / max(figures['cpu_s'], 1e-9):,.0f} records per CPU-second; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    floor = figures["floor"]
    floor_per_s = figures["records"] / floor["seconds"]
    ratio = per_s / floor_per_s
    print(f"floor (polars: read, price, sort by subscriber and time, running total per subscriber, write Parquet): "
          f"{floor['seconds']:.2f} s = {floor_per_s:,.0f} records/s, "
          f"{figures['records'] / max(floor['cpu_s'], 1e-9):,.0f} per CPU-second, peak RSS "
          f"{floor['peak_rss_mb']:,.0f} MB", flush=True)
    print(f"bssrules / floor: {ratio:.0%} (target {TARGET_RATIO:.0%}: {'met' if ratio >= TARGET_RATIO else 'MISSED'}); "
          f"per CPU-second: {floor['cpu_s'] / max(figures['cpu_s'], 1e-9):.0%} (what a shared machine does not blur)",
          flush=True)
    io = figures.get("io_only")
    if io is not None:
        print(f"reading the usage and writing the rated file's rows alone, nothing computed (no target: the floor "
              f"writes 9 columns, the rated file 25): {io['seconds']:.2f} s = "
              f"{figures['records'] / io['seconds']:,.0f} records/s, {io['cpu_s']:.1f} s of CPU — "
              f"{io['seconds'] / floor['seconds']:.0%} of the floor's time, {io['cpu_s'] / max(figures['cpu_s'], 1e-9):.0%} "
              f"of rating's CPU", flush=True)


def _table(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'records':>12} {'records/s':>11} {'per CPU-s':>10} {'floor/s':>11} {'floor/CPU-s':>12} {'ratio':>6} "
          f"{'CPU ratio':>9} {'peak RSS':>9}")
    for row in rows:
        print(f"{row['records']:>12,} {row['records_per_s']:>11,.0f} {row['records_per_cpu_s']:>10,.0f} "
              f"{row['floor_per_s']:>11,.0f} {row['floor_per_cpu_s']:>12,.0f} {row['ratio']:>6.0%} "
              f"{row['cpu_ratio']:>9.0%} {row['peak_rss_mb']:>6,.0f} MB", flush=True)


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Run the rating benchmark, print its figures, and return them as rows."""
    sizes = QUICK if quick else FULL
    return run_sizes(sizes)


def run_sizes(sizes: Sizes, isolated: bool = True) -> list[dict[str, Any]]:
    """The benchmark at given sizes (the smoke test uses tiny ones, in its own process)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bssrules-rating-bench-") as temp:
        work = Path(temp)
        (work / "project").mkdir()
        (work / "project" / "rules.yaml").write_text(RULES, encoding="utf-8")
        write_subscribers_and_buckets(work, sizes.subscribers)
        print(f"project: 1 usage rule set (7 rules, 1 accumulator), 1 split billing rule set; "
              f"{sizes.subscribers:,} subscribers", flush=True)
        # as `bssrules rate` does: kernels not yet in numba's cache (a fresh install) are compiled
        # in a process of their own, so that the compiler's memory is not in the peak RSS measured
        # (the first run after an install measured 1,034 MB for 5,000,000 records, then 805 MB)
        from bssrules.pricing.bulk_warm import compile_apart
        ahead = compile_apart()
        if ahead.compiled:
            print(f"rating kernels compiled first, in a process of their own: {ahead.seconds:.0f} s", flush=True)
        counts = [sizes.records] + ([2 * sizes.records] if sizes.twice else [])
        for records in counts:
            # the first file also rated with memory never given back: the bound whatever the host's speed
            figures = rate_once(work, records, sizes.subscribers, sizes.chunk_size, isolated,
                                worst_case=sizes.twice and records == sizes.records)
            print()
            _print(figures, sizes.chunk_size)
            per_s = figures["records"] / figures["seconds"]
            floor_per_s = figures["records"] / figures["floor"]["seconds"]
            rows.append({"records": records, "seconds": figures["seconds"], "cpu_s": figures["cpu_s"],
                         "records_per_s": per_s, "records_per_cpu_s": figures["records"] / max(figures["cpu_s"], 1e-9),
                         "floor_per_s": floor_per_s, "ratio": per_s / floor_per_s,
                         "floor_per_cpu_s": figures["records"] / max(figures["floor"]["cpu_s"], 1e-9),
                         "cpu_ratio": figures["floor"]["cpu_s"] / max(figures["cpu_s"], 1e-9),
                         "peak_rss_mb": figures["peak_rss_mb"], "timings": figures["timings"]})
        _table(rows)
    return rows


if __name__ == "__main__":
    run(quick=True)
