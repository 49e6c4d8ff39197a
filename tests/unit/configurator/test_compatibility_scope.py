"""A compatibility rule of `scope: basket` looks at the basket's own items: a forbidden pair
or an exactlyOne count among them only, a requirement of theirs met by the basket or by what
the party has. A customer with several lines (a router's large SIM, a phone's small SIM) can
then buy a new line, whatever the other lines hold; rules without the field (the default,
`basketAndInventory`) keep seeing the basket and the party's products together."""
from __future__ import annotations

from typing import Any

import pytest

from bssrules.configurator.validate import validate_basket
from bssrules.errors import InvalidSource
from bssrules.rules.project import Project, load_project_texts

from tests.unit.configurator.conftest import basket
from tests.unit.rules.conftest import example_texts

SMALL_PLAN = {"id": "plan", "offering": "mobile-telephony-plan", "characteristics": {"simFormFactor": "SMALL"},
              "resources": ["sim-small"]}
LARGE_LINE = {"id": "router-line", "offering": "mobile-telephony-plan", "resources": ["sim-large"]}
SMALL_LINE = {"id": "phone-line", "offering": "mobile-telephony-plan", "resources": ["sim-small"]}
SMARTPHONE = {"id": "phone", "offering": "smartphone", "resources": ["terminal-smartphone"]}
OWNED_SMARTPHONE = {"id": "owned-phone", "offering": "smartphone", "resources": ["terminal-smartphone"]}
DATA_PLAN_ONLY = {"id": "ipad", "offering": "ipad-mini-std"}
SIM_RULES = ("one-form-factor", "smartphone-needs-small-sim", "smartphone-refuses-large-sim", "ipad-needs-small-sim")


def _devices(scoped: tuple[str, ...]) -> Project:
    """examples/devices with ``scope: basket`` on the rules named."""
    texts = example_texts("devices")
    rules = texts["rules/compatibility.yaml"]
    for rule in scoped:
        marker = f"      - id: {rule}\n"
        assert marker in rules, rule
        rules = rules.replace(marker, marker + "        scope: basket\n")
    texts["rules/compatibility.yaml"] = rules
    return load_project_texts(texts)


@pytest.fixture(scope="module")
def scoped() -> Project:
    return _devices(SIM_RULES)


@pytest.fixture(scope="module")
def together() -> Project:
    return _devices(())


def _rules(project: Project, items: list[dict[str, Any]], inventory: list[dict[str, Any]]) -> list[str | None]:
    result = validate_basket(basket({"channel": "shop", "items": items, "inventory": inventory}),
                             project.catalog, project.rules, explain=True)
    return [v.rule for v in result.violations if v.code == "incompatible"]


def test_a_new_line_with_a_smartphone_is_not_refused_for_the_large_sim_of_another_line(
        scoped: Project, together: Project) -> None:
    inventory = [LARGE_LINE]
    assert _rules(together, [SMALL_PLAN, SMARTPHONE], inventory) == ["one-form-factor", "smartphone-refuses-large-sim"]
    assert _rules(scoped, [SMALL_PLAN, SMARTPHONE], inventory) == []


def test_what_the_lines_of_the_party_hold_together_refuses_no_basket_of_basket_scoped_rules(
        scoped: Project, together: Project) -> None:
    inventory = [LARGE_LINE, SMALL_LINE, OWNED_SMARTPHONE]
    assert _rules(together, [SMALL_PLAN], inventory) != []
    assert _rules(scoped, [SMALL_PLAN], inventory) == []


def test_a_requirement_of_the_basket_is_met_by_what_the_party_has(scoped: Project) -> None:
    # a smartphone bought alone: the small SIM of the party's line fits it
    assert _rules(scoped, [SMARTPHONE], [SMALL_LINE]) == []
    # nothing the party has fits it: refused, the explanation showing what is present, the inventory's too
    result = validate_basket(basket({"channel": "shop", "items": [SMARTPHONE], "inventory": [LARGE_LINE]}),
                             scoped.catalog, scoped.rules, explain=True)
    [violation] = [v.to_dict() for v in result.violations if v.code == "incompatible"]
    assert violation["rule"] == "smartphone-needs-small-sim" and violation["path"] == "$.items[0]"
    assert "sim-large" in str(violation["explanation"])


def test_the_basket_itself_is_still_held_to_every_rule(scoped: Project) -> None:
    large = {**SMALL_PLAN, "characteristics": {"simFormFactor": "LARGE"}, "resources": ["sim-large"]}
    assert _rules(scoped, [large, SMARTPHONE], [SMALL_LINE]) == ["smartphone-refuses-large-sim"]
    assert _rules(scoped, [{**SMALL_PLAN, "resources": ["sim-small", "sim-large"]}], []) == ["one-form-factor"]


def test_rules_without_scope_see_the_party_products_as_before(scoped: Project) -> None:
    # tablet-options is not scoped: the iPad the party has and the one in the basket are one pair
    assert _rules(scoped, [SMALL_PLAN, {"id": "ipad-32", "offering": "ipad-mini-deluxe"}],
                  [{"id": "owned-ipad", "offering": "ipad-mini-std"}]) == ["one-ipad-memory-size"]


def test_a_scope_misspelt_is_an_error_of_check() -> None:
    texts = example_texts("devices")
    texts["rules/compatibility.yaml"] = texts["rules/compatibility.yaml"].replace(
        "      - id: one-form-factor\n", "      - id: one-form-factor\n        scope: baskets\n")
    with pytest.raises(InvalidSource) as caught:
        load_project_texts(texts)
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.line, diagnostic.path[-1], diagnostic.suggestion) == (9, "scope", "basket")
    assert "expected one of: basketAndInventory, basket" in diagnostic.message
