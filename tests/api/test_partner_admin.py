"""Partner administration over HTTP, authentication ON: changing a partner's API bundle takes
effect on its next request (no worker keeps a copy), what may change is checked, and hub
registration is an operation of its own (``subscribe``) in a bundle.

Expected values are written here, not derived from the code under test."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_partners_auth import PARTNER, Api, _forbidden, api

TICKETS = "/tmf-api/troubleTicket/v4/troubleTicket"
TICKET_HUB = "/tmf-api/troubleTicket/v4/hub"
CATALOG = "/tmf-api/productCatalogManagement/v4/productOffering"


def _patch(api: Api, id: str, body: dict[str, Any], key: str | None = None) -> Any:
    return api.call("PATCH", f"{PARTNER}/{id}", key or api.admin_key, json_body=body)


def test_a_changed_bundle_holds_from_the_next_request_and_the_keys_stay(api: Api) -> None:
    key = api.partner("garage", [{"name": "TMF620", "operations": ["list"]}])
    assert api.call("GET", CATALOG, key).status_code == 200
    assert api.call("GET", TICKETS, key).json() == _forbidden(
        "the API bundle of partner 'garage' does not include list on TMF621")

    changed = _patch(api, "garage", {"apiBundle": {"name": "garage-tickets", "api": [
        {"name": "TMF621", "operations": ["list", "retrieve"]}]}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["apiBundle"] == {"name": "garage-tickets", "api": [
        {"name": "TMF621", "operations": ["list", "retrieve"]}]}
    assert [k["id"] for k in changed.json()["key"]] == [key.split("_")[1]]
    assert "apiKey" not in changed.json() and all("hash" not in k for k in changed.json()["key"])

    assert api.call("GET", TICKETS, key).status_code == 200  # the same key, the new bundle
    assert api.call("GET", CATALOG, key).json() == _forbidden(
        "the API bundle of partner 'garage' does not include list on TMF620")
    assert api.ok("GET", f"{PARTNER}/garage", api.admin_key)["apiBundle"]["name"] == "garage-tickets"


def test_a_patch_changes_only_what_it_names_and_null_removes_the_description(api: Api) -> None:
    api.partner("garage", [{"name": "TMF620"}])
    before = api.ok("GET", f"{PARTNER}/garage", api.admin_key)
    after = _patch(api, "garage", {"name": "Garage Dupont", "channel": ["garage-shop"], "description": "a garage"})
    assert after.status_code == 200, after.text
    expected = {**before, "name": "Garage Dupont", "channel": ["garage-shop"], "description": "a garage"}
    assert after.json() == expected
    removed = _patch(api, "garage", {"description": None})
    assert removed.status_code == 200 and "description" not in removed.json()
    assert removed.json()["name"] == "Garage Dupont" and removed.json()["apiBundle"] == before["apiBundle"]


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"role": "admin"}, 400, "unsupported field 'role' in a Partner patch"),
    ({"id": "other"}, 400, "unsupported field 'id' in a Partner patch"),
    ({"key": []}, 400, "unsupported field 'key' in a Partner patch"),
    ({"apiBundel": {}}, 400, "did you mean 'apiBundle'"),
    ({"apiBundle": {"api": []}}, 400, "apiBundle needs api"),
    ({"apiBundle": {"api": [{"name": "TMF999"}]}}, 400, "unknown API 'TMF999'"),
    ({"apiBundle": {"api": [{"name": "TMF621", "operations": ["subscrbe"]}]}}, 400, "unknown operation 'subscrbe'"),
    ({"name": ""}, 400, "name is required"),
    ({"channel": "garage-shop"}, 400, "channel is a list"),
    ({"party": {"id": "nobody"}}, 422, "party.id: no individual or organization 'nobody'"),
    ({"party": "nobody"}, 400, "party is {id, @referredType}"),
    ({"party": {"id": "nobody", "role": "owner"}}, 400, "party is {id, @referredType}"),
])
def test_a_wrong_patch_is_refused_and_changes_nothing(api: Api, body: dict[str, Any], status: int, message: str) -> None:
    api.partner("garage", [{"name": "TMF620"}])
    before = api.ok("GET", f"{PARTNER}/garage", api.admin_key)
    response = _patch(api, "garage", body)
    assert response.status_code == status, response.text
    assert message in response.json()["message"], response.json()
    assert api.ok("GET", f"{PARTNER}/garage", api.admin_key) == before


def test_only_the_administrator_changes_a_partner_and_an_unknown_one_is_a_404(api: Api) -> None:
    key = api.partner("garage", [{"name": "partner"}])  # even with the partner API in its bundle
    response = _patch(api, "garage", {"apiBundle": {"api": [{"name": "TMF620"}, {"name": "TMF622"}]}}, key=key)
    assert (response.status_code, response.json()) == (403, _forbidden("only an administrator manages partners"))
    assert api.ok("GET", f"{PARTNER}/garage", api.admin_key)["apiBundle"]["api"] == [
        {"name": "partner", "operations": ["list", "retrieve", "create", "patch", "delete", "subscribe"]}]
    missing = _patch(api, "nobody", {"name": "x"})
    assert missing.status_code == 404 and missing.json()["message"] == "no Partner with id 'nobody'"


def test_registering_a_hub_needs_subscribe_not_create(api: Api) -> None:
    hub = {"callback": "http://127.0.0.1:9/events"}
    writer = api.partner("writer", [{"name": "TMF621", "operations": ["list", "retrieve", "create", "patch"]}])
    listener = api.partner("listener", [{"name": "TMF621", "operations": ["list", "retrieve", "subscribe"]}])
    refused = api.call("POST", TICKET_HUB, writer, json_body=hub)
    assert (refused.status_code, refused.json()) == (403, _forbidden(
        "the API bundle of partner 'writer' does not include subscribe on TMF621"))
    registered = api.call("POST", TICKET_HUB, listener, json_body=hub)
    assert registered.status_code == 201, registered.text
    assert api.call("POST", TICKETS, listener, json_body={
        "description": "x", "severity": "minor", "ticketType": "complaint"}).json() == _forbidden(
        "the API bundle of partner 'listener' does not include create on TMF621")
    # removing the hub is subscribe too
    assert api.call("DELETE", f"{TICKET_HUB}/{registered.json()['id']}", writer).status_code == 403
    assert api.call("DELETE", f"{TICKET_HUB}/{registered.json()['id']}", listener).status_code == 204


def test_a_partner_acts_for_a_party_from_a_patch_until_a_null(api: Api) -> None:
    api.ok("POST", "/tmf-api/party/v4/organization", api.admin_key, {"id": "garage-org", "name": "Garage",
                                                                      "tradingName": "Garage"})
    api.partner("garage", [{"name": "TMF678"}])
    acting = _patch(api, "garage", {"party": {"id": "garage-org"}})
    assert acting.status_code == 200, acting.text
    assert acting.json()["party"] == {"id": "garage-org", "@referredType": "Organization"}
    wrong = _patch(api, "garage", {"party": {"id": "garage-org", "@referredType": "Individual"}})
    assert (wrong.status_code, wrong.json()["message"]) == (400, "party.@referredType: 'garage-org' is an Organization")
    assert api.ok("GET", f"{PARTNER}/garage", api.admin_key)["party"]["id"] == "garage-org"
    assert "party" not in _patch(api, "garage", {"party": None}).json()
    assert "party" not in api.ok("GET", f"{PARTNER}/garage", api.admin_key)
