"""Decisions of each rule set kind, their explanations, rule validity and the choice of
the rule set version in force."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from bssrules.errors import InvalidInput, NotFound
from bssrules.rules.compiled import CompileError, compile_rule_set
from bssrules.rules.decisions import decide, decide_many
from bssrules.rules.model import CompatibilityRuleSet, SplitBillingRuleSet
from bssrules.rules.testing import run_tests

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def decider(load_rules):  # type: ignore[no-untyped-def]
    """``decider(rules_text, catalog=None)``: ``decide(rule_set_id, facts, as_of=NOW)`` over the loaded rules."""

    def make(text: str, catalog: str | None = None):  # type: ignore[no-untyped-def]
        book = load_rules(text, catalog).rules

        def run(rule_set: str, facts: dict, as_of: dt.datetime = NOW):  # type: ignore[no-untyped-def]
            return decide(book.in_force(rule_set, as_of), facts, as_of)

        return run

    return make


# --- the examples --------------------------------------------------------------------------


@pytest.mark.parametrize("example, count", [("devices", 10), ("connected_car", 20), ("ppv", 11)])
def test_every_rule_test_of_the_examples_passes(example_project, example: str, count: int) -> None:
    results = run_tests(example_project(example).rules)
    assert [(r.test.name, r.problems) for r in results if not r.passed] == []
    assert len(results) == count


# --- eligibility ---------------------------------------------------------------------------


def test_eligibility_refuses_with_every_failed_reason_in_rule_order_and_the_alternate(example_project) -> None:
    book = example_project("connected_car").rules
    decision = decide(book.in_force("connected-car-eligibility", NOW),
                      {"party": {"type": "organization"}, "channel": {"id": "csp-shop"},
                       "offering": {"id": "infotainment-connectivity"}}, NOW)
    assert decision.outcome == {"qualified": False, "reasons": [
        {"rule": "infotainment-through-car-maker", "code": "wrongChannel",
         "label": "Infotainment connectivity is sold through the car manufacturer's portal"},
        {"rule": "infotainment-for-drivers", "code": "driversOnly",
         "label": "Infotainment connectivity is bought by drivers (individuals)"}]}
    assert decision.fired == ["infotainment-through-car-maker", "infotainment-for-drivers"]

    music = decide(book.in_force("connected-car-eligibility", NOW),
                   {"channel": {"id": "partner-shop"}, "offering": {"id": "music-5gb"}}, NOW)
    assert music.outcome["reasons"] == [{"rule": "converged-offer-channels", "code": "wrongChannel",
                                         "label": "The converged offer is sold by the CSP, the car manufacturer and "
                                                  "the content provider", "alternate": "data-5gb"}]


def test_an_eligibility_rule_applies_only_to_its_offerings_and_categories(decider) -> None:
    run = decider("""\
ruleSets:
  - id: offers
    kind: eligibility
    rules:
      - {id: adults, offerings: [wine-club], categories: [alcohol], when: {party.age: {gte: 18}},
         reason: {code: adultsOnly, label: Adults only}}
      - {id: everyone-is-a-customer, when: {party.isCustomer: true}, reason: {code: customersOnly, label: Customers}}
""")
    child = {"party": {"age": 12, "isCustomer": True}}
    assert run("offers", {**child, "offering": {"id": "wine-club"}}).outcome["qualified"] is False
    assert run("offers", {**child, "offering": {"id": "beer", "categories": ["food", "alcohol"]}}).fired == ["adults"]
    assert run("offers", {**child, "offering": {"id": "juice", "categories": ["food"]}}).outcome == {
        "qualified": True, "reasons": []}
    assert run("offers", {"party": {"age": 30}, "offering": {"id": "juice"}}).fired == ["everyone-is-a-customer"]


def test_an_eligibility_condition_on_an_absent_fact_does_not_hold(decider) -> None:
    run = decider("""\
ruleSets:
  - id: offers
    kind: eligibility
    rules:
      - {id: not-blocked, when: {not: {party.segment: blocked}}, reason: {code: blocked, label: Blocked}}
      - {id: known-age, when: {party.age: {gte: 0}}, reason: {code: noAge, label: Age unknown}}
