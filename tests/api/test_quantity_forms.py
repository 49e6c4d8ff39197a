"""Every volume and quantity the usage APIs write has one form — its exact value with no
trailing zeros and no exponent (``1000``, ``0.5``, ``0``) — and every amount of money the
scale of its currency (``12.50``): TMF635 usage (ratedVolume, bucket taken), TMF654 buckets
(remainingValue, initialValue), TMF677 consumption (the used counter), the aggregated usage
and the running totals, over HTTP on both database tiers. Before, a reviewer saw ``1000.0``,
``0.500000``, ``0.000000`` and ``0`` for the same kind of value in one session. The numbers
are checked as the text the server wrote (``1000`` and ``1000.0`` are equal as numbers)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project_texts
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
USAGE = "/tmf-api/usageManagement/v4"
BUCKET = "/tmf-api/prepayBalanceManagement/v4/bucket"
CONSUMPTION = "/tmf-api/usageConsumption/v4/queryUsageConsumption"
PARTY, ACCOUNT, INVENTORY = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4", "/tmf-api/productInventory/v4/product"

RULES = """
ruleSets:
  - id: by-the-mb
    kind: usage
    accumulators:
      - id: monthly-data
        measure: volume
        period: month
        when: {usage.service: data}
        thresholds: [{id: half-gb, at: 500, action: notify}]
      - id: monthly-spend
        period: month
        thresholds: [{id: five-euros, at: 5, action: notify}]
    rules:
      - id: data
        when: {usage.service: data}
        rate: {currency: EUR, per: MB, amount: 0.01}
"""


def _text(response: Any, status: int) -> Any:
    """The answer with every number as the text the server wrote."""
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=str, parse_int=str)


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    catalog = (ROOT / "examples" / "roaming" / "catalog" / "catalog.yaml").read_text(encoding="utf-8")
    project = load_project_texts({"catalog/catalog.yaml": catalog, "rules/rules.yaml": RULES})
    with UnitOfWork(engine) as uow:
        services.load_project(uow, project, "quantities")
    with TestClient(create_app(engine=engine)) as client:
        _text(client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "X"}), 201)
        _text(client.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-ana", "name": "ba-ana", "relatedParty": [
            {"id": "ana", "name": "ana", "role": "owner", "@referredType": "Individual"}]}), 201)
        _text(client.post(INVENTORY, json={
            "id": "line-1", "status": "active", "startDate": "2026-06-01T00:00:00Z",
            "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
            "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]}), 201)
        yield client


def _post(http: Any, path: str, text: str) -> Any:
    return http.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


def _usage(id: str, volume: str, unit: str) -> str:
    return ('{"id": "%s", "usageDate": "2026-06-03T09:00:00Z", "usageType": "data", "usageCharacteristic": ['
            '{"name": "productId", "value": "line-1"}, {"name": "volume", "value": %s}, '
            '{"name": "unit", "value": "%s"}]}') % (id, volume, unit)


def _buckets(http: Any) -> None:
    for text in ('{"id": "gb", "usageType": "data", "remainingValue": {"amount": 0.500, "units": "GB"}, '
                 '"product": [{"id": "line-1"}], "precedence": 1}',
                 '{"id": "cash", "usageType": "any", "remainingValue": {"amount": 12.5, "units": "EUR"}, '
                 '"product": [{"id": "line-1"}]}'):
        bucket = _text(_post(http, BUCKET, text), 201)
        assert bucket["remainingValue"]["amount"] == bucket["initialValue"]["amount"] == \
            {"gb": "0.5", "cash": "12.50"}[bucket["id"]]


def test_a_usage_writes_its_volumes_as_quantities_and_money_at_its_scale(http: Any) -> None:
    _buckets(http)
    # 1.5 GB: the GB bucket takes 0.5 GB, 1000 MB are rated (a conversion: 1.0 × 1000), the
    # 10.00 EUR they cost come from the money bucket
    usage = _text(_post(http, f"{USAGE}/usage", _usage("u1", "1.5", "GB")), 201)
    assert usage["status"] == "rated", usage
    assert usage["ratedBy"]["ratedVolume"] == "1000"
    assert usage["ratedBy"]["bucket"] == [{"id": "gb", "taken": "0.5"}, {"id": "cash", "taken": "10.00"}]
    assert usage["ratedBy"]["amount"] == {"unit": "EUR", "value": "10.00"}
    again = _text(http.get(f"{USAGE}/usage/u1"), 200)
    assert again["ratedBy"] == usage["ratedBy"]
    # a volume sent with trailing zeros is rated and written as its value
    padded = _text(_post(http, f"{USAGE}/usage", _usage("u2", "100.000000", "MB")), 201)
    assert padded["ratedBy"]["ratedVolume"] == "100"
    batch = _text(_post(http, f"{USAGE}/usage", f'[{_usage("u3", "2.50", "MB")}]'), 201)
    assert batch[0]["ratedBy"]["ratedVolume"] == "2.5"


def test_buckets_and_consumption_write_units_as_quantities_and_money_at_its_scale(http: Any) -> None:
    _buckets(http)
    _text(_post(http, f"{USAGE}/usage", _usage("u1", "1.5", "GB")), 201)
    shown = {b["id"]: b for b in _text(http.get(BUCKET), 200)}
    assert shown["gb"]["remainingValue"] == {"amount": "0", "units": "GB"}
    assert shown["gb"]["initialValue"] == {"amount": "0.5", "units": "GB"}
    assert shown["cash"]["remainingValue"] == {"amount": "2.50", "units": "EUR"}
    assert _text(http.get(f"{BUCKET}/cash"), 200)["remainingValue"]["amount"] == "2.50"
    report = _text(http.post(CONSUMPTION, json={"searchCriteria": {"product": [{"id": "line-1"}]}}), 201)
    used = {b["id"]: b["bucketCounter"][0]["value"]["amount"] for b in report["bucket"]}
    assert used == {"gb": "0.5", "cash": "10.00"}
    assert {b["id"]: b["remainingValue"]["amount"] for b in report["usageConsumption"][0]["bucketRefOrValue"]} == \
        {"gb": "0", "cash": "2.50"}


def test_the_aggregated_usage_and_the_running_totals_write_volumes_as_quantities(http: Any) -> None:
    _text(_post(http, f"{USAGE}/usage", _usage("u1", "0.25", "GB")), 201)
    _text(_post(http, f"{USAGE}/usage", _usage("u2", "100.000000", "MB")), 201)
    total = _text(http.get(f"{USAGE}/aggregatedUsage", params={"product": "line-1"}), 200)["total"]
    assert [(t["unit"], t["value"], t["volume"]) for t in total] == \
        [("EUR", "3.50", [{"unit": "GB", "value": "0.25"}, {"unit": "MB", "value": "100"}])]
    totals = _text(http.get(f"{USAGE}/accumulator", params={"product": "line-1"}), 200)
    assert {t["accumulator"]: t["volume"] for t in totals} == {"by-the-mb/monthly-data": "350",
                                                                "by-the-mb/monthly-spend": "350"}


def test_an_event_writes_a_volume_total_as_a_quantity_and_an_amount_as_money(http: Any) -> None:
    # 0.5 GB are counted as 500 MB (a conversion: 0.5 x 1000 = 500.0) and cost 5.00 EUR
    usage = _text(_post(http, f"{USAGE}/usage", _usage("u1", "0.5", "GB")), 201)
    assert {e["threshold"]: e["value"] for e in usage["event"]} == {"half-gb": "500", "five-euros": "5.00"}
    assert _text(http.get(f"{USAGE}/usage/u1"), 200)["event"] == usage["event"]
