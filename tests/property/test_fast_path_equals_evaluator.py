"""The fast path of basket validation decides as the exact evaluator does (issue 13).

A basket's facts reach durable-rules through the fast path: the party's facts typed once and
shared by every item and charge (``RuleEngine.matching_many(facts, shared)``), each fact
routed only to the engine rule sets that can concern it, each rule set sent only the fields
its rules test, with its routing test first, and every rule set's state kept and retracted
between evaluations. Here generated baskets are validated against a generated catalog and
rule book compiled into many small engine rule sets (the limits lowered so that routing by
offering, by category, by resource and generic rule sets all occur), and:

- every engine call the validation makes answers, for every fact set and every rule of the
  rule set (not only those that fired), what :func:`bssrules.rules.evaluate.holds` says of
  the rule's condition on the whole facts;
- the eligibility refusals are those the evaluator finds on the facts built as before the
  fast path, one nested fact set per item (party, channel, inventory and offering together).
"""
from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssrules.configurator.model import Basket, BasketItem, Caller, InventoryProduct, Party
from bssrules.configurator.validate import party_facts, validate_basket
from bssrules.errors import format_path
from bssrules.rules import decisions as decisions_module
from bssrules.rules import engine as engine_module
from bssrules.rules.decisions import fact_values
from bssrules.rules.engine import RuleEngine
from bssrules.rules.evaluate import holds
from bssrules.rules.project import Project, load_project_texts

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])
AS_OF = dt.datetime(2026, 9, 1, 12, tzinfo=dt.timezone.utc)
OFFERINGS = [f"o-{i:02d}" for i in range(36)]
CATEGORIES = [f"cat-{i}" for i in range(6)]
CHANNELS = ["web", "shop", "app", "partner-api"]
RESOURCES = [f"res-{i}" for i in range(6)] + ["sim-a", "sim-b"]
CLASSIFICATIONS = ["VIP", "GOLD", "STANDARD", "STUDENT"]


def _catalog(rng: random.Random) -> dict[str, Any]:
    specs = [{"id": f"spec-{i}", "name": f"Spec {i}",
              "resourceSpecifications": ["sim-card"] if i == 0 else [f"res-{i}"]} for i in range(6)]
    resources = [{"id": r, "name": r} for r in RESOURCES] + [{"id": "sim-card", "name": "SIM card",
                                                              "children": ["sim-a", "sim-b"]}]
    prices, offerings = [], []
    for i, oid in enumerate(OFFERINGS):
        price_ids = []
        for kind in rng.sample(["recurring", "oneTime"], rng.randint(0, 2)):
            price = {"id": f"{oid}-{kind}", "name": f"{oid} {kind}", "priceType": kind,
                     "amount": rng.choice([5, 19.99, 40, 45, 60]), "currency": rng.choice(["EUR", "EUR", "USD"])}
            if kind == "recurring":
                price["recurringPeriod"] = "month"
            prices.append(price)
            price_ids.append(price["id"])
        offerings.append({"id": oid, "name": f"Offering {i}", "productSpecification": f"spec-{i % 6}",
                          "channels": rng.sample(CHANNELS, rng.randint(1, 4)),
                          "categories": rng.sample(CATEGORIES, rng.randint(0, 2)),
                          "partnerEligible": rng.random() < 0.5, "prices": price_ids})
    return {"productSpecifications": specs, "resourceSpecifications": resources,
            "categories": [{"id": c, "name": c} for c in CATEGORIES], "productOfferingPrices": prices,
            "productOfferings": offerings}