""")
    assert run("offers", {}).fired == ["known-age"]
    assert run("offers", {"party": {"segment": "blocked", "age": 40}}).fired == ["not-blocked"]


# --- compatibility -------------------------------------------------------------------------


def test_exactly_one_takes_the_children_of_a_compound_specification_from_the_catalog(load_rules) -> None:
    book = load_rules("""\
ruleSets:
  - id: sims
    kind: compatibility
    rules:
      - {id: one-form-factor, type: exactlyOne, subject: {resourceSpecification: physical-sim-card}}
""").rules
    compiled = book.in_force("sims", NOW)

    def violations(*specs: str) -> list[str]:
        return decide(compiled, {"present": {"resourceSpecifications": list(specs)}}, NOW).fired

    assert violations("physical-sim-card") == ["one-form-factor"]
    assert violations("physical-sim-card", "sim-small") == []
    assert violations("physical-sim-card", "sim-large") == []
    assert violations("physical-sim-card", "sim-small", "sim-large") == ["one-form-factor"]
    assert violations("sim-small", "sim-large") == []  # no subject, no rule
    violation = decide(compiled, {"present": {"resourceSpecifications": ["physical-sim-card"]}}, NOW).outcome
    assert violation == {"valid": False, "violations": [{
        "rule": "one-form-factor", "type": "exactlyOne", "subject": "resourceSpecification physical-sim-card",
        "message": "resourceSpecification physical-sim-card needs exactly one of its children"}]}


def test_exactly_one_with_among_counts_only_the_listed_items(decider) -> None:
    run = decider("""\
ruleSets:
  - id: colours
    kind: compatibility
    rules:
      - {id: one-colour, type: exactlyOne, subject: {productOffering: phone}, among: [red, blue, green]}
""")

    def valid(*offerings: str) -> bool:
        return run("colours", {"present": {"productOfferings": list(offerings)}}).outcome["valid"]

    assert [valid("phone"), valid("phone", "red"), valid("phone", "red", "case"), valid("phone", "red", "blue"),
            valid("phone", "red", "blue", "green"), valid("red", "blue")] == [False, True, True, False, False, True]


def test_compatibility_of_required_forbidden_and_optional_rules_on_the_devices_example(example_project) -> None:
    compiled = example_project("devices").rules.in_force("sim-terminal-compatibility", NOW)
    decision = decide(compiled, {"present": {"resourceSpecifications": [
        "terminal-smartphone", "terminal-ipad-mini", "physical-sim-card", "sim-large"]}}, NOW)
    assert decision.outcome == {"valid": False, "violations": [
        {"rule": "smartphone-needs-small-sim", "type": "required",
         "subject": "resourceSpecification terminal-smartphone",
         "message": "resourceSpecification terminal-smartphone requires resourceSpecification sim-small",
         "target": "resourceSpecification sim-small"},
        {"rule": "smartphone-refuses-large-sim", "type": "forbidden",
         "subject": "resourceSpecification terminal-smartphone", "message": "A large SIM does not fit a smartphone.",
         "target": "resourceSpecification sim-large"},
        {"rule": "ipad-needs-small-sim", "type": "required", "subject": "resourceSpecification terminal-ipad-mini",
         "message": "resourceSpecification terminal-ipad-mini requires resourceSpecification sim-small",
         "target": "resourceSpecification sim-small"}]}
    assert "smartphone-with-ipad-is-fine" not in [r.key for r in compiled.rules]  # optional: never a violation


def test_a_compatibility_rule_with_a_condition_applies_only_when_it_holds(decider) -> None:
    run = decider("""\
ruleSets:
  - id: b2b
    kind: compatibility
    rules:
      - id: companies-need-support
        type: required
        when: {party.type: organization}
        subject: {productOffering: fleet}
        target: {productOffering: support}
