"""The dates of a request body are dates (both tiers): an attribute the TMF definition gives
``format: date-time`` (an Individual's birthDate, an order's requestedCompletionDate, a
validFor.startDateTime …) holds a date-time or a plain date (its start, UTC), as the product
reads them; anything else — "soon", "not-a-date", a day outside the calendar (2026-02-30,
month 13, year 0) — is a 400 TMF Error naming the attribute's path and what was expected, at
POST and at PATCH, and changes nothing. Such values used to be stored, and met later by the
readers (rating, filters, bills). A value stored before the check is still read, and the
resource still patched (only what a patch sends is judged)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings, strategies as st
from sqlalchemy import Engine, text

from bssrules.dates import NotInCalendar, is_date_time
from bssrules.catalog.types import parse_instant
from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.services.records import StoredResource
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
PARTY, CUSTOMER = "/tmf-api/party/v4/individual", "/tmf-api/customerManagement/v4/customer"
ACCOUNT, INVENTORY = "/tmf-api/accountManagement/v4/billingAccount", "/tmf-api/productInventory/v4/product"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
MERGE = {"content-type": "application/merge-patch+json"}
EXPECTED = "a date-time (e.g. 2026-06-01T10:00:00Z) or a date (2026-06-01)"
ITEM = {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-telephony-plan"},
        "product": {"productCharacteristic": [{"name": "simFormFactor", "value": "SMALL"}],
                    "realizingResource": [{"id": "sim-small"}]}}
PRODUCT = {"status": "active", "productOffering": {"id": "mobile-telephony-plan"}, "billingAccount": {"id": "ba-ana"},
           "relatedParty": [{"id": "ana", "role": "owner", "@referredType": "Individual"}]}


@pytest.fixture
def http(engine: Engine, app_for: Callable[..., Any]) -> Iterator[TestClient]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    with app_for(engine) as app, TestClient(app, raise_server_exceptions=False) as client:
        _created(client.post(PARTY, json={"id": "ana", "givenName": "Ana", "familyName": "S", "birthDate": "1990-05-17"}))
        _created(client.post(ACCOUNT, json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}))
        yield client


def _created(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _refused(response: Any, path: str, words: str = EXPECTED) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["code"], body["status"], body["@type"]) == ("invalidInput", "400", "Error"), body
    assert body["message"].startswith(f"{path}: ") and words in body["message"], body


# ------------------------------------------------------------------ refused, naming the path


@pytest.mark.parametrize("value", ["not-a-date", "soon", "17/05/1990", "20260601T100000Z", ""])
def test_an_individual_birth_date_that_is_no_date_is_refused_and_nothing_is_stored(http: TestClient,
                                                                                    value: str) -> None:
    _refused(http.post(PARTY, json={"id": "bob", "givenName": "Bob", "familyName": "B", "birthDate": value}),
             "birthDate", f"{value!r} is not {EXPECTED}")
    assert http.get(f"{PARTY}/bob").status_code == 404


def test_a_birth_date_patched_to_no_date_is_refused_and_the_individual_unchanged(http: TestClient) -> None:
    before = _created(http.get(f"{PARTY}/ana"), 200)
    _refused(http.patch(f"{PARTY}/ana", json={"birthDate": "yesterday", "givenName": "Anna"}, headers=MERGE),
             "birthDate", "'yesterday' is not")
    assert _created(http.get(f"{PARTY}/ana"), 200) == before


def test_an_order_requested_for_tomorrow_in_words_is_refused_and_no_order_is_stored(http: TestClient) -> None:
    _refused(http.post(ORDER, json={"relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
                                    "requestedCompletionDate": "tomorrow", "productOrderItem": [ITEM]}),
             "requestedCompletionDate", "'tomorrow' is not")
    assert http.get(ORDER).json() == []


def test_an_order_patched_with_no_date_is_refused_and_unchanged(http: TestClient) -> None:
    order = _created(http.post(ORDER, json={"relatedParty": [{"id": "ana", "role": "customer",
                                                              "@referredType": "Individual"}],
                                            "requestedCompletionDate": "2026-09-01", "productOrderItem": [ITEM]}))
    before = _created(http.get(f"{ORDER}/{order['id']}"), 200)
    _refused(http.patch(f"{ORDER}/{order['id']}", json={"requestedCompletionDate": "2026-13-45"}, headers=MERGE),
             "requestedCompletionDate", "month must be in 1..12")
    assert _created(http.get(f"{ORDER}/{order['id']}"), 200) == before


def test_a_customer_valid_for_start_that_is_no_date_is_refused_at_post_and_at_patch(http: TestClient) -> None:
    body = {"id": "c-ana", "name": "Ana", "engagedParty": {"id": "ana", "@referredType": "Individual"}}
    _refused(http.post(CUSTOMER, json={**body, "validFor": {"startDateTime": "soon"}}), "validFor.startDateTime",
             f"'soon' is not {EXPECTED}")
    assert http.get(f"{CUSTOMER}/c-ana").status_code == 404
    created = _created(http.post(CUSTOMER, json={**body, "validFor": {"startDateTime": "2026-06-01T10:00:00Z"}}))
    _refused(http.patch(f"{CUSTOMER}/c-ana", json={"validFor": {"startDateTime": "in a week"}}, headers=MERGE),
             "validFor.startDateTime", "'in a week' is not")
    assert _created(http.get(f"{CUSTOMER}/c-ana"), 200)["validFor"] == created["validFor"]


def test_a_product_term_valid_for_that_is_no_date_is_refused_with_its_nested_path(http: TestClient) -> None:
    term = {"name": "24 months", "duration": {"amount": 24, "units": "month"},
            "validFor": {"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "later"}}
    _refused(http.post(INVENTORY, json={**PRODUCT, "id": "p1", "productTerm": [term]}),
             "productTerm[0].validFor.endDateTime", "'later' is not")
    assert http.get(f"{INVENTORY}/p1").status_code == 404


def test_every_bad_date_of_a_body_is_named(http: TestClient) -> None:
    response = http.post(PARTY, json={"id": "bob", "givenName": "Bob", "familyName": "B", "birthDate": "x",
                                      "deathDate": "2026-02-30"})
    _refused(response, "birthDate", "deathDate: '2026-02-30' is not in the calendar (day is out of range for month)")
    assert http.get(f"{PARTY}/bob").status_code == 404


def test_a_bad_date_with_another_fault_is_named_among_the_schema_faults(http: TestClient) -> None:
    response = http.post(PARTY, json={"id": "bob", "givenName": 5, "familyName": "B", "birthDate": "soon"})
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert message.startswith("the body does not conform to Individual_Create: ") and "birthDate: 'soon' is not" \
        in message and "givenName: expected string" in message, message


@pytest.mark.parametrize(("value", "reason"), [
    ("2026-02-30", "is not in the calendar (day is out of range for month)"),
    ("2026-13-45", "is not in the calendar (month must be in 1..12)"),
    ("0000-01-01", "is not in the calendar (year 0 is out of range)"),
    ("2026-06-01T24:00:00Z", "is not in the calendar (hour must be in 0..23)"),
    ("2026-06-31T10:00:00+02:00", "is not in the calendar (day is out of range for month)"),
    ("0001-01-01T00:00:00+01:00", "falls outside the calendar (years 1 to 9999) in UTC"),
    ("9999-12-31T23:59:59-01:00", "falls outside the calendar (years 1 to 9999) in UTC"),
])
def test_a_date_outside_the_calendar_is_a_400_never_a_500(http: TestClient, value: str, reason: str) -> None:
    _refused(http.post(PARTY, json={"id": "bob", "givenName": "Bob", "familyName": "B", "birthDate": value}),
             "birthDate", f"{value!r} ")
    assert f"{value!r} {reason}; expected {EXPECTED}" in http.post(PARTY, json={
        "id": "bob", "givenName": "B", "familyName": "B", "birthDate": value}).json()["message"]
    _refused(http.patch(f"{PARTY}/ana", json={"birthDate": value}, headers=MERGE), "birthDate", reason)
    assert http.get(f"{PARTY}/bob").status_code == 404
    assert _created(http.get(f"{PARTY}/ana"), 200)["birthDate"] == "1990-05-17"


# ------------------------------------------------------------------ accepted as before


@pytest.mark.parametrize("value", ["1990-05-17", "1990-05-17T00:00:00Z", "1990-05-17T08:30:00+02:00",
                                   "1990-05-17T08:30:00.250Z", "1990-05-17T08:30:00", "0001-01-01", "9999-12-31"])
def test_a_date_or_date_time_is_still_accepted_and_kept_as_sent(http: TestClient, value: str) -> None:
    created = _created(http.post(PARTY, json={"id": "bob", "givenName": "Bob", "familyName": "B", "birthDate": value}))
    assert created["birthDate"] == value
    assert _created(http.patch(f"{PARTY}/ana", json={"birthDate": value}, headers=MERGE), 200)["birthDate"] == value


def test_plain_dates_are_still_accepted_on_orders_and_valid_for(http: TestClient) -> None:
    order = _created(http.post(ORDER, json={"relatedParty": [{"id": "ana", "role": "customer",
                                                              "@referredType": "Individual"}],
                                            "requestedStartDate": "2026-09-01", "requestedCompletionDate": "2026-09-01",
                                            "productOrderItem": [ITEM]}))
    assert order["requestedCompletionDate"] == "2026-09-01"
    customer = _created(http.post(CUSTOMER, json={"id": "c-ana", "name": "Ana", "validFor": {"startDateTime": "2026-06-01"},
                                                  "engagedParty": {"id": "ana", "@referredType": "Individual"}}))
    assert customer["validFor"] == {"startDateTime": "2026-06-01"}


def test_a_patch_that_removes_a_date_is_not_judged_as_a_date(http: TestClient) -> None:
    assert "birthDate" not in _created(http.patch(f"{PARTY}/ana", json={"birthDate": None}, headers=MERGE), 200)


# ------------------------------------------------------------------ stored before the check


def test_a_bad_date_stored_before_the_check_is_still_read_and_the_resource_patched(http: TestClient,
                                                                                  engine: Engine) -> None:
    now = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    with UnitOfWork(engine) as uow:
        uow.resources.insert(StoredResource("individual", "old", 1, now, now, {
            "givenName": "Old", "familyName": "O", "birthDate": "not-a-date"}, state=None))
        uow.commit()
    assert _created(http.get(f"{PARTY}/old"), 200)["birthDate"] == "not-a-date"
    assert any(p["id"] == "old" for p in _created(http.get(PARTY), 200))
    patched = _created(http.patch(f"{PARTY}/old", json={"givenName": "Older"}, headers=MERGE), 200)
    assert (patched["givenName"], patched["birthDate"]) == ("Older", "not-a-date")
    fixed = _created(http.patch(f"{PARTY}/old", json={"birthDate": "1970-01-01"}, headers=MERGE), 200)
    assert fixed["birthDate"] == "1970-01-01"


# ------------------------------------------------------------------ the rule and the product's reader


_SHAPE = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
          r"(Z|[+-][0-9]{2}:[0-9]{2})?)?")  # a date, or a date-time as api.md describes it


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.from_regex(_SHAPE, fullmatch=True), st.text(max_size=30)))
def test_a_date_time_the_check_accepts_is_one_the_product_reads_and_of_that_shape_only(value: str) -> None:
    try:
        accepted = is_date_time(value)
    except NotInCalendar:
        accepted = False
    if accepted:  # read by the product (rating, bills, filters) as an instant it can keep in UTC
        read = parse_instant(value)
        assert isinstance(read, dt.datetime) and read.astimezone(dt.timezone.utc)
        assert re.fullmatch(_SHAPE, value)
    elif re.fullmatch(_SHAPE, value):  # of that shape yet refused: outside the calendar, the reader refuses it too,
        offset = re.search(r"[+-]([0-9]{2}):([0-9]{2})$", value)  # but for an offset beyond 23:59, which
        if offset and (int(offset.group(1)) > 23 or int(offset.group(2)) > 59):  # Python reads as it can
            return  # (+02:60 read as +03:00: refused, no reader sees it)
        with pytest.raises(ValueError):
            parse_instant(value)


@pytest.mark.parametrize("value", ["2026-06-01T10:00:00+02:60", "2026-06-01T10:00:00+24:00", "2026-06-01T10:00:00-99:00"])
def test_an_offset_beyond_23_59_is_refused_in_plain_words(http: TestClient, value: str) -> None:
    _refused(http.post(PARTY, json={"givenName": "Bo", "familyName": "T", "birthDate": value}), "birthDate")
    response = http.post(PARTY, json={"givenName": "Bo", "familyName": "T", "birthDate": value})
    assert "timedelta" not in response.json()["message"]  # (Python's own words for +24:00 were shown)


@pytest.mark.parametrize("value", [" 2026-09-01", "2026-09-01t10:00:00Z", "2026-09-01T10:00:00+02:60", "soon"])
def test_an_order_items_requested_start_is_judged_as_the_orders_own_dates(http: TestClient, value: str) -> None:
    body = {"relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
            "productOrderItem": [{**ITEM, "requestedStartDate": value}]}
    _refused(http.post(ORDER, json=body), "productOrderItem[0].requestedStartDate")
    _refused(http.post(ORDER, json={**body, "productOrderItem": [ITEM], "requestedStartDate": value}),
             "requestedStartDate")
    assert http.get(ORDER).json() == []


def test_an_order_stored_with_a_date_judged_only_since_still_completes(http: TestClient, engine: Engine) -> None:
    # an order accepted before the body's dates were judged, with a date they now refuse
    order = _created(http.post(ORDER, json={
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
        "requestedStartDate": "2026-09-01T10:00:00Z", "productOrderItem": [{**ITEM, "requestedStartDate":
                                                                            "2026-09-02T10:00:00Z"}]}))
    with engine.begin() as connection:
        connection.execute(text("UPDATE resource SET document = replace(replace(document, '2026-09-01T10', "
                                "'2026-09-01t10'), '2026-09-02T10', '2026-09-02t10') WHERE id = :id"),
                           {"id": order["id"]})
    assert _created(http.get(f"{ORDER}/{order['id']}"), 200)["requestedStartDate"] == "2026-09-01t10:00:00Z"
    for state in ("inProgress", "completed"):
        moved = _created(http.patch(f"{ORDER}/{order['id']}", json={"state": state}, headers=MERGE), 200)
        assert moved["state"] == state, moved
    started = {p.get("startDate") for p in _created(http.get(INVENTORY), 200)}
    assert "2026-09-02T10:00:00Z" in started  # the item's own request, read as it was accepted
