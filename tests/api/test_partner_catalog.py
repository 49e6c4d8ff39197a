"""The central catalog seen by each partner (TMF620 with authentication ON, both tiers), over
the connected-car example.

A partner sees the partner-eligible offerings (data-5gb), those sold through its ``channel``s
and those it created; what it cannot see is a 404 — to read, change or delete — and absent
from its lists. It creates offerings of its own and changes only those: changing anything
else it can see is a 403. The operator sees and changes everything.

Every TMF620 response is checked against the strict official contract of tests/api/tmf_contract.py.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.services import catalog as services
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork
from tests.api.session_app import ADMIN_KEY, keyed_app_on_engine

try:  # tests/api on sys.path (pytest's rootdir-less default)
    from tmf_contract import BASE_PATH, check_response
except ImportError:  # pragma: no cover - tests/api as a package
    from .tmf_contract import BASE_PATH, check_response  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[2]
OFFERING, PRICE, CATEGORY = f"{BASE_PATH}/productOffering", f"{BASE_PATH}/productOfferingPrice", \
    f"{BASE_PATH}/category"
PARTNER = "/tmf-api/partnerManagement/v4/partner"
MERGE = "application/merge-patch+json"
EVERY_OFFERING = ["car-connectivity-b2b", "data-5gb", "infotainment-connectivity", "music-5gb", "music-access",
                  "split-billing-option"]
CHANNELS = {"garage": [], "car-maker": ["car-maker-portal"], "content-provider": ["content-provider-app"],
            "csp-retail": ["csp-b2b-portal", "csp-shop"]}
VIEWS = {  # written by hand from examples/connected_car/catalog/offerings.yaml
    "garage": ["data-5gb"],
    "car-maker": ["data-5gb", "infotainment-connectivity", "music-5gb"],
    "content-provider": ["data-5gb", "music-5gb", "music-access"],
    "csp-retail": ["car-connectivity-b2b", "data-5gb", "music-5gb", "split-billing-option"],
    "admin": EVERY_OFFERING,
}


def _check(response: Any) -> None:
    response.read()
    assert response.status_code < 500, response.text
    if response.request.url.path.startswith(BASE_PATH):
        check_response(response)


class World:
    def __init__(self, engine: Engine, app: Any):
        self.admin = ADMIN_KEY
        self.client = TestClient(app)
        self.client.event_hooks["response"] = [_check]
        self.keys: dict[str, str] = {}

    def call(self, method: str, path: str, who: str, body: Any = None, params: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.admin if who == 'admin' else self.keys[who]}"}
        if body is not None:
            headers["content-type"] = MERGE if method == "PATCH" else "application/json"
            return self.client.request(method, path, headers=headers, content=json.dumps(body), params=params)
        return self.client.request(method, path, headers=headers, params=params)

    def ok(self, method: str, path: str, who: str, body: Any = None, status: int | None = None,
           params: Any = None) -> Any:
        response = self.call(method, path, who, body, params)
        wanted = status or {"POST": 201, "DELETE": 204}.get(method, 200)
        assert response.status_code == wanted, f"{who}: {method} {path} → {response.status_code}: {response.text}"
        return response.json() if response.content else None

    def error(self, method: str, path: str, who: str, body: Any = None) -> tuple[int, str, str]:
        response = self.call(method, path, who, body)
        assert response.status_code >= 400, f"{who}: {method} {path} → {response.status_code}: {response.text}"
        return response.status_code, response.json()["code"], response.json()["message"]

    def offerings(self, who: str, **params: str) -> list[str]:
        response = self.call("GET", OFFERING, who, params={"limit": "100", **params})
        assert response.status_code == 200, response.text
        ids = [o["id"] for o in response.json()]
        assert response.headers["X-Total-Count"] == str(len(ids))
        return ids


@pytest.fixture
def world(engine: Engine, keyed_app_on_engine: Any) -> Iterator[World]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "connected_car"), "connected_car")
    world = World(engine, keyed_app_on_engine)
    with world.client:
        for partner, channels in CHANNELS.items():
            world.keys[partner] = world.ok("POST", PARTNER, "admin", {
                "id": partner, "name": partner, "channel": channels,
                "apiBundle": {"name": "catalog", "api": [{"name": "TMF620"}]}})["apiKey"]
        yield world


def _new_offering(id: str, **more: Any) -> dict[str, Any]:
    return {"id": id, "name": f"Offering {id}", "productSpecification": {"id": "data-download"},
            "channel": [{"id": "garage-shop"}], "category": [{"id": "partner-building-blocks"}], **more}


def _not_found(id: str) -> tuple[int, str, str]:
    return 404, "notFound", f"no ProductOffering with id '{id}'"


def _forbidden(kind: str, id: str) -> tuple[int, str, str]:
    return 403, "forbidden", (f"{kind} '{id}' is not yours to change: a partner changes only what it created")


# ----------------------------------------------------------------------------- views


@pytest.mark.parametrize("who", list(VIEWS))
def test_each_partner_sees_the_partner_eligible_offerings_and_those_of_its_channels(world: World,
                                                                                  who: str) -> None:
    assert world.offerings(who) == VIEWS[who]
    for id_ in EVERY_OFFERING:
        if id_ in VIEWS[who]:
            assert world.ok("GET", f"{OFFERING}/{id_}", who)["id"] == id_
        else:
            assert world.error("GET", f"{OFFERING}/{id_}", who) == _not_found(id_)


def test_filters_and_pages_keep_to_the_partners_view(world: World) -> None:
    assert world.offerings("car-maker", **{"category.id": "converged"}) == ["music-5gb"]
    assert world.offerings("content-provider", **{"category.id": "converged"}) == ["music-5gb", "music-access"]
    assert world.offerings("garage", id="music-access") == []
    assert world.offerings("garage", lifecycleStatus="Active") == ["data-5gb"]
    response = world.call("GET", OFFERING, "csp-retail", params={"limit": "2", "offset": "1"})
    assert [o["id"] for o in response.json()] == ["data-5gb", "music-5gb"]
    assert (response.headers["X-Total-Count"], response.headers["X-Result-Count"]) == ("4", "2")


def test_other_kinds_than_offerings_are_everyones_to_read(world: World) -> None:
    assert world.ok("GET", f"{PRICE}/music-access-monthly", "garage")["id"] == "music-access-monthly"
    assert world.ok("GET", f"{BASE_PATH}/productSpecification/music-streaming", "garage")["id"] == "music-streaming"


# ----------------------------------------------------------------------------- own offerings


def test_a_partner_creates_offerings_of_its_own_that_others_do_not_see(world: World) -> None:
    created = world.ok("POST", OFFERING, "garage", _new_offering("garage-wifi"))
    assert (created["id"], created["name"], created["partnerEligible"]) == ("garage-wifi", "Offering garage-wifi",
                                                                            False)
    assert world.offerings("garage") == ["data-5gb", "garage-wifi"]
    assert world.ok("GET", f"{OFFERING}/garage-wifi", "garage") == created
    assert world.ok("GET", f"{OFFERING}/garage-wifi", "admin") == created
    for other in ("car-maker", "content-provider", "csp-retail"):
        assert world.error("GET", f"{OFFERING}/garage-wifi", other) == _not_found("garage-wifi")
        assert "garage-wifi" not in world.offerings(other)
    assert world.offerings("admin") == sorted(EVERY_OFFERING + ["garage-wifi"])

    patched = world.ok("PATCH", f"{OFFERING}/garage-wifi", "garage", {"name": "Garage Wi-Fi"})
    assert (patched["name"], patched["version"]) == ("Garage Wi-Fi", "2")
    world.ok("DELETE", f"{OFFERING}/garage-wifi", "garage")
    assert world.error("GET", f"{OFFERING}/garage-wifi", "garage") == _not_found("garage-wifi")
    assert world.offerings("admin") == EVERY_OFFERING


def test_an_offering_a_partner_makes_partner_eligible_is_seen_by_all_but_changed_only_by_it(world: World) -> None:
    world.ok("POST", OFFERING, "garage", _new_offering("garage-tyres", partnerEligible=True))
    for who in ("car-maker", "content-provider", "csp-retail"):
        assert "garage-tyres" in world.offerings(who)
        assert world.error("PATCH", f"{OFFERING}/garage-tyres", who, {"name": "mine"}) == _forbidden(
            "ProductOffering", "garage-tyres")
        assert world.error("DELETE", f"{OFFERING}/garage-tyres", who) == _forbidden("ProductOffering",
                                                                                    "garage-tyres")
    assert world.ok("GET", f"{OFFERING}/garage-tyres", "car-maker")["name"] == "Offering garage-tyres"
    # the operator changes anything
    assert world.ok("PATCH", f"{OFFERING}/garage-tyres", "admin", {"name": "Tyres"})["name"] == "Tyres"


def test_an_offering_sold_through_a_partners_channel_is_visible_not_its_own(world: World) -> None:
    # the car maker created it for the content provider's app: the content provider sees it
    world.ok("POST", OFFERING, "car-maker", _new_offering("car-radio", channel=[{"id": "content-provider-app"}]))
    assert world.offerings("content-provider") == ["car-radio", "data-5gb", "music-5gb", "music-access"]
    assert world.offerings("car-maker") == ["car-radio", "data-5gb", "infotainment-connectivity", "music-5gb"]
    assert world.error("PATCH", f"{OFFERING}/car-radio", "content-provider", {"name": "x"}) == _forbidden(
        "ProductOffering", "car-radio")
    assert world.error("GET", f"{OFFERING}/car-radio", "garage") == _not_found("car-radio")


# ----------------------------------------------------------------------------- 403 and 404


@pytest.mark.parametrize("who, id_", [("garage", "data-5gb"), ("car-maker", "music-5gb"),
                                      ("car-maker", "infotainment-connectivity"),
                                      ("content-provider", "music-access")])
def test_changing_a_visible_offering_of_someone_else_is_forbidden(world: World, who: str, id_: str) -> None:
    before = world.ok("GET", f"{OFFERING}/{id_}", "admin")
    assert world.error("PATCH", f"{OFFERING}/{id_}", who, {"name": "taken over"}) == _forbidden(
        "ProductOffering", id_)
    assert world.error("DELETE", f"{OFFERING}/{id_}", who) == _forbidden("ProductOffering", id_)
    assert world.ok("GET", f"{OFFERING}/{id_}", "admin") == before


@pytest.mark.parametrize("who, id_", [("garage", "music-5gb"), ("car-maker", "music-access"),
                                      ("content-provider", "car-connectivity-b2b"),
                                      ("csp-retail", "infotainment-connectivity"), ("garage", "no-such-offering")])
def test_an_offering_a_partner_cannot_see_is_a_404_to_change_or_delete(world: World, who: str, id_: str) -> None:
    assert world.error("PATCH", f"{OFFERING}/{id_}", who, {"name": "x"}) == _not_found(id_)
    assert world.error("DELETE", f"{OFFERING}/{id_}", who) == _not_found(id_)
    if id_ in EVERY_OFFERING:
        assert world.ok("GET", f"{OFFERING}/{id_}", "admin")["name"] != "x"


def test_a_partner_changes_only_the_prices_it_created(world: World) -> None:
    assert world.error("PATCH", f"{PRICE}/data-5gb-monthly", "garage", {"name": "cheap"}) == _forbidden(
        "ProductOfferingPrice", "data-5gb-monthly")
    created = world.ok("POST", PRICE, "garage", {"id": "garage-monthly", "name": "Garage per month",
                                                 "priceType": "recurring", "recurringChargePeriodType": "month",
                                                 "price": {"unit": "EUR", "value": 3.5}})
    assert created["id"] == "garage-monthly"
    assert world.ok("GET", f"{PRICE}/garage-monthly", "car-maker")["name"] == "Garage per month"
    assert world.error("PATCH", f"{PRICE}/garage-monthly", "car-maker", {"name": "x"}) == _forbidden(
        "ProductOfferingPrice", "garage-monthly")
    assert world.ok("PATCH", f"{PRICE}/garage-monthly", "garage", {"price": {"value": 4}})["price"] == {
        "unit": "EUR", "value": 4}
    world.ok("POST", OFFERING, "garage", _new_offering("garage-wash", productOfferingPrice=[{"id": "garage-monthly"}]))
    assert [p["id"] for p in world.ok("GET", f"{OFFERING}/garage-wash", "garage")["productOfferingPrice"]] == [
        "garage-monthly"]


def test_a_partner_cannot_take_an_existing_id(world: World) -> None:
    assert world.error("POST", OFFERING, "garage", _new_offering("data-5gb")) == (
        409, "conflict", "a ProductOffering with id 'data-5gb' already exists")
    assert world.ok("GET", f"{OFFERING}/data-5gb", "admin")["name"] == "5 GB data download"


# ----------------------------------------------------------------------------- leaks


def test_a_category_lists_only_the_offerings_the_partner_sees(world: World) -> None:
    converged = world.ok("GET", f"{CATEGORY}/converged", "garage")
    assert [o["id"] for o in converged.get("productOffering", [])] == []
    blocks = world.ok("GET", f"{CATEGORY}/partner-building-blocks", "garage")
    assert [o["id"] for o in blocks["productOffering"]] == ["data-5gb"]


def test_a_partner_cannot_bundle_an_offering_it_cannot_see(world: World) -> None:
    body = _new_offering("garage-music", bundledProductOffering=[{"id": "music-access"}, {"id": "data-5gb"}])
    status, code, _ = world.error("POST", OFFERING, "garage", body)
    assert (status, code) == (422, "unknownReference")
    assert world.ok("GET", OFFERING, "admin", params={"id": "garage-music"}) == []
