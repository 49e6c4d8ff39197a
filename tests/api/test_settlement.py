"""Settlement between the connected-car partners over HTTP on both tiers, with authentication ON
(``POST /tmf-api/customerBillManagement/v4/settlementRun`` and TMF678 customer bills of
category ``settlement``), decided by the example's ``connected-car-settlement`` rule set.

The month settled is the current one (tickets are stamped with the time they are opened):

* tickets: three opened by the call center (connectivity, sim, telematics) and one by the car
  manufacturer (roaming) — 4.00 per call-center ticket from the car manufacturer to the call
  center, 4.00 per connectivity/sim/roaming ticket from the CSP to the car manufacturer;
* billed charges: a bill run over the inventory bills three music-5gb products (12.99, 12.99
  and 12.95 a month) and a data-5gb one (4.00) — 60 % of the recurring charges of the offerings of
  category converged (music-5gb, not data-5gb) to the content provider and 30 % to the CSP, each
  share rounded half-up to the cent per charge;
* SLA violations: 97.9 % availability breaks two thresholds (100.00 each, from the CSP to the
  car manufacturer); a minor breach costs nothing; last month's breach is not this month's.

So the notes (payer → payee, written out by hand):

* car-maker → call-center: 3 x 4.00 = 12.00
* car-maker → content-provider: 7.794 → 7.79, 7.794 → 7.79, 7.77 → 23.35 (not 23.36: per charge)
* car-maker → csp: 3.897 → 3.90, 3.897 → 3.90, 3.885 → 3.89 (half-up, not 3.88) = 11.69
* csp → car-maker: 3 x 4.00 + 2 x 100.00 = 212.00, in two lines

Every customerBill and appliedCustomerBillingRate response is checked against the official
TMF678 v4.0.0 definitions made strict; the settlement run (an extension) against its shape here.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft4Validator, FormatChecker
from sqlalchemy import Engine

from bssrules import jsontext
from bssrules.services import notifications
from bssrules.services import catalog as services
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork
from tests.api.session_app import ADMIN_KEY, keyed_app_on_engine

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "bssrules" / "api" / "specs"
API = "/tmf-api/customerBillManagement/v4"
SETTLEMENT_RUN, BILL_RUN = f"{API}/settlementRun", f"{API}/billRun"
BILL, RATE = f"{API}/customerBill", f"{API}/appliedCustomerBillingRate"
TICKET = "/tmf-api/troubleTicket/v4/troubleTicket"
SLA_API = "/tmf-api/slaManagement/v4"
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4/product"
PARTNER = "/tmf-api/partnerManagement/v4/partner"
MERGE = "application/merge-patch+json"
UTC = dt.timezone.utc
RULES = "connected-car-settlement"

# ----------------------------------------------------------------------------- the contract

_REF = re.compile(r'"\$ref":\s*"#/definitions/([^"]+)"')


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
PERIOD = {"type": "object", "required": ["startDateTime", "endDateTime"], "additionalProperties": False,
          "properties": {"startDateTime": {"type": "string", "format": "date-time"},
                         "endDateTime": {"type": "string", "format": "date-time"}}}
IDS = {"type": "array", "items": {"type": "string"}}
SETTLEMENT_RUN_SCHEMA = {"type": "object", "additionalProperties": False,
                         "required": ["billingPeriod", "settlementNotesMade", "settlementNotesAlreadyMade",
                                      "itemsDecided"],
                         "properties": {"billingPeriod": PERIOD, "settlementNotesMade": IDS,
                                        "settlementNotesAlreadyMade": IDS, "itemsDecided": {"type": "integer"}}}


def _problems(body: Any, schema: dict[str, Any]) -> list[str]:
    validator = Draft4Validator({"definitions": DEFINITIONS, **schema}, format_checker=FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def _check(response: Any) -> None:
    response.read()
    path, method, status = response.request.url.path, response.request.method, response.status_code
    assert status < 500, f"{method} {path} → {status}: {response.text}"
    if not path.startswith(API) or path.endswith("/hub"):
        return
    body = response.json()
    if status >= 400:
        schema: dict[str, Any] = {"$ref": "#/definitions/Error"}
        assert body["status"] == str(status)
    elif path == SETTLEMENT_RUN:
        schema = SETTLEMENT_RUN_SCHEMA
    elif path == BILL_RUN:
        return  # checked by tests/api/test_tmf678_bills.py
    else:
        name = "CustomerBill" if path.startswith(BILL) else "AppliedCustomerBillingRate"
        schema = {"type": "array", "items": {"$ref": f"#/definitions/{name}"}} if isinstance(body, list) else \
            {"$ref": f"#/definitions/{name}"}
    problems = _problems(body, schema)
    assert not problems, f"{method} {path} → {status} breaks the TMF678 contract: {problems}\n{response.text[:2000]}"


def test_the_contract_check_catches_what_the_standard_does_not_define() -> None:
    note = {"id": "n", "state": "sent", "category": "settlement", "amountDue": {"unit": "EUR", "value": 3}}
    assert _problems(note, {"$ref": "#/definitions/CustomerBill"}) == []
    assert _problems({**note, "payer": "csp"}, {"$ref": "#/definitions/CustomerBill"}) == [
        "[]: Additional properties are not allowed ('payer' was unexpected)"]
    assert _problems({**note, "state": "disputed"}, {"$ref": "#/definitions/CustomerBill"})
    assert _problems({"settlementNotesMade": [], "settlementNotesAlreadyMade": [], "itemsDecided": 0},
                     SETTLEMENT_RUN_SCHEMA) == ["[]: 'billingPeriod' is a required property"]


# ----------------------------------------------------------------------------- the world


def _month(instant: dt.datetime, shift: int = 0) -> str:
    index = instant.year * 12 + instant.month - 1 + shift
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _start(label: str) -> str:
    return f"{label}-01T00:00:00Z"


def _end(label: str) -> str:
    year, month = map(int, label.split("-"))
    return _start(_month(dt.datetime(year, month, 1, tzinfo=UTC), 1))


class World:
    def __init__(self, engine: Engine, app: Any):
        self.engine = engine
        self.admin = ADMIN_KEY
        self.client = TestClient(app)
        self.client.event_hooks["response"] = [_check]
        self.keys: dict[str, str] = {}
        self.month = _month(dt.datetime.now(UTC))

    def call(self, method: str, path: str, who: str, body: Any = None, params: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.admin if who == 'admin' else self.keys[who]}"}
        if body is not None:
            headers["content-type"] = MERGE if method == "PATCH" else "application/json"
            return self.client.request(method, path, headers=headers, content=jsontext.dumps(body), params=params)
        return self.client.request(method, path, headers=headers, params=params)

    def ok(self, method: str, path: str, who: str = "admin", body: Any = None, status: int | None = None,
           params: Any = None) -> Any:
        response = self.call(method, path, who, body, params)
        wanted = status or {"POST": 201}.get(method, 200)
        assert response.status_code == wanted, f"{who}: {method} {path} → {response.status_code}: {response.text}"
        return json.loads(response.text, parse_float=Decimal)

    def error(self, method: str, path: str, who: str, body: Any = None) -> tuple[int, str]:
        response = self.call(method, path, who, body)
        assert response.status_code >= 400, response.text
        return response.status_code, response.json()["message"]

    def ticket(self, who: str, ticket_type: str) -> dict[str, Any]:
        return self.ok("POST", TICKET, who, {"description": "d", "severity": "minor", "ticketType": ticket_type})

    def product(self, id: str, offering: str, account: str, monthly: str, price: str) -> None:
        start = _start(_month(dt.datetime.now(UTC), -1))
        self.ok("POST", INVENTORY, "admin", {
            "id": id, "status": "active", "startDate": start, "productOffering": {"id": offering},
            "billingAccount": {"id": account}, "productPrice": [{
                "name": price, "priceType": "recurring", "recurringChargePeriod": "month",
                "productOfferingPrice": {"id": price}, "billingAccount": {"id": account},
                "price": {"taxIncludedAmount": {"unit": "EUR", "value": Decimal(monthly)}}}]})

    def run(self, period: str | None = None) -> dict[str, Any]:
        return self.ok("POST", SETTLEMENT_RUN, "admin", {"period": period or self.month})

    def note(self, payer: str, payee: str) -> str:
        return f"settlement-{payer}-{payee}-{self.month}-EUR"

    def lines(self, note: str, who: str = "admin") -> list[tuple[str, Decimal, int]]:
        rates = self.ok("GET", RATE, who, params={"bill.id": note})
        assert [r["id"] for r in rates] == [f"{note}-{i:04d}" for i in range(1, len(rates) + 1)]
        for rate in rates:
            assert (rate["appliedBillingRateType"], rate["isBilled"], rate["bill"]["id"]) == ("settlement", True, note)
            assert rate["periodCoverage"] == {"startDateTime": _start(self.month), "endDateTime": _end(self.month)}
        return [(r["name"], r["taxIncludedAmount"]["value"],
                 {c["name"]: c["value"] for c in r["characteristic"]}["items"]) for r in rates]

    def events(self) -> dict[str, list[tuple[str, str, str]]]:
        received: dict[str, list[tuple[str, str, str]]] = {}

        def send(callback: str, document: dict[str, Any]) -> None:
            bill = document["event"]["customerBill"]
            received.setdefault(callback.split("//")[1].split(".")[0], []).append(
                (document["eventType"], bill["id"], bill["state"]))

        while notifications.deliver_due(lambda: UnitOfWork(self.engine), send=send):
            pass
        return received


def _bundle(*apis: str) -> dict[str, Any]:
    return {"name": "bundle", "api": [{"name": a} for a in apis]}


@pytest.fixture
def world(engine: Engine, keyed_app_on_engine: Any) -> Iterator[World]:
    """Partners, this month's tickets, SLA violations and the bills of the music offer."""
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "connected_car"), "connected_car")
    world = World(engine, keyed_app_on_engine)
    with world.client:
        for partner in ("call-center", "csp", "car-maker", "content-provider", "garage"):
            world.keys[partner] = world.ok("POST", PARTNER, "admin", {
                "id": partner, "name": partner, "apiBundle": _bundle("TMF621", "TMF623", "TMF678")})["apiKey"]
            world.ok("POST", f"{API}/hub", partner, {"callback": f"http://{partner}.example/tmf678"})
        # tickets of this month
        tickets = [world.ticket("call-center", t) for t in ("connectivity", "sim", "telematics")]
        tickets.append(world.ticket("car-maker", "roaming"))
        world.month = tickets[0]["creationDate"][:7]
        assert {t["creationDate"][:7] for t in tickets} == {world.month}
        # SLA violations: two this month (and a minor one), one last month
        world.ok("POST", f"{SLA_API}/sla", "car-maker", {
            "id": "cc-sla", "name": "Connectivity", "ruleSet": {"id": "call-center-sla"},
            "relatedParty": [{"id": "csp", "role": "provider"}, {"id": "car-maker", "role": "consumer"}]})
        last = _month_before(world.month)
        for value, metric, window, day in ((97.9, "availability", "month", f"{world.month}-01T00:00:00Z"),
                                           (30, "ticketResolutionHours", None, f"{world.month}-01T06:00:00Z"),
                                           (98.5, "availability", "month", f"{last}-28T12:00:00Z")):
            world.ok("POST", f"{SLA_API}/slaMeasurement", "car-maker", {
                "sla": {"id": "cc-sla"}, "metric": metric, "value": value, "observedAt": day,
                **({"window": window} if window else {})})
        # customers of the converged offer, billed this month (and last month)
        for party, account in (("ana", "ba-ana"), ("bob", "ba-bob")):
            world.ok("POST", f"{PARTY}/individual", "admin", {"id": party, "givenName": party, "familyName": "X"})
            world.ok("POST", f"{ACCOUNT}/billingAccount", "admin", {"id": account, "name": account, "relatedParty": [
                {"id": party, "name": party, "role": "owner", "@referredType": "Individual"}]})
        world.product("music-ana", "music-5gb", "ba-ana", "12.99", "music-5gb-monthly")
        world.product("data-ana", "data-5gb", "ba-ana", "4.00", "data-5gb-monthly")
        world.product("music-bob", "music-5gb", "ba-bob", "12.99", "music-5gb-monthly")
        world.product("music-bob-2", "music-5gb", "ba-bob", "12.95", "music-5gb-monthly")
        for month in (_month_before(world.month), world.month):
            made = world.ok("POST", BILL_RUN, "admin", {"period": month})["billsMade"]
            assert made == [f"ba-ana-{month}-EUR", f"ba-bob-{month}-EUR"]
        world.events()  # what the setup notified is not what these tests look at
        yield world


