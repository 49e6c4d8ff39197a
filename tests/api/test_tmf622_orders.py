"""TMF622 orders over HTTP on both tiers: refused with every violation (nothing stored),
valued, idempotent by externalId, moved through their states, completed into inventory;
and, on PostgreSQL, two concurrent orders of one party cannot both bring a forbidden pair."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft4Validator

from bssrules.services import catalog as services
from bssrules.api.orders import TMF622
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
PARTY, ACCOUNT, INVENTORY = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4", "/tmf-api/productInventory/v4"
MERGE = {"content-type": "application/merge-patch+json"}
CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]


def _check(response: Any) -> Any:
    if response.request.url.path.startswith(ORDER):
        body = response.json()
        name = "Error" if response.status_code >= 400 else "ProductOrder"
        schema: dict[str, Any] = {"definitions": TMF622.definitions, "$ref": f"#/definitions/{name}"}
        if isinstance(body, list):
            schema = {"definitions": TMF622.definitions, "type": "array", "items": {"$ref": f"#/definitions/{name}"}}
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(schema).iter_errors(body)]
        assert not errors, f"{response.request.url.path} breaks {name}: {errors}"
    return response


def _empty(engine: Any) -> None:
    from bssrules.store.tables import metadata

    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def _app_client(engine: Any) -> Any:
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    client = TestClient(create_app(engine=engine))
    client.event_hooks["response"] = [lambda r: (r.read(), _check(r))]
    return client


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    with _app_client(engine) as client:
        assert client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}
                           ).status_code == 201
        assert client.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}).status_code == 201
        yield client


def _item(id: str, offering: str, characteristics: dict[str, Any] | None = None,
          resources: list[str] | None = None) -> dict[str, Any]:
    product: dict[str, Any] = {}
    if characteristics:
        product["productCharacteristic"] = [{"name": k, "value": v, "@type": "Characteristic"}
                                            for k, v in characteristics.items()]
    if resources:
        product["realizingResource"] = [{"id": r} for r in resources]
    return {"id": id, "action": "add", "quantity": 1, "productOffering": {"id": offering},
            **({"product": product} if product else {})}


PLAN_SMALL = _item("1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"])
SMARTPHONE = _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"])


def _order(**extra: Any) -> dict[str, Any]:
    return {"relatedParty": CUSTOMER, "requestedStartDate": "2026-09-01", "productOrderItem": [PLAN_SMALL, SMARTPHONE],
            **extra}


def _move(http: Any, order_id: str, state: str) -> Any:
    return http.patch(f"{ORDER}/{order_id}", json={"state": state}, headers=MERGE)


def test_an_order_that_breaks_the_rules_is_refused_with_every_violation_and_nothing_is_stored(http: Any) -> None:
    plan_large = _item("1", "mobile-telephony-plan", {"simFormFactor": "LARGE"}, ["sim-large"])
    response = http.post(ORDER, json=_order(productOrderItem=[plan_large, SMARTPHONE]))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "orderRejected"
    assert {(v["rule"], v["path"]) for v in body["violation"]} == {
        ("smartphone-needs-small-sim", "$.productOrderItem[1]"), ("smartphone-refuses-large-sim", "$.productOrderItem[1]")}
    assert http.get(ORDER).json() == []
    assert http.get(f"{INVENTORY}/product").json() == []


def test_an_accepted_order_is_acknowledged_with_its_value(http: Any) -> None:
    response = http.post(ORDER, json=_order())
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["state"] == "acknowledged"
    totals = {(t["priceType"], t.get("recurringChargePeriod")): t["price"]["taxIncludedAmount"]["value"]
              for t in order["orderTotalPrice"]}
    assert totals == {("oneTime", None): 259, ("recurring", "month"): 19.9}  # 10.00 SIM + 249.00 phone; 19.90/month
    prices = {p["productOfferingPrice"]["id"] for i in order["productOrderItem"] for p in i.get("itemPrice", [])}
    assert prices == {"mobile-monthly", "sim-fee", "smartphone-price"}


def test_the_same_external_id_twice_yields_one_order_and_other_content_is_a_conflict(http: Any) -> None:
    first = http.post(ORDER, json=_order(externalId="portal-42"))
    again = http.post(ORDER, json=_order(externalId="portal-42"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert http.post(ORDER, json=_order(externalId="portal-42", description="other")).status_code == 409
    assert len(http.get(ORDER).json()) == 1


def test_an_order_moves_through_its_states_and_completion_creates_the_inventory(http: Any) -> None:
    order_id = http.post(ORDER, json=_order()).json()["id"]
    refused = _move(http, order_id, "completed")
    assert refused.status_code == 409 and "acknowledged cannot become completed" in refused.json()["message"]
    assert _move(http, order_id, "inProgress").json()["state"] == "inProgress"
    completed = _move(http, order_id, "completed").json()
    assert completed["state"] == "completed" and completed["completionDate"]
    products = http.get(f"{INVENTORY}/product", params={"relatedParty.id": "ana"}).json()
    by_offering = {p["productOffering"]["id"]: p for p in products}
    assert set(by_offering) == {"mobile-telephony-plan", "smartphone"}
    plan = by_offering["mobile-telephony-plan"]
    assert plan["status"] == "active" and plan["billingAccount"] == {"id": "ba-ana"}
    # the chosen form factor, and the default of the free minutes not chosen
    assert {c["name"]: c["value"] for c in plan["productCharacteristic"]} == {"simFormFactor": "SMALL",
                                                                              "freeMinutes": 100}
    assert _move(http, order_id, "cancelled").status_code == 409  # completed is final


def test_an_acknowledged_order_can_be_cancelled_and_creates_nothing(http: Any) -> None:
    order_id = http.post(ORDER, json=_order()).json()["id"]
    cancelled = _move(http, order_id, "cancelled").json()
    assert cancelled["state"] == "cancelled" and cancelled["cancellationDate"]
    assert http.get(f"{INVENTORY}/product").json() == []
    assert http.patch(f"{ORDER}/{order_id}", json={"description": "x"}, headers=MERGE).status_code == 400


def test_completion_fails_the_order_when_the_inventory_changed_meanwhile(http: Any) -> None:
    std = http.post(ORDER, json=_order(productOrderItem=[PLAN_SMALL, _item("2", "ipad-mini-std",
                                                                            {"memorySize": "16GB"})])).json()["id"]
    deluxe = http.post(ORDER, json=_order(productOrderItem=[PLAN_SMALL, _item("2", "ipad-mini-deluxe",
                                                                              {"memorySize": "32GB"})])).json()["id"]
    for order_id in (std, deluxe):
        _move(http, order_id, "inProgress")
    assert _move(http, std, "completed").json()["state"] == "completed"
    failed = _move(http, deluxe, "completed").json()
    assert failed["state"] == "failed"
    assert any("ipad-mini-std" in note["text"] for note in failed["note"])
    offerings = sorted(p["productOffering"]["id"] for p in http.get(f"{INVENTORY}/product").json())
    assert offerings == ["ipad-mini-std", "mobile-telephony-plan"]  # nothing of the failed order


@pytest.mark.postgres
def test_two_concurrent_completions_cannot_both_bring_a_forbidden_pair_on_postgresql(
        _postgres_engine: Any) -> None:
    engine = _postgres_engine
    _empty(engine)
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    with _app_client(engine) as http:
        http.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"})
        std = http.post(ORDER, json=_order(productOrderItem=[PLAN_SMALL, _item("2", "ipad-mini-std")])).json()["id"]
        deluxe = http.post(ORDER, json=_order(productOrderItem=[PLAN_SMALL, _item("2", "ipad-mini-deluxe")])
                           ).json()["id"]
        for order_id in (std, deluxe):
            assert _move(http, order_id, "inProgress").status_code == 200
        barrier, states = threading.Barrier(2), {}

        def complete(order_id: str) -> None:
            with _app_client(engine) as own:
                barrier.wait()
                states[order_id] = _move(own, order_id, "completed").json()["state"]

        threads = [threading.Thread(target=complete, args=(o,)) for o in (std, deluxe)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(states.values()) == ["completed", "failed"]
        ipads = [p for p in http.get(f"{INVENTORY}/product").json()
                 if p["productOffering"]["id"].startswith("ipad-mini")]
        assert len(ipads) == 1
    _empty(engine)
