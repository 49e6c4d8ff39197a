"""DELETE /product/{id} of a bundle's product (TMF637), on both tiers: as terminating a
bundle terminates its components (services.bundles), deleting it deletes its components —
all of them, whatever their status, a bundle of bundles included — in one transaction. A
component alone is not deleted (409 naming its bundle), nor a bundle whose component another
bundle also names (409 naming both); a refused or failed delete deletes nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.rules.project import load_project_texts
from bssrules.services import catalog as services
from bssrules.services import terminations
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
INVENTORY = "/tmf-api/productInventory/v4/product"
MERGE = {"content-type": "application/merge-patch+json"}
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]

CATALOG = """
productSpecifications:
  - {id: ps-fibre, name: Fibre access}
  - {id: ps-tv, name: Television}
productOfferingPrices:
  - {id: pop-tv, name: TV monthly fee, priceType: recurring, recurringPeriod: month, amount: 10.00, currency: EUR}
  - {id: pop-fibre, name: Fibre monthly fee, priceType: recurring, recurringPeriod: month, amount: 30.00, currency: EUR}
productOfferings:
  - {id: po-fibre, name: Fibre, productSpecification: ps-fibre, prices: [pop-fibre]}
  - {id: po-tv, name: TV, productSpecification: ps-tv, prices: [pop-tv]}
  - id: po-fibre-tv
    name: Fibre and TV
    bundle:
      - {offering: po-fibre}
      - {offering: po-tv}
"""


@pytest.fixture
def http(engine: Engine, app_for: Any) -> Iterator[TestClient]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project_texts({"catalog.yaml": CATALOG}), "bundles")
    with app_for(engine) as app, TestClient(app) as client:
        assert client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}
                           ).status_code == 201
        assert client.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}).status_code == 201
        yield client


def _bundle(client: TestClient) -> tuple[str, dict[str, str]]:
    """A fibre-and-TV bundle ordered and completed: its product's id, its components' by offering."""
    placed = client.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": "2026-01-01", "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "po-fibre-tv"}, "productOrderItem": [
            {"id": "1.1", "action": "add", "quantity": 1, "productOffering": {"id": "po-fibre"}},
            {"id": "1.2", "action": "add", "quantity": 1, "productOffering": {"id": "po-tv"}}]}]})
    assert placed.status_code == 201, placed.text
    for state in ("inProgress", "completed"):
        assert client.patch(f"{ORDER}/{placed.json()['id']}", json={"state": state}, headers=MERGE).status_code == 200
    products = {p["productOffering"]["id"]: p["id"] for p in client.get(INVENTORY).json()
                if p["productOrderItem"][0]["productOrderId"] == placed.json()["id"]}
    return products.pop("po-fibre-tv"), products


def _ids(client: TestClient) -> set[str]:
    return {p["id"] for p in client.get(INVENTORY).json()}


def _bundle_of(client: TestClient, id: str, components: list[str], status: str = "active") -> None:
    created = client.post(INVENTORY, json={
        "id": id, "status": status, "isBundle": True, "productOffering": {"id": "po-fibre-tv"},
        "relatedParty": [{"id": "ana", "role": "owner", "@referredType": "Individual"}],
        "productRelationship": [{"relationshipType": "bundled", "product": {"id": c}} for c in components]})
    assert created.status_code == 201, created.text


def test_deleting_a_bundle_deletes_its_components_with_it(http: TestClient) -> None:
    bundle, parts = _bundle(http)
    other, _ = _bundle(http)  # another bundle of the same customer: untouched
    before = _ids(http)
    assert http.delete(f"{INVENTORY}/{bundle}").status_code == 204
    assert _ids(http) == before - {bundle, *parts.values()}
    for gone in (bundle, *parts.values()):
        assert http.get(f"{INVENTORY}/{gone}").status_code == 404
    assert http.get(f"{INVENTORY}/{other}").status_code == 200


def test_a_bundle_s_terminated_component_and_a_bundle_of_bundles_go_too(http: TestClient) -> None:
    bundle, parts = _bundle(http)
    assert http.patch(f"{INVENTORY}/{parts['po-tv']}", json={"status": "terminated"}, headers=MERGE).status_code == 200
    _bundle_of(http, "family-pack", [bundle])  # a bundle naming the bundle
    before = _ids(http)
    assert http.delete(f"{INVENTORY}/family-pack").status_code == 204
    assert _ids(http) == before - {"family-pack", bundle, *parts.values()}


def test_a_component_alone_is_not_deleted_and_its_bundle_is_named(http: TestClient) -> None:
    bundle, parts = _bundle(http)
    before = _ids(http)
    refused = http.delete(f"{INVENTORY}/{parts['po-tv']}")
    assert refused.status_code == 409, refused.text
    assert refused.json()["message"] == (f"Product '{parts['po-tv']}' is a component of bundle Product '{bundle}': "
                                         "delete the bundle, which deletes its components with it")
    assert _ids(http) == before


def test_a_bundle_whose_component_another_bundle_names_is_not_deleted(http: TestClient) -> None:
    bundle, parts = _bundle(http)
    _bundle_of(http, "other-pack", [parts["po-fibre"]], status="terminated")
    before = _ids(http)
    refused = http.delete(f"{INVENTORY}/{bundle}")
    assert refused.status_code == 409, refused.text
    assert refused.json()["message"] == (f"Product '{bundle}' is not deleted: component Product '{parts['po-fibre']}' "
                                         "is also a component of Product 'other-pack'")
    assert _ids(http) == before  # nothing half-deleted
    assert http.delete(f"{INVENTORY}/other-pack").status_code == 409  # the same component: refused both ways
    # the other bundle no longer names it: the bundle goes, with its components
    assert http.patch(f"{INVENTORY}/other-pack", json={"productRelationship": None}, headers=MERGE).status_code == 200
    assert http.delete(f"{INVENTORY}/{bundle}").status_code == 204
    assert _ids(http) == before - {bundle, *parts.values()}


def test_a_delete_that_fails_half_way_deletes_nothing(http: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle, parts = _bundle(http)
    before = _ids(http)
    calls: list[str] = []
    real = terminations.bump_rating_contexts

    def failing(uow: Any, kind: str, product_id: str, *documents: Any) -> None:
        calls.append(product_id)
        if len(calls) == 2:  # the bundle's row and the first component's are gone by now
            raise RuntimeError("the database went away")
        real(uow, kind, product_id, *documents)

    monkeypatch.setattr(terminations, "bump_rating_contexts", failing)
    with pytest.raises(RuntimeError, match="went away"):
        http.delete(f"{INVENTORY}/{bundle}")
    monkeypatch.undo()
    assert len(calls) == 2
    assert _ids(http) == before


def test_a_product_outside_any_bundle_is_deleted_alone_and_an_unknown_one_is_a_404(http: TestClient) -> None:
    _bundle(http)
    placed = http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "po-tv"}}]})
    for state in ("inProgress", "completed"):
        assert http.patch(f"{ORDER}/{placed.json()['id']}", json={"state": state}, headers=MERGE).status_code == 200
    [alone] = [p["id"] for p in http.get(INVENTORY).json()
               if p["productOrderItem"][0]["productOrderId"] == placed.json()["id"]]
    before = _ids(http)
    assert http.delete(f"{INVENTORY}/{alone}").status_code == 204
    assert _ids(http) == before - {alone}
    missing = http.delete(f"{INVENTORY}/nope")
    assert missing.status_code == 404 and missing.json()["message"] == "no Product with id 'nope'"
