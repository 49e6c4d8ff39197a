"""A review of orders, carts and configuration checks that delete products (judged on the
inventory they leave): each test names what was wrong before its fix.

Ana (the devices example) holds the products each test gives her."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project
from bssrules.services import catalog as catalog_services
from bssrules.services import configuration, orders, resources
from bssrules.services.runtime import build_runtime
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
OWNER = [{"id": "ana", "role": "owner", "@referredType": "Individual"}]
DATE = "2026-09-01T00:00:00Z"


def _create(engine: Any, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        return resources.create(uow, resources.KINDS[kind], body, list(body))


def _product(engine: Any, id: str, offering: str, *resource: str, party: str = "ana") -> None:
    _create(engine, "product", {"id": id, "status": "active", "startDate": "2026-01-01T00:00:00Z",
                                "relatedParty": [{"id": party, "role": "owner", "@referredType": "Individual"}],
                                "productOffering": {"id": offering},
                                **({"realizingResource": [{"id": r} for r in resource]} if resource else {})})


@pytest.fixture
def devices(engine: Any) -> Iterator[Any]:
    """The devices example's catalog and rules, and Ana (no products yet)."""
    with UnitOfWork(engine) as uow:
        catalog_services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    _create(engine, "individual", {"id": "ana", "givenName": "Ana", "familyName": "S"})
    yield engine


def _delete(id: str, product: str, **extra: Any) -> dict[str, Any]:
    return {"id": id, "action": "delete", "product": {"id": product}, **extra}


def _order(engine: Any, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        order, _ = orders.create_order(uow, build_runtime(uow), {"relatedParty": CUSTOMER, "requestedStartDate": DATE,
                                                                 "productOrderItem": items, **extra})
        return order


def _refused(engine: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with pytest.raises(orders.OrderRejected) as refused:
        _order(engine, items)
    return refused.value.violations


def _checked(engine: Any, body: dict[str, Any]) -> dict[str, Any]:
    with UnitOfWork(engine) as uow:
        return configuration.check_configuration(uow, build_runtime(uow), {"requestedDate": DATE, **body})


def test_an_exactly_one_count_the_deletions_break_names_the_delete_item_of_the_sim_taken(devices: Any) -> None:
    """Ana keeps a plan with no SIM recorded (``b-plan``): deleting the plan with the small SIM
    (``c-sim``) leaves it none. Was: with the iPad deleted too (it brings no SIM), the
    violation named the iPad's delete item (the first product deleted)."""
    _product(devices, "a-ipad", "ipad-mini-std")
    _product(devices, "b-plan", "mobile-telephony-plan")
    _product(devices, "c-sim", "mobile-telephony-plan", "sim-small")
    for items in ([_delete("1", "c-sim"), _delete("2", "a-ipad")], [_delete("1", "a-ipad"), _delete("2", "c-sim")]):
        violations = _refused(devices, items)
        at = next(i for i, item in enumerate(items) if item["product"]["id"] == "c-sim")
        assert [(v["rule"], v["path"], v["product"], v["deleted"]) for v in violations] == [
            ("one-form-factor", f"$.productOrderItem[{at}].product.id", "b-plan", "c-sim")]
        assert "product 'c-sim', which brings resourceSpecification sim-small, is deleted" in violations[0]["message"]