def _condition(rng: random.Random) -> dict[str, Any]:
    makers = [
        lambda: {"party.classification": {"in": rng.sample(CLASSIFICATIONS, rng.randint(1, 3))}},
        lambda: {"party.classification": {"notIn": rng.sample(CLASSIFICATIONS, 1)}},
        lambda: {"party.type": rng.choice(["individual", "organization"])},
        lambda: {"party.isCustomer": rng.random() < 0.7},
        lambda: {"channel.id": {"in": rng.sample(CHANNELS, rng.randint(1, 3))}},
        lambda: {"channel.id": {"ne": rng.choice(CHANNELS)}},
        lambda: {"offering.partnerEligible": True},
        lambda: {"inventory.activeOfferings": {"containsAny": rng.sample(OFFERINGS, 3)}},
        lambda: {"inventory.activeOfferings": {"notContains": rng.choice(OFFERINGS)}},
        lambda: {"inventory.productSpecifications": {"contains": f"spec-{rng.randrange(6)}"}},
        lambda: {"offering.categories": {"containsAny": rng.sample(CATEGORIES, 2)}},
        lambda: {"party.classification": {"exists": rng.random() < 0.5}},
    ]
    draw = rng.random()
    if draw < 0.15:
        return {"any": [rng.choice(makers)(), rng.choice(makers)()]}
    if draw < 0.25:
        return {"not": rng.choice(makers)()}
    return {"all": [rng.choice(makers)() for _ in range(rng.randint(1, 2))]}


def _rules(rng: random.Random) -> dict[str, Any]:
    eligibility = []
    for i in range(70):
        rule: dict[str, Any] = {"id": f"elig-{i:02d}", "when": _condition(rng),
                                "reason": {"code": f"r{i % 7}", "label": f"Refused by rule {i}"}}
        scope = rng.random()
        if scope < 0.6:
            rule["offerings"] = rng.sample(OFFERINGS, rng.randint(1, 3))
        elif scope < 0.85:
            rule["categories"] = rng.sample(CATEGORIES, rng.randint(1, 2))
        if rng.random() < 0.1:
            rule["validFor"] = {"start": "2026-10-01"}
        eligibility.append(rule)
    compatibility: list[dict[str, Any]] = [
        {"id": "one-sim", "type": "exactlyOne", "subject": {"resourceSpecification": "sim-card"}}]
    for i in range(24):
        subject = rng.choice([{"resourceSpecification": rng.choice(RESOURCES)},
                              {"productOffering": rng.choice(OFFERINGS)}])
        target = rng.choice([{"resourceSpecification": rng.choice(RESOURCES)},
                             {"productOffering": rng.choice(OFFERINGS)}])
        compatibility.append({"id": f"compat-{i:02d}", "type": rng.choice(["required", "forbidden"]),
                              "subject": subject, "target": target})
    billing = [
        {"id": "employer-recurring", "when": {"charge.type": "recurring",
                                              "charge.offering": {"in": rng.sample(OFFERINGS, 8)}}, "payer": "employer"},
        {"id": "student-sponsor", "when": {"party.classification": "STUDENT", "charge.amount": {"lt": 41}},
         "payer": "sponsor"},
        {"id": "dollars", "when": {"charge.currency": "USD"}, "payer": "customer"},
        {"id": "big-activation", "when": {"charge.type": "oneTime", "charge.amount": {"gte": 45}},
         "payer": "customer"},
    ]
    return {"ruleSets": [{"id": "elig", "kind": "eligibility", "rules": eligibility},
                         {"id": "compat", "kind": "compatibility", "rules": compatibility},
                         {"id": "billing", "kind": "splitBilling", "default": "customer", "rules": billing}]}


@pytest.fixture(scope="module")
def project() -> Iterator[Project]:
    rng = random.Random(13)
    with pytest.MonkeyPatch.context() as patch:  # many small engine rule sets: every kind of routing
        patch.setattr(engine_module, "MAX_RULES", 24)
        patch.setattr(engine_module, "MAX_TRUE", 8)
        loaded = load_project_texts({"catalog.yaml": json.dumps(_catalog(rng)), "rules.yaml": json.dumps(_rules(rng))})
    engines = [compiled.engine for compiled in loaded.rules]
    assert sum(e.chunk_count for e in engines) > 10, [e.chunk_count for e in engines]
    assert any(e._by_value for e in engines) and any(e._by_member for e in engines) and all(
        e._generic for e in engines)
    yield loaded


