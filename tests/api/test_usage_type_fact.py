"""``usage.type`` online is the ``usageType`` the partner sent, always; ``usage.service`` is
the ``service`` characteristic, else the usageType (TMF635 over HTTP, both database tiers).
Before, a usage sent with a usageType and no service characteristic had no ``usage.type``:
a rule ``when: {usage.type: data}`` refused it (noApplicableRate) while the rule test
``given: {usage: {type: data}}`` passed."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

import pytest

from one_line_project import USAGE, ok, one_line


RULES = """
ruleSets:
  - id: by-type
    kind: usage
    rules:
      - id: infotainment-data
        when: {usage.type: data, usage.service: infotainment}
        rate: {currency: EUR, per: MB, amount: 0.02}
      - id: data
        when: {usage.type: data}
        rate: {currency: EUR, per: MB, amount: 0.01}
      - id: by-service
        when: {usage.service: sms}
        rate: {currency: EUR, per: message, amount: 0.10}
"""


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    with one_line(engine, RULES, "usage-type") as client:
        yield client


def _usage(id: str, usage_type: Any, service: str | None = None, volume: int = 100) -> dict[str, Any]:
    characteristics = [{"name": "productId", "value": "line-1"}, {"name": "volume", "value": volume},
                       {"name": "unit", "value": "MB"}]
    if service is not None:
        characteristics.append({"name": "service", "value": service})
    return {"id": id, "usageDate": "2026-06-03T09:00:00Z", "usageType": usage_type,
            "usageCharacteristic": characteristics}


def test_a_usage_type_without_a_service_characteristic_is_the_usage_type(http: Any) -> None:
    usage = ok(http.post(USAGE, json=_usage("u1", "data")))
    assert usage["status"] == "rated", usage
    assert usage["ratedBy"]["rule"] == "data"
    assert usage["ratedBy"]["amount"] == {"unit": "EUR", "value": Decimal("1.00")}


def test_the_usage_type_is_also_the_service_when_no_service_is_sent(http: Any) -> None:
    usage = ok(http.post(USAGE, json={**_usage("u2", "sms"), "usageCharacteristic": [
        {"name": "productId", "value": "line-1"}, {"name": "volume", "value": 3}]}))
    assert (usage["status"], usage["ratedBy"]["rule"]) == ("rated", "by-service"), usage


def test_a_service_characteristic_leaves_the_usage_type_as_sent(http: Any) -> None:
    usage = ok(http.post(USAGE, json=_usage("u3", "data", service="infotainment")))
    assert (usage["status"], usage["ratedBy"]["rule"]) == ("rated", "infotainment-data"), usage


def test_a_usage_type_that_is_not_text_is_refused_and_changes_nothing(http: Any) -> None:
    for body in (_usage("u4", 7, service="data"), [_usage("u4", 7, service="data")]):
        response = http.post(USAGE, json=body)
        assert response.status_code in (201, 400), response.text
        if response.status_code == 201:  # stored as rejected (malformed), never rated
            answer = ok(response)
            usage = answer[0] if isinstance(answer, list) else answer
            assert usage["status"] == "rejected" and "usageType" in usage["rejectionReason"][0]["message"]
        else:
            assert http.get(f"{USAGE}/u4").status_code == 404


def test_a_batch_rates_each_usage_by_its_type(http: Any) -> None:
    answer = ok(http.post(USAGE, json=[_usage("b1", "data"), _usage("b2", "data", service="infotainment")]))
    rated = {u["id"]: (u["status"], u.get("ratedBy", {}).get("rule")) for u in answer}
    assert rated == {"b1": ("rated", "data"), "b2": ("rated", "infotainment-data")}