def _month_before(label: str) -> str:
    year, month = map(int, label.split("-"))
    return _month(dt.datetime(year, month, 1, tzinfo=UTC), -1)


NOTES = [("car-maker", "call-center"), ("car-maker", "content-provider"), ("car-maker", "csp"),
         ("csp", "car-maker")]


# ----------------------------------------------------------------------------- the run


def test_the_month_is_settled_in_one_note_per_payer_and_payee_with_exact_totals(world: World) -> None:
    run = world.run()
    ids = [world.note(payer, payee) for payer, payee in NOTES]
    assert run == {"billingPeriod": {"startDateTime": _start(world.month), "endDateTime": _end(world.month)},
                   "settlementNotesMade": ids, "settlementNotesAlreadyMade": [],
                   # 7 tickets (4 opened + 3 by SLA breaches), 4 bill items, 3 violations of the month
                   "itemsDecided": 14}

    expected = {
        ("car-maker", "call-center"): [(f"{RULES}/call-center-fee", Decimal("12.00"), 3)],
        ("car-maker", "content-provider"): [(f"{RULES}/converged-share-content-provider", Decimal("23.35"), 3)],
        ("car-maker", "csp"): [(f"{RULES}/converged-share-csp", Decimal("11.69"), 3)],
        ("csp", "car-maker"): [(f"{RULES}/availability-penalty", Decimal("200.00"), 2),
                               (f"{RULES}/connectivity-tickets-to-csp", Decimal("12.00"), 3)],
    }
    totals = {("car-maker", "call-center"): "12.00", ("car-maker", "content-provider"): "23.35",
              ("car-maker", "csp"): "11.69", ("csp", "car-maker"): "212.00"}
    for (payer, payee), lines in expected.items():
        note_id = world.note(payer, payee)
        note = world.ok("GET", f"{BILL}/{note_id}")
        total = {"unit": "EUR", "value": Decimal(totals[(payer, payee)])}
        assert {k: v for k, v in note.items() if k != "billDate"} == {
            "id": note_id, "href": f"{BILL}/{note_id}", "@type": "CustomerBill", "billNo": note_id,
            "category": "settlement", "runType": "onCycle", "state": "sent",
            "billingPeriod": {"startDateTime": _start(world.month), "endDateTime": _end(world.month)},
            "amountDue": total, "remainingAmount": total, "taxIncludedAmount": total,
            "relatedParty": [{"id": payer, "role": "payer", "@referredType": "Organization"},
                             {"id": payee, "role": "payee", "@referredType": "Organization"}]}
        assert world.lines(note_id) == lines
        assert sum(amount for _, amount, _ in lines) == total["value"]
    assert sorted(b["id"] for b in world.ok("GET", BILL, params={"category": "settlement"})) == sorted(ids)

    events = world.events()
    for partner in ("call-center", "content-provider", "csp", "car-maker"):
        assert sorted(events[partner]) == sorted(
            ("CustomerBillCreateEvent", world.note(payer, payee), "sent") for payer, payee in NOTES
            if partner in (payer, payee))
    assert "garage" not in events


