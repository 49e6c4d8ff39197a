"""TMF678 bills over HTTP on both tiers: a bill run per month makes one bill per billing account
(and currency) and bills nothing twice; usage rated after the run is reported as late; a
recurring fee is pro-rated to the second for a product that starts or ends mid-month; a
discount shows as its own line for as many months as its applicationDuration; each payer's
bills and bill items are its own (split billing, seed 000).

Every customerBill and appliedCustomerBillingRate response is checked against the official
TMF678 v4.0.0 definitions made strict (no attribute the standard does not define); the bill
run (an extension: TMF678 has no bill-run resource) against the shape written here."""
from __future__ import annotations

import calendar
import copy
import datetime as dt
import json
import re
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft4Validator, FormatChecker

from bssrules.services import catalog as services
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork
from tests.api.session_app import AppFor

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "bssrules" / "api" / "specs"
API = "/tmf-api/customerBillManagement/v4"
RUN, BILL, RATE = f"{API}/billRun", f"{API}/customerBill", f"{API}/appliedCustomerBillingRate"
USAGE = "/tmf-api/usageManagement/v4/usage"
PARTY, ACCOUNT, INVENTORY = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4", "/tmf-api/productInventory/v4/product"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
MERGE = {"content-type": "application/merge-patch+json"}
UTC = dt.timezone.utc
CENT = Decimal("0.01")

# ----------------------------------------------------------------------------- the contract

_REF = re.compile(r'"\$ref":\s*"#/definitions/([^"]+)"')
PERIOD = {"type": "object", "required": ["startDateTime", "endDateTime"], "additionalProperties": False,
          "properties": {"startDateTime": {"type": "string", "format": "date-time"},
                         "endDateTime": {"type": "string", "format": "date-time"}}}
BILL_RUN_SCHEMA = {"type": "object", "additionalProperties": False,
                   "required": ["billingPeriod", "billsMade", "billsAlreadyMade", "lateUsage"],
                   "properties": {"billingPeriod": PERIOD,
                                  "billsMade": {"type": "array", "items": {"type": "string"}},
                                  "billsAlreadyMade": {"type": "array", "items": {"type": "string"}},
                                  "lateUsage": {"type": "array", "items": {"type": "string"}}}}


