"""A terminated product put back in force (``status`` ``active``) kept the ``terminationDate``
of the termination undone, so bills stopped counting it at that date while it was in force
again (a commitments review). The date goes with the termination; a change that gives a date
(an end planned) keeps it."""
from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from tests.api.test_review15_commitments_termination_changes import (  # noqa: F401  (the http fixture)
    BILLS, INVENTORY, MERGE, _create, _patch, http,
)


def _recurring_lines(http: TestClient, period: str) -> list[Decimal]:
    run = http.post(f"{BILLS}/billRun", json={"period": period})
    assert run.status_code == 201, run.text
    rates = [r for bill in run.json()["billsMade"]
             for r in http.get(f"{BILLS}/appliedCustomerBillingRate", params={"bill.id": bill}).json()]
    return [Decimal(str(r["taxIncludedAmount"]["value"])) for r in rates
            if r["appliedBillingRateType"] == "recurringCharge"]


def test_a_product_put_back_in_force_is_billed_again(http: TestClient) -> None:
    _create(http, "p-1")
    _patch(http, "p-1", status="terminated", terminationDate="2026-07-01T00:00:00Z")
    assert _patch(http, "p-1", status="active") == []
    product = http.get(f"{INVENTORY}/p-1").json()
    assert (product["status"], "terminationDate" in product) == ("active", False)
    assert _recurring_lines(http, "2026-08") == [Decimal("30.00")]  # August in force: its fee


def test_a_planned_end_given_with_the_change_is_kept(http: TestClient) -> None:
    _create(http, "p-1")
    _patch(http, "p-1", status="terminated", terminationDate="2026-07-01T00:00:00Z")
    _patch(http, "p-1", status="active", terminationDate="2026-12-31T00:00:00Z")
    assert http.get(f"{INVENTORY}/p-1").json()["terminationDate"] == "2026-12-31T00:00:00Z"
