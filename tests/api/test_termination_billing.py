"""The month a product ends is pro-rated like the month it starts, over HTTP on both tiers:
a product terminated by a TMF622 order (item ``action: delete``) in the middle of a month
pays its recurring price for the part of the month up to its ``terminationDate``, to the
second, rounded half-up to the cent — the rule of the first month — and a product started
and ended in the same month pays only for the time between; the bill line says so in its
``periodCoverage`` and ``share``. A product made ``terminated`` without a date is dated when
it is (it was billed in full every month after its end before), and one kept terminated
without a date is billed up to its last change.

The example is examples/allowances: 12.00 EUR a month including 3 GB."""
from __future__ import annotations

import calendar
import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bssrules.catalog.types import parse_instant

ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
INVENTORY = "/tmf-api/productInventory/v4/product"
BILLS = "/tmf-api/customerBillManagement/v4"
MERGE = {"content-type": "application/merge-patch+json"}
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
UTC = dt.timezone.utc


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
def http(allowances_client: TestClient) -> TestClient:
    """The allowances example, Ana and ba-ana (tests/api/conftest.py)."""
    return allowances_client


def _complete(http: TestClient, body: dict[str, Any]) -> Any:
    order = _ok(http.post(ORDER, json={"relatedParty": CUSTOMER, **body}))
    for state in ("inProgress", "completed"):
        _ok(http.patch(f"{ORDER}/{order['id']}", json={"state": state}, headers=MERGE), 200)
    return order


def _line(http: TestClient, start: str) -> str:
    """The plan ordered for Ana to start at ``start``: its product's id."""
    order = _complete(http, {"requestedStartDate": start, "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "plan-3gb"}}]})
    [product] = [p for p in _ok(http.get(INVENTORY), 200) if p["productOrderItem"][0]["productOrderId"] == order["id"]]
    return str(product["id"])


def _terminate_by_order(http: TestClient, product: str, at: str) -> None:
    _complete(http, {"requestedStartDate": at, "productOrderItem": [
        {"id": "1", "action": "delete", "product": {"id": product}}]})


def _run(http: TestClient, period: str) -> Any:
    return _ok(http.post(f"{BILLS}/billRun", json={"period": period}))["billsMade"]


def _fees(http: TestClient, bill: str) -> list[tuple[str, Decimal, str, str, Decimal]]:
    """The bill's recurring lines: (product, amount, coverage start, coverage end, share)."""
    rates = _ok(http.get(f"{BILLS}/appliedCustomerBillingRate",
                         params={"bill.id": bill, "appliedBillingRateType": "recurringCharge"}), 200)
    return [(r["product"]["id"], r["taxIncludedAmount"]["value"], r["periodCoverage"]["startDateTime"],
             r["periodCoverage"]["endDateTime"], {c["name"]: c["value"] for c in r["characteristic"]}["share"])
            for r in rates]


def _by_hand(monthly: str, start: dt.datetime, end: dt.datetime) -> Decimal:
    """``monthly`` for [start, end) of the calendar month of ``start``, to the second, half-up to the cent."""
    days = calendar.monthrange(start.year, start.month)[1]
    share = Decimal(int((end - start).total_seconds())) / Decimal(days * 86400)
    return (Decimal(monthly) * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _month(at: dt.datetime, months: int = 0) -> dt.datetime:
    index = at.year * 12 + at.month - 1 + months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def test_a_product_terminated_by_order_mid_month_pays_that_month_up_to_its_termination(http: TestClient) -> None:
    line = _line(http, "2026-06-01T00:00:00Z")
    _terminate_by_order(http, line, "2026-07-16T00:00:00Z")
    assert _run(http, "2026-07") == ["ba-ana-2026-07-EUR"]
    expected = _by_hand("12.00", dt.datetime(2026, 7, 1, tzinfo=UTC), dt.datetime(2026, 7, 16, tzinfo=UTC))
    assert expected == Decimal("5.81")  # 12.00 x 15 / 31 = 5.806.. -> 5.81
    assert _fees(http, "ba-ana-2026-07-EUR") == [
        (line, expected, "2026-07-01T00:00:00Z", "2026-07-16T00:00:00Z", Decimal("0.483871"))]
    assert _run(http, "2026-08") == []  # nothing after the end


def test_a_product_started_and_terminated_in_the_same_month_pays_only_the_time_between(http: TestClient) -> None:
    line = _line(http, "2026-08-10T06:00:00Z")
    _terminate_by_order(http, line, "2026-08-20T18:00:00Z")
    assert _run(http, "2026-08") == ["ba-ana-2026-08-EUR"]
    expected = _by_hand("12.00", dt.datetime(2026, 8, 10, 6, tzinfo=UTC), dt.datetime(2026, 8, 20, 18, tzinfo=UTC))
    assert expected == Decimal("4.06")  # 12.00 x 10.5 / 31 = 4.0645.. -> 4.06
    assert _fees(http, "ba-ana-2026-08-EUR") == [
        (line, expected, "2026-08-10T06:00:00Z", "2026-08-20T18:00:00Z", Decimal("0.338710"))]
    bill = _ok(http.get(f"{BILLS}/customerBill/ba-ana-2026-08-EUR"), 200)
    assert bill["amountDue"] == {"unit": "EUR", "value": Decimal("4.06")}


def test_a_product_made_terminated_without_a_date_is_dated_then_and_billed_up_to_it(http: TestClient) -> None:
    line = _line(http, "2026-01-01T00:00:00Z")
    before = dt.datetime.now(UTC).replace(microsecond=0)
    terminated = _ok(http.patch(f"{INVENTORY}/{line}", json={"status": "terminated"}, headers=MERGE), 200)
    at = parse_instant(terminated["terminationDate"])
    assert isinstance(at, dt.datetime) and before <= at <= dt.datetime.now(UTC)
    this_month, next_month = _month(at), _month(at, 1)
    assert _run(http, this_month.strftime("%Y-%m")) == [f"ba-ana-{this_month:%Y-%m}-EUR"]
    [(product, amount, start, end, _)] = _fees(http, f"ba-ana-{this_month:%Y-%m}-EUR")
    assert (product, amount, start, end) == (line, _by_hand("12.00", this_month, at),
                                             f"{this_month:%Y-%m-%dT%H:%M:%SZ}", terminated["terminationDate"])
    assert _run(http, next_month.strftime("%Y-%m")) == []  # before: 12.00 every month after the end


def test_a_product_kept_terminated_without_a_date_is_billed_up_to_its_last_change(http: TestClient) -> None:
    """A product stored terminated and undated (as before terminations were dated, or a
    migration) is not billed for the months after it was last changed."""
    _ok(http.post(INVENTORY, json={
        "id": "old-line", "status": "terminated", "startDate": "2026-01-01T00:00:00Z",
        "productOffering": {"id": "plan-3gb"}, "billingAccount": {"id": "ba-ana"},
        "relatedParty": [{"id": "ana", "role": "owner", "@referredType": "Individual"}],
        "productPrice": [{"name": "data-3gb-monthly", "priceType": "recurring", "recurringChargePeriod": "month",
                          "price": {"taxIncludedAmount": {"unit": "EUR", "value": 12.00}}}]}))
    assert "terminationDate" not in _ok(http.get(f"{INVENTORY}/old-line"), 200)
    now = dt.datetime.now(UTC)
    assert _run(http, _month(now, 1).strftime("%Y-%m")) == []  # before: a bill of 12.00
    assert _run(http, "2026-02") == ["ba-ana-2026-02-EUR"]
    assert [f[1] for f in _fees(http, "ba-ana-2026-02-EUR")] == [Decimal("12.00")]