def _strict_definitions() -> dict[str, Any]:
    definitions = copy.deepcopy(json.loads((SPECS / "TMF678-Customer_Bill-v4.0.0.swagger.json").read_text())[
        "definitions"])
    seen: set[str] = set()
    todo = ["CustomerBill", "AppliedCustomerBillingRate", "Error"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += _REF.findall(json.dumps(definitions[name]))
    for name in seen:
        if "properties" in definitions[name]:
            definitions[name]["additionalProperties"] = False
    return definitions


DEFINITIONS = _strict_definitions()


def _problems(body: Any, schema: dict[str, Any]) -> list[str]:
    validator = Draft4Validator({"definitions": DEFINITIONS, **schema}, format_checker=FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def _check(response: Any) -> None:
    path, method, status = response.request.url.path, response.request.method, response.status_code
    if not path.startswith(API):
        assert status < 500, f"{method} {path} → {status}: {response.text}"
        return
    assert response.headers["content-type"].split(";")[0] == "application/json", response.headers
    body = response.json()
    if status >= 400:
        schema: dict[str, Any] = {"$ref": "#/definitions/Error"}
        assert body["status"] == str(status)
    elif path == RUN:
        schema = BILL_RUN_SCHEMA
    else:
        name = "CustomerBill" if path.startswith(BILL) else "AppliedCustomerBillingRate"
        schema = {"type": "array", "items": {"$ref": f"#/definitions/{name}"}} if isinstance(body, list) else \
            {"$ref": f"#/definitions/{name}"}
    problems = _problems(body, schema)
    assert not problems, f"{method} {path} → {status} breaks the TMF678 contract: {problems}\n{response.text[:2000]}"


def test_the_contract_check_catches_what_the_standard_does_not_define() -> None:
    bill = {"id": "b", "state": "new", "amountDue": {"unit": "EUR", "value": 3}}
    assert _problems(bill, {"$ref": "#/definitions/CustomerBill"}) == []
    assert _problems({**bill, "total": 3}, {"$ref": "#/definitions/CustomerBill"}) == [
        "[]: Additional properties are not allowed ('total' was unexpected)"]
    assert _problems({**bill, "state": "lost"}, {"$ref": "#/definitions/CustomerBill"})


# ----------------------------------------------------------------------------- fixtures and helpers


@contextmanager
def _app_client(app_for: AppFor, engine: Any) -> Iterator[Any]:
    """A client on the session's app for ``engine`` (conftest's ``app_for``), checking every answer."""
    from fastapi.testclient import TestClient

    with app_for(engine) as app, TestClient(app) as client:
        client.event_hooks["response"] = [lambda r: (r.read(), _check(r))]
        yield client


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


def _party(http: Any, kind: str, party: str, account: str) -> None:
    body = {"id": party, "givenName": party, "familyName": "X"} if kind == "individual" else \
        {"id": party, "tradingName": party}
    _ok(http.post(f"{PARTY}/{kind}", json=body))
    _ok(http.post(f"{ACCOUNT}/billingAccount", json={"id": account, "name": account, "relatedParty": [
        {"id": party, "name": party, "role": "owner", "@referredType": kind.capitalize()}]}))


def _price(name: str, amount: float, account: str, price_type: str = "recurring",
           discounts: tuple[tuple[str, float, int | None], ...] | list[tuple[str, float, int | None]] = ()
           ) -> dict[str, Any]:
    """A productPrice as order completion writes it: the net price (after its discounts) and
    each discount as a priceAlteration (name, reduction, applicationDuration or None)."""
    price: dict[str, Any] = {"name": name, "priceType": price_type, "productOfferingPrice": {"id": name},
                             "price": {"taxIncludedAmount": {"unit": "EUR", "value": amount}},
                             "billingAccount": {"id": account}}
    if price_type == "recurring":
        price["recurringChargePeriod"] = "month"
    if discounts:
        price["priceAlteration"] = [
            {"name": d, "priceType": price_type, "recurringChargePeriod": "month",
             "price": {"taxIncludedAmount": {"unit": "EUR", "value": -reduction}},
             **({"applicationDuration": months} if months else {})} for d, reduction, months in discounts]
    return price


def _product(http: Any, id: str, offering: str, parties: list[tuple[str, str, str]], account: str,
             prices: list[dict[str, Any]], start: str = "2026-05-01T00:00:00Z", **more: Any) -> None:
    _ok(http.post(INVENTORY, json={
        "id": id, "status": "active", "startDate": start, "productOffering": {"id": offering},
        "billingAccount": {"id": account}, "productPrice": prices,
        "relatedParty": [{"id": p, "role": role, "@referredType": kind} for p, role, kind in parties], **more}))


def _usage(id: str, product: str, service: str, volume: float, unit: str, date: str) -> dict[str, Any]:
    return {"id": id, "usageDate": date, "usageType": service, "usageCharacteristic": [
        {"name": "productId", "value": product}, {"name": "service", "value": service},
        {"name": "volume", "value": volume}, {"name": "unit", "value": unit}]}


def _sms(id: str, messages: int, date: str, product: str = "line-1") -> dict[str, Any]:
    return _usage(id, product, "sms", messages, "message", date)


def _run(http: Any, period: str, accounts: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"period": period}
    if accounts is not None:
        body["billingAccount"] = [{"id": a} for a in accounts]
    return _ok(http.post(RUN, json=body))


def _items(http: Any, bill: str) -> list[dict[str, Any]]:
    """A bill's items, in order, as (type, product, name, amount, coverage start, coverage end)."""
    rates = sorted(_ok(http.get(RATE, params={"bill.id": bill}), 200), key=lambda r: int(r["id"].rsplit("-", 1)[1]))
    return [(r["appliedBillingRateType"], r["product"]["id"], r["name"], r["taxIncludedAmount"]["value"],
             r["periodCoverage"]["startDateTime"], r["periodCoverage"]["endDateTime"]) for r in rates]


def _total(http: Any, bill: str) -> Decimal:
    """The bill's amount, after checking that its items add up to it exactly."""
    shown = _ok(http.get(f"{BILL}/{bill}"), 200)
    amount = shown["amountDue"]
    assert shown["taxIncludedAmount"] == amount == shown["remainingAmount"]
    assert amount["unit"] == "EUR"
    assert sum((item[3] for item in _items(http, bill)), Decimal(0)) == amount["value"]
    return amount["value"]


def _by_hand(monthly: str, start: dt.datetime, end: dt.datetime) -> Decimal:
    """``monthly`` for the share of the calendar month of ``start`` in [start, end), to the
    second, rounded half-up to the cent."""
    days = calendar.monthrange(start.year, start.month)[1]
    share = Decimal((end - start).total_seconds()) / Decimal(days * 86400)
    return (Decimal(monthly) * share).quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.fixture
def http(engine: Any, app_for: AppFor) -> Iterator[Any]:
    """The roaming example; Ana (ba-ana) on the plan since May at 20.00 a month, and Bob
    (ba-bob) who joined on 10 June at noon."""
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "roaming"), "roaming")
    with _app_client(app_for, engine) as client:
        _party(client, "individual", "ana", "ba-ana")
        _party(client, "individual", "bob", "ba-bob")
        _product(client, "line-1", "mobile-data-plan", [("ana", "customer", "Individual")], "ba-ana",
                 [_price("mobile-data-monthly", 20.00, "ba-ana")])
        _product(client, "line-b", "mobile-data-plan", [("bob", "customer", "Individual")], "ba-bob",
                 [_price("mobile-data-monthly", 20.00, "ba-bob")], start="2026-06-10T12:00:00Z")
        yield client


