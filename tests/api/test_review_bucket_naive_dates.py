"""A bucket's ``validFor`` dates are unambiguous (TMF654, both tiers): a date-time that names
no time zone (``2026-06-30T23:59:59`` — of which zone?) is refused with a 400 that names the
field, as a product's ``startDate`` or ``terminationDate`` is, and the bucket is not created.
It was read as UTC: a bucket meant to end at local midnight served an hour or two too long
or too short. A bucket's dates are read as the usage dates they are compared with are
(``zoned_instant``): a plain date (midnight of which zone?) and a text that is no date at all
are refused naming their field too — both were stored and answered as they were written, a
``date-time`` TMF654 does not allow. A date-time with its zone or offset is read as before."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

try:  # tests/api as a package, or (pytest's default) as a rootdir-less folder on sys.path
    from .test_tmf654_677_buckets import BUCKET, _app_client, _bucket, _ok, _setup
except ImportError:
    from test_tmf654_677_buckets import BUCKET, _app_client, _bucket, _ok, _setup  # type: ignore[no-redef]


@pytest.fixture
def http(engine: Any) -> Iterator[Any]:
    with _app_client(engine) as client:  # every bucket response checked against TMF654 (errors too)
        _setup(engine, client)
        yield client


def _refused(response: Any, field: str, words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["code"], body["status"]) == ("invalidInput", "400"), body
    assert f"validFor.{field}" in body["message"] and words in body["message"], body


@pytest.mark.parametrize("field", ["startDateTime", "endDateTime"])
@pytest.mark.parametrize("written", ["2026-06-30T23:59:59", "2026-06-30T23:59", "2026-06-30 23:59:59.5"])
def test_a_valid_for_date_time_without_a_time_zone_is_refused(http: Any, field: str, written: str) -> None:
    valid = {"startDateTime": "2026-06-01T00:00:00Z", "endDateTime": "2026-07-01T00:00:00+02:00", field: written}
    _refused(http.post(BUCKET, json=_bucket("sms-10", "sms", 10, "message", validFor=valid)),
             field, f"{written!r} names no time zone")
    assert http.get(f"{BUCKET}/sms-10").status_code == 404


@pytest.mark.parametrize("field", ["startDateTime", "endDateTime"])
@pytest.mark.parametrize(("written", "problem"), [
    ("2026-07-01", "is not a date-time with a time zone (e.g. 2026-06-01T00:00:00Z)"),
    ("next month", "is not a date-time with a time zone (e.g. 2026-06-01T00:00:00Z)"),
    # said as every date of a body says it (bssrules.dates; was "is not a date-time with a time zone")
    ("2026-13-45T10:00:00Z", "is not in the calendar (month must be in 1..12); expected a date-time with a time "
                             "zone (e.g. 2026-06-01T00:00:00Z)"),
])
def test_a_valid_for_that_is_no_zoned_date_time_is_refused_naming_its_field(http: Any, field: str,
                                                                              written: str, problem: str) -> None:
    _refused(http.post(BUCKET, json=_bucket("sms-10", "sms", 10, "message", validFor={field: written})),
             field, f"{written!r} {problem}")
    assert http.get(f"{BUCKET}/sms-10").status_code == 404


def test_a_valid_for_beyond_the_calendar_in_utc_says_so(http: Any) -> None:
    _refused(http.post(BUCKET, json=_bucket("sms-10", "sms", 10, "message",
                                            validFor={"endDateTime": "9999-12-31T23:00:00-05:00"})),
             "endDateTime", "falls outside the calendar (years 1 to 9999) in UTC")


def test_a_valid_for_with_its_zones_is_read_as_before(http: Any) -> None:
    zoned = {"startDateTime": "2026-06-01T00:00:00+02:00", "endDateTime": "2026-07-01T00:00:00Z"}
    assert _ok(http.post(BUCKET, json=_bucket("sms-10", "sms", 10, "message", validFor=zoned)))["validFor"] == zoned
    assert _ok(http.get(f"{BUCKET}/sms-10"), 200)["validFor"] == zoned
    assert _ok(http.post(BUCKET, json=_bucket("sms-20", "sms", 20, "message", validFor={})))["validFor"] == {}
