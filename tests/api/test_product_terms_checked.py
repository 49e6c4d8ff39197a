"""A product written through the inventory API with a term its termination could not read is
refused when written (400 naming it) and nothing is stored: ``earlyTermination.share: 1.5`` was
stored (201), and only terminating the product failed; an ``earlyTermination`` that is no
object was stored and its charge silently never made (a commitments review)."""
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_review15_commitments_termination_changes import INVENTORY, MERGE, PRICE, TERM, _create, http  # noqa: F401


def _product(product_id: str, term: Any) -> dict[str, Any]:
    return {"id": product_id, "status": "active", "startDate": "2026-01-01T00:00:00Z",
            "productOffering": {"id": "fibre-12"}, "productPrice": [PRICE], "productTerm": [term],
            "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]}


@pytest.mark.parametrize("early, said", [
    ({"charge": "remainingRecurring", "share": 1.5}, "productTerm[0].earlyTermination"),
    ({"charge": "fixed", "amount": 100}, "productTerm[0].earlyTermination"),
    ({"charge": "refund"}, "productTerm[0].earlyTermination"),
    ("remainingRecurring", "productTerm[0].earlyTermination"),
])
def test_a_term_its_termination_cannot_read_is_refused_when_written(http: TestClient, early: Any, said: str) -> None:
    answer = http.post(INVENTORY, json=_product("p1", {**TERM, "earlyTermination": early}))
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith(said), answer.text
    assert http.get(f"{INVENTORY}/p1").status_code == 404
    _create(http, "p2")
    patched = http.patch(f"{INVENTORY}/p2", json={"productTerm": [{**TERM, "earlyTermination": early}]}, headers=MERGE)
    assert patched.status_code == 400, patched.text
    assert http.get(f"{INVENTORY}/p2").json()["productTerm"][0]["earlyTermination"] == TERM["earlyTermination"]


def test_a_readable_term_is_stored_and_one_sent_back_as_stored_is_not_judged_again(http: TestClient) -> None:
    _create(http, "p3")
    again = http.patch(f"{INVENTORY}/p3", json={"productTerm": [TERM], "description": "x"}, headers=MERGE)
    assert again.status_code == 200, again.text
