"""An order's ``externalId`` is the orderer's own reference (TMF622, authentication on, both
tiers): two partners may both send ``EXT-1`` — the second was refused 409 "externalId 'EXT-1'
is already in use", which also told it that another partner's order had that reference — and
one partner sending it twice still gets its first order back (the same content) or 409 (other
content), as the operator does with its own."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, text

from tests.api.test_partners_auth import EVERY_TMF_API, ORDER, PLAN_SMALL, Api, _customer, _load, api  # noqa: F401

CUSTOMER = "Individual"


def _order(party: str, external_id: str, **extra: Any) -> dict[str, Any]:
    return {"externalId": external_id, "productOrderItem": [PLAN_SMALL],
            "relatedParty": [{"id": party, "role": "customer", "@referredType": CUSTOMER}], **extra}


@pytest.fixture
def partners(engine: Engine, api: Api) -> Iterator[tuple[Api, str, str]]:
    _load(engine, "devices", "roaming")
    every = [{"name": n} for n in EVERY_TMF_API]
    pa, pb = api.partner("pa", every), api.partner("pb", every)
    for key, who in ((pa, "a"), (pb, "b"), (api.admin_key, "op")):
        _customer(api, key, f"cust-{who}", f"ba-{who}")
    yield api, pa, pb


def test_two_partners_may_use_the_same_external_id(partners: tuple[Api, str, str]) -> None:
    api, pa, pb = partners
    of_a = api.ok("POST", ORDER, pa, _order("cust-a", "EXT-1"))
    of_b = api.ok("POST", ORDER, pb, _order("cust-b", "EXT-1"))
    of_operator = api.ok("POST", ORDER, api.admin_key, _order("cust-op", "EXT-1"))
    assert len({of_a["id"], of_b["id"], of_operator["id"]}) == 3
    assert [o["id"] for o in api.ok("GET", ORDER, pb, params={"externalId": "EXT-1"})] == [of_b["id"]]
    assert [o["id"] for o in api.ok("GET", ORDER, pa, params={"externalId": "EXT-1"})] == [of_a["id"]]


def test_one_partner_sending_its_external_id_again_gets_its_order_or_a_conflict(
        partners: tuple[Api, str, str]) -> None:
    api, pa, pb = partners
    first = api.ok("POST", ORDER, pa, _order("cust-a", "EXT-1"))
    again = api.ok("POST", ORDER, pa, _order("cust-a", "EXT-1"), status=200)
    assert again["id"] == first["id"]
    other = api.call("POST", ORDER, pa, json_body=_order("cust-a", "EXT-1", description="other"))
    assert other.status_code == 409, other.text
    assert other.json()["message"] == "an order with externalId 'EXT-1' already exists with other content"
    assert len(api.ok("GET", ORDER, pa)) == 1
    assert api.ok("GET", ORDER, pb) == []


def test_an_external_id_longer_than_kept_is_refused(partners: tuple[Api, str, str]) -> None:
    api, pa, _ = partners
    refused = api.call("POST", ORDER, pa, json_body=_order("cust-a", "x" * 201))
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"] == "externalId has at most 200 characters; this one has 201"
    api.ok("POST", ORDER, pa, _order("cust-a", "x" * 200))



def test_an_order_kept_before_references_were_the_orderers_is_still_found_by_its_orderer(
        partners: tuple[Api, str, str], engine: Engine) -> None:
    api, pa, pb = partners
    first = api.ok("POST", ORDER, pa, _order("cust-a", "EXT-1"))
    with engine.begin() as connection:  # as the store kept it before: the bare reference
        connection.execute(text("UPDATE resource SET external_id = 'EXT-1' WHERE kind = 'productOrder'"))
    assert api.ok("POST", ORDER, pa, _order("cust-a", "EXT-1"), status=200)["id"] == first["id"]
    assert api.ok("POST", ORDER, pb, _order("cust-b", "EXT-1"))["id"] != first["id"]