def test_a_breach_of_an_sla_the_payee_is_not_party_to_costs_nothing_towards_it(world: World) -> None:
    """The availability penalty is the CSP's to the car manufacturer for the availability it
    provides to it (metric.partner, metric.consumers). A breach of the CSP's SLA with the call
    center alone was charged to the CSP and paid to the car manufacturer too: a violation gave
    the settlement rules only the metric's name and value, not whose SLA it broke."""
    world.ok("POST", f"{SLA_API}/sla", "admin", {
        "id": "call-sla", "name": "Call center line", "ruleSet": {"id": "call-center-sla"},
        "relatedParty": [{"id": "csp", "role": "provider"}, {"id": "call-center", "role": "consumer"}]})
    world.ok("POST", f"{SLA_API}/slaMeasurement", "call-center", {
        "sla": {"id": "call-sla"}, "metric": "availability", "value": 97.9, "window": "month",
        "observedAt": f"{world.month}-01T00:00:00Z"})
    run = world.run()
    assert run["itemsDecided"] == 14 + 2 + 2  # its two violations, and the two tickets they opened
    penalties = [line for line in world.lines(world.note("csp", "car-maker")) if line[0].endswith("penalty")]
    assert penalties == [(f"{RULES}/availability-penalty", Decimal("200.00"), 2)]  # the car manufacturer's SLA only
    assert world.note("csp", "call-center") not in run["settlementNotesMade"]


