"""A late usage of a time the party's plan was in force rates, though the plan has ended
since (TMF635 over HTTP, both database tiers). The roaming rules need an effective
``mobile-data-plan`` (prerequisite ``noDataPlan``); rating counted only the party's products
effective *now*, so mediation's last records of a terminated line — delivered after its
termination, as they routinely are — were all rejected and never billed."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

import pytest

from one_line_project import INVENTORY, ROOT, USAGE, ok, one_line

RULES = (ROOT / "examples" / "roaming" / "rules" / "usage.yaml").read_text(encoding="utf-8")
MERGE = {"content-type": "application/merge-patch+json"}


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    with one_line(engine, RULES, "late-usage") as client:
        yield client


def _sms(id: str, line: str, at: str) -> dict[str, Any]:
    return {"id": id, "usageDate": at, "usageType": "sms", "usageCharacteristic": [
        {"name": "productId", "value": line}, {"name": "service", "value": "sms"}]}


def _terminate(http: Any, product: str, at: str) -> None:
    ok(http.patch(f"{INVENTORY}/{product}", json={"status": "terminated", "terminationDate": at}, headers=MERGE), 200)


def test_the_last_records_of_a_terminated_line_rate(http: Any) -> None:
    _terminate(http, "line-1", "2026-06-30T12:00:00Z")
    late = ok(http.post(USAGE, json=_sms("late-1", "line-1", "2026-06-30T11:00:00Z")))
    assert late["status"] == "rated", late
    assert [r["taxIncludedRatingAmount"]["value"] for r in late["ratedProductUsage"]] == [Decimal("0.10")], late
    after = ok(http.post(USAGE, json=_sms("late-2", "line-1", "2026-06-30T12:00:01Z")))
    assert after["status"] == "rejected", after  # after its end: the subscription had ended


def test_a_plan_that_ended_counts_for_the_time_it_was_in_force(http: Any) -> None:
    # a second line of Ana's, suspended: its usage needs another effective plan of hers (line-1)
    ok(http.post(INVENTORY, json={
        "id": "line-2", "status": "suspended", "startDate": "2026-06-01T00:00:00Z",
        "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]}))
    _terminate(http, "line-1", "2026-06-20T00:00:00Z")
    in_force = ok(http.post(USAGE, json=_sms("u-1", "line-2", "2026-06-10T10:00:00Z")))
    assert in_force["status"] == "rated", in_force
    ended = ok(http.post(USAGE, json=_sms("u-2", "line-2", "2026-06-24T10:00:00Z")))
    assert ended["status"] == "rejected" and "noDataPlan" in str(ended), ended
