"""A bundle's termination, corrected or undone, carries to the components terminated with it
(at the same date): they kept the old date and its early termination charge, billed in the old
month on top of the fees the corrected bundle still owed (a commitments review). A component
terminated on its own, at another date, is left as it is; a component whose charge is billed
refuses the change, as the bundle itself would (409, nothing changed)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_review15_commitments_termination_changes import (  # noqa: F401  (the http fixture)
    INVENTORY, MERGE, _create, _one_time_lines, http,
)


def _bundle(http: TestClient, bundle_id: str, *components: str) -> None:
    created = http.post(INVENTORY, json={
        "id": bundle_id, "status": "active", "startDate": "2026-01-01T00:00:00Z", "isBundle": True,
        "productOffering": {"id": "fibre-bundle"},
        "productRelationship": [{"relationshipType": "bundled", "product": {"id": c}} for c in components],
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]})
    assert created.status_code == 201, created.text


def _change(http: TestClient, product_id: str, **body: Any) -> None:
    changed = http.patch(f"{INVENTORY}/{product_id}", json=body, headers=MERGE)
    assert changed.status_code == 200, changed.text


def _state(http: TestClient, product_id: str) -> tuple[str, str | None, list[Any]]:
    product = http.get(f"{INVENTORY}/{product_id}").json()
    charges = [Decimal(str(p["price"]["taxIncludedAmount"]["value"])) for p in product.get("productPrice", [])
               if p.get("@type") == "EarlyTerminationCharge"]
    return product["status"], product.get("terminationDate"), charges


def test_the_components_follow_a_corrected_then_undone_bundle_termination(http: TestClient) -> None:
    _create(http, "c-1")
    _bundle(http, "b-1", "c-1")
    _change(http, "b-1", status="terminated", terminationDate="2026-07-01T00:00:00Z")
    assert _state(http, "c-1") == ("terminated", "2026-07-01T00:00:00Z", [Decimal("180.00")])
    _change(http, "b-1", terminationDate="2026-12-01T00:00:00Z")  # corrected: December is left
    assert _state(http, "c-1") == ("terminated", "2026-12-01T00:00:00Z", [Decimal("30.00")])
    _change(http, "b-1", status="active")  # undone: back in force with the bundle
    assert _state(http, "c-1") == ("active", None, [])


def test_a_component_terminated_at_another_date_is_left_alone(http: TestClient) -> None:
    _create(http, "c-1")
    _create(http, "c-2")
    _bundle(http, "b-1", "c-1", "c-2")
    _change(http, "c-2", status="terminated", terminationDate="2026-03-01T00:00:00Z")
    _change(http, "b-1", status="terminated", terminationDate="2026-07-01T00:00:00Z")
    _change(http, "b-1", terminationDate="2026-12-01T00:00:00Z")
    assert _state(http, "c-1")[:2] == ("terminated", "2026-12-01T00:00:00Z")
    assert _state(http, "c-2") == ("terminated", "2026-03-01T00:00:00Z", [Decimal("300.00")])


def test_a_billed_component_charge_refuses_the_correction(http: TestClient) -> None:
    _create(http, "c-1")
    _bundle(http, "b-1", "c-1")
    _change(http, "b-1", status="terminated", terminationDate="2026-07-01T00:00:00Z")
    assert _one_time_lines(http, "2026-07") == [Decimal("180.00")]  # the component's charge, billed
    refused = http.patch(f"{INVENTORY}/b-1", json={"terminationDate": "2026-12-01T00:00:00Z"}, headers=MERGE)
    assert refused.status_code == 409, refused.text
    assert http.get(f"{INVENTORY}/b-1").json()["terminationDate"] == "2026-07-01T00:00:00Z"
    assert _state(http, "c-1") == ("terminated", "2026-07-01T00:00:00Z", [Decimal("180.00")])