def test_re_running_the_month_makes_nothing_twice(world: World) -> None:
    first = world.run()
    notes, rates = world.ok("GET", BILL), world.ok("GET", RATE)
    world.events()
    again = world.run()
    assert (again["settlementNotesMade"], again["settlementNotesAlreadyMade"]) == (
        [], first["settlementNotesMade"])
    assert again["itemsDecided"] == 14
    assert world.ok("GET", BILL) == notes
    assert world.ok("GET", RATE) == rates
    assert world.events() == {}


def test_a_month_without_items_makes_no_note(world: World) -> None:
    before = _month_before(_month_before(world.month))
    assert world.run(before) == {"billingPeriod": {"startDateTime": _start(before), "endDateTime": _end(before)},
                                 "settlementNotesMade": [], "settlementNotesAlreadyMade": [], "itemsDecided": 0}


def test_last_month_settles_its_own_bills_and_breaches_only(world: World) -> None:
    last = _month_before(world.month)
    run = world.run(last)
    payers = [f"settlement-{p}-{q}-{last}-EUR" for p, q in (("car-maker", "content-provider"),
                                                             ("car-maker", "csp"), ("csp", "car-maker"))]
    assert (run["settlementNotesMade"], run["itemsDecided"]) == (payers, 5)  # 4 bill items, 1 violation
    assert world.ok("GET", f"{BILL}/settlement-csp-car-maker-{last}-EUR")["amountDue"]["value"] == Decimal("100.00")
    assert world.ok("GET", f"{BILL}/settlement-car-maker-content-provider-{last}-EUR")["amountDue"]["value"] == \
        Decimal("23.35")


