"""Bulk rating leaves some subscribers to the reference (:meth:`_Chunk._reference`). When the
state the reference gives back for one of them cannot be written as bulk state (it raised in
``BulkState.from_rating_state``: a review found 14-decimal bucket debits), that subscriber's
records are rejected ``ratingError`` and the others' are rated, as docs/pricing.md says. The
rated frame was made before the state and kept even when the state failed, so the
subscriber's rows came out twice and the whole chunk failed (a polars ShapeError): in
``bssrules rate``, nothing of the file was written."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bssrules.pricing import bulk
from bssrules.pricing.bulk import rate_chunk
from bssrules.pricing.bulk_frames import BulkState, rated_usages, records_frame, subscribers_frame
from bssrules.pricing.usage import Bucket, RatingState, Subscriber, UsageRecord
from bssrules.rules.project import load_project

RULES = """\
ruleSets:
  - id: calls
    kind: usage
    rules:
      - id: voice
        when: {usage.service: voice}
        rate: {amount: 0.6, currency: EUR, per: minute}
"""
START = dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone.utc)
RECORDS = [UsageRecord("a1", "paul", "voice", START, Decimal(2), "min"),
           UsageRecord("a2", "paul", "voice", START + dt.timedelta(minutes=5), Decimal(1), "min"),
           UsageRecord("b1", "anna", "voice", START, Decimal(2), "min")]
SUBSCRIBERS = {s: Subscriber(s, payers={"payer": f"ba-{s}"}) for s in ("paul", "anna")}


def test_a_state_the_reference_cannot_hand_back_rejects_that_subscriber_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    book = load_project(tmp_path).rules
    minutes = BulkState.from_rating_state(RatingState({"m": Bucket("m", "paul", "minute", Decimal(10))}))
    scan = bulk._Chunk._scan

    def everyone_to_the_reference(self: Any) -> None:
        scan(self)
        self.fallback[:] = True

    made = BulkState.from_rating_state

    def refuse_paul(state: Any) -> BulkState:
        if any(b.subscriber == "paul" for b in state.buckets.values()):
            raise ValueError("has more than 12 decimals: bulk rating keeps 12")
        return made(state)

    monkeypatch.setattr(bulk._Chunk, "_scan", everyone_to_the_reference)
    monkeypatch.setattr(bulk.BulkState, "from_rating_state", staticmethod(refuse_paul))
    frame, state = rate_chunk(records_frame(RECORDS), subscribers_frame(SUBSCRIBERS), book, minutes)
    outcomes = {r.record.id: (r.status, r.reasons[0]["code"] if r.reasons else None, r.amount)
                for r in rated_usages(frame)}
    assert frame.height == 3
    assert outcomes == {"a1": ("rejected", "ratingError", Decimal(0)), "a2": ("rejected", "ratingError", Decimal(0)),
                        "b1": ("rated", None, Decimal("1.2"))}
    assert (frame["rated_by"] == "reference").all()
    # paul's state goes through as it came in (nothing of his was rated), anna has none
    assert state.buckets.select("subscriber", "id").rows() == [("paul", "m")]
