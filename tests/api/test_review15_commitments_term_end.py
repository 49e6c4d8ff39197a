"""A product terminated exactly as its term ends ends with that term (TMF637 PATCH, both
tiers; a CSP product manager's review of services.commitments). A product counts up to its
``terminationDate``, at which it is no longer active: terminated at the instant a term that
renews ends, it used nothing of the renewal. It was charged the whole renewal (360.00, or the
fixed 100.00) where one second sooner cost nothing, and was shown under that renewal."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_review15_commitments_termination_changes import (  # noqa: F401  (the http fixture)
    INVENTORY, MERGE, PRICE, http,
)

# 12 months from 1 January 2024, renewed: the first ends on 1 January 2025
RENEWED = {"name": "12 months", "duration": {"amount": 12, "units": "month"}, "atEnd": "renew",
           "earlyTermination": {"charge": "remainingRecurring"},
           "validFor": {"startDateTime": "2024-01-01T00:00:00Z", "endDateTime": "2025-01-01T00:00:00Z"}}
FIXED = dict(RENEWED, earlyTermination={"charge": "fixed", "amount": 100, "currency": "EUR"})


def _terminated(http: TestClient, term: dict[str, Any], at: str, start: str = "2024-01-01T00:00:00Z"
                ) -> dict[str, Any]:
    created = http.post(INVENTORY, json={
        "status": "active", "startDate": start, "productOffering": {"id": "fibre-12"},
        "productPrice": [PRICE], "productTerm": [term],
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text
    patched = http.patch(f"{INVENTORY}/{created.json()['id']}", json={"status": "terminated", "terminationDate": at},
                         headers=MERGE)
    assert patched.status_code == 200, patched.text
    return json.loads(patched.text, parse_float=Decimal)


def _charges(product: dict[str, Any]) -> list[Decimal]:
    return [p["price"]["taxIncludedAmount"]["value"] for p in product["productPrice"]
            if p.get("@type") == "EarlyTerminationCharge"]


@pytest.mark.parametrize("term", [RENEWED, FIXED], ids=["remainingRecurring", "fixed"])
def test_terminated_as_a_renewing_term_ends_nothing_is_charged_and_the_term_shown_is_the_one_ended(
        http: TestClient, term: dict[str, Any]) -> None:
    ended = _terminated(http, term, "2025-01-01T00:00:00Z")
    assert _charges(ended) == []
    assert ended["productTerm"][0]["validFor"] == RENEWED["validFor"]
    # a second sooner, under the first term: its last second (30 x 1 / 2 678 400 = 0.00), or the fixed 100
    assert _charges(_terminated(http, term, "2024-12-31T23:59:59Z")) == ([] if term is RENEWED else [Decimal(100)])


def test_a_second_into_the_renewal_the_renewal_is_charged(http: TestClient) -> None:
    # from 1 January 2025 00:00:01: 30 x 2 678 399 / 2 678 400 = 29.99998.. -> 30.00, then 11 x 30.00
    renewed = _terminated(http, RENEWED, "2025-01-01T00:00:01Z")
    assert _charges(renewed) == [Decimal("360.00")]
    assert renewed["productTerm"][0]["validFor"] == {"startDateTime": "2025-01-01T00:00:00Z",
                                                     "endDateTime": "2026-01-01T00:00:00Z"}
    assert _charges(_terminated(http, FIXED, "2025-01-01T00:00:01Z")) == [Decimal(100)]


def test_a_termination_near_the_end_of_the_calendar_is_charged_not_a_server_error(http: TestClient) -> None:
    # 1200 days, renewed from 1 January 2026: the renewal in force on 1 June 9999 ends on 19 November 9999
    # (the month after it, December 9999, ends beyond the calendar: asking for it was a 500).
    # Left: June to October, 5 x 30.00, then 18 of November's 30 days, 18.00
    days = dict(RENEWED, name="1200 days", duration={"amount": 1200, "units": "day"})
    days.pop("validFor")
    terminated = _terminated(http, days, "9999-06-01T00:00:00Z", "2026-01-01T00:00:00Z")
    assert _charges(terminated) == [Decimal("168.00")]