""")
    basket = {"present": {"productOfferings": ["fleet"]}}
    assert run("b2b", {**basket, "party": {"type": "organization"}}).fired == ["companies-need-support"]
    assert run("b2b", {**basket, "party": {"type": "individual"}}).fired == []


# --- usage ---------------------------------------------------------------------------------


PPV_FACTS = {"inventory": {"activeOfferings": ["ppv-service"]}, "usage": {"service": "ppv-movie"}}


def test_usage_is_rated_by_the_first_rule_in_order_with_its_provisioning_id(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    night = decide(compiled, {**PPV_FACTS, "usage": {"service": "ppv-movie", "start": "2026-06-01T03:00:00Z"}}, NOW)
    assert night.outcome == {"status": "rated", "rule": "night-rate", "provisioningId": "PPV-NIGHT",
                             "rate": {"amount": pytest.approx(2.5), "currency": "EUR", "per": "movie"}}
    assert night.fired == ["night-rate", "base-rate"]  # both hold; the first in order rates
    day = decide(compiled, {**PPV_FACTS, "usage": {"service": "ppv-movie", "start": "2026-06-01T12:00:00Z"}}, NOW)
    assert (day.outcome["rule"], day.outcome["provisioningId"]) == ("base-rate", "PPV-STD")


def test_usage_outside_applies_to_is_rejected_as_not_applicable(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    decision = decide(compiled, {**PPV_FACTS, "party": {"classification": "VIP"}}, NOW)
    assert decision.outcome == {"status": "rejected", "matchedRule": "base-rate", "reasons": [
        {"code": "notApplicable", "label": "usage catalog ppv-normal does not apply here"}]}


def test_usage_without_its_prerequisite_is_rejected_naming_the_prerequisite(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-vip", NOW)
    decision = decide(compiled, {"party": {"classification": "VIP"}, "usage": {"service": "ppv-movie"}}, NOW)
    assert decision.outcome == {"status": "rejected", "matchedRule": "vip-free", "reasons": [
        {"code": "ppvServiceNotEffective", "label": "A movie needs an effective pay-per-view service",
         "prerequisite": "ppv-service-effective"}]}


def test_usage_that_no_rule_rates_is_rejected(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    decision = decide(compiled, {**PPV_FACTS, "usage": {"service": "ppv-series"}}, NOW)
    assert decision.outcome == {"status": "rejected", "reasons": [
        {"code": "noApplicableRate", "label": "no rate rule applies to this usage"}]}


NICOSIA = """\
ruleSets:
  - id: ppv-cy
    kind: usage
    timeZone: Europe/Nicosia
    rules:
      - id: night
        when: {usage.start: {timeOfDay: {from: "00:01", to: "06:59"}}}
        rate: {amount: 2.50, currency: EUR, per: movie}
      - id: weekend
        when: {usage.start: {dayOfWeek: [sat, sun]}}
        rate: {amount: 3.00, currency: EUR, per: movie}
      - id: base
        rate: {amount: 4.00, currency: EUR, per: movie}
