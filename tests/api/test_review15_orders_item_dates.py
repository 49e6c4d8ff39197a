"""An order item's own requestedStartDate against its offering's validFor (TMF622): an item
starting when its offering (or a component's) is not offered is refused, as an order dated
then is. Expected values are written here, not derived from the code under test."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from bssrules.rules.project import load_project_texts
from bssrules.services import catalog as catalog_services
from bssrules.store import UnitOfWork
from tests.api.test_tmf622_orders import CUSTOMER, INVENTORY, ORDER, PARTY, _app_client, _move

CATALOG = """
productSpecifications:
  - {id: ps-fibre, name: Fibre access}
  - {id: ps-tv, name: Television}
productOfferings:
  - {id: po-fibre, name: Fibre, productSpecification: ps-fibre, validFor: {start: 2026-03-01, end: 2027-07-01}}
  - {id: po-tv, name: TV, productSpecification: ps-tv, validFor: {start: 2026-01-01}}
  - id: po-fibre-tv
    name: Fibre and TV
    validFor: {start: 2026-01-01}
    bundle:
      - {offering: po-fibre}
      - {offering: po-tv}
"""


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    with UnitOfWork(engine) as uow:
        catalog_services.load_project(uow, load_project_texts({"catalog.yaml": CATALOG}), "dated")
    with _app_client(engine) as client:
        assert client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}
                           ).status_code == 201
        yield client


def _add(id: str, offering: str, **extra: Any) -> dict[str, Any]:
    return {"id": id, "action": "add", "productOffering": {"id": offering}, **extra}


BUNDLE = [_add("1.1", "po-fibre"), _add("1.2", "po-tv")]


@pytest.mark.parametrize("item, path, start", [
    (_add("1", "po-fibre", requestedStartDate="2026-02-01T00:00:00Z"), "$.productOrderItem[0].productOffering.id",
     "2026-02-01T00:00:00Z"),
    # its end is excluded, whatever the zone the date is written in
    (_add("1", "po-fibre", requestedStartDate="2027-07-01T02:00:00+02:00"), "$.productOrderItem[0].productOffering.id",
     "2027-07-01T00:00:00Z"),
    (_add("1", "po-fibre-tv", requestedStartDate="2026-02-01", productOrderItem=BUNDLE),
     "$.productOrderItem[0].productOrderItem[0].productOffering.id", "2026-02-01T00:00:00Z"),
])
def test_an_item_starting_when_its_offering_is_not_offered_is_refused(
        http: Any, item: dict[str, Any], path: str, start: str) -> None:
    """Was: accepted (the order is checked at its own date, now), its product started
    outside its offering's validFor."""
    refused = http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": [item]})
    assert refused.status_code == 422, refused.text
    [violation] = refused.json()["violation"]
    assert (violation["code"], violation["path"]) == ("notInForce", path)
    assert "offering 'po-fibre' is offered from 2026-03-01T00:00:00Z" in violation["message"]
    assert f"not at {start}" in violation["message"] and "requestedStartDate" in violation["message"]
    assert http.get(ORDER).json() == []


def test_an_item_starting_within_its_offering_s_validity_is_placed_and_starts_then(http: Any) -> None:
    item = _add("1", "po-fibre", requestedStartDate="2027-06-30T23:59:59Z")
    order = http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": [item]})
    assert order.status_code == 201, order.text
    for state in ("inProgress", "completed"):
        assert _move(http, order.json()["id"], state).json()["state"] == state
    [product] = http.get(f"{INVENTORY}/product").json()
    assert product["startDate"] == "2027-06-30T23:59:59Z"
