"""An early termination charge is billed in the month of the termination, once. Once that
month's bill is made, moving the termination (or putting the product back in force) worked
the charge out again at the new date and billed it a second time in the new month: 180.00 in
July's bill, 30.00 more in December's (a commitments review). It is now refused (409) and
changes nothing; before the bill is made, the termination still moves freely."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tests.api.test_review15_commitments_termination_changes import (  # noqa: F401  (the http fixture)
    INVENTORY, MERGE, _create, _one_time_lines, _patch, http,
)


@pytest.mark.parametrize("change", [{"terminationDate": "2026-12-01T00:00:00Z"}, {"status": "active"}])
def test_a_billed_termination_can_no_longer_move(http: TestClient, change: dict[str, str]) -> None:
    _create(http, "p-1")
    [(charged, _)] = _patch(http, "p-1", status="terminated", terminationDate="2026-07-01T00:00:00Z")
    assert _one_time_lines(http, "2026-07") == [charged] == [Decimal("180.00")]
    before = http.get(f"{INVENTORY}/p-1").json()
    refused = http.patch(f"{INVENTORY}/p-1", json=change, headers=MERGE)
    assert refused.status_code == 409, refused.text
    assert "is billed in ba-ana-2026-07-EUR" in refused.json()["message"]
    assert http.get(f"{INVENTORY}/p-1").json() == before
    assert _one_time_lines(http, "2026-12") == []  # nothing billed twice
    # what does not move the termination is still written
    assert _patch(http, "p-1", description="moved house") == [(charged, _)]


def test_a_termination_not_yet_billed_moves(http: TestClient) -> None:
    _create(http, "p-1")
    _patch(http, "p-1", status="terminated", terminationDate="2026-07-01T00:00:00Z")
    assert _one_time_lines(http, "2026-06") == []  # (June's bill: not the termination's month)
    assert [a for a, _ in _patch(http, "p-1", terminationDate="2026-12-01T00:00:00Z")] == [Decimal("30.00")]
    assert json.loads(http.get(f"{INVENTORY}/p-1").text)["terminationDate"] == "2026-12-01T00:00:00Z"
