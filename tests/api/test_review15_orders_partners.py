"""Two partners ordering through one CSP (TMF622, authentication on): what one partner's
order names of the other's stays the other's. Expected values are written here."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from tests.api.test_partners_auth import ACCOUNT, EVERY_TMF_API, INVENTORY, ORDER, PARTY, Api, _load, api  # noqa: F401

PLAN = {"id": "1", "action": "add", "productOffering": {"id": "mobile-telephony-plan"},
        "product": {"productCharacteristic": [{"name": "simFormFactor", "value": "SMALL"}],
                    "realizingResource": [{"id": "sim-small"}]}}


@pytest.fixture
def partners(engine: Engine, api: Api) -> tuple[str, str]:
    _load(engine, "devices")
    every = [{"name": n} for n in EVERY_TMF_API]
    first, second = api.partner("first", every), api.partner("second", every)
    api.ok("POST", f"{PARTY}/individual", first, {"id": "ana", "givenName": "Ana", "familyName": "S"})
    api.ok("POST", f"{PARTY}/individual", second, {"id": "bob", "givenName": "Bob", "familyName": "T"})
    api.ok("POST", f"{ACCOUNT}/billingAccount", second, {"id": "ba-bob", "name": "Bob", "relatedParty": [
        {"id": "bob", "name": "Bob", "role": "owner", "@referredType": "Individual"}]})
    return first, second


@pytest.mark.parametrize("other", ["bob", "nobody"])
def test_an_order_naming_a_party_its_partner_cannot_see_is_refused_and_bills_nobody(
        api: Api, partners: tuple[str, str], other: str) -> None:
    """Was: accepted; another partner's customer (bob), named as the owner, had his account
    billed for the first partner's order, and saw its product; an id naming nobody was
    written on the product as a related party."""
    first, second = partners
    refused = api.call("POST", ORDER, first, json_body={"relatedParty": [
        {"id": "ana", "role": "buyer", "@referredType": "Individual"},
        {"id": other, "role": "owner", "@referredType": "Individual"}], "productOrderItem": [PLAN]})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "unknownReference"
    assert refused.json()["message"] == (f"relatedParty[1].id: no individual or organization '{other}' is found "
                                         "or visible to you")
    assert api.ok("GET", ORDER, first) == [] and api.ok("GET", ORDER, api.admin_key) == []
    assert api.ok("GET", INVENTORY, second) == []


def test_an_order_naming_its_own_parties_is_placed_and_billed_to_them(api: Api, partners: tuple[str, str]) -> None:
    first, _ = partners
    api.ok("POST", f"{PARTY}/individual", first, {"id": "ana-mother", "givenName": "M", "familyName": "S"})
    api.ok("POST", f"{ACCOUNT}/billingAccount", first, {"id": "ba-mother", "name": "M", "relatedParty": [
        {"id": "ana-mother", "name": "M", "role": "owner", "@referredType": "Individual"}]})
    order = api.ok("POST", ORDER, first, {"relatedParty": [
        {"id": "ana", "role": "buyer", "@referredType": "Individual"},
        {"id": "ana-mother", "role": "owner", "@referredType": "Individual"}], "productOrderItem": [PLAN]})
    for state in ("inProgress", "completed"):
        api.ok("PATCH", f"{ORDER}/{order['id']}", api.admin_key, {"state": state})
    [product] = api.ok("GET", INVENTORY, first)
    assert product["billingAccount"] == {"id": "ba-mother"}
