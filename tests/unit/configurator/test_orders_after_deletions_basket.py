"""A basket whose request deletes some of the party's products (``InventoryProduct.deleted_by``,
set by ``services.terminations.after_deletions``) is judged on the products the request
leaves: the deleted ones bring nothing to the rules, and what their deletion breaks is named
at the delete item when a product the party keeps needs them."""
from __future__ import annotations

from typing import Any, Callable

from bssrules.configurator.validate import party_facts
from bssrules.rules.project import Project

from basket_catalogs import basket

Validate = Callable[..., Any]  # the ``validate`` fixture of this folder's conftest

DELETED_BY = ["productOrderItem", 0]


def _owned(id: str, offering: str, deleted: bool = False, **extra: Any) -> dict[str, Any]:
    return {"id": id, "offering": offering, **({"deletedBy": DELETED_BY} if deleted else {}), **extra}


def _found(result: Any) -> list[tuple[str, str]]:
    return [(v["code"], v["path"]) for v in result.to_dict()["violations"]]


def test_a_kept_product_whose_prerequisite_is_deleted_is_a_violation_at_the_delete_item(
        ppv: Project, validate: Validate) -> None:
    result = validate(ppv, {"inventory": [_owned("p-service", "ppv-service", deleted=True),
                                          _owned("p-movie", "ppv-movie")]})
    [violation] = result.to_dict()["violations"]
    assert violation == {
        "code": "missingPrerequisite", "path": "$.productOrderItem[0].product.id", "requires": "ppv-service",
        "product": "p-movie", "deleted": "p-service",
        "message": "product 'p-movie' ('ppv-movie'), which the party keeps, requires 'ppv-service': product "
                   "'p-service' is deleted, and neither the basket nor another effective product brings it"}


def test_what_the_basket_or_another_product_brings_meets_the_prerequisite(ppv: Project, validate: Validate) -> None:
    inventory = [_owned("p-service", "ppv-service", deleted=True), _owned("p-movie", "ppv-movie")]
    assert validate(ppv, {"inventory": inventory, "items": [{"id": "1", "offering": "ppv-service"}]}).valid
    assert validate(ppv, {"inventory": inventory + [_owned("p-service-2", "ppv-service")]}).valid
    # what the request does not take away is not its doing: a kept product's unmet prerequisite
    assert validate(ppv, {"inventory": [_owned("p-movie", "ppv-movie")]}).valid


def test_an_item_needing_a_deleted_product_says_it_is_deleted(ppv: Project, validate: Validate) -> None:
    result = validate(ppv, {"inventory": [_owned("p-service", "ppv-service", deleted=True)],
                            "items": [{"id": "1", "offering": "ppv-movie", "characteristics": {"title": "Up"}}]})
    # the catalog's prerequisite, and the eligibility rule on the party's effective products
    violation, eligibility = result.to_dict()["violations"]
    assert (eligibility["code"], eligibility["rule"]) == ("notEligible", "movies-need-ppv-service")
    assert (violation["path"], violation["deleted"]) == ("$.items[0].offering", "p-service")
    assert violation["message"] == ("'ppv-movie' requires 'ppv-service', which is neither in the basket nor an "
                                    "effective product (product 'p-service', which has it, is deleted by "
                                    "$.productOrderItem[0].product.id)")
    # without the deletion the item is fine
    assert validate(ppv, {"inventory": [_owned("p-service", "ppv-service")],
                          "items": [{"id": "1", "offering": "ppv-movie", "characteristics": {"title": "Up"}}]}).valid


def test_an_exactly_one_count_the_deletions_leave_empty_names_the_delete_item(
        devices: Project, validate: Validate) -> None:
    """A plan kept with no form factor recorded, and the SIM that gave one deleted."""
    inventory = [_owned("p-plan", "mobile-telephony-plan"),
                 _owned("p-sim", "mobile-telephony-plan", deleted=True, resources=["sim-small"])]
    result = validate(devices, {"inventory": inventory})
    assert [(v["rule"], v["path"], v["product"], v["deleted"]) for v in result.to_dict()["violations"]] == [
        ("one-form-factor", "$.productOrderItem[0].product.id", "p-plan", "p-sim")]
    # the same inventory, nothing deleted: valid
    assert validate(devices, {"inventory": [{**p, "deletedBy": None} for p in inventory]}).valid


def test_a_rule_already_broken_by_the_products_kept_stays_at_the_product(devices: Project, validate: Validate) -> None:
    """The deletions break nothing the kept products did not break already."""
    inventory = [_owned("p-phone", "smartphone", resources=["terminal-smartphone"]),
                 _owned("p-ipad", "ipad-mini-std", deleted=True)]
    assert _found(validate(devices, {"inventory": inventory})) == [("incompatible", "$.inventory[0]")]


def test_the_rules_facts_of_the_inventory_leave_the_deleted_products_out_of_the_active_ones(
        devices: Project) -> None:
    facts = party_facts(basket({"inventory": [_owned("p-ipad", "ipad-mini-std", deleted=True),
                                              _owned("p-phone", "smartphone")]}), devices.catalog)
    assert facts["inventory"] == {"offerings": ["ipad-mini-std", "smartphone"], "activeOfferings": ["smartphone"],
                                  "productSpecifications": ["handset"]}