def test_only_the_operator_runs_a_settlement_and_names_a_month(world: World) -> None:
    assert world.error("POST", SETTLEMENT_RUN, "car-maker", {"period": world.month}) == (
        403, "settlement runs are the operator's: only an administrator starts one")
    assert world.error("POST", SETTLEMENT_RUN, "admin", {"period": "last month"}) == (
        400, "a billing period is a month written YYYY-MM, got 'last month'")
    assert world.error("POST", SETTLEMENT_RUN, "admin", {"month": world.month}) == (
        400, "a settlement run takes period: the month, YYYY-MM")
    assert world.ok("GET", BILL, params={"category": "settlement"}) == []


# ----------------------------------------------------------------------------- who sees what


def test_each_partner_sees_only_the_notes_it_pays_or_is_paid(world: World) -> None:
    world.run()
    for partner in ("call-center", "content-provider", "csp", "car-maker", "garage"):
        mine = sorted(world.note(p, q) for p, q in NOTES if partner in (p, q))
        assert sorted(b["id"] for b in world.ok("GET", BILL, partner)) == mine, partner
        assert sorted({r["bill"]["id"] for r in world.ok("GET", RATE, partner)}) == mine, partner
        for payer, payee in NOTES:
            note = world.note(payer, payee)
            if partner in (payer, payee):
                assert world.ok("GET", f"{BILL}/{note}", partner)["id"] == note
                assert len(world.lines(note, partner)) == (2 if payer == "csp" else 1)
            else:
                assert world.error("GET", f"{BILL}/{note}", partner) == (
                    404, f"no CustomerBill with id '{note}'")
                assert world.error("GET", f"{RATE}/{note}-0001", partner) == (
                    404, f"no AppliedCustomerBillingRate with id '{note}-0001'")
                assert world.error("PATCH", f"{BILL}/{note}", partner, {"state": "validated"}) == (
                    404, f"no CustomerBill with id '{note}'")


# ----------------------------------------------------------------------------- the life of a note