"""


@pytest.mark.parametrize("start, rule", [
    ("2026-06-01T21:00:00Z", "base"),     # Tuesday 00:00 in Nicosia (EEST, UTC+3): not yet night
    ("2026-06-01T21:01:00Z", "night"),    # 00:01 local
    ("2026-06-02T03:59:00Z", "night"),    # 06:59 local
    ("2026-06-02T04:00:00Z", "base"),     # 07:00 local, still 04:00 in UTC
    ("2026-01-15T04:59:59Z", "night"),    # 06:59:59 local in winter (EET, UTC+2)
    ("2026-01-15T05:00:00Z", "base"),     # 07:00 local in winter
    ("2026-06-05T22:30:00Z", "night"),    # Saturday 01:30 local: the night rule comes first
    ("2026-06-05T21:00:00Z", "weekend"),  # Saturday 00:00 local, still Friday in UTC
    ("2026-06-06T09:00:00Z", "weekend"),  # Saturday noon
    ("2026-06-07T21:00:00Z", "base"),     # Monday 00:00 local, still Sunday in UTC
], ids=lambda v: v)
def test_time_windows_and_days_are_read_in_the_time_zone_of_the_rule_set(decider, start: str, rule: str) -> None:
    run = decider(NICOSIA)
    assert run("ppv-cy", {"usage": {"start": start}}).outcome["rule"] == rule


def test_the_night_window_follows_the_change_to_summer_time_in_nicosia(decider) -> None:
    run = decider(NICOSIA)
    # 29 March 2026, 03:00 local becomes 04:00 (01:00 UTC): 04:30 UTC is 07:30 local, not 06:30
    assert run("ppv-cy", {"usage": {"start": "2026-03-29T00:30:00Z"}}).outcome["rule"] == "night"  # 02:30 EET
    assert run("ppv-cy", {"usage": {"start": "2026-03-29T04:30:00Z"}}).outcome["rule"] == "weekend"  # Sunday 07:30
    assert run("ppv-cy", {"usage": {"start": "2026-03-30T04:30:00Z"}}).outcome["rule"] == "base"  # Monday 07:30


# --- split billing -------------------------------------------------------------------------


def test_split_billing_names_the_payer_of_the_first_rule_that_holds_else_the_default(example_project) -> None:
    compiled = example_project("connected_car").rules.in_force("connected-car-split-billing", NOW)

    def payer(charge: dict) -> dict:
        return decide(compiled, {"charge": charge}, NOW).outcome

    assert payer({"type": "outOfTariff", "service": "infotainment"}) == {
        "payer": "driver", "rule": "infotainment-usage-to-driver"}
    assert payer({"type": "recurring", "offering": "infotainment-connectivity"}) == {
        "payer": "driver", "rule": "infotainment-package-to-driver"}
    assert payer({"type": "oneTime", "service": "telematics"}) == {"payer": "car-maker",
                                                                   "rule": "telematics-to-car-maker"}
    assert payer({"type": "oneTime"}) == {"payer": "car-maker", "rule": "default"}


def test_split_billing_without_default_says_when_no_rule_names_a_payer(decider) -> None:
    run = decider("""\
ruleSets:
  - id: payers
    kind: splitBilling
    rules:
      - {id: all-to-driver, when: {charge.type: {in: [recurring, oneTime, usage, outOfTariff]}}, payer: driver}
