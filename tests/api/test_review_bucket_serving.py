"""A bucket is created only when it can serve as its fields say (TMF654, both tiers): a
status TMF654 knows (active, expired, suspended), a usage type that names a service (or
``any``), a validity that ends after it starts, and units no finer than a usage volume's
twelve decimals. Each was accepted (201): ``status: foo``; ``usageType: ""``; an end before
the start (a bucket that never serves); 1E-30 MB, of which a usage "took" 1E-30 MB while its
rated volume stayed 3 MB — taken and rated came to more than the volume sent."""
from __future__ import annotations

from typing import Any

import pytest

try:  # tests/api as a package, or (pytest's default) as a rootdir-less folder on sys.path
    from .test_review_bucket_naive_dates import http  # noqa: F401 - the fixture (buckets checked against TMF654)
    from .test_tmf654_677_buckets import BUCKET, _bucket, _ok
except ImportError:
    from test_review_bucket_naive_dates import http  # type: ignore[no-redef]  # noqa: F401
    from test_tmf654_677_buckets import BUCKET, _bucket, _ok  # type: ignore[no-redef]


def _refused(response: Any, words: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == "invalidInput" and words in body["message"], body
    return body


def test_a_status_tmf654_does_not_know_is_refused_with_the_states_it_does(http: Any) -> None:
    body = _refused(http.post(BUCKET, json=_bucket("b1", "sms", 10, "message", status="activ")),
                    "status 'activ' is not a state of a bucket: one of active, expired, suspended")
    assert "active" in body["message"]
    assert http.get(f"{BUCKET}/b1").status_code == 404
    for state in ("active", "expired", "suspended"):
        assert _ok(http.post(BUCKET, json=_bucket(f"b-{state}", "sms", 10, "message", status=state)))["status"] == state


@pytest.mark.parametrize("usage_type", ["", "  "])
def test_a_usage_type_that_names_no_service_is_refused(http: Any, usage_type: str) -> None:
    _refused(http.post(BUCKET, json=_bucket("b2", usage_type, 10, "message")), "usageType names the service")
    assert http.get(f"{BUCKET}/b2").status_code == 404


def test_a_validity_that_ends_before_it_starts_is_refused(http: Any) -> None:
    valid = {"startDateTime": "2026-07-01T00:00:00Z", "endDateTime": "2026-06-01T00:00:00Z"}
    _refused(http.post(BUCKET, json=_bucket("b3", "sms", 10, "message", validFor=valid)),
             "validFor ends (2026-06-01T00:00:00Z) before it starts (2026-07-01T00:00:00Z)")
    assert http.get(f"{BUCKET}/b3").status_code == 404


def test_units_finer_than_a_volume_are_refused(http: Any) -> None:
    _refused(http.post(BUCKET, json=_bucket("b4", "data", 1e-30, "MB")), "has more than 12 decimals")
    assert http.get(f"{BUCKET}/b4").status_code == 404
    assert _ok(http.post(BUCKET, json=_bucket("b5", "data", 0.000000000001, "MB")))["id"] == "b5"


def test_a_bucket_is_found_by_its_id_and_by_its_balance_as_a_number(http: Any) -> None:
    """``id`` and ``remainingValue.amount`` are columns, not in the stored document: both
    filters answered [] whatever the buckets (a review found them); the balance is compared as
    a number, also once a usage moved it."""
    _ok(http.post(BUCKET, json=_bucket("pb", "data", 5, "MB")))
    _ok(http.post(BUCKET, json=_bucket("eur", "any", 12.5, "EUR")))
    assert [b["id"] for b in _ok(http.get(BUCKET, params={"id": "pb"}), 200)] == ["pb"]
    for written in ("5", "5.0", "5.000"):
        assert [b["id"] for b in _ok(http.get(BUCKET, params={"remainingValue.amount": written}), 200)] == ["pb"]
    assert [b["id"] for b in _ok(http.get(BUCKET, params={"remainingValue.amount": "12.5"}), 200)] == ["eur"]
    assert _ok(http.get(BUCKET, params={"remainingValue.amount": "4"}), 200) == []
    assert sorted(b["id"] for b in _ok(http.get(BUCKET, params={"remainingValue.amount": "5,12.50"}), 200)) == \
        ["eur", "pb"]
    refused = http.get(BUCKET, params={"remainingValue.amount": "five"})
    assert refused.status_code == 400 and "is a number; 'five' is not" in refused.json()["message"]
