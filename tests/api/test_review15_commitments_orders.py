"""A delete item is valued where completing the order terminates its product (TMF622, both
tiers; a CSP product manager's review of services.terminations): at the item's own
``requestedStartDate``, else the order's, else now. The item's date was passed over when the
order was placed: a bundle ordered terminated on 31 January 2027 (the end of its TV's term)
by an order dated 16 July 2026 was shown 80.00 + 277.26 + 50.00 = 407.26 and, completed,
charged 80.00 + 180.00 = 260.00."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_commitments import CUSTOMER, INVENTORY, MERGE, ORDER, http  # noqa: F401  (the fixture)


def _complete(client: TestClient, placed: Any) -> None:
    assert placed.status_code == 201, placed.text
    for state in ("inProgress", "completed"):
        moved = client.patch(f"{ORDER}/{placed.json()['id']}", json={"state": state}, headers=MERGE)
        assert moved.status_code == 200 and moved.json()["state"] == state, moved.text


def _bundle(client: TestClient, start: str) -> dict[str, str]:
    """A fibre-and-TV bundle ordered to start at ``start``: its products' ids by offering."""
    placed = client.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": start, "productOrderItem": [
        {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "po-fibre-tv"}, "productOrderItem": [
            {"id": "1.1", "action": "add", "quantity": 1, "productOffering": {"id": "po-fibre-24"}},
            {"id": "1.2", "action": "add", "quantity": 1, "productOffering": {"id": "po-tv-12"}}]}]})
    _complete(client, placed)
    return {p["productOffering"]["id"]: p["id"] for p in client.get(INVENTORY).json()
            if p["productOrderItem"][0]["productOrderId"] == placed.json()["id"]}


def _values(prices: list[dict[str, Any]]) -> list[Decimal]:
    return [Decimal(str(p["price"]["taxIncludedAmount"]["value"])) for p in prices]


def test_a_delete_item_is_valued_at_its_own_requested_date_as_it_is_charged(http: TestClient) -> None:
    ids = _bundle(http, "2026-01-31")
    placed = http.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": "2026-07-16", "productOrderItem": [
        {"id": "1", "action": "delete", "product": {"id": ids["po-fibre-tv"]},
         "requestedStartDate": "2027-01-31T00:00:00Z"}]})
    assert placed.status_code == 201, placed.text
    # on 31 January 2027: the bundle's fixed 80.00; the fibre's half of what is left to 31 January
    # 2028 (1 of January's 31 days, 0.97; 11 x 30.00; 30 of January 2028's 31, 29.03: 360.00): 180.00;
    # the TV's 12 months are over, nothing
    shown = _values(placed.json()["productOrderItem"][0]["itemPrice"])
    assert shown == [Decimal("80.00"), Decimal("180.00")]
    assert placed.json()["orderTotalPrice"] == [{"priceType": "oneTime",
                                                 "price": {"taxIncludedAmount": {"unit": "EUR", "value": 260.00}}}]
    _complete(http, placed)
    charged = [c for product_id in ids.values()
               for c in json.loads(http.get(f"{INVENTORY}/{product_id}").text)["productPrice"]
               if c.get("@type") == "EarlyTerminationCharge"]
    assert sorted(_values(charged)) == sorted(shown)
