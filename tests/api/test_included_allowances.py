"""Included allowances end to end over HTTP, on both database tiers (issue 15, item 1):
"12 EUR per month including 3 GB, then 0.01 EUR/MB" (examples/allowances, the example of
docs/catalog-format.md). An order makes the line and its first month's allowance bucket;
its first usage of a later month makes that month's bucket (pro-rated in the month the line starts, the unused part rolled
over into the next month up to 1 GB); the bucket is a TMF654 bucket that says where it came
from and that queryUsageConsumption reports; the bill shows what was included, what was
used and what was charged beyond it."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
INVENTORY = "/tmf-api/productInventory/v4/product"
USAGE = "/tmf-api/usageManagement/v4/usage"
BUCKET = "/tmf-api/prepayBalanceManagement/v4/bucket"
CONSUMPTION = "/tmf-api/usageConsumption/v4/queryUsageConsumption"
BILLS = "/tmf-api/customerBillManagement/v4"
MERGE = {"content-type": "application/merge-patch+json"}


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
def http(allowances_client: TestClient) -> TestClient:
    """The allowances example, Ana and ba-ana (tests/api/conftest.py)."""
    return allowances_client


def _line(http: TestClient, start: str) -> str:
    """Order the plan for Ana, starting at ``start``; the line's product id."""
    order = _ok(http.post(ORDER, json={
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
        "requestedStartDate": start,
        "productOrderItem": [{"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "plan-3gb"}}]}))
    _ok(http.patch(f"{ORDER}/{order['id']}", json={"state": "inProgress"}, headers=MERGE), 200)
    _ok(http.patch(f"{ORDER}/{order['id']}", json={"state": "completed"}, headers=MERGE), 200)
    products = [p for p in _ok(http.get(INVENTORY), 200) if p["productOrderItem"][0]["productOrderId"] == order["id"]]
    assert len(products) == 1
    return str(products[0]["id"])


def _data(id: str, product: str, megabytes: int, date: str) -> dict[str, Any]:
    return {"id": id, "usageDate": date, "usageType": "data", "usageCharacteristic": [
        {"name": "productId", "value": product}, {"name": "service", "value": "data"},
        {"name": "volume", "value": megabytes}, {"name": "unit", "value": "MB"}]}


def _charged(usage: dict[str, Any]) -> Decimal:
    return sum((Decimal(str(r["taxIncludedRatingAmount"]["value"])) for r in usage["ratedProductUsage"]
                if "billingAccount" in r), Decimal(0))


def _allowance_buckets(http: TestClient, product: str) -> dict[str, dict[str, Any]]:
    found = _ok(http.get(BUCKET, params={"product.id": product}), 200)
    return {b["allowance"]["period"]: b for b in found if "allowance" in b}


def _bill_items(http: TestClient, bill: str) -> list[dict[str, Any]]:
    rates = _ok(http.get(f"{BILLS}/appliedCustomerBillingRate", params={"bill.id": bill}), 200)
    return [{"type": r["appliedBillingRateType"], "name": r["name"], "amount": r["taxIncludedAmount"]["value"],
             **{c["name"]: c["value"] for c in r.get("characteristic") or []}}
            for r in sorted(rates, key=lambda r: r["id"])]


def test_twelve_euros_a_month_including_3_gb_then_a_cent_per_mb(http: TestClient) -> None:
    line = _line(http, "2026-06-16T00:00:00Z")  # half of June: 1.5 GB included (proRate exact)
    made = _allowance_buckets(http, line)  # the first month's, made at the order's completion
    assert {p: b["remainingValue"] for p, b in made.items()} == {
        "2026-06": {"amount": Decimal("1.5"), "units": "GB"}}

    june = _ok(http.post(USAGE, json=_data("u-june", line, 1000, "2026-06-20T10:00:00Z")))
    assert june["status"] == "rated" and _charged(june) == Decimal("0.00")  # within the 1.5 GB
    buckets = _allowance_buckets(http, line)
    assert set(buckets) == {"2026-06"}
    bucket = buckets["2026-06"]
    assert bucket["id"] == f"allowance:{line}:data-3gb-monthly:included-data:2026-06"
    assert (bucket["usageType"], bucket["precedence"], bucket["remainingValue"]) == (
        "data", 10, {"amount": Decimal("0.5"), "units": "GB"})
    assert bucket["allowance"]["productOfferingPrice"]["id"] == "data-3gb-monthly"
    assert bucket["allowance"]["productOffering"]["id"] == "plan-3gb"
    assert bucket["allowance"]["included"] == {"amount": Decimal("1.5"), "units": "GB"}
    assert bucket["validFor"] == {"startDateTime": "2026-06-16T00:00:00Z", "endDateTime": "2026-07-01T00:00:00Z"}

    consumption = _ok(http.post(CONSUMPTION, json={"searchCriteria": {"product": [{"id": line}]}}))
    reported = {b["id"]: b for b in consumption["bucket"]}
    assert reported[bucket["id"]]["bucketCounter"] == [
        {"counterType": "used", "value": {"amount": Decimal("1"), "units": "GB"}}]

    # July: 3 GB and the 0.5 GB left in June (rollover up to 1 GB); 4000 MB uses 3.5 GB, 500 MB beyond
    july = _ok(http.post(USAGE, json=_data("u-july", line, 4000, "2026-07-05T10:00:00Z")))
    assert _charged(july) == Decimal("5.00")
    july_bucket = _allowance_buckets(http, line)["2026-07"]
    assert july_bucket["allowance"]["carriedOver"] == {"amount": Decimal("0.5"), "units": "GB"}
    assert july_bucket["remainingValue"]["amount"] == 0
    again = _ok(http.post(USAGE, json=_data("u-july-2", line, 100, "2026-07-06T10:00:00Z")))
    assert _charged(again) == Decimal("1.00")  # the bucket is used up: all of it beyond
    assert len(_allowance_buckets(http, line)) == 2  # made once per month

    for month in ("2026-06", "2026-07"):
        _ok(http.post(f"{BILLS}/billRun", json={"period": month}))
    june_bill = _bill_items(http, "ba-ana-2026-06-EUR")
    assert [i for i in june_bill if i["type"] == "includedAllowance"] == [{
        "type": "includedAllowance", "name": "Data included in the plan", "amount": Decimal("0.00"),
        "price": "data-3gb-monthly", "included": Decimal("1.5"), "carriedOver": Decimal(0), "used": Decimal(1),
        "unit": "GB", "usageTypes": "data", "chargedBeyond": Decimal(0)}]
    # the units as the server writes them: exact, without trailing zeros (1.5, not 1.500000)
    written = json.loads(http.get(f"{BILLS}/appliedCustomerBillingRate", params={"bill.id": "ba-ana-2026-06-EUR"}).text,
                         parse_float=str, parse_int=str)
    assert [tuple({c["name"]: c["value"] for c in r["characteristic"]}[k] for k in ("included", "carriedOver", "used"))
            for r in written if r["appliedBillingRateType"] == "includedAllowance"] == [("1.5", "0", "1")]
    assert [(i["type"], i["amount"]) for i in june_bill if i["type"] == "recurringCharge"] == [
        ("recurringCharge", Decimal("6.00"))]
    july_bill = _bill_items(http, "ba-ana-2026-07-EUR")
    assert [(i["type"], i["amount"]) for i in july_bill] == [
        ("recurringCharge", Decimal("12.00")), ("usageCharge", Decimal("6.00")), ("includedAllowance", Decimal("0.00"))]
    allowance = july_bill[-1]
    assert (allowance["included"], allowance["carriedOver"], allowance["used"], allowance["chargedBeyond"]) == (
        Decimal(3), Decimal("0.5"), Decimal("3.5"), Decimal("6.00"))

    # August: no usage; the bill run makes August's bucket (shown unused) and September
    # carries 1 GB of its 3 GB on (the limit)
    _ok(http.post(f"{BILLS}/billRun", json={"period": "2026-08"}))
    august = [i for i in _bill_items(http, "ba-ana-2026-08-EUR") if i["type"] == "includedAllowance"]
    assert [(i["included"], i["carriedOver"], i["used"], i["chargedBeyond"]) for i in august] == [
        (Decimal(3), Decimal(0), Decimal(0), Decimal("0.00"))]
    _ok(http.post(USAGE, json=_data("u-september", line, 10, "2026-09-01T08:00:00Z")))
    september = _allowance_buckets(http, line)["2026-09"]
    assert september["allowance"]["carriedOver"]["amount"] == Decimal(1)
    assert september["remainingValue"]["amount"] == Decimal("3.99")


def test_an_allowance_bucket_id_cannot_be_taken_by_hand_nor_the_bucket_deleted(http: TestClient) -> None:
    line = _line(http, "2026-06-01T00:00:00Z")
    refused = http.post(BUCKET, json={"id": f"allowance:{line}:data-3gb-monthly:included-data:2026-08",
                                      "product": [{"id": line}], "remainingValue": {"amount": 99, "units": "GB"}})
    assert refused.status_code == 400, refused.text
    assert set(_allowance_buckets(http, line)) == {"2026-06"}  # the one the order's completion made
    made = f"allowance:{line}:data-3gb-monthly:included-data:2026-06"
    kept = http.delete(f"{BUCKET}/{made}")  # deleted, the month's next usage would give its units again
    assert kept.status_code == 409, kept.text
    assert set(_allowance_buckets(http, line)) == {"2026-06"}


def test_a_batch_spanning_two_months_rates_as_the_usages_one_by_one(http: TestClient) -> None:
    """July's rollover is what June left once June's records of the batch are rated."""
    one, batch = _line(http, "2026-06-01T00:00:00Z"), _line(http, "2026-06-01T00:00:00Z")
    charged = [_charged(_ok(http.post(USAGE, json=_data(f"one-{n}", one, megabytes, date))))
               for n, (megabytes, date) in enumerate([(2600, "2026-06-30T23:00:00Z"), (3500, "2026-07-01T01:00:00Z")])]
    together = _ok(http.post(USAGE, json=[_data("batch-0", batch, 2600, "2026-06-30T23:00:00Z"),
                                          _data("batch-1", batch, 3500, "2026-07-01T01:00:00Z")]))
    assert charged == [Decimal("0.00"), Decimal("1.00")]  # July: 3 GB and June's 0.4 GB left; 100 MB beyond
    assert [_charged(u) for u in together] == charged
    for line in (one, batch):
        july = _allowance_buckets(http, line)["2026-07"]
        assert july["allowance"]["carriedOver"]["amount"] == Decimal("0.4")


def test_a_product_ended_before_a_month_gets_no_bucket_of_it(http: TestClient) -> None:
    line = _line(http, "2026-06-01T00:00:00Z")
    ended = http.patch(f"{INVENTORY}/{line}", json={"status": "terminated", "terminationDate": "2026-07-01T00:00:00Z"},
                       headers=MERGE)
    assert ended.status_code == 200, ended.text
    for month in ("2026-06", "2026-07"):
        _ok(http.post(f"{BILLS}/billRun", json={"period": month}))
    assert set(_allowance_buckets(http, line)) == {"2026-06"}
    late = _ok(http.post(USAGE, json=_data("u-after", line, 10, "2026-07-02T00:00:00Z")))
    assert late["status"] == "rejected"  # and makes no bucket either
    assert set(_allowance_buckets(http, line)) == {"2026-06"}


def test_a_rejected_usage_makes_no_bucket_and_the_month_carries_over_what_is_left_when_one_is_rated(
        http: TestClient) -> None:
    """A rejected usage takes nothing: the month's allowance bucket is made by its first usage
    rated. (Made by a rejected one, July froze June's 1 GB left as its rollover, and a late June
    usage then took 0.5 GB of that same gigabyte again.)"""
    line = _line(http, "2026-06-01T00:00:00Z")
    _ok(http.post(USAGE, json=_data("a1", line, 1000, "2026-06-10T10:00:00Z")))  # June: 3 → 2 GB
    wrong_unit = {**_data("bad", line, 5, "2026-07-02T10:00:00Z")}
    wrong_unit["usageCharacteristic"] = [c if c["name"] != "unit" else {"name": "unit", "value": "minute"}
                                         for c in wrong_unit["usageCharacteristic"]]
    assert _ok(http.post(USAGE, json=wrong_unit))["status"] == "rejected"
    voice = {"id": "call", "usageDate": "2026-07-02T11:00:00Z", "usageType": "voice", "usageCharacteristic": [
        {"name": "productId", "value": line}, {"name": "volume", "value": 3}, {"name": "unit", "value": "minute"}]}
    assert _ok(http.post(USAGE, json=voice))["status"] == "rejected"
    assert set(_allowance_buckets(http, line)) == {"2026-06"}  # no July bucket
    late = _ok(http.post(USAGE, json=_data("late", line, 1500, "2026-06-29T10:00:00Z")))
    assert _charged(late) == Decimal("0.00")  # June: 2 → 0.5 GB
    _ok(http.post(USAGE, json=_data("j1", line, 10, "2026-07-03T10:00:00Z")))
    july = _allowance_buckets(http, line)["2026-07"]
    assert july["allowance"]["carriedOver"] == {"amount": Decimal("0.5"), "units": "GB"}
    assert july["remainingValue"]["amount"] == Decimal("3.49")  # 3 + 0.5 − 0.01


def test_a_client_cannot_set_what_the_server_says_of_a_usage(http: TestClient) -> None:
    """``event``, ``rejectionReason`` and ``ratedBy`` are the server's: a client's are not
    stored, on a rated usage or a rejected one (status and ratedProductUsage were not either)."""
    line = _line(http, "2026-06-01T00:00:00Z")
    forged = {"event": [{"eventType": "thresholdReached", "accumulator": "x", "threshold": "stop", "action": "block",
                         "value": 99}], "rejectionReason": [{"code": "forged"}], "ratedBy": {"rule": "forged"}}
    rated = _ok(http.post(USAGE, json={**_data("f1", line, 10, "2026-06-10T10:00:00Z"), **forged}))
    assert rated["status"] == "rated" and "event" not in rated and "rejectionReason" not in rated
    assert rated["ratedBy"]["rule"] != "forged"
    rejected = _ok(http.post(USAGE, json={**_data("f2", "no-such-line", 10, "2026-06-10T10:00:00Z"), **forged}))
    assert rejected["status"] == "rejected" and "event" not in rejected and "ratedBy" not in rejected
    assert [r["code"] for r in rejected["rejectionReason"]] == ["unknownSubscriber"]
    for usage_id, shown in (("f1", rated), ("f2", rejected)):
        assert _ok(http.get(f"{USAGE}/{usage_id}"), 200) == shown
    assert _ok(http.get(USAGE, params={"rejectionReason.code": "forged"}), 200) == []