""")
    assert run("payers", {"charge": {"type": "usage"}}).outcome == {"payer": "driver", "rule": "all-to-driver"}
    assert run("payers", {"charge": {"service": "tv"}}).outcome == {
        "payer": None, "rule": None, "reason": {"code": "noPayer", "label": "no split billing rule names a payer"}}


def test_split_billing_without_rules_gives_the_default_payer() -> None:
    compiled = compile_rule_set(SplitBillingRuleSet.model_validate(
        {"id": "payers", "kind": "splitBilling", "default": "account-owner"}))
    assert decide(compiled, {"charge": {"type": "usage"}}, NOW).outcome == {"payer": "account-owner", "rule": "default"}


# --- SLA -----------------------------------------------------------------------------------


@pytest.mark.parametrize("metric, violations, severities", [
    ({"name": "availability", "window": "month", "value": 99.7}, [], []),
    ({"name": "availability", "window": "month", "value": 99.5}, [], []),
    ({"name": "availability", "window": "month", "value": 98.0}, ["availability-below-target"], ["major"]),
    ({"name": "availability", "window": "month", "value": 97.9},
     ["availability-below-target", "availability-critical"], ["major", "critical"]),
    ({"name": "availability", "window": "day", "value": 90}, [], []),  # the rules are about the month
    ({"name": "availability", "value": 90}, [], []),
    ({"name": "ticketResolutionHours", "window": "week", "value": 30}, ["resolution-too-slow"], ["minor"]),
    ({"name": "ticketResolutionHours", "value": 24}, [], []),
    ({"name": "connectivityTickets", "window": "month", "value": 50}, ["too-many-connectivity-tickets"], ["warning"]),
    ({"name": "latency", "window": "month", "value": 10**6}, [], []),
], ids=lambda v: str(v))
def test_an_sla_threshold_is_violated_only_for_its_metric_and_window(example_project, metric: dict,
                                                                     violations: list, severities: list) -> None:
    compiled = example_project("connected_car").rules.in_force("call-center-sla", NOW)
    outcome = decide(compiled, {"metric": metric}, NOW).outcome
    assert outcome["violated"] is bool(violations)
    assert [v["rule"] for v in outcome["violations"]] == violations
    assert [v["severity"] for v in outcome["violations"]] == severities
    assert all(v["value"] == Decimal(str(metric["value"])) for v in outcome["violations"])


# --- explanations --------------------------------------------------------------------------


def test_the_explanation_of_a_failed_test_shows_the_value_seen(example_project) -> None:
    compiled = example_project("connected_car").rules.in_force("connected-car-eligibility", NOW)
    decision = decide(compiled, {"party": {"type": "organization"}, "channel": {"id": "csp-shop"},
                                 "offering": {"id": "infotainment-connectivity"}}, NOW)
    trace = {t["rule"]: t for t in decision.to_dict()["explanation"]}
    assert trace["infotainment-through-car-maker"] == {
        "rule": "infotainment-through-car-maker", "fired": True,
        "when": {"condition": "channel.id eq car-maker-portal", "result": False, "actual": "csp-shop"}}
    assert trace["building-blocks-for-partners"] == {"rule": "building-blocks-for-partners", "fired": False, "when": {
        "condition": "caller.type in [csp, partner]", "result": False, "actual": "(absent)"}}


def test_the_explanation_of_a_compound_condition_shows_every_part(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    decision = decide(compiled, {**PPV_FACTS, "usage": {"service": "ppv-movie", "start": "2026-06-01T07:00:00Z"}}, NOW)
    trace = {t.rule: t for t in decision.trace}
    assert trace["night-rate"].explanation == {"condition": "all", "result": False, "parts": [
        {"condition": "usage.service eq ppv-movie", "result": True, "actual": "ppv-movie"},
        {"condition": "usage.start timeOfDay 00:01–06:59", "result": False, "actual": "07:00"}]}
    assert trace["appliesTo"].explanation == {"condition": "not party.classification eq VIP", "result": True, "parts": [
        {"condition": "party.classification eq VIP", "result": False, "actual": "(absent)"}]}
    assert trace["prerequisite:ppv-service-effective"].explanation == {
        "condition": "inventory.activeOfferings contains ppv-service", "result": True, "actual": ["ppv-service"]}
    assert [t.fired for t in decision.trace] == [False, False, False, True]


def test_the_explanation_of_a_day_of_week_test_shows_the_local_day(decider) -> None:
    decision = decider(NICOSIA)("ppv-cy", {"usage": {"start": "2026-06-07T21:30:00Z"}})
    assert {t.rule: t.explanation for t in decision.trace}["weekend"] == {
        "condition": "usage.start dayOfWeek [sat, sun]", "result": False, "actual": "mon"}


def test_a_decision_serialises_to_json_with_its_explanation(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    data = json.loads(json.dumps(decide(compiled, PPV_FACTS, NOW).to_dict(), default=str))
    assert (data["ruleSet"], data["version"], data["kind"], data["status"]) == ("ppv-normal", 1, "usage", "rated")
    assert [e["rule"] for e in data["explanation"]] == ["appliesTo", "prerequisite:ppv-service-effective",
                                                        "night-rate", "base-rate"]
    untraced = decide(compiled, PPV_FACTS, NOW, with_trace=False)
    assert untraced.trace == [] and "explanation" not in untraced.to_dict(with_trace=False)
    assert untraced.outcome == decide(compiled, PPV_FACTS, NOW).outcome


# --- facts ---------------------------------------------------------------------------------


def test_an_unknown_fact_attribute_is_refused_with_a_suggestion(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    with pytest.raises(InvalidInput) as caught:
        decide(compiled, {"party": {"clasification": "VIP"}}, NOW)
    assert (caught.value.path, caught.value.suggestion) == (("party", "clasification"), "party.classification")
    assert str(caught.value) == ("unknown fact attribute: party.clasification "
                                 "(did you mean 'party.classification'?)")


@pytest.mark.parametrize("facts, path", [
    ({"party": {"age": "old"}}, ("party", "age")),
    ({"party": {"age": True}}, ("party", "age")),
    ({"party": {"age": float("nan")}}, ("party", "age")),
    ({"usage": {"roaming": "yes"}}, ("usage", "roaming")),
    ({"inventory": {"offerings": "ppv-service"}}, ("inventory", "offerings")),
    ({"inventory": {"offerings": [1, 2]}}, ("inventory", "offerings")),
    ({"channel": {"id": 7}}, ("channel", "id")),
], ids=lambda v: str(v))
def test_a_fact_of_the_wrong_type_is_refused_with_its_path(example_project, facts: dict, path: tuple) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    with pytest.raises(InvalidInput) as caught:
        decide(compiled, facts, NOW)
    assert caught.value.path == path
    assert str(caught.value).startswith(".".join(path) + ": ")


def test_a_date_fact_that_is_not_a_date_is_refused_with_its_path(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    with pytest.raises(InvalidInput) as caught:
        decide(compiled, {"usage": {"start": "yesterday"}}, NOW)
    assert caught.value.path == ("usage", "start")
    assert str(caught.value).startswith("usage.start: ")


def test_deciding_several_fact_sets_at_once_gives_the_decisions_one_by_one(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    facts = [{**PPV_FACTS, "usage": {"service": "ppv-movie", "start": f"2026-06-01T{h:02d}:30:00Z"}} for h in range(24)]
    facts += [{"party": {"classification": "VIP"}}, {}, {"usage": {"service": "ppv-movie"}}]
    one_by_one = [decide(compiled, f, NOW).to_dict() for f in facts]
    assert [d.to_dict() for d in decide_many(compiled, facts, NOW)] == one_by_one
    assert [d["rule"] for d in one_by_one[:24]] == ["night-rate"] * 7 + ["base-rate"] * 17


# --- validity of rules and versions --------------------------------------------------------


def test_a_rule_outside_its_validity_never_fires(decider) -> None:
    run = decider("""\
