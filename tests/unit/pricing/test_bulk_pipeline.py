"""A file's chunks rated in two halves on two threads: the scan of a chunk on the calling
thread while the chunk before is finished (assembled) and written on the writer's thread.
The halves give what :func:`rate_chunk` gives; the writer holds one chunk at most, keeps the
new states in order, and a failure of either half reaches the caller."""
from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from bssrules.pricing.bulk import BulkState, rate_chunk, rate_chunk_in_two, records_frame, subscribers_frame
from bssrules.pricing.bulk_io import RatingSummary, _BackgroundWriter
from bssrules.pricing.usage import Bucket, RatingState, Subscriber, UsageRecord
from bssrules.rules.project import load_project

RULES = """\
ruleSets:
  - id: mobile
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: spend
        measure: amount
        period: month
        thresholds:
          - {id: warn, at: 3, action: notify}
          - {id: cap, at: 8, action: block, reason: {code: spendCap, label: The monthly cap is reached}}
    rules:
      - id: data
        when: {usage.service: data}
        rate: {currency: EUR, per: GB, tiers: [{upTo: 1, amount: 2}, {upTo: 5, amount: 1.5}, {amount: 1}]}
      - id: voice
        when: {usage.service: voice}
        rate: {amount: 0.05, currency: EUR, per: min}
"""
START = dt.datetime(2026, 6, 29, 21, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def book(tmp_path: Path) -> Any:
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    return load_project(tmp_path).rules


def chunk() -> tuple[pl.DataFrame, pl.DataFrame, BulkState]:
    services = [("data", "GB", "0.75"), ("voice", "min", "12"), ("data", "MB", "1500"), ("voice", "s", "90")]
    records = [UsageRecord(f"u{i:02d}", ["s1", "s2", "s9"][i % 3], services[i % 4][0],
                           START + dt.timedelta(minutes=37 * (40 - i)), Decimal(services[i % 4][2]), services[i % 4][1])
               for i in range(40)]
    subscribers = subscribers_frame([Subscriber("s1", payers={"payer": "a1"}), Subscriber("s2", payers={})])
    # money to the 10**-7: more decimals than the scan holds, so s2 goes to the reference in the finishing half
    buckets = {"b1": Bucket("b1", "s1", "GB", Decimal("1.5"), services=("data",)),
               "b2": Bucket("b2", "s2", "EUR", Decimal("3.0000001"), floor=Decimal(0))}
    return records_frame(records), subscribers, BulkState.from_rating_state(RatingState(buckets))


def test_the_two_halves_on_another_thread_give_what_rate_chunk_gives(book: Any) -> None:
    records, subscribers, state = chunk()
    expected, expected_state = rate_chunk(records, subscribers, book, state)
    assert (expected["rated_by"] == "reference").any() and (expected["rated_by"] == "bulk").any()
    finish = rate_chunk_in_two(records, subscribers, book, state)
    got: list[tuple[pl.DataFrame, BulkState]] = []
    thread = threading.Thread(target=lambda: got.append(finish()))
    thread.start()
    thread.join()
    rated, new_state = got[0]
    assert rated.equals(expected)
    assert new_state.buckets.equals(expected_state.buckets)
    assert new_state.accumulators.equals(expected_state.accumulators)


class _Writer:
    def __init__(self) -> None:
        self.frames: list[pl.DataFrame] = []

    def write(self, frame: pl.DataFrame) -> None:
        self.frames.append(frame)

    def close(self) -> None:
        pass


def _rated(i: int) -> pl.DataFrame:
    return pl.DataFrame({"status": ["rated"], "refused_volume": [Decimal(0)], "rated_by": ["bulk"],
                         "reason_code": pl.Series([None], dtype=pl.Utf8), "currency": ["EUR"],
                         "amount": [Decimal(i)], "id": [f"r{i}"]})


def test_the_writer_takes_one_chunk_at_a_time_and_keeps_the_states_in_order() -> None:
    writer = _Writer()
    background = _BackgroundWriter(writer, RatingSummary())  # type: ignore[arg-type]
    release = threading.Event()
    finishing: list[int] = []

    def finish(i: int) -> Any:
        def run() -> tuple[pl.DataFrame, BulkState]:
            finishing.append(i)
            release.wait(5)
            return _rated(i), BulkState(pl.DataFrame({"id": [f"b{i}"]}), pl.DataFrame())
        return run

    background.put(finish(0))  # returns once the writer's thread has taken it
    putting = threading.Thread(target=background.put, args=(finish(1),))
    putting.start()
    putting.join(0.3)
    # the second chunk waits while the first is being finished: two chunks held, no more
    assert putting.is_alive() and finishing == [0]
    release.set()
    putting.join(5)
    background.put(finish(2))
    background.close()
    assert [f["id"][0] for f in writer.frames] == ["r0", "r1", "r2"]
    assert [s.buckets["id"][0] for s in background.states] == ["b0", "b1", "b2"]


def test_a_failure_while_finishing_reaches_the_caller() -> None:
    background = _BackgroundWriter(_Writer(), RatingSummary())  # type: ignore[arg-type]

    def broken() -> tuple[pl.DataFrame, BulkState]:
        raise ValueError("the chunk could not be assembled")

    background.put(broken)
    with pytest.raises(ValueError, match="could not be assembled"):
        background.close()


def test_the_state_is_read_beside_the_partitioning_and_its_error_comes_first() -> None:
    from bssrules.pricing.bulk_io import _beside

    both_running = threading.Barrier(2, timeout=5)

    def read() -> str:
        both_running.wait()  # returns only when the work runs at the same time
        return "state"

    def work() -> str:
        both_running.wait()
        return "first partition"

    assert _beside(read, work) == ("state", "first partition")

    def broken_read() -> str:
        raise ValueError("the subscribers file is broken")

    def broken_work() -> str:
        raise OSError("the usage file is broken")

    with pytest.raises(ValueError, match="subscribers file"):  # as when the subscribers were read first
        _beside(broken_read, broken_work)
    with pytest.raises(OSError, match="usage file"):
        _beside(read=lambda: "state", work=broken_work)
