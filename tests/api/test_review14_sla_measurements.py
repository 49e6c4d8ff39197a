"""Review 14, an assurance manager trying SLA measurements (TMF623 style): a body the API
cannot read as one measurement is refused, and an SLA binds only while it is valid.

* A misspelt field was ignored: ``observed_at`` measured the value as now (a breach of last
  month counted in this month's report and penalties), ``windw`` measured it for every window.
  A misspelt field is refused (400), with the field meant; an attribute of its own (which the
  schema allows) is still kept out of the way.
* ``sla`` given as a text, a list or an object without an id answered 404 "no SLA with id
  'None'"; it is a 400 that says the shape expected.
* An ``observedAt`` of ``""``, ``0``, ``false``, ``[]`` or ``{}`` was read as now; a week date
  or a basic date-time (which every other TMF body refuses) was measured. Refused.
* A value observed ahead of now (beyond 5 minutes of clock skew) was measured, its breaches
  counted in a month not yet reported or settled; refused.
* A value observed outside the SLA's ``validFor`` raised violations and tickets for an SLA
  that did not bind then; it is refused, and the bounds are read as every validFor's (from the
  start, up to but not including the end; a date is its midnight UTC).

Each refusal leaves no violation and no ticket.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from tests.api.session_app import keyed_app_on_engine  # noqa: F401  (the world's fixture)
from tests.api.test_sla import MEASURE, PARTIES, SLA, TICKET, VIOLATION, World, world  # noqa: F401

BREACH = {"sla": {"id": "cc-sla"}, "metric": "availability", "window": "month", "value": 97.9}


def _nothing_measured(world: World) -> None:
    assert world.ok("GET", VIOLATION, "admin") == []
    assert world.ok("GET", TICKET, "admin") == []


@pytest.mark.parametrize("field, message", [
    ("observed_at", "unsupported field 'observed_at' for a measurement (its fields: sla, metric, value, window, "
                    "observedAt, service, @type) (did you mean 'observedAt'?)"),
    ("windw", "unsupported field 'windw' for a measurement (its fields: sla, metric, value, window, observedAt, "
              "service, @type) (did you mean 'window'?)"),
    ("Value", "unsupported field 'Value' for a measurement (its fields: sla, metric, value, window, observedAt, "
              "service, @type) (did you mean 'value'?)"),
    ("observed", "unsupported field 'observed' for a measurement (its fields: sla, metric, value, window, "
                 "observedAt, service, @type) (did you mean 'observedAt'?)"),
])
def test_a_misspelt_field_is_refused_not_ignored(world: World, field: str, message: str) -> None:
    body = {**BREACH, field: "2026-11-30T10:00:00Z"}
    assert world.error("POST", MEASURE, "csp", body) == (400, message)
    _nothing_measured(world)


@pytest.mark.parametrize("field", ["source", "probe", "unit", "zzUnknownAttribute"])
def test_an_attribute_of_its_own_is_kept_out_of_the_way(world: World, field: str) -> None:
    """The schema of a measurement allows other attributes: one that misspells no field is no mistake."""
    answer = world.ok("POST", MEASURE, "csp", {**BREACH, "observedAt": "2026-11-30T10:00:00Z", field: "x"})
    assert (answer["observedAt"], len(answer["violation"])) == ("2026-11-30T10:00:00Z", 2)


@pytest.mark.parametrize("sla, shown", [
    ("cc-sla", '"cc-sla"'),
    ({"name": "cc-sla"}, '{"name": "cc-sla"}'),
    ([{"id": "cc-sla"}], '[{"id": "cc-sla"}]'),
    ({"name": "x" * 80}, '{"name": "' + "x" * 49 + "…"),
])
def test_an_sla_of_another_shape_is_a_bad_request_that_says_the_shape(world: World, sla: Any, shown: str) -> None:
    assert world.error("POST", MEASURE, "csp", {**BREACH, "sla": sla}) == (
        400, f'sla is the measured SLA as {{"id": "<its id>"}}, not {shown}')
    _nothing_measured(world)


@pytest.mark.parametrize("observed", ["", 0, False, [], {}, "2026-W50-2", "20261215T120000Z", "2026-12-15T12"])
def test_an_observed_at_that_is_no_instant_is_refused_not_read_as_now(world: World, observed: Any) -> None:
    text = json.dumps(observed)
    quoted = repr(observed) if isinstance(observed, str) else text  # (the value received, as it was sent)
    assert world.error("POST", MEASURE, "csp", {**BREACH, "observedAt": observed}) == (
        400, f"observedAt {quoted} is not a date-time (e.g. 2026-06-01T10:00:00Z) or a date (2026-06-01)")
    _nothing_measured(world)


def _dated_sla(world: World, valid_for: dict[str, str]) -> None:
    world.ok("POST", SLA, "car-maker", {"id": "dated", "name": "Dated", "ruleSet": {"id": "call-center-sla"},
                                        "relatedParty": PARTIES, "validFor": valid_for})


@pytest.mark.parametrize("observed", ["2025-05-31T23:59:59Z", "2025-06-01T01:59:59+02:00", "2026-01-01T00:00:00Z",
                                      "2026-01-01", "2025-12-31T19:00:00-05:00"])
def test_a_value_observed_outside_the_slas_validity_is_refused(world: World, observed: str) -> None:
    _dated_sla(world, {"startDateTime": "2025-06-01", "endDateTime": "2026-01-01T00:00:00Z"})
    status, message = world.error("POST", MEASURE, "csp", {**BREACH, "sla": {"id": "dated"}, "observedAt": observed})
    assert status == 400
    assert message.endswith("is outside the SLA's validFor (2025-06-01 to 2026-01-01T00:00:00Z): the SLA does not "
                            "cover it"), message
    _nothing_measured(world)


@pytest.mark.parametrize("observed", ["2025-06-01T00:00:00Z", "2025-06-01T02:00:00+02:00", "2025-12-31T23:59:59Z",
                                      "2025-12-31T18:59:59-05:00"])
def test_a_value_observed_within_the_slas_validity_is_measured(world: World, observed: str) -> None:
    _dated_sla(world, {"startDateTime": "2025-06-01", "endDateTime": "2026-01-01T00:00:00Z"})
    answer = world.measure("csp", "availability", 97.9, observed, sla="dated")
    assert [v["rule"] for v in answer["violation"]] == ["availability-below-target", "availability-critical"]


def test_an_sla_open_at_one_end_binds_from_its_start_on(world: World) -> None:
    _dated_sla(world, {"startDateTime": "2025-06-01T00:00:00Z"})
    assert world.error("POST", MEASURE, "csp", {**BREACH, "sla": {"id": "dated"},
                                                "observedAt": "2025-05-31T23:59:59Z"})[0] == 400
    assert world.measure("csp", "availability", 97.9, "2026-06-15T00:00:00Z", sla="dated")["violation"]


def _in(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + delta).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("ahead", [dt.timedelta(days=1), dt.timedelta(minutes=6), dt.timedelta(days=400)])
def test_a_value_of_the_future_is_refused(world: World, ahead: dt.timedelta) -> None:
    """A day and a month swapped (2026-07-12 for 12 July read as 7 December's) or a zone
    forgotten: its violations counted in a month not yet reported or settled."""
    observed = _in(ahead)
    status, message = world.error("POST", MEASURE, "csp", {**BREACH, "observedAt": observed})
    assert status == 400
    assert message.startswith(f"observedAt {observed} is ahead of now (") and message.endswith(
        "): a value is posted once observed (a clock up to 5 minutes ahead is tolerated)"), message
    _nothing_measured(world)


def test_a_monitor_clock_a_little_ahead_is_tolerated(world: World) -> None:
    assert len(world.measure("csp", "availability", 97.9, _in(dt.timedelta(minutes=4)))["violation"]) == 2


# ----------------------------------------------------------------------------- a measurement posted again

SETTLEMENT = "/tmf-api/customerBillManagement/v4"


def test_a_measurement_posted_again_raises_nothing_twice(world: World) -> None:
    """A monitor's retry (its first POST timed out) answers what the first raised: no second
    violation, ticket, event, report count or penalty."""
    first = world.measure("csp", "availability", 97.9, "2026-06-30T23:59:59Z")
    assert len(first["violation"]) == 2
    again = world.measure("car-maker", "availability", "97.90", "2026-07-01T01:59:59+02:00")  # the same, spelt otherwise
    assert again["violation"] == first["violation"]
    assert (again["observedAt"], again["value"]) == ("2026-06-30T23:59:59Z", first["value"])
    assert sorted(v["id"] for v in world.ok("GET", VIOLATION, "admin")) == sorted(v["id"] for v in first["violation"])
    assert sorted(t["id"] for t in world.ok("GET", TICKET, "admin")) == sorted(
        v["troubleTicket"]["id"] for v in first["violation"])
    report = world.ok("GET", f"{SLA[:-4]}/slaReport", "csp", params={"sla": "cc-sla", "period": "2026-06"})
    assert report["violationCount"] == 2
    assert sorted(world.events()["car-maker-tmf623"]) == [("SlaViolationCreateEvent", "critical"),
                                                           ("SlaViolationCreateEvent", "major")]
    # the penalty of the settlement rules (100.00 EUR from the CSP to the car maker per availability violation)
    run = world.ok("POST", f"{SETTLEMENT}/settlementRun", "admin", {"period": "2026-06"})
    assert run["settlementNotesMade"] == ["settlement-csp-car-maker-2026-06-EUR"]
    note = world.ok("GET", f"{SETTLEMENT}/customerBill/settlement-csp-car-maker-2026-06-EUR", "admin")
    assert note["amountDue"] == {"unit": "EUR", "value": Decimal("200.00")}


def test_another_value_for_a_measurement_already_posted_is_a_conflict_that_changes_nothing(world: World) -> None:
    first = world.measure("csp", "availability", 99.9, "2026-06-30T12:00:00Z")
    assert first["violation"] == []
    assert world.error("POST", MEASURE, "csp", {**BREACH, "observedAt": "2026-06-30T12:00:00Z"}) == (
        409, "availability (window month) of SLA cc-sla was measured at 2026-06-30T12:00:00Z as 99.9, not 97.9: a "
             "measurement stands as first posted; post a value observed at another instant")
    _nothing_measured(world)


def test_a_conflicting_value_is_written_as_a_number(world: World) -> None:
    world.measure("csp", "connectivityTickets", "0.000000000001", "2026-06-30T12:00:00Z")
    assert world.error("POST", MEASURE, "csp", {**BREACH, "metric": "connectivityTickets", "value": "1e2",
                                                "observedAt": "2026-06-30T12:00:00Z"}) == (
        409, "connectivityTickets (window month) of SLA cc-sla was measured at 2026-06-30T12:00:00Z as "
             "0.000000000001, not 100: a measurement stands as first posted; post a value observed at another instant")


@pytest.mark.parametrize("other", [{"observedAt": "2026-06-30T12:00:01Z"}, {"window": None, "metric": "availability"},
                                   {"service": "ppv-movie"}])
def test_a_measurement_of_another_instant_window_or_service_is_another_measurement(world: World,
                                                                                   other: dict[str, Any]) -> None:
    world.measure("csp", "availability", 99.1, "2026-06-30T12:00:00Z")  # major
    body = {**BREACH, "value": 99.2, "observedAt": "2026-06-30T12:00:00Z", **other}
    answer = world.ok("POST", MEASURE, "csp", {k: v for k, v in body.items() if v is not None})
    assert [v["rule"] for v in answer["violation"]] == (["availability-below-target"] if "window" not in other else [])
    assert len(world.ok("GET", VIOLATION, "admin")) == 1 + len(answer["violation"])


# ----------------------------------------------------------------------------- who agrees an SLA


def test_a_partner_agrees_no_sla_it_is_no_party_to(world: World) -> None:
    """The content provider named the CSP provider and the car maker consumer: its measurements
    opened tickets for the CSP, and each violation cost the CSP a penalty paid to the car maker."""
    body = {"id": "forged", "name": "x", "ruleSet": {"id": "call-center-sla"}, "relatedParty": PARTIES}
    response = world.call("POST", SLA, "content-provider", body)
    assert (response.status_code, response.json()["code"], response.json()["message"]) == (
        403, "forbidden", "an SLA binds its parties only, and content-provider is none of them (provider csp; "
                          "consumer car-maker): name yourself provider or consumer, or let the operator agree it")
    assert [s["id"] for s in world.ok("GET", SLA, "admin")] == ["cc-sla"]
    # a party, or the operator, agrees it
    assert world.ok("POST", SLA, "csp", {**body, "id": "by-the-provider"})["state"] == "active"
    assert world.ok("POST", SLA, "admin", {**body, "id": "by-the-operator"})["state"] == "active"


def test_an_slas_description_is_a_text(world: World) -> None:
    body = {"id": "described", "name": "x", "ruleSet": {"id": "call-center-sla"}, "relatedParty": PARTIES}
    assert world.error("POST", SLA, "csp", {**body, "description": 5}) == (400, "description is a text")
    assert world.ok("POST", SLA, "csp", {**body, "description": "monthly availability"})["description"] == \
        "monthly availability"