ruleSets:
  - id: offers
    kind: eligibility
    rules:
      - {id: summer-only, when: {party.age: {gte: 200}}, validFor: {start: 2026-06-01, end: 2026-09-01},
         reason: {code: summer, label: Summer rule}}
""")
    facts = {"party": {"age": 30}}
    assert run("offers", facts, at("2026-05-31T23:59:59Z")).fired == []
    assert run("offers", facts, at("2026-06-01T00:00:00Z")).fired == ["summer-only"]
    assert run("offers", facts, at("2026-08-31T23:59:59Z")).fired == ["summer-only"]
    assert run("offers", facts, at("2026-09-01T00:00:00Z")).fired == []
    outside = run("offers", facts, at("2026-10-01T00:00:00Z"))
    assert outside.outcome == {"qualified": True, "reasons": []}
    assert outside.trace[0].note == "not in force at this date (validFor)"
    assert run("offers", facts, at("2026-07-01T00:00:00Z")).trace[0].note is None


PAYERS = """\
ruleSets:
  - id: payers
    kind: splitBilling
    default: owner
    rules:
      - {id: promo, payer: csp, validFor: {start: 2026-06-01, end: 2026-07-01}}
"""


def test_the_now_of_the_facts_decides_when_no_as_of_date_is_given(load_rules) -> None:
    compiled = load_rules(PAYERS, None).rules.in_force("payers", NOW)
    assert decide(compiled, {"now": "2026-06-15T00:00:00Z"}).outcome["payer"] == "csp"
    assert decide(compiled, {"now": "2026-08-15T00:00:00Z"}).outcome["payer"] == "owner"
    # the same instant given both ways is no conflict
    assert decide(compiled, {"now": "2026-06-15T00:00:00Z"}, at("2026-06-15T00:00:00Z")).outcome["payer"] == "csp"


@pytest.mark.parametrize("now, as_of", [("2026-06-15T00:00:00Z", "2026-08-01T00:00:00Z"),
                                        ("2026-08-15T00:00:00Z", "2026-06-15T00:00:00Z")], ids=["earlier", "later"])
def test_a_now_in_the_facts_that_differs_from_the_as_of_date_is_refused(decider, now: str, as_of: str) -> None:
    run = decider(PAYERS)
    with pytest.raises(InvalidInput) as caught:
        run("payers", {"now": now}, at(as_of))
    assert caught.value.path == ("now",)
    assert str(caught.value) == (f"the facts say now is {at(now).isoformat()} but the decision is asked as of "
                                 f"{at(as_of).isoformat()}: give one of them")


def test_the_removed_classic_phone_rule_of_the_devices_example_ends_with_its_validity(example_project) -> None:
    compiled = example_project("devices").rules.in_force("sim-terminal-compatibility", NOW)
    basket = {"present": {"resourceSpecifications": ["terminal-classic-phone", "physical-sim-card", "sim-small"]}}
    assert decide(compiled, basket, at("2026-06-30T23:59:59Z")).fired == ["classic-phone-needs-large-sim"]
    assert decide(compiled, basket, at("2026-07-01T00:00:00Z")).fired == []


VERSIONS = """\
ruleSets:
  - id: sla
    kind: sla
    version: 1
    validFor: {start: 2025-01-01, end: 2026-01-01}
    rules: [{id: slow, metric: latency, when: {metric.value: {gt: 100}}}]
  - id: sla
    kind: sla
    version: 2
    validFor: {start: 2026-01-01, end: 2027-01-01}
    rules: [{id: slow, metric: latency, when: {metric.value: {gt: 80}}}]
  - id: sla
    kind: sla
    version: 3
    validFor: {start: 2026-07-01, end: 2027-01-01}
    rules: [{id: slow, metric: latency, when: {metric.value: {gt: 50}}}]
