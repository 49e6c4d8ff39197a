"""Tiers over the period's total, online (TMF635 usage over HTTP, both database tiers): each
usage is rated on arrival on top of the month's total the earlier ones left in the store, a
usage crossing the first GB of the month is split at it, a batch climbs the tiers in time
order, and a new month starts back at the first tier."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

import pytest

from one_line_project import USAGE, ok, one_line

ACCUMULATOR = "/tmf-api/usageManagement/v4/accumulator"

RULES = """
ruleSets:
  - id: data-by-the-month
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - {id: monthly-data, measure: volume, period: month, when: {usage.service: data}}
    rules:
      - id: data
        when: {usage.service: data}
        rate:
          currency: EUR
          per: MB
          tiersCount: {accumulator: monthly-data}
          tiers: [{upTo: 1000, amount: 0.02}, {amount: 0.01}]
"""


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    with one_line(engine, RULES, "period-tiers") as client:
        yield client


def _data(id: str, volume: Any, unit: str, date: str) -> dict[str, Any]:
    return {"id": id, "usageDate": date, "usageType": "data", "usageCharacteristic": [
        {"name": "productId", "value": "line-1"}, {"name": "service", "value": "data"},
        {"name": "volume", "value": volume}, {"name": "unit", "value": unit}]}


def _charge(usage: dict[str, Any]) -> Decimal:
    assert usage["status"] == "rated", usage
    value: Decimal = usage["ratedBy"]["amount"]["value"]
    return value


def test_each_usage_is_rated_on_top_of_the_months_total_in_the_store(http: Any) -> None:
    first = ok(http.post(USAGE, json=_data("d1", 600, "MB", "2026-06-03T09:00:00Z")))
    assert _charge(first) == Decimal("12.00")  # 600 MB at 0.02
    # given out of time order, a batch climbs the tiers in time order: d2 (300 MB at 0.02), then
    # d3 across the bound (100 MB at 0.02, 200 MB at 0.01); answered in the order given
    batch = ok(http.post(USAGE, json=[_data("d3", 0.3, "GB", "2026-06-20T07:00:00Z"),
                                       _data("d2", 300, "MB", "2026-06-12T18:00:00Z")]))
    assert [(u["id"], _charge(u)) for u in batch] == [("d3", Decimal("4.00")), ("d2", Decimal("6.00"))]
    # 00:30 on 1 July in Paris: a new month, the first tier again
    july = ok(http.post(USAGE, json=_data("d4", 100, "MB", "2026-06-30T22:30:00Z")))
    assert _charge(july) == Decimal("2.00")
    totals = {a["period"]: a["volume"] for a in ok(http.get(ACCUMULATOR, params={"product": "line-1"}), 200)}
    assert totals == {"2026-06": 1200, "2026-07": 100}
