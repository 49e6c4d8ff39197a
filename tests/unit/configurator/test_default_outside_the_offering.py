"""A mandatory characteristic whose default the offering does not allow must be chosen: the
default cannot stand in for it (order completion would not store it either — the product
would lack a mandatory value). Allowed, or pinned to one value, it need not be chosen."""
from __future__ import annotations

from bssrules.configurator.validate import validate_basket
from bssrules.rules.project import load_project_texts

from basket_catalogs import basket

CATALOG = """
productSpecifications:
  - id: plan
    name: Plan
    characteristics:
      - {name: size, valueType: string, values: [s, m, l], default: s, minCardinality: 1}
productOfferings:
  - {id: plan-any, name: Any plan, productSpecification: plan}
  - id: plan-big
    name: A bigger plan
    productSpecification: plan
    characteristicUses:
      - {name: size, values: [m, l]}
  - id: plan-small-or-medium
    name: A small or medium plan
    productSpecification: plan
    characteristicUses:
      - {name: size, values: [s, m]}
  - id: plan-large
    name: The large plan
    productSpecification: plan
    characteristicUses:
      - {name: size, values: [l]}
"""


def _codes(offering: str, characteristics: dict[str, str] | None = None) -> list[str]:
    project = load_project_texts({"catalog.yaml": CATALOG})
    item = {"id": "p", "offering": offering, "characteristics": characteristics or {}}
    result = validate_basket(basket({"items": [item]}), project.catalog, project.rules, explain=True)
    return [v.code for v in result.violations]


def test_the_default_stands_in_where_the_offering_allows_it() -> None:
    assert _codes("plan-any") == []
    assert _codes("plan-small-or-medium") == []
    assert _codes("plan-large") == []  # pinned to one value


def test_a_default_the_offering_does_not_allow_does_not_stand_in() -> None:
    assert _codes("plan-big") == ["missingCharacteristic"]
    assert _codes("plan-big", {"size": "m"}) == []