@st.composite
def baskets(draw: st.DrawFn) -> Basket:
    def item(n: int) -> BasketItem:
        offering = draw(st.sampled_from(OFFERINGS + ["o-unknown"]))
        resources = draw(st.lists(st.sampled_from(RESOURCES), max_size=2, unique=True))
        return BasketItem(id=str(n), offering=offering, resources=resources)

    items = [item(n) for n in range(draw(st.integers(1, 12)))]
    inventory = [InventoryProduct(id=f"p{n}", offering=draw(st.sampled_from(OFFERINGS)),
                                  status=draw(st.sampled_from(["active", "suspended", "terminated"])),
                                  resources=draw(st.lists(st.sampled_from(RESOURCES), max_size=1)))
                 for n in range(draw(st.integers(0, 4)))]
    party = Party(id="buyer", type=draw(st.sampled_from(["individual", "organization", None])),
                  classification=draw(st.sampled_from(CLASSIFICATIONS + [None])),
                  is_customer=draw(st.sampled_from([True, False, None])))
    payers = {role: f"ba-{role}" for role in draw(st.lists(st.sampled_from(["customer", "employer", "sponsor"]),
                                                           unique=True))}
    return Basket(items=items, party=party, channel=draw(st.sampled_from(CHANNELS + [None])), caller=Caller(),
                  as_of=AS_OF, inventory=inventory, payers=payers)


@SETTINGS
@given(basket=baskets(), explain=st.booleans())
def test_every_engine_call_of_a_validation_agrees_with_the_evaluator_on_every_rule(
        project: Project, basket: Basket, explain: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[RuleEngine, list[Any], Any, list[set[str]]]] = []
    real = RuleEngine.matching_many

    def recording(self: RuleEngine, facts: Any, shared: Any = None) -> list[set[str]]:
        result = real(self, facts, shared)
        calls.append((self, list(facts), shared, result))
        return result

    monkeypatch.setattr(RuleEngine, "matching_many", recording)
    monkeypatch.setattr(decisions_module, "_CACHE_SIZE", 0)  # every decision the engine's: none remembered
    validate_basket(basket, project.catalog, project.rules, explain=explain)
    monkeypatch.undo()
    assert calls, "the basket's rules were not decided through the engine"
    for engine, facts, shared, result in calls:
        for own, fired in zip(facts, result):
            values = {**(shared or {}), **own}
            expected = {key for key, condition in zip(engine.keys, engine._conditions)
                        if holds(condition, values, engine.zone)}
            assert fired == expected, (values, sorted(fired ^ expected))


@SETTINGS
@given(basket=baskets())
def test_eligibility_refusals_are_the_evaluators_on_each_items_whole_facts(project: Project, basket: Basket) -> None:
    # Twice: the second validation takes the decisions the first one left in the rule sets'
    # caches (configurator/remembered.py), and must refuse exactly the same, explained or not.
    first = validate_basket(basket, project.catalog, project.rules, explain=False)
    again = validate_basket(basket, project.catalog, project.rules, explain=True)
    refused = {(format_path(v.path), v.rule_set, v.rule) for v in first.violations if v.code == "notEligible"}
    assert refused == {(format_path(v.path), v.rule_set, v.rule) for v in again.violations if v.code == "notEligible"}
    assert [v.code for v in first.violations] == [v.code for v in again.violations]
    expected = set()
    base = party_facts(basket, project.catalog)
    for compiled in project.rules:
        if compiled.kind != "eligibility" or not compiled.definition.valid_for.contains(AS_OF):
            continue
        for path, item, _ in basket.all_items():
            offering = project.catalog.offerings.get(item.offering)
            if offering is None:
                continue
            nested = {**base, "offering": {"id": offering.id, "partnerEligible": offering.partner_eligible,
                                           "categories": offering.categories, "channels": offering.channels,
                                           "lifecycleStatus": offering.lifecycle_status,
                                           "productSpecification": offering.product_specification}}
            values = fact_values(nested, AS_OF)
            expected |= {(format_path(path + ("offering",)), compiled.id, rule.key) for rule in compiled.rules
                         if holds(rule.fires, values, compiled.zone)}
    assert refused == expected
