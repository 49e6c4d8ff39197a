"""The usage API's edges a partner's review found (D2, D3, D9 and nits), on both tiers:
instants the calendar cannot hold in a rule set's zone are rejected (never a 5xx), a plain
date of aggregatedUsage means midnight in the zone of the rule sets that count the asked
products (refused when those zones differ), a date-time without its offset is refused, the
usage list filters on id, a label shows a number as written, and /accumulator refuses a
parameter it does not honour."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork
from tests.api.session_app import AppFor
from tests.api.test_tmf635_usage import (
    ACCUMULATOR, AGGREGATED, INVENTORY, ROOT, USAGE, _app_client, _ok, _party, _roaming, _usage,
)

# an unrelated usage rule set (it rates only 'net'), first by id, with an accumulator, in ``zone``
_NET = """
  - id: aa-net
    kind: usage
    timeZone: {zone}
    accumulators:
      - id: net-volume
        measure: volume
        period: month
        when: {{usage.service: net}}
    rules:
      - id: net
        when: {{usage.service: net}}
        rate: {{amount: 0.01, currency: EUR, per: MB}}
"""


def _project(tmp_path: Path, zone: str) -> Path:
    """The roaming example in Paris time, plus the rule set 'aa-net' in ``zone``."""
    folder = tmp_path / "roaming-zones"
    shutil.copytree(ROOT / "examples" / "roaming", folder)
    rules = folder / "rules" / "usage.yaml"
    text = rules.read_text().replace("    kind: usage\n", "    kind: usage\n    timeZone: Europe/Paris\n", 1)
    rules.write_text(text.replace("ruleSets:\n", "ruleSets:" + _NET.format(zone=zone), 1))
    return folder


def _client(engine: Any, app_for: AppFor, tmp_path: Path, zone: str) -> Iterator[Any]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(_project(tmp_path, zone)), "roaming")
    with _app_client(app_for, engine) as client:
        _party(client, "individual", "ana", "ba-ana")
        _ok(client.post(INVENTORY, json={
            "id": "line-1", "status": "active", "startDate": "2026-06-01T00:00:00Z",
            "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
            "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]}))
        yield client


@pytest.fixture
def west(engine: Any, app_for: AppFor, tmp_path: Path) -> Iterator[Any]:
    """line-1 rated in Paris time; 'aa-net' in New York time (west of UTC)."""
    yield from _client(engine, app_for, tmp_path, "America/New_York")


@pytest.fixture
def east(engine: Any, app_for: AppFor, tmp_path: Path) -> Iterator[Any]:
    """line-1 rated in Paris time; 'aa-net' in Tokyo time."""
    yield from _client(engine, app_for, tmp_path, "Asia/Tokyo")


# ----------------------------------------------------------------------------- D3: out-of-range instants


def test_a_usage_at_the_start_of_the_calendar_is_rejected_where_a_rule_set_zone_cannot_hold_it(west: Any) -> None:
    """0001-01-01T00:00Z is still year 0 in New York: the rule set cannot count it (was a 500)."""
    usage = _ok(west.post(USAGE, json=_usage("y1", date="0001-01-01T00:00:00Z")))
    assert usage["status"] == "rejected"
    assert usage["rejectionReason"] == [{"code": "malformed", "label": (
        "usageDate '0001-01-01T00:00:00Z' falls outside the calendar (years 1 to 9999) in the time zone of "
        "rule set 'aa-net' (America/New_York)")}]
    # in a batch, the others still rate
    both = _ok(west.post(USAGE, json=[_usage("y1b", date="0001-01-01T00:00:00Z"), _usage("ok")]))
    assert [u["status"] for u in both] == ["rejected", "rated"]


@pytest.mark.parametrize("date", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-12:00"])
def test_a_usage_date_with_a_zone_but_outside_the_calendar_says_so(west: Any, date: str) -> None:
    usage = _ok(west.post(USAGE, json=_usage("edge", date=date)))
    assert usage["rejectionReason"] == [{"code": "malformed", "label": (
        f"usageDate '{date}' falls outside the calendar (years 1 to 9999) in UTC")}]


@pytest.mark.parametrize("name", ["start", "end"])
def test_a_plain_date_whose_midnight_is_outside_the_calendar_is_a_400(east: Any, name: str) -> None:
    _ok(east.post(USAGE, json=_roaming("r-1", 100)))  # line-1's totals: counted in Paris time
    response = east.get(AGGREGATED, params={"product": "line-1", name: "0001-01-01"})
    assert response.status_code == 400, response.text
    assert response.json()["message"] == (
        f"{name}: midnight of '0001-01-01' in Europe/Paris falls outside the calendar (years 1 to 9999) in UTC")


# ----------------------------------------------------------------------------- D2: the zone of a plain date


def test_a_plain_date_means_midnight_where_the_products_accumulators_count(west: Any) -> None:
    """2026-06-30T23:30Z is July in Paris (line-1's roaming budget), June in New York ('aa-net',
    first by id, which rates nothing of line-1's): the aggregate asked for July counts it."""
    _ok(west.post(USAGE, json=_roaming("late-june-utc", 100, date="2026-06-30T23:30:00Z")))
    periods = [a["period"] for a in _ok(west.get(ACCUMULATOR, params={"product": "line-1"}), 200)]
    assert periods == ["2026-07"]
    july = _ok(west.get(AGGREGATED, params={"product": "line-1", "start": "2026-07-01", "end": "2026-08-01"}), 200)
    assert july["period"]["timeZone"] == "Europe/Paris"
    assert [(t["value"], t["count"]) for t in july["total"]] == [(5, 1)]
    by_account = _ok(west.get(AGGREGATED, params={"billingAccount": "ba-ana", "start": "2026-07-01"}), 200)
    assert by_account["period"]["timeZone"] == "Europe/Paris"


def test_products_counted_in_different_zones_need_date_times(west: Any) -> None:
    _ok(west.post(USAGE, json=[_roaming("r-1", 100), _usage("n-1", service="net", volume=10, unit="MB")]))
    response = west.get(AGGREGATED, params={"product": "line-1", "start": "2026-06-01"})
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert "different time zones (America/New_York, Europe/Paris)" in message and "T00:00:00Z" in message
    assert _ok(west.get(AGGREGATED, params={"product": "line-1", "start": "2026-06-01T00:00:00Z"}), 200)["total"]


def test_a_date_time_without_its_offset_is_a_400(west: Any) -> None:
    response = west.get(AGGREGATED, params={"product": "line-1", "start": "2026-06-01T00:00:00"})
    assert response.status_code == 400, response.text
    assert "2026-06-01T00:00:00" in response.json()["message"]


# ----------------------------------------------------------------------------- D9 and nits


def test_the_usage_list_filters_on_id(west: Any) -> None:
    _ok(west.post(USAGE, json=[_usage("Ar1"), _usage("Ar2"), _usage("Ar3")]))
    assert [u["id"] for u in _ok(west.get(USAGE, params={"id": "Ar2"}), 200)] == ["Ar2"]
    assert sorted(u["id"] for u in _ok(west.get(USAGE, params={"id": "Ar1,Ar3"}), 200)) == ["Ar1", "Ar3"]
    assert _ok(west.get(USAGE, params={"id": "nope"}), 200) == []


def test_a_volume_label_shows_the_number_as_written(west: Any) -> None:
    body = ('{"id": "tiny", "usageDate": "2026-06-03T10:00:00Z", "usageType": "data", "usageCharacteristic": ['
            '{"name": "productId", "value": "line-1"}, {"name": "service", "value": "data"}, '
            '{"name": "volume", "value": 1E-13}]}')
    usage = _ok(west.post(USAGE, content=body, headers={"content-type": "application/json"}))
    [reason] = usage["rejectionReason"]
    assert "Decimal" not in reason["label"] and reason["label"].startswith("volume 1")
    assert reason["label"].endswith("has more than 12 decimals")


def test_the_accumulator_honours_fields_and_refuses_a_parameter_it_does_not_read(west: Any) -> None:
    _ok(west.post(USAGE, json=_roaming("r-1", 100)))
    hooks, west.event_hooks["response"] = west.event_hooks["response"], []  # (a selection lacks required attributes)
    try:
        selected = _ok(west.get(ACCUMULATOR, params={"product": "line-1", "fields": "amount"}), 200)
    finally:
        west.event_hooks["response"] = hooks
    assert selected == [{"id": "mobile-usage/roaming-budget|line-1|2026-06", "amount": 5}]
    wrong = west.get(ACCUMULATOR, params={"product": "line-1", "fields": "amont"})
    assert wrong.status_code == 400 and "amont" in wrong.json()["message"]
    response = west.get(ACCUMULATOR, params={"product": "line-1", "period": "2026-06"})
    assert response.status_code == 400
    assert response.json()["message"] == "unknown query parameter 'period'; use product, fields, offset, limit"
    assert len(_ok(west.get(ACCUMULATOR, params={"product": "line-1", "limit": 5}), 200)) == 1