# ----------------------------------------------------------------------------- bill runs


def test_a_bill_run_makes_one_bill_per_account_and_a_second_run_makes_nothing(http: Any) -> None:
    _ok(http.post(USAGE, json=[_sms("s-1", 3, "2026-06-03T10:00:00Z"), _sms("s-2", 2, "2026-06-30T23:59:59Z"),
                               _sms("s-may", 1, "2026-05-31T23:59:59Z"), _sms("s-jul", 4, "2026-07-01T00:00:00Z")]))
    first = _run(http, "2026-06")
    assert first == {"billingPeriod": {"startDateTime": "2026-06-01T00:00:00Z", "endDateTime": "2026-07-01T00:00:00Z"},
                     "billsMade": ["ba-ana-2026-06-EUR", "ba-bob-2026-06-EUR"], "billsAlreadyMade": [], "lateUsage": []}
    ana = _ok(http.get(f"{BILL}/ba-ana-2026-06-EUR"), 200)
    assert (ana["billNo"], ana["state"], ana["runType"], ana["category"]) == ("ba-ana-2026-06-EUR", "new", "onCycle",
                                                                              "normal")
    assert ana["billingAccount"]["id"] == "ba-ana"
    assert ana["billingPeriod"] == {"startDateTime": "2026-06-01T00:00:00Z", "endDateTime": "2026-07-01T00:00:00Z"}
    assert _items(http, "ba-ana-2026-06-EUR") == [
        ("recurringCharge", "line-1", "mobile-data-monthly", Decimal("20.00"), "2026-06-01T00:00:00Z",
         "2026-07-01T00:00:00Z"),
        ("usageCharge", "line-1", "sms usage", Decimal("0.50"), "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z")]
    assert _total(http, "ba-ana-2026-06-EUR") == Decimal("20.50")
    bills_before = _ok(http.get(BILL), 200)
    rates_before = _ok(http.get(RATE), 200)

    second = _run(http, "2026-06")
    assert (second["billsMade"], second["billsAlreadyMade"], second["lateUsage"]) == (
        [], ["ba-ana-2026-06-EUR", "ba-bob-2026-06-EUR"], [])
    assert _ok(http.get(BILL), 200) == bills_before
    assert _ok(http.get(RATE), 200) == rates_before

    # usage of June rated after June was billed: reported, never billed twice or silently added
    _ok(http.post(USAGE, json=_sms("s-late", 5, "2026-06-20T10:00:00Z")))
    third = _run(http, "2026-06")
    assert (third["billsMade"], third["billsAlreadyMade"], third["lateUsage"]) == (
        [], ["ba-ana-2026-06-EUR", "ba-bob-2026-06-EUR"], ["s-late"])
    assert _ok(http.get(BILL), 200) == bills_before
    assert _ok(http.get(RATE), 200) == rates_before
    assert _run(http, "2026-06")["lateUsage"] == ["s-late"]  # still unbilled, still reported

    # July's usage is not late: July's bill has it, and no June usage
    july = _run(http, "2026-07")
    assert july["billsMade"] == ["ba-ana-2026-07-EUR", "ba-bob-2026-07-EUR"] and july["lateUsage"] == []
    assert [i[:4] for i in _items(http, "ba-ana-2026-07-EUR")] == [
        ("recurringCharge", "line-1", "mobile-data-monthly", Decimal("20.00")),
        ("usageCharge", "line-1", "sms usage", Decimal("0.40"))]
    # May's usage, before any May bill: a run for May bills it (and May's fee)
    may = _run(http, "2026-05")
    assert may["billsMade"] == ["ba-ana-2026-05-EUR"]
    assert _total(http, "ba-ana-2026-05-EUR") == Decimal("20.10")


