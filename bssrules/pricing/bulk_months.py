"""``bssrules rate`` of a usage file spanning several months when an allowance rolls over.

A month's allowance bucket carries over what the previous month's bucket had left *after*
that month was rated (:mod:`bssrules.pricing.bulk_allowances`), so such a file cannot be
rated in one pass: its rows are split by month (UTC calendar months, as bills and allowances
count them; rows without a readable start go with the last month, where they are rejected
as malformed), and each month is rated by :func:`~bssrules.pricing.bulk_io.rate_file` with
the balances and totals the month before handed on — the allowance buckets of each month
made from them. The rated files of the months are joined into ``output`` (oldest month
first) and the last month's state is the run's.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import polars as pl

from bssrules.catalog.catalog import Catalog
from bssrules.pricing.bulk_allowances import provision_files
from bssrules.pricing.bulk_ids import SeenIds
from bssrules.pricing.bulk_io import Progress, RatingSummary, rate_file
from bssrules.pricing.bulk_read import file_format, normalize_usage, read_usage_batches
from bssrules.rules.book import RuleBook

_MONTH = "%Y-%m"


def usage_months(usage: Path) -> set[str]:
    """The UTC months the readable starts of a usage input fall in."""
    months: set[str] = set()
    for raw in read_usage_batches(usage):
        starts = normalize_usage(raw)["start"]
        months.update(m for m in starts.dt.convert_time_zone("UTC").dt.strftime(_MONTH).to_list() if m)
    return months


def rolls_over(catalog: Catalog) -> bool:
    return any(a.rollover is not None for price in catalog.prices.values() for a in price.allowances)


def _split_by_month(usage: Path, folder: Path) -> tuple[list[Path], int]:
    """The rows of ``usage`` as one Parquet dataset folder per month (rows as read: text stays
    text), oldest first; and how many rows there are."""
    parts: dict[str, int] = {}
    undated: list[pl.DataFrame] = []
    rows_read = 0
    for raw in read_usage_batches(usage):
        rows_read += raw.height
        months = normalize_usage(raw)["start"].dt.convert_time_zone("UTC").dt.strftime(_MONTH)
        tagged = raw.with_columns(months.alias("__month"))
        undated.append(tagged.filter(pl.col("__month").is_null()).drop("__month"))
        for (month,), rows in tagged.filter(pl.col("__month").is_not_null()).partition_by(
                "__month", as_dict=True).items():
            n = parts.get(str(month), 0)
            (folder / str(month)).mkdir(exist_ok=True)
            rows.drop("__month").write_parquet(folder / str(month) / f"part-{n:05d}.parquet")
            parts[str(month)] = n + 1
    labels = sorted(parts) or ["undated"]
    (folder / labels[-1]).mkdir(exist_ok=True)
    for n, rows in enumerate(r for r in undated if r.height):
        rows.write_parquet(folder / labels[-1] / f"undated-{n:05d}.parquet")
    return [folder / label for label in labels], rows_read


def _join(outputs: list[Path], output: Path) -> None:
    """The rated files of the months, in order, as one file of ``output``'s format."""
    kind = file_format(output)
    if kind == "parquet":
        pl.scan_parquet([str(p) for p in outputs]).sink_parquet(output)
        return
    with output.open("wb") as joined:
        for n, part in enumerate(outputs):
            with part.open("rb") as rows:
                if kind == "csv" and n:
                    rows.readline()  # the header, written once
                shutil.copyfileobj(rows, joined)


def _added(total: RatingSummary, month: RatingSummary) -> None:
    total.records += month.records
    total.rated += month.rated
    total.partly_rated += month.partly_rated
    total.rejected.update(month.rejected)
    for currency, amount in month.totals.items():
        total.totals[currency] = total.totals.get(currency, 0) + amount
    total.by_reference += month.by_reference
    total.seconds += month.seconds
    for stage, seconds in month.timings.items():
        total.timings[stage] = total.timings.get(stage, 0.0) + seconds


def rate_file_by_month(book: RuleBook, catalog: Catalog, usage: Path, subscribers: Path, output: Path, *,
                       buckets: Path | None = None, accumulators: Path | None = None,
                       state_out: Path | None = None, chunk_size: int | None = None,
                       progress: Progress | None = None) -> RatingSummary:
    """:func:`~bssrules.pricing.bulk_io.rate_file`, a month at a time, each month's allowance
    buckets made from the state the month before left."""
    summary = RatingSummary()
    with tempfile.TemporaryDirectory(prefix="bssrules-months-") as scratch:
        work = Path(scratch)
        (work / "in").mkdir()
        months, records = _split_by_month(usage, work / "in")
        outputs: list[Path] = []
        seen = SeenIds(expected=records)  # one run: an id is rated once, the first of the oldest month
        for month in months:
            made = work / f"allowances-{month.name}"
            made.mkdir()
            with_allowances = provision_files(catalog, month, subscribers, buckets, made)
            rated = work / f"rated-{month.name}{output.suffix}"
            state = work / f"state-{month.name}"
            _added(summary, rate_file(book, month, subscribers, rated, buckets=with_allowances,
                                      accumulators=accumulators, state_out=state, chunk_size=chunk_size,
                                      progress=progress, seen_ids=seen))
            outputs.append(rated)
            buckets, accumulators = state / "buckets.jsonl", state / "accumulators.jsonl"
        _join(outputs, output)
        if state_out is not None and months:
            state_out.mkdir(parents=True, exist_ok=True)
            for name in ("buckets.jsonl", "accumulators.jsonl"):
                shutil.copyfile(work / f"state-{months[-1].name}" / name, state_out / name)
    return summary


__all__ = ["rate_file_by_month", "rolls_over", "usage_months"]