def test_a_note_is_accepted_disputed_reissued_and_paid_by_the_right_partner(world: World) -> None:
    world.run()
    note = world.note("car-maker", "content-provider")
    url = f"{BILL}/{note}"
    world.events()

    def move(who: str, state: str) -> dict[str, Any]:
        moved = world.ok("PATCH", url, who, {"state": state})
        assert moved["state"] == state and world.ok("GET", url, "admin") == moved
        return moved

    assert world.error("PATCH", url, "content-provider", {"state": "onHold"}) == (
        409, "the payer of the note moves it to onHold")
    move("car-maker", "onHold")
    assert world.error("PATCH", url, "car-maker", {"state": "sent"}) == (
        409, "the payee of the note moves it to sent")
    move("content-provider", "sent")
    assert world.error("PATCH", url, "content-provider", {"state": "validated"}) == (
        409, "the payer of the note moves it to validated")
    validated = move("car-maker", "validated")
    assert validated["remainingAmount"] == {"unit": "EUR", "value": Decimal("23.35")}
    assert world.error("PATCH", url, "content-provider", {"state": "settled"}) == (
        409, "the payer of the note moves it to settled")
    settled = move("car-maker", "settled")
    assert settled["amountDue"] == {"unit": "EUR", "value": Decimal("23.35")}
    assert settled["remainingAmount"] == {"unit": "EUR", "value": Decimal("0")}
    assert world.ok("PATCH", url, "car-maker", {"state": "settled"}) == settled  # no change
    assert world.error("PATCH", url, "admin", {"state": "sent"}) == (
        409, "a settlement note settled cannot become sent")

    events = world.events()
    states = [("CustomerBillStateChangeEvent", note, s) for s in ("onHold", "sent", "validated", "settled")]
    assert events["car-maker"] == events["content-provider"] == states
    assert set(events) == {"car-maker", "content-provider"}


def test_onhold_may_be_accepted_directly_and_the_operator_may_move_a_note(world: World) -> None:
    world.run()
    url = f"{BILL}/{world.note('csp', 'car-maker')}"
    assert world.ok("PATCH", url, "csp", {"state": "onHold"})["state"] == "onHold"
    assert world.ok("PATCH", url, "csp", {"state": "validated"})["state"] == "validated"
    assert world.ok("PATCH", url, "admin", {"state": "settled"})["remainingAmount"]["value"] == Decimal("0")


@pytest.mark.parametrize("path, target, message", [
    ([], "settled", "a settlement note sent cannot become settled"),
    ([], "new", "a settlement note sent cannot become new"),
    ([("car-maker", "validated")], "onHold", "a settlement note validated cannot become onHold"),
    ([("car-maker", "validated")], "sent", "a settlement note validated cannot become sent"),
    ([("car-maker", "onHold")], "settled", "a settlement note onHold cannot become settled"),
])
def test_a_move_the_life_cycle_forbids_is_a_conflict(world: World, path: list[tuple[str, str]], target: str,
                                                     message: str) -> None:
    world.run()
    url = f"{BILL}/{world.note('car-maker', 'csp')}"
    for who, state in path:
        world.ok("PATCH", url, who, {"state": state})
    before = world.ok("GET", url)
    assert world.error("PATCH", url, "admin", {"state": target}) == (409, message)
    assert world.ok("GET", url) == before


def test_only_the_state_of_a_settlement_note_changes_here(world: World) -> None:
    world.run()
    note = world.note("car-maker", "csp")
    assert world.error("PATCH", f"{BILL}/{note}", "admin", {"state": "validated", "billCycle": {"id": "c"}}) == (
        400, "only the state of a bill changes; billCycle cannot")
    assert world.error("PATCH", f"{BILL}/ba-ana-{world.month}-EUR", "admin", {"state": "settled"}) == (
        409, "only settlement notes change state here; a customer bill is settled by its payment")
    assert world.ok("GET", f"{BILL}/{note}")["state"] == "sent"


# ----------------------------------------------------------------------------- with the bill runs


def test_a_bill_run_for_some_accounts_after_the_settlement_run(world: World) -> None:
    world.run()
    run = world.ok("POST", BILL_RUN, "admin", {"period": world.month, "billingAccount": [{"id": "ba-ana"}]})
    assert (run["billsMade"], run["billsAlreadyMade"]) == ([], [f"ba-ana-{world.month}-EUR"])


def test_a_bill_run_after_the_settlement_run_does_not_count_settlement_notes_as_bills(world: World) -> None:
    world.run()
    run = world.ok("POST", BILL_RUN, "admin", {"period": world.month})
    assert (run["billsMade"], run["billsAlreadyMade"]) == (
        [], [f"ba-ana-{world.month}-EUR", f"ba-bob-{world.month}-EUR"])