def test_an_account_with_nothing_due_gets_no_bill(http: Any) -> None:
    _party(http, "individual", "carl", "ba-carl")
    assert _run(http, "2026-04")["billsMade"] == []  # nobody had a product in April
    assert _run(http, "2026-06")["billsMade"] == ["ba-ana-2026-06-EUR", "ba-bob-2026-06-EUR"]
    assert _ok(http.get(BILL, params={"billingAccount.id": "ba-carl"}), 200) == []


def test_a_recurring_fee_is_pro_rated_to_the_second_for_a_product_started_mid_month(http: Any) -> None:
    _run(http, "2026-06")
    start, end = dt.datetime(2026, 6, 10, 12, tzinfo=UTC), dt.datetime(2026, 7, 1, tzinfo=UTC)
    expected = _by_hand("20.00", start, end)  # 20.00 x 20.5 days / 30 days = 13.666…
    assert expected == Decimal("13.67")
    assert _items(http, "ba-bob-2026-06-EUR") == [
        ("recurringCharge", "line-b", "mobile-data-monthly", expected, "2026-06-10T12:00:00Z", "2026-07-01T00:00:00Z")]
    assert _total(http, "ba-bob-2026-06-EUR") == Decimal("13.67")
    [rate] = _ok(http.get(RATE, params={"bill.id": "ba-bob-2026-06-EUR"}), 200)
    assert {c["name"]: c["value"] for c in rate["characteristic"]} == {"price": "mobile-data-monthly",
                                                                       "share": Decimal("0.683333")}
    _run(http, "2026-07")
    assert _total(http, "ba-bob-2026-07-EUR") == Decimal("20.00")  # a whole month is the monthly amount


def test_a_recurring_fee_is_pro_rated_for_a_product_terminated_mid_month(http: Any) -> None:
    _ok(http.patch(f"{INVENTORY}/line-b", json={"status": "terminated", "terminationDate": "2026-07-20T06:00:00Z"},
                   headers=MERGE), 200)
    _run(http, "2026-07")
    expected = _by_hand("20.00", dt.datetime(2026, 7, 1, tzinfo=UTC), dt.datetime(2026, 7, 20, 6, tzinfo=UTC))
    assert expected == Decimal("12.42")  # 20.00 x 19.25 days / 31 days = 12.419…
    assert _items(http, "ba-bob-2026-07-EUR") == [
        ("recurringCharge", "line-b", "mobile-data-monthly", expected, "2026-07-01T00:00:00Z", "2026-07-20T06:00:00Z")]
    assert _run(http, "2026-08")["billsMade"] == ["ba-ana-2026-08-EUR"]  # nothing for Bob after the end


def test_discount_lines_last_as_many_months_as_their_application_duration(http: Any) -> None:
    """applicationDuration 2 from 10 June at noon: the discount covers 10 June 12:00 to
    10 August 12:00, pro-rated in each billing month like the fee."""
    _party(http, "individual", "dora", "ba-dora")
    _product(http, "line-d", "mobile-data-plan", [("dora", "customer", "Individual")], "ba-dora",
             [_price("mobile-data-monthly", 5.00, "ba-dora", discounts=[("welcome-half-price", 10.00, 2),
                                                                        ("loyalty", 5.00, None)])],
             start="2026-06-10T12:00:00Z")  # 20.00 a month before discounts
    for month in ("2026-06", "2026-07", "2026-08", "2026-09"):
        _run(http, month, ["ba-dora"])
    start, june_end = dt.datetime(2026, 6, 10, 12, tzinfo=UTC), dt.datetime(2026, 7, 1, tzinfo=UTC)
    june = [("recurringCharge", "line-d", "mobile-data-monthly", _by_hand("20.00", start, june_end)),  # 13.67
            ("discount", "line-d", "welcome-half-price", -_by_hand("10.00", start, june_end)),  # -6.83
            ("discount", "line-d", "loyalty", -_by_hand("5.00", start, june_end))]  # -3.42
    assert [i[:4] for i in _items(http, "ba-dora-2026-06-EUR")] == june
    assert [i[3] for i in june] == [Decimal("13.67"), Decimal("-6.83"), Decimal("-3.42")]
    assert _total(http, "ba-dora-2026-06-EUR") == Decimal("3.42")
    assert [i[:4] for i in _items(http, "ba-dora-2026-07-EUR")] == [
        ("recurringCharge", "line-d", "mobile-data-monthly", Decimal("20.00")),
        ("discount", "line-d", "welcome-half-price", Decimal("-10.00")),
        ("discount", "line-d", "loyalty", Decimal("-5.00"))]
    assert _total(http, "ba-dora-2026-07-EUR") == Decimal("5.00")
    august, until = dt.datetime(2026, 8, 1, tzinfo=UTC), dt.datetime(2026, 8, 10, 12, tzinfo=UTC)
    welcome_end = _by_hand("10.00", august, until)  # 10.00 x 9.5 days / 31 days = 3.064…
    assert welcome_end == Decimal("3.06")
    assert _items(http, "ba-dora-2026-08-EUR") == [
        ("recurringCharge", "line-d", "mobile-data-monthly", Decimal("20.00"), "2026-08-01T00:00:00Z",
         "2026-09-01T00:00:00Z"),
        ("discount", "line-d", "welcome-half-price", -welcome_end, "2026-08-01T00:00:00Z", "2026-08-10T12:00:00Z"),
        ("discount", "line-d", "loyalty", Decimal("-5.00"), "2026-08-01T00:00:00Z", "2026-09-01T00:00:00Z")]
    assert _total(http, "ba-dora-2026-08-EUR") == Decimal("11.94")
    assert [i[:4] for i in _items(http, "ba-dora-2026-09-EUR")] == [  # the welcome offer is over
        ("recurringCharge", "line-d", "mobile-data-monthly", Decimal("20.00")),
        ("discount", "line-d", "loyalty", Decimal("-5.00"))]
    assert _total(http, "ba-dora-2026-09-EUR") == Decimal("15.00")


