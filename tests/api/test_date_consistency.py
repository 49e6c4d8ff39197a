"""One value, one verdict, wherever it is sent (docs/api.md, "Dates in a body"), on both tiers:

* a bucket's ``validFor`` (TMF654) is spelt as every date of a body (``bssrules.dates``) and
  said in its words, and asks for more — a date-time that names its zone. It kept a rule of its
  own: ' 2026-06-01T00:00:00Z', +0200 and +02:60 were stored, a zoned date-time with a space for
  its T was refused as naming no zone, and a date outside the calendar was "no date-time";
* the ``startDate`` an order's completion gives a product follows the product's own rule (a
  date-time names its zone): one without was written on the product, whose own PATCH refuses it;
* a date stored before the dates of a body were judged (2026-09-01t10:00:00z) and sent back as
  GET gave it does not stop a GET-modify-PATCH (400 before); a value that differs from the
  stored one is judged, and refused when it is no date, changing nothing.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.dates import date_time_problem
from bssrules.services import resources
from bssrules.store import UnitOfWork
from tests.api.session_app import AppFor
from tests.api.test_order_start_dates import INVENTORY, MERGE, ORDER, _complete, _load, _place, _starts
from tests.api.test_tmf654_677_buckets import BUCKET, _app_client, _bucket, _ok, _setup

PARTY = "/tmf-api/party/v4/individual"
NOT_ZONED = "is not a date-time with a time zone (e.g. 2026-06-01T00:00:00Z)"


@pytest.fixture
def buckets(engine: Engine) -> Iterator[Any]:
    with _app_client(engine) as client:  # every bucket response checked against TMF654 (errors too)
        _setup(engine, client)
        yield client


@pytest.fixture
def http(engine: Engine, app_for: AppFor) -> Iterator[TestClient]:
    """The operator's client (authentication off) on the devices and roaming examples, with Ana."""
    _load(engine, "devices", "roaming")
    with app_for(engine) as app, TestClient(app) as client:
        assert client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S"}).status_code == 201
        assert client.post("/tmf-api/accountManagement/v4/billingAccount", json={
            "id": "ba-ana", "name": "Ana", "relatedParty": [
                {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}).status_code == 201
        yield client


def _refused(response: Any, message: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["code"], body["status"]) == ("invalidInput", "400"), body
    assert body["message"] == message, body


# ----------------------------------------------------------------------------- 1. a bucket's validFor


@pytest.mark.parametrize("field", ["startDateTime", "endDateTime"])
@pytest.mark.parametrize("written", [" 2026-06-01T00:00:00Z", "2026-06-01T00:00:00Z ", "2026-06-01T00:00:00+0200",
                                     "2026-06-01T00:00:00+02:60", "2026-06-01t00:00:00z", "2026-06-01T00:00:00+24:00"])
def test_a_bucket_refuses_the_spellings_every_body_refuses(buckets: Any, field: str, written: str) -> None:
    assert date_time_problem(written) is not None  # (what every other date of a body says of it)
    _refused(buckets.post(BUCKET, json=_bucket("sms-10", "sms", 10, "message", validFor={field: written})),
             f"validFor.{field}: {written!r} {NOT_ZONED}")
    assert buckets.get(f"{BUCKET}/sms-10").status_code == 404


@pytest.mark.parametrize(("written", "answered"), [
    ("2026-06-01 00:00:00Z", "2026-06-01T00:00:00Z"), ("2026-06-01 02:00:00+02:00", "2026-06-01T02:00:00+02:00"),
    ("2026-06-01T00:00Z", "2026-06-01T00:00:00Z"), ("2026-05-31T20:30:00.250-03:30", "2026-05-31T20:30:00.250-03:30"),
])
def test_a_bucket_reads_the_zoned_spellings_every_body_reads(buckets: Any, written: str, answered: str) -> None:
    """(answered as TMF654's date-time, RFC 3339: a T, seconds; the zone as written)"""
    assert date_time_problem(written) is None  # (and it names its zone)
    valid = {"startDateTime": written, "endDateTime": "2026-07-01T00:00:00Z"}
    shown = {"startDateTime": answered, "endDateTime": "2026-07-01T00:00:00Z"}
    assert _ok(buckets.post(BUCKET, json=_bucket("sms-10", "sms", 10, "message", validFor=valid)))["validFor"] == shown
    assert _ok(buckets.get(f"{BUCKET}/sms-10"), 200)["validFor"] == shown


@pytest.mark.parametrize(("written", "problem"), [
    ("2026-13-45T10:00:00Z", "is not in the calendar (month must be in 1..12)"),
    ("2026-02-30T10:00:00+01:00", "is not in the calendar (day is out of range for month)"),
    ("0001-01-01T00:30:00+01:00", "falls outside the calendar (years 1 to 9999) in UTC"),
])
def test_a_bucket_date_outside_the_calendar_is_said_so_in_the_words_of_every_body(buckets: Any, written: str,
                                                                                   problem: str) -> None:
    assert date_time_problem(written) == f"{problem}; expected a date-time (e.g. 2026-06-01T10:00:00Z) or a date (2026-06-01)"
    _refused(buckets.post(BUCKET, json=_bucket("sms-10", "sms", 10, "message", validFor={"startDateTime": written})),
             f"validFor.startDateTime: {written!r} {problem}; expected a date-time with a time zone "
             "(e.g. 2026-06-01T00:00:00Z)")


def test_a_bucket_still_asks_for_a_zone(buckets: Any) -> None:
    _refused(buckets.post(BUCKET, json=_bucket("sms-10", "sms", 10, "message",
                                               validFor={"startDateTime": "2026-06-01 00:00:00"})),
             "validFor.startDateTime: '2026-06-01 00:00:00' names no time zone; write the instant in UTC "
             "(2026-06-01 00:00:00Z) or with its offset (2026-06-01 00:00:00+02:00)")
    _refused(buckets.post(BUCKET, json=_bucket("sms-10", "sms", 10, "message", validFor={"endDateTime": "2026-07-01"})),
             f"validFor.endDateTime: '2026-07-01' {NOT_ZONED}")


# ----------------------------------------------------------------------------- 2. a product's startDate


def test_a_product_s_start_date_without_a_zone_is_refused_at_completion_as_at_its_patch(http: TestClient) -> None:
    order = _place(http, requestedStartDate="2026-03-01").json()
    refused = _complete(http, order["id"], productOrderItem=[
        {"id": "2", "action": "add", "product": {"startDate": "2026-02-14T09:00:00"}}])
    _refused(refused, "productOrderItem[0].product.startDate: '2026-02-14T09:00:00' names no time zone; write the "
                      "instant in UTC (2026-02-14T09:00:00Z) or with its offset (2026-02-14T09:00:00+02:00)")
    assert http.get(f"{ORDER}/{order['id']}").json()["state"] == "inProgress"
    assert _starts(http, order["id"]) == {}
    # what the completion accepts, the product's own PATCH accepts; what one refuses, the other does
    completed = _complete(http, order["id"], productOrderItem=[
        {"id": "2", "action": "add", "product": {"startDate": "2026-02-14T09:00:00+01:00"}}])
    assert completed.status_code == 200, completed.text
    product = next(p for p in http.get(INVENTORY).json() if p["productOffering"]["id"] == "smartphone")
    for start in ("2026-02-14T09:00:00+01:00", "2026-02-14"):
        patched = http.patch(f"{INVENTORY}/{product['id']}", headers=MERGE, json={"startDate": start})
        assert patched.status_code == 200, patched.text
    _refused(http.patch(f"{INVENTORY}/{product['id']}", headers=MERGE, json={"startDate": "2026-02-14T09:00:00"}),
             "startDate: '2026-02-14T09:00:00' names no time zone; write the instant in UTC (2026-02-14T09:00:00Z) "
             "or with its offset (2026-02-14T09:00:00+02:00)")


# ----------------------------------------------------------------------------- 3. a date stored before the checks


def _stored_before_the_checks(engine: Engine, kind: str, document: dict[str, Any]) -> None:
    """A resource as the service stored it when the bodies' dates were not judged yet."""
    with UnitOfWork(engine) as uow:
        resources.create(uow, resources.KINDS[kind], document, tuple(document))


def test_a_date_stored_before_the_checks_can_be_patched_back_as_get_gave_it(engine: Engine, http: TestClient
                                                                            ) -> None:
    _stored_before_the_checks(engine, "individual", {
        "id": "eva", "givenName": "Eva", "familyName": "S", "birthDate": "1990-09-01t10:00:00z",
        "contactMedium": [{"mediumType": "email", "validFor": {"startDateTime": "2026-09-01t10:00:00z"},
                           "characteristic": {"emailAddress": "eva@example.com"}}]})
    shown = http.get(f"{PARTY}/eva").json()
    assert shown["birthDate"] == "1990-09-01t10:00:00z"  # returned as stored
    patched = http.patch(f"{PARTY}/eva", headers=MERGE, json={**shown, "givenName": "Eva Maria"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["givenName"], patched.json()["birthDate"]) == ("Eva Maria", "1990-09-01t10:00:00z")
    assert patched.json()["contactMedium"] == shown["contactMedium"]
    # written canonically, it is a change, and accepted
    canonical = http.patch(f"{PARTY}/eva", headers=MERGE, json={"birthDate": "1990-09-01T10:00:00Z"})
    assert canonical.status_code == 200 and canonical.json()["birthDate"] == "1990-09-01T10:00:00Z", canonical.text


def test_a_date_that_differs_from_the_stored_one_is_judged_and_changes_nothing(engine: Engine, http: TestClient
                                                                               ) -> None:
    _stored_before_the_checks(engine, "individual", {"id": "eva", "givenName": "Eva", "familyName": "S",
                                                     "birthDate": "1990-09-01t10:00:00z"})
    shown = http.get(f"{PARTY}/eva").json()
    expected = "a date-time (e.g. 2026-06-01T10:00:00Z) or a date (2026-06-01)"
    _refused(http.patch(f"{PARTY}/eva", headers=MERGE, json={**shown, "givenName": "X", "birthDate": "1990-09-02t10:00:00z"}),
             f"birthDate: '1990-09-02t10:00:00z' is not {expected}")
    _refused(http.patch(f"{PARTY}/eva", headers=MERGE, json={
        **shown, "contactMedium": [{"mediumType": "email", "validFor": {"startDateTime": "1990-09-01t10:00:00z"}}]}),
        f"contactMedium[0].validFor.startDateTime: '1990-09-01t10:00:00z' is not {expected}")  # not stored there
    assert http.get(f"{PARTY}/eva").json() == shown
    organization = "/tmf-api/party/v4/organization"
    assert http.post(organization, json={"id": "acme", "tradingName": "Acme"}).status_code == 201
    _refused(http.patch(f"{organization}/acme", headers=MERGE, json={"tradingName": "X", "existsDuring": {
        "startDateTime": "soon"}}), f"existsDuring.startDateTime: 'soon' is not {expected}")
    assert http.get(f"{organization}/acme").json()["tradingName"] == "Acme"


def test_a_product_s_dates_stored_before_the_checks_can_be_patched_back(engine: Engine, http: TestClient) -> None:
    _stored_before_the_checks(engine, "product", {"id": "p-1", "status": "active", "name": "Line",
                                                  "startDate": "2026-01-01T00:00:00+0100"})
    with UnitOfWork(engine) as uow:  # stored before a product's dates were asked for their zone
        stored = uow.resources.get("product", "p-1")
        assert stored is not None
        uow.resources.replace(stored.bumped({**stored.document, "orderDate": "2025-12-20T10:00:00"}, stored.last_update))
        uow.commit()
    shown = http.get(f"{INVENTORY}/p-1").json()
    patched = http.patch(f"{INVENTORY}/p-1", headers=MERGE, json={**shown, "name": "Line 1"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["startDate"], patched.json()["orderDate"]) == ("2026-01-01T00:00:00+0100",
                                                                        "2025-12-20T10:00:00")
    _refused(http.patch(f"{INVENTORY}/p-1", headers=MERGE, json={**shown, "orderDate": "2025-12-21T10:00:00"}),
             "orderDate: '2025-12-21T10:00:00' names no time zone; write the instant in UTC (2025-12-21T10:00:00Z) "
             "or with its offset (2025-12-21T10:00:00+02:00)")
