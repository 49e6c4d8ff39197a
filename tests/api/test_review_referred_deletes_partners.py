"""A partner's delete refused because others' resources still refer to it (409) does not
name those resources: a partner's offering that the operator's inventory products were
bought from is not deleted, and the partner is told how many refer to it, not which — ids
of another's inventory are not its to learn. Authentication on, both tiers, over the
connected-car catalog (tests/api/test_partner_catalog.py's world)."""
from __future__ import annotations

from tests.api.session_app import keyed_app_on_engine  # noqa: F401
from tests.api.test_partner_catalog import OFFERING, World, _new_offering, world  # noqa: F401

INVENTORY = "/tmf-api/productInventory/v4/product"


def _operators_line(world: World, line: str) -> None:
    world.ok("POST", INVENTORY, "admin", {"id": line, "status": "active", "startDate": "2026-01-01T00:00:00Z",
                                          "productOffering": {"id": "garage-wifi"}})


def test_a_partner_is_told_how_many_of_others_refer_to_its_offering_not_which(world: World) -> None:
    world.ok("POST", OFFERING, "garage", _new_offering("garage-wifi"))
    for line in ("op-line-1", "op-line-2"):
        _operators_line(world, line)
    assert world.error("DELETE", f"{OFFERING}/garage-wifi", "garage") == (
        409, "conflict", "ProductOffering 'garage-wifi' is still referred to by 2 resources you do not see")
    assert world.error("DELETE", f"{OFFERING}/garage-wifi", "admin") == (
        409, "conflict", "ProductOffering 'garage-wifi' is still referred to by Product 'op-line-1', "
                         "Product 'op-line-2'")
    assert world.ok("GET", f"{OFFERING}/garage-wifi", "garage")["id"] == "garage-wifi"
    for line in ("op-line-1", "op-line-2"):
        world.ok("DELETE", f"{INVENTORY}/{line}", "admin")
    world.ok("DELETE", f"{OFFERING}/garage-wifi", "garage")