def test_a_discount_never_takes_more_than_the_fee(http: Any) -> None:
    _party(http, "individual", "gil", "ba-gil")
    _product(http, "line-g", "mobile-data-plan", [("gil", "customer", "Individual")], "ba-gil",
             [_price("mobile-data-monthly", 0.00, "ba-gil", discounts=[("free-month", 15.00, 1),
                                                                       ("staff", 10.00, None)])],
             start="2026-06-01T00:00:00Z")  # 25.00 before discounts
    _run(http, "2026-06", ["ba-gil"])
    assert [i[:4] for i in _items(http, "ba-gil-2026-06-EUR")] == [
        ("recurringCharge", "line-g", "mobile-data-monthly", Decimal("25.00")),
        ("discount", "line-g", "free-month", Decimal("-15.00")),
        ("discount", "line-g", "staff", Decimal("-10.00"))]
    assert _total(http, "ba-gil-2026-06-EUR") == 0


def _month_after(instant: dt.datetime, months: int) -> dt.datetime:
    index = instant.year * 12 + instant.month - 1 + months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def test_an_ordered_plan_is_billed_with_its_welcome_discount_for_two_months(http: Any) -> None:
    _party(http, "individual", "eve", "ba-eve")
    order = _ok(http.post(ORDER, json={
        "relatedParty": [{"id": "eve", "role": "customer", "@referredType": "Individual"}], "channel": [{"id": "web"}],
        "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                              "productOffering": {"id": "mobile-data-plan"}}]}))
    for state in ("inProgress", "completed"):
        _ok(http.patch(f"{ORDER}/{order['id']}", json={"state": state}, headers=MERGE), 200)
    [plan] = _ok(http.get(INVENTORY, params={"relatedParty.id": "eve"}), 200)
    monthly = next(p for p in plan["productPrice"] if p["priceType"] == "recurring")
    assert monthly["billingAccount"] == {"id": "ba-eve"}
    assert monthly["price"]["taxIncludedAmount"]["value"] == Decimal("10.00")
    [welcome] = monthly["priceAlteration"]
    assert (welcome["applicationDuration"], welcome["price"]["taxIncludedAmount"]["value"]) == (2, Decimal("-10.00"))
    started = dt.datetime.fromisoformat(plan["startDate"].replace("Z", "+00:00"))
    months = [_month_after(started, n) for n in range(4)]
    for month in months[:3]:
        assert _run(http, month.strftime("%Y-%m"), ["ba-eve"])["billsMade"] == [f"ba-eve-{month:%Y-%m}-EUR"]
    # the first month from the instant the order completed, the third until the same day two
    # months later (the last day of a shorter month): by hand
    last_day = calendar.monthrange(months[2].year, months[2].month)[1]
    until = started.replace(year=months[2].year, month=months[2].month, day=min(started.day, last_day))
    for index, (charged, reduction) in enumerate([
            (_by_hand("20.00", started, months[1]), _by_hand("10.00", started, months[1])),
            (Decimal("20.00"), Decimal("10.00")),
            (Decimal("20.00"), _by_hand("10.00", months[2], until))]):
        reduction = min(reduction, charged)
        expected = [("recurringCharge", plan["id"], "mobile-data-monthly", charged)]
        if reduction > 0:
            expected.append(("discount", plan["id"], "mobile-discounts/welcome-half-price", -reduction))
        bill = f"ba-eve-{months[index]:%Y-%m}-EUR"
        assert [i[:4] for i in _items(http, bill)] == expected, bill
        assert _total(http, bill) == charged - reduction


def test_a_bill_run_for_some_accounts_bills_only_them(http: Any) -> None:
    only = _run(http, "2026-06", ["ba-bob"])
    assert (only["billsMade"], only["billsAlreadyMade"]) == (["ba-bob-2026-06-EUR"], [])
    assert [b["id"] for b in _ok(http.get(BILL), 200)] == ["ba-bob-2026-06-EUR"]
    assert _run(http, "2026-06", ["ba-ana"])["billsAlreadyMade"] == []
    everyone = _run(http, "2026-06")
    assert (everyone["billsMade"], everyone["billsAlreadyMade"]) == ([], ["ba-ana-2026-06-EUR", "ba-bob-2026-06-EUR"])
    assert _run(http, "2026-06", ["ba-bob"])["billsAlreadyMade"] == ["ba-bob-2026-06-EUR"]


@pytest.mark.parametrize("body,status,message", [
    ({"period": "2026-13"}, 400, "a billing period is a month written YYYY-MM, got '2026-13'"),
    ({"period": "June"}, 400, "a billing period is a month written YYYY-MM, got 'June'"),
    ({}, 400, "period is required: the month to bill, YYYY-MM"),
    ({"period": 202606}, 400, "period is required: the month to bill, YYYY-MM"),
    ({"period": "2026-06", "dryRun": True}, 400, None),
    ({"period": "2026-06", "billingAccount": "ba-ana"}, 400, "billingAccount is a list of {id}"),
    ({"period": "2026-06", "billingAccount": [{"id": "ba-nobody"}]}, 422,
     "billingAccount: no billing account 'ba-nobody' (did you mean 'ba-bob'?) is found or visible to you"),
])
def test_a_bad_bill_run_is_refused_and_bills_nothing(http: Any, body: dict[str, Any], status: int,
                                                     message: str | None) -> None:
    response = http.post(RUN, json=body)
    assert response.status_code == status, response.text
    if message:
        assert response.json()["message"] == message
    assert _ok(http.get(BILL), 200) == []


def test_a_bill_run_body_is_json(http: Any) -> None:
    response = http.post(RUN, content=b'{"period": "2026-06"}', headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert _ok(http.get(BILL), 200) == []


def test_unknown_bills_and_items_are_404(http: Any) -> None:
    assert http.get(f"{BILL}/nothing").status_code == 404
    assert http.get(f"{RATE}/nothing").status_code == 404
    assert http.get(BILL, params={"colour": "red"}).status_code == 400


def test_a_one_time_fee_is_billed_once_in_the_month_the_product_starts(http: Any) -> None:
    _party(http, "individual", "fay", "ba-fay")
    _product(http, "line-f", "mobile-data-plan", [("fay", "customer", "Individual")], "ba-fay",
             [_price("activation", 0.00, "ba-fay", "oneTime", discounts=[("activation-offer", 0.50, None)]),
              _price("mobile-data-monthly", 20.00, "ba-fay")], start="2026-06-16T08:00:00Z")
    _run(http, "2026-06", ["ba-fay"])
    assert _items(http, "ba-fay-2026-06-EUR") == [
        ("oneTimeCharge", "line-f", "activation", Decimal("0.50"), "2026-06-16T08:00:00Z", "2026-06-16T08:00:00Z"),
        ("discount", "line-f", "activation-offer", Decimal("-0.50"), "2026-06-16T08:00:00Z", "2026-06-16T08:00:00Z"),
        ("recurringCharge", "line-f", "mobile-data-monthly",
         _by_hand("20.00", dt.datetime(2026, 6, 16, 8, tzinfo=UTC), dt.datetime(2026, 7, 1, tzinfo=UTC)),
         "2026-06-16T08:00:00Z", "2026-07-01T00:00:00Z")]
    assert _total(http, "ba-fay-2026-06-EUR") == Decimal("9.78")  # 20.00 x 14 d 16 h / 30 d = 9.777…
    _run(http, "2026-07", ["ba-fay"])
    assert [i[:3] for i in _items(http, "ba-fay-2026-07-EUR")] == [
        ("recurringCharge", "line-f", "mobile-data-monthly")]  # once only
    _party(http, "individual", "hal", "ba-hal")
    _product(http, "line-h", "mobile-data-plan", [("hal", "customer", "Individual")], "ba-hal",
             [_price("activation", 5.00, "ba-hal", "oneTime")], start="2026-06-30T23:59:59Z")
    assert _run(http, "2026-07", ["ba-hal"])["billsMade"] == []
    assert _run(http, "2026-06", ["ba-hal"])["billsMade"] == ["ba-hal-2026-06-EUR"]
    assert [i[:4] for i in _items(http, "ba-hal-2026-06-EUR")] == [("oneTimeCharge", "line-h", "activation",
                                                                    Decimal("5.00"))]


def test_a_record_is_billed_in_the_month_of_its_instant(http: Any) -> None:
    """2026-07-01T00:30:00+02:00 is 2026-06-30T22:30Z: June's bill, on both tiers."""
    _ok(http.post(USAGE, json=_sms("s-midnight", 10, "2026-07-01T00:30:00+02:00")))
    _run(http, "2026-06", ["ba-ana"])
    assert [i[:4] for i in _items(http, "ba-ana-2026-06-EUR")][1:] == [("usageCharge", "line-1", "sms usage",
                                                                        Decimal("1.00"))]
    _run(http, "2026-07", ["ba-ana"])
    assert [i[0] for i in _items(http, "ba-ana-2026-07-EUR")] == ["recurringCharge"]


# ----------------------------------------------------------------------------- each payer its own (seed 000)


@pytest.fixture
def car(engine: Any, app_for: AppFor) -> Iterator[Any]:
    """Connected car: the car maker pays the car's connectivity and the telematics usage, the
    driver (third-party payer) the infotainment package and its usage."""
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "connected_car"), "connected_car")
    with _app_client(app_for, engine) as client:
        _party(client, "organization", "car-maker", "ba-car-maker")
        _party(client, "individual", "driver-1", "ba-driver")
        _product(client, "car-1", "car-connectivity-b2b", [("car-maker", "owner", "Organization"),
                                                          ("driver-1", "user", "Individual")], "ba-car-maker",
                 [_price("car-connectivity-monthly", 2.50, "ba-car-maker")])
        _product(client, "pkg-1", "infotainment-connectivity",
                 [("driver-1", "customer", "Individual"), ("driver-1", "driver", "Individual"),
                  ("car-maker", "car-maker", "Organization")], "ba-driver",
                 [_price("infotainment-monthly", 9.99, "ba-driver")])
        yield client


def test_each_payer_gets_its_own_bill_and_sees_only_its_own_bills_and_items(car: Any) -> None:
    _ok(car.post(USAGE, json=[_usage("i-1", "pkg-1", "infotainment", 2, "GB", "2026-06-05T10:00:00Z"),  # 4.00
                              _usage("t-1", "pkg-1", "telematics", 1.2, "GB", "2026-06-06T10:00:00Z")]))  # 0.60
    assert _run(car, "2026-06")["billsMade"] == ["ba-car-maker-2026-06-EUR", "ba-driver-2026-06-EUR"]
    assert [i[:4] for i in _items(car, "ba-driver-2026-06-EUR")] == [
        ("recurringCharge", "pkg-1", "infotainment-monthly", Decimal("9.99")),
        ("usageCharge", "pkg-1", "infotainment usage", Decimal("4.00"))]
    assert _total(car, "ba-driver-2026-06-EUR") == Decimal("13.99")
    assert [i[:4] for i in _items(car, "ba-car-maker-2026-06-EUR")] == [
        ("recurringCharge", "car-1", "car-connectivity-monthly", Decimal("2.50")),
        ("usageCharge", "pkg-1", "telematics usage", Decimal("0.60"))]
    assert _total(car, "ba-car-maker-2026-06-EUR") == Decimal("3.10")
    for account, other in (("ba-driver", "ba-car-maker"), ("ba-car-maker", "ba-driver")):
        bills = _ok(car.get(BILL, params={"billingAccount.id": account}), 200)
        assert [b["id"] for b in bills] == [f"{account}-2026-06-EUR"]
        assert {b["billingAccount"]["id"] for b in bills} == {account}
        rates = _ok(car.get(RATE, params={"billingAccount.id": account}), 200)
        assert len(rates) == 2 and {r["billingAccount"]["id"] for r in rates} == {account}
        assert {r["bill"]["id"] for r in rates} == {f"{account}-2026-06-EUR"}
        assert not {r["id"] for r in rates} & {r["id"] for r in _ok(car.get(RATE, params={"billingAccount.id": other}),
                                                                        200)}
    one = _ok(car.get(f"{RATE}/ba-driver-2026-06-EUR-0002"), 200)
    assert (one["bill"]["id"], one["taxIncludedAmount"]["value"], one["isBilled"]) == (
        "ba-driver-2026-06-EUR", Decimal("4.00"), True)
    assert {c["name"]: c["value"] for c in one["characteristic"]} == {"records": 1, "service": "infotainment"}
    assert _ok(car.get(BILL, params={"billingAccount.id": "ba-nobody"}), 200) == []
    assert [b["id"] for b in _ok(car.get(BILL, params={"billingAccount.id": "ba-driver", "fields": "amountDue"}), 200)
            ] == ["ba-driver-2026-06-EUR"]


# ----------------------------------------------------------------------------- concurrency (PostgreSQL)


@pytest.mark.postgres
def test_concurrent_bill_runs_of_one_month_bill_once_and_answer_cleanly_on_postgresql(
        _postgres_engine: Any, app_for: AppFor) -> None:
    import threading

    from bssrules.store.tables import metadata

    engine = _postgres_engine

    def empty() -> None:
        with engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())

    empty()
    try:
        with UnitOfWork(engine) as uow:
            services.load_project(uow, load_project(ROOT / "examples" / "roaming"), "roaming")
        with _app_client(app_for, engine) as http:
            for n in range(20):
                _party(http, "individual", f"p{n}", f"ba-{n}")
                _product(http, f"line-{n}", "mobile-data-plan", [(f"p{n}", "customer", "Individual")], f"ba-{n}",
                         [_price("mobile-data-monthly", 20.00, f"ba-{n}")])
                _ok(http.post(USAGE, json=_sms(f"s-{n}", 3, "2026-06-03T10:00:00Z", product=f"line-{n}")))
            statuses: list[int] = []
            made: list[dict[str, Any]] = []
            barrier = threading.Barrier(3)

            def run() -> None:
                from fastapi.testclient import TestClient

                from bssrules.api import create_app

                with TestClient(create_app(engine=engine), raise_server_exceptions=False) as own:
                    barrier.wait(timeout=30)
                    response = own.post(RUN, json={"period": "2026-06"})
                    statuses.append(response.status_code)
                    if response.status_code == 201:
                        made.append(response.json())

            threads = [threading.Thread(target=run) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert len(_ok(http.get(BILL, params={"limit": 1000}), 200)) == 20  # billed once
            assert statuses == [201, 201, 201]  # never a 500 (the runs are serialised)
            answers = sorted((len(r["billsMade"]), len(r["billsAlreadyMade"])) for r in made)
            assert answers == [(0, 20), (0, 20), (20, 0)]  # one run made them, the others found them
            assert len(_ok(http.get(RATE, params={"limit": 1000}), 200)) == 40  # a fee and an SMS line each
    finally:
        empty()


def test_a_usage_shows_it_is_billed_once_the_bill_of_its_payer_took_it(car: Any) -> None:
    _ok(car.post(USAGE, json=[_usage("i-1", "pkg-1", "infotainment", 2, "GB", "2026-06-05T10:00:00Z"),
                              _usage("t-1", "pkg-1", "telematics", 1.2, "GB", "2026-06-06T10:00:00Z"),
                              _usage("i-jul", "pkg-1", "infotainment", 1, "GB", "2026-07-01T10:00:00Z")]))

    def billed() -> dict[str, list[bool]]:
        return {u["id"]: [p["isBilled"] for p in u["ratedProductUsage"]] for u in _ok(car.get(USAGE), 200)}

    assert billed() == {"i-1": [False], "t-1": [False], "i-jul": [False]}
    assert _run(car, "2026-06", ["ba-driver"])["billsMade"] == ["ba-driver-2026-06-EUR"]
    assert billed() == {"i-1": [True], "t-1": [False], "i-jul": [False]}
    assert _ok(car.get(f"{USAGE}/i-1"), 200)["ratedProductUsage"][0]["isBilled"] is True
    _run(car, "2026-06")
    assert billed() == {"i-1": [True], "t-1": [True], "i-jul": [False]}