"""


@pytest.mark.parametrize("as_of, version", [
    ("2025-01-01T00:00:00Z", 1), ("2025-12-31T23:59:59Z", 1), ("2026-01-01T00:00:00Z", 2),
    ("2026-06-30T23:59:59Z", 2), ("2026-07-01T00:00:00Z", 3), ("2026-12-31T23:59:59Z", 3),
], ids=lambda v: str(v))
def test_the_version_in_force_at_a_date_decides_and_the_highest_wins_an_overlap(load_rules, as_of: str,
                                                                                version: int) -> None:
    book = load_rules(VERSIONS, None).rules
    compiled = book.in_force("sla", at(as_of))
    assert compiled.definition.version == version
    decision = decide(compiled, {"metric": {"name": "latency", "value": 90}}, at(as_of))
    assert (decision.version, decision.outcome["violated"]) == (version, version > 1)


def test_no_version_in_force_at_a_date_is_an_error_naming_the_date(load_rules) -> None:
    book = load_rules(VERSIONS, None).rules
    for when in ("2024-12-31T23:59:59Z", "2027-01-01T00:00:00Z"):
        with pytest.raises(InvalidInput) as caught:
            book.in_force("sla", at(when))
        assert str(caught.value) == f"no version of rule set 'sla' is in force at {when}"


def test_an_unknown_rule_set_is_not_found_with_a_suggestion(load_rules) -> None:
    book = load_rules(VERSIONS, None).rules
    with pytest.raises(NotFound) as caught:
        book.in_force("slas", NOW)
    assert str(caught.value).startswith("no rule set with id 'slas") and "did you mean 'sla'?" in str(caught.value)
    with pytest.raises(NotFound) as caught:
        book.in_force("zzz", NOW)
    assert str(caught.value) == "no rule set with id 'zzz'"


def test_the_suggestion_for_an_unknown_rule_set_is_not_part_of_its_id(load_rules) -> None:
    book = load_rules(VERSIONS, None).rules
    with pytest.raises(NotFound) as caught:
        book.in_force("slas", NOW)
    assert caught.value.id == "slas"
    assert str(caught.value) == "no rule set with id 'slas' (did you mean 'sla'?)"


# --- compiling without a loader ------------------------------------------------------------


def test_compiling_a_rule_set_with_problems_and_no_reporter_raises_every_problem() -> None:
    rule_set = CompatibilityRuleSet.model_validate({"id": "x", "kind": "compatibility", "timeZone": "Nowhere/Land",
                                                    "rules": [{"id": "one", "type": "exactlyOne",
                                                               "subject": {"productOffering": "phone"}}]})
    with pytest.raises(CompileError) as caught:
        compile_rule_set(rule_set)
    assert [(p, s) for p, _, s in caught.value.problems] == [(("timeZone",), None), (("rules", 0, "among"), None)]
