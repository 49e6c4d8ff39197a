"""TMF621 trouble tickets over HTTP on both tiers, with authentication ON and the connected-car
example loaded (its ``ticket-routing`` rule set of kind ``routing``).

* Routing: a new ticket goes to the partner the routing rules name for its type (the CSP for
  connectivity troubles, the car manufacturer for vehicle ones, the CSP by default); an
  assignee named in ``relatedParty`` wins; without any routing rule set it is refused.
* The life of a ticket: the call center opens it, the CSP starts it, finds it misdirected and
  redirects it to the car manufacturer, which resolves it; the call center sends it back,
  the car manufacturer resolves it again and the call center closes it. Every step is in
  ``statusChange``, in order, and notified to the TMF621 hubs of both sides — nobody else's.
* Refusals: a transition the life cycle forbids, or made by the wrong partner, is a 409 that
  changes nothing; a partner that is neither originator nor assignee gets a 404.
* Notes are appended, each with its author and date.

Every response of the troubleTicket resource (and every event's ticket) is checked against the
official TMF621 v4.0.0 ``TroubleTicket`` (or ``Error``) made strict: no attribute the standard
does not define. Expected values are written here, not derived from the code under test.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft4Validator, FormatChecker
from sqlalchemy import Engine

from bssrules.services import notifications
from bssrules.services import catalog as services
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork
from tests.api.session_app import ADMIN_KEY, AppFor, keyed_app_on_engine

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "bssrules" / "api" / "specs"
API = "/tmf-api/troubleTicket/v4"
TICKET, HUB = f"{API}/troubleTicket", f"{API}/hub"
PARTNER = "/tmf-api/partnerManagement/v4/partner"
MERGE = "application/merge-patch+json"
PARTNERS = ("call-center", "csp", "car-maker", "content-provider")
UTC = dt.timezone.utc
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

# ----------------------------------------------------------------------------- the contract

_REF = re.compile(r'"\$ref":\s*"#/definitions/([^"]+)"')


def _strict_definitions() -> dict[str, Any]:
    definitions = copy.deepcopy(json.loads((SPECS / "TMF621-TroubleTicket-v4.0.0.swagger.json").read_text())[
        "definitions"])
    seen: set[str] = set()
    todo = ["TroubleTicket", "Error"]
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


def _problems(body: Any, definition: str, many: bool = False) -> list[str]:
    reference = {"$ref": f"#/definitions/{definition}"}
    schema = {"definitions": DEFINITIONS, **({"type": "array", "items": reference} if many else reference)}
    validator = Draft4Validator(schema, format_checker=FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def _check(response: Any) -> None:
    response.read()
    path, method, status = response.request.url.path, response.request.method, response.status_code
    assert status < 500, f"{method} {path} → {status}: {response.text}"
    if not path.startswith(TICKET):
        return
    assert response.headers["content-type"].split(";")[0] == "application/json", response.headers
    body = response.json()
    if status >= 400:
        problems = _problems(body, "Error")
        assert body["status"] == str(status), body
    else:
        problems = _problems(body, "TroubleTicket", many=isinstance(body, list))
    assert not problems, f"{method} {path} → {status} breaks TMF621: {problems}\n{response.text[:2000]}"


def test_the_contract_check_catches_what_the_standard_does_not_define() -> None:
    ticket = {"id": "t", "status": "acknowledged", "ticketType": "sim", "severity": "major"}
    assert _problems(ticket, "TroubleTicket") == []
    assert _problems({**ticket, "assignee": "csp"}, "TroubleTicket") == [
        "[]: Additional properties are not allowed ('assignee' was unexpected)"]
    assert _problems({**ticket, "status": "solved"}, "TroubleTicket")
    assert _problems({**ticket, "relatedParty": [{"id": "csp", "role": "assignee"}]}, "TroubleTicket") == [
        "['relatedParty', 0]: '@referredType' is a required property"]


# ----------------------------------------------------------------------------- the world


class World:
    """The app with authentication on, the connected-car example, a key per partner and a
    TMF621 hub per partner (callback ``http://<partner>.example/tmf621``)."""

    def __init__(self, engine: Engine, app: Any):
        self.engine = engine
        self.admin = ADMIN_KEY
        self.client = TestClient(app)
        self.client.event_hooks["response"] = [_check]
        self.keys: dict[str, str] = {}

    def call(self, method: str, path: str, who: str, body: Any = None, params: Any = None) -> Any:
        key = self.admin if who == "admin" else self.keys[who]
        headers = {"Authorization": f"Bearer {key}"}
        if body is not None:
            headers["content-type"] = MERGE if method == "PATCH" else "application/json"
            return self.client.request(method, path, headers=headers, content=json.dumps(body), params=params)
        return self.client.request(method, path, headers=headers, params=params)

    def ok(self, method: str, path: str, who: str, body: Any = None, status: int | None = None,
           params: Any = None) -> Any:
        response = self.call(method, path, who, body, params)
        wanted = status or {"POST": 201}.get(method, 200)
        assert response.status_code == wanted, f"{who}: {method} {path} → {response.status_code}: {response.text}"
        return response.json()

    def refused(self, method: str, path: str, who: str, body: Any, status: int, message: str) -> None:
        response = self.call(method, path, who, body)
        assert response.status_code == status, f"{who}: {method} {path} → {response.status_code}: {response.text}"
        code = {404: "notFound", 409: "conflict", 400: "invalidInput", 422: "unknownReference"}[status]
        assert (response.status_code, response.json()["code"], response.json()["message"]) == (
            status, code, message), response.text

    def open(self, who: str, ticket_type: str, **more: Any) -> dict[str, Any]:
        return self.ok("POST", TICKET, who, {"description": f"a {ticket_type} trouble", "severity": "major",
                                             "ticketType": ticket_type, **more})

    def patch(self, ticket: str, who: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.ok("PATCH", f"{TICKET}/{ticket}", who, body)

    def events(self) -> dict[str, list[tuple[str, str, str]]]:
        """Deliver what is due; (event type, ticket id, status) received, by partner hub."""
        received: dict[str, list[tuple[str, str, str]]] = {}

        def send(callback: str, document: dict[str, Any]) -> None:
            ticket = document["event"]["troubleTicket"]
            problems = _problems(json.loads(json.dumps(document["event"]["troubleTicket"], default=str)),
                                 "TroubleTicket")
            assert not problems, f"the event's ticket breaks TMF621: {problems}"
            who = callback.split("//")[1].split(".")[0]
            received.setdefault(who, []).append((document["eventType"], ticket["id"], ticket["status"]))

        while notifications.deliver_due(lambda: UnitOfWork(self.engine), send=send):
            pass
        return received


@pytest.fixture
def world(engine: Engine, keyed_app_on_engine: Any) -> Iterator[World]:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "connected_car"), "connected_car")
    world = World(engine, keyed_app_on_engine)
    with world.client:
        for partner in PARTNERS:
            created = world.ok("POST", PARTNER, "admin", {"id": partner, "name": partner, "apiBundle": {
                "name": f"{partner}-bundle", "api": [{"name": "TMF621"}]}})
            world.keys[partner] = created["apiKey"]
            world.ok("POST", HUB, partner, {"callback": f"http://{partner}.example/tmf621"})
        yield world


def _now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def _instant(text: str) -> dt.datetime:
    assert INSTANT.match(text), text
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _parties(ticket: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((p["role"], p["id"], p["@referredType"]) for p in ticket["relatedParty"])


def _history(ticket: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["status"], s["changeReason"]) for s in ticket["statusChange"]]


# ----------------------------------------------------------------------------- routing


@pytest.mark.parametrize("ticket_type, assignee, rule", [
    ("connectivity", "csp", "connectivity-to-csp"),
    ("sim", "csp", "connectivity-to-csp"),
    ("billing", "csp", "connectivity-to-csp"),
    ("vehicle", "car-maker", "vehicle-to-car-maker"),
    ("telematics", "car-maker", "vehicle-to-car-maker"),
    ("infotainment", "car-maker", "vehicle-to-car-maker"),
    ("windscreen", "csp", "default"),
])
def test_a_new_ticket_is_routed_by_its_type(world: World, ticket_type: str, assignee: str, rule: str) -> None:
    before = _now()
    ticket = world.open("call-center", ticket_type)
    after = _now()
    assert ticket["status"] == "acknowledged"
    assert ticket["href"] == f"{TICKET}/{ticket['id']}" and ticket["@type"] == "TroubleTicket"
    assert (ticket["ticketType"], ticket["severity"], ticket["description"]) == (
        ticket_type, "major", f"a {ticket_type} trouble")
    assert _parties(ticket) == sorted([("assignee", assignee, "Organization"),
                                       ("originator", "call-center", "Organization")])
    assert _history(ticket) == [("acknowledged", f"routed to {assignee} by ticket-routing/{rule}")]
    created = _instant(ticket["creationDate"])
    assert before <= created <= after
    assert ticket["lastUpdate"] == ticket["statusChangeDate"] == ticket["statusChange"][0]["changeDate"] == \
        ticket["creationDate"]
    assert world.ok("GET", f"{TICKET}/{ticket['id']}", assignee) == ticket
    assert world.ok("GET", f"{TICKET}/{ticket['id']}", "call-center") == ticket


def test_an_assignee_named_by_the_originator_wins_over_the_rules(world: World) -> None:
    ticket = world.open("call-center", "connectivity", relatedParty=[
        {"id": "car-maker", "role": "assignee", "@referredType": "Organization"}])
    assert _parties(ticket) == [("assignee", "car-maker", "Organization"),
                                ("originator", "call-center", "Organization")]
    assert _history(ticket) == [("acknowledged", "routed to car-maker as requested")]
    world.ok("GET", f"{TICKET}/{ticket['id']}", "car-maker")
    world.refused("GET", f"{TICKET}/{ticket['id']}", "csp", None, 404,
                  f"no TroubleTicket with id '{ticket['id']}'")


def test_a_ticket_is_born_acknowledged_and_keeps_the_id_it_is_given(world: World) -> None:
    world.refused("POST", TICKET, "call-center", {"description": "d", "severity": "minor", "ticketType": "sim",
                                                  "status": "resolved"}, 400,
                  "a new ticket is acknowledged; its status moves by later changes")
    ticket = world.open("call-center", "sim", id="cc-0001")
    assert ticket["id"] == "cc-0001"
    world.refused("POST", TICKET, "call-center", {"description": "d", "severity": "minor", "ticketType": "sim",
                                                  "id": "cc-0001"}, 409,
                  "a TroubleTicket with id 'cc-0001' already exists")


def test_a_ticket_with_a_tmf621_priority_is_routed(world: World) -> None:
    ticket = world.open("call-center", "telematics", priority="High")
    assert ticket["priority"] == "High"
    assert _parties(ticket)[0] == ("assignee", "car-maker", "Organization")


def test_without_a_routing_rule_set_a_ticket_must_name_its_assignee(engine: Engine, app_for: AppFor) -> None:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / "devices"), "devices")
    with app_for(engine, auth=False) as app, TestClient(app) as client:
        client.event_hooks["response"] = [_check]
        body = {"description": "d", "severity": "minor", "ticketType": "sim"}
        refused = client.post(TICKET, json=body)
        assert (refused.status_code, refused.json()["message"]) == (
            400, "no routing rule assigns this ticket: name an assignee in relatedParty or add a routing rule set "
                 "with a default")
        assert client.get(TICKET).json() == []
        named = client.post(TICKET, json={**body, "relatedParty": [
            {"id": "csp", "role": "assignee", "@referredType": "Organization"}]})
        assert named.status_code == 201, named.text
        # the operator without keys is no partner: no originator is recorded
        assert _parties(named.json()) == [("assignee", "csp", "Organization")]


# ----------------------------------------------------------------------------- the life of a ticket


def test_the_whole_life_of_a_ticket_with_its_history_and_events(world: World) -> None:
    ticket = world.open("call-center", "connectivity", name="No data in the car")
    id_ = ticket["id"]
    url = f"{TICKET}/{id_}"

    started = world.patch(id_, "csp", {"status": "inProgress"})
    assert started["status"] == "inProgress" and started["statusChangeReason"] == "inProgress"
    # the CSP finds the modem of the car faulty: misdirected, it goes to the car manufacturer
    redirected = world.patch(id_, "csp", {"relatedParty": [
        {"id": "car-maker", "role": "assignee", "@referredType": "Organization"}]})
    assert redirected["status"] == "inProgress"
    assert _parties(redirected) == [("assignee", "car-maker", "Organization"),
                                    ("originator", "call-center", "Organization")]
    resolved = world.patch(id_, "car-maker", {"status": "resolved", "statusChangeReason": "modem replaced"})
    assert (resolved["status"], resolved["statusChangeReason"]) == ("resolved", "modem replaced")
    assert resolved["resolutionDate"] == resolved["statusChangeDate"]
    back = world.patch(id_, "call-center", {"status": "inProgress", "statusChangeReason": "still no data"})
    assert back["status"] == "inProgress"
    again = world.patch(id_, "car-maker", {"status": "resolved"})
    assert again["statusChangeReason"] == "resolved, sent back to the originator"
    closed = world.patch(id_, "call-center", {"status": "closed"})
    assert closed["status"] == "closed" and closed["statusChangeReason"] == "closed by the originator"

    assert _history(closed) == [
        ("acknowledged", "routed to csp by ticket-routing/connectivity-to-csp"),
        ("inProgress", "inProgress"),
        ("inProgress", "redirected from csp to car-maker"),
        ("resolved", "modem replaced"),
        ("inProgress", "still no data"),
        ("resolved", "resolved, sent back to the originator"),
        ("closed", "closed by the originator")]
    dates = [_instant(s["changeDate"]) for s in closed["statusChange"]]
    assert dates == sorted(dates)
    assert closed["statusChangeDate"] == closed["statusChange"][-1]["changeDate"] == closed["lastUpdate"]
    assert closed["resolutionDate"] == again["resolutionDate"]
    assert (closed["name"], closed["ticketType"], closed["creationDate"]) == (
        "No data in the car", "connectivity", ticket["creationDate"])
    # a closed ticket is final
    world.refused("PATCH", url, "call-center", {"status": "inProgress"}, 409,
                  "a ticket closed cannot become inProgress (it is final)")
    assert world.ok("GET", url, "call-center") == closed == world.ok("GET", url, "car-maker")
    assert world.ok("GET", url, "admin") == closed

    events = world.events()
    created, status, changed, solved = ("TroubleTicketCreateEvent", "TroubleTicketStatusChangeEvent",
                                        "TroubleTicketAttributeValueChangeEvent", "TroubleTicketResolvedEvent")
    assert events["call-center"] == [
        (created, id_, "acknowledged"), (status, id_, "inProgress"), (changed, id_, "inProgress"),
        (solved, id_, "resolved"), (status, id_, "inProgress"), (solved, id_, "resolved"), (status, id_, "closed")]
    assert events["car-maker"] == [  # from the redirect on
        (changed, id_, "inProgress"), (solved, id_, "resolved"), (status, id_, "inProgress"),
        (solved, id_, "resolved"), (status, id_, "closed")]
    assert events["csp"][:3] == [(created, id_, "acknowledged"), (status, id_, "inProgress"),
                                 (changed, id_, "inProgress")]
    assert "content-provider" not in events
    assert world.events() == {}  # delivered once


def test_the_operator_may_move_any_ticket(world: World) -> None:
    id_ = world.open("call-center", "telematics")["id"]
    assert world.patch(id_, "admin", {"status": "resolved"})["status"] == "resolved"
    assert world.patch(id_, "admin", {"status": "closed"})["status"] == "closed"
    assert [s for s, _ in _history(world.ok("GET", f"{TICKET}/{id_}", "admin"))] == [
        "acknowledged", "resolved", "closed"]


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("path, target, message", [
    ([], "closed", "a ticket acknowledged cannot become closed "
                   "(it can become cancelled, held, inProgress, pending, rejected, resolved)"),
    ([], "acknowledged", None),  # staying acknowledged is no change
    (["inProgress"], "acknowledged", "a ticket inProgress cannot become acknowledged "
                                     "(it can become cancelled, held, pending, resolved)"),
    (["inProgress"], "closed", "a ticket inProgress cannot become closed "
                               "(it can become cancelled, held, pending, resolved)"),
    (["inProgress", "pending"], "resolved", "a ticket pending cannot become resolved "
                                            "(it can become cancelled, inProgress)"),
    (["inProgress", "held"], "closed", "a ticket held cannot become closed (it can become cancelled, inProgress)"),
    (["resolved"], "cancelled", "a ticket resolved cannot become cancelled (it can become closed, inProgress)"),
    (["cancelled"], "inProgress", "a ticket cancelled cannot become inProgress (it is final)"),
    (["rejected"], "acknowledged", "a ticket rejected cannot become acknowledged (it is final)"),
])
def test_a_transition_the_life_cycle_forbids_is_a_conflict_that_changes_nothing(
        world: World, path: list[str], target: str, message: str | None) -> None:
    id_ = world.open("call-center", "connectivity")["id"]
    for status in path:
        world.patch(id_, "csp", {"status": status})
    before = world.ok("GET", f"{TICKET}/{id_}", "csp")
    if message is None:
        assert world.patch(id_, "csp", {"status": target}) == before
    else:
        world.refused("PATCH", f"{TICKET}/{id_}", "csp", {"status": target}, 409, message)
    assert world.ok("GET", f"{TICKET}/{id_}", "csp") == before


def test_an_unknown_status_or_field_is_refused(world: World) -> None:
    id_ = world.open("call-center", "connectivity")["id"]
    response = world.call("PATCH", f"{TICKET}/{id_}", "csp", {"status": "solved"})
    assert response.status_code == 400 and "status: 'solved' is not one of" in response.json()["message"]
    world.refused("PATCH", f"{TICKET}/{id_}", "csp", {"ticketType": "sim"}, 400,
                  "ticketType cannot be changed on a ticket")
    assert world.ok("GET", f"{TICKET}/{id_}", "csp")["ticketType"] == "connectivity"


def test_the_wrong_partner_cannot_move_a_ticket(world: World) -> None:
    id_ = world.open("call-center", "connectivity")["id"]
    url = f"{TICKET}/{id_}"
    world.patch(id_, "csp", {"status": "inProgress"})
    before = world.ok("GET", url, "csp")
    world.refused("PATCH", url, "call-center", {"status": "resolved"}, 409, "only the assignee resolves a ticket")
    world.refused("PATCH", url, "call-center", {"relatedParty": [
        {"id": "car-maker", "role": "assignee", "@referredType": "Organization"}]}, 409,
        "only the assignee redirects a ticket")
    assert world.ok("GET", url, "csp") == before
    world.patch(id_, "csp", {"status": "resolved"})
    resolved = world.ok("GET", url, "csp")
    world.refused("PATCH", url, "csp", {"status": "closed"}, 409, "only the originator closes a ticket")
    assert world.ok("GET", url, "call-center") == resolved
    assert world.patch(id_, "call-center", {"status": "closed"})["status"] == "closed"


def test_only_the_originator_sends_a_resolved_ticket_back(world: World) -> None:
    id_ = world.open("call-center", "connectivity")["id"]
    world.patch(id_, "csp", {"status": "resolved"})
    response = world.call("PATCH", f"{TICKET}/{id_}", "csp", {"status": "inProgress"})
    assert response.status_code == 409, response.text
    assert world.ok("GET", f"{TICKET}/{id_}", "call-center")["status"] == "resolved"


def test_only_the_assignee_works_a_ticket(world: World) -> None:
    id_ = world.open("call-center", "connectivity")["id"]
    response = world.call("PATCH", f"{TICKET}/{id_}", "call-center", {"status": "inProgress"})
    assert response.status_code == 409, response.text
    assert world.ok("GET", f"{TICKET}/{id_}", "csp")["status"] == "acknowledged"


# ----------------------------------------------------------------------------- who sees a ticket


def test_a_partner_that_is_neither_originator_nor_assignee_gets_a_404(world: World) -> None:
    mine = world.open("call-center", "connectivity")
    other = world.open("car-maker", "telematics")  # the car manufacturer opens one for itself
    url = f"{TICKET}/{mine['id']}"
    missing = f"no TroubleTicket with id '{mine['id']}'"
    world.refused("GET", url, "content-provider", None, 404, missing)
    world.refused("PATCH", url, "content-provider", {"note": [{"text": "me too"}]}, 404, missing)
    world.refused("PATCH", url, "content-provider", {"status": "inProgress"}, 404, missing)
    world.refused("GET", url, "car-maker", None, 404, missing)
    assert world.ok("GET", TICKET, "content-provider") == []
    assert [t["id"] for t in world.ok("GET", TICKET, "csp")] == [mine["id"]]
    assert [t["id"] for t in world.ok("GET", TICKET, "call-center")] == [mine["id"]]
    assert [t["id"] for t in world.ok("GET", TICKET, "car-maker")] == [other["id"]]
    assert sorted(t["id"] for t in world.ok("GET", TICKET, "admin")) == sorted([mine["id"], other["id"]])
    assert "content-provider" not in world.events()


def test_after_a_redirect_the_former_assignee_no_longer_sees_the_ticket(world: World) -> None:
    id_ = world.open("call-center", "connectivity")["id"]
    world.events()
    world.patch(id_, "csp", {"relatedParty": [{"id": "car-maker", "role": "assignee",
                                               "@referredType": "Organization"}]})
    world.patch(id_, "car-maker", {"status": "resolved"})
    events = world.events()
    assert set(events) == {"call-center", "car-maker", "csp"}
    # the former assignee hears of the hand-over, and of nothing after it
    assert [e[0] for e in events["csp"]] == ["TroubleTicketAttributeValueChangeEvent"]
    world.refused("GET", f"{TICKET}/{id_}", "csp", None, 404, f"no TroubleTicket with id '{id_}'")


def test_a_ticket_is_assigned_to_partners_only_and_a_refused_one_leaves_nothing(world: World) -> None:
    assignee = {"role": "assignee", "@referredType": "Organization"}
    world.refused("POST", TICKET, "call-center", {
        "description": "x", "severity": "major", "ticketType": "telematics",
        "relatedParty": [{"id": "cps", **assignee}]}, 422,
        "relatedParty: assignee 'cps' is no partner (did you mean 'csp'?)")
    world.refused("POST", TICKET, "admin", {
        "description": "x", "severity": "major", "ticketType": "telematics",
        "relatedParty": [{"id": "nobody-here", **assignee}, {"id": "call-centre", "role": "originator",
                                                              "@referredType": "Organization"}]}, 422,
        "relatedParty: assignee 'nobody-here' is no partner; originator 'call-centre' is no partner "
        "(did you mean 'call-center'?)")
    assert world.ok("GET", TICKET, "admin") == []
    assert world.events() == {}
    # a partner's name, whoever asks, is known: the call center assigns to the car maker
    world.open("call-center", "connectivity", relatedParty=[{"id": "car-maker", **assignee}])


def test_a_ticket_is_redirected_to_a_partner_only_and_a_refused_redirect_changes_nothing(world: World) -> None:
    id_ = world.open("call-center", "connectivity")["id"]
    world.events()
    before = world.ok("GET", f"{TICKET}/{id_}", "csp")
    for nobody, message in (("nobody-here", "relatedParty: assignee 'nobody-here' is no partner"),
                            ("car-makre", "relatedParty: assignee 'car-makre' is no partner "
                                          "(did you mean 'car-maker'?)")):
        world.refused("PATCH", f"{TICKET}/{id_}", "csp", {"relatedParty": [
            {"id": nobody, "role": "assignee", "@referredType": "Organization"}]}, 422, message)
    assert world.ok("GET", f"{TICKET}/{id_}", "csp") == before  # the assignee still has it, unchanged
    assert world.events() == {}


def test_the_operators_hub_hears_each_change_once(world: World) -> None:
    world.ok("POST", HUB, "admin", {"callback": "http://operator.example/tmf621"})
    id_ = world.open("call-center", "connectivity")["id"]
    world.patch(id_, "csp", {"status": "inProgress"})
    assert world.events()["operator"] == [("TroubleTicketCreateEvent", id_, "acknowledged"),
                                          ("TroubleTicketStatusChangeEvent", id_, "inProgress")]


# ----------------------------------------------------------------------------- notes


def test_a_partner_writes_notes_in_its_own_name_and_at_the_time_they_arrive(world: World) -> None:
    id_ = world.open("call-center", "connectivity")["id"]
    before = _now()
    ticket = world.patch(id_, "call-center", {"note": [{"text": "called back", "author": "call-center",
                                                        "date": "2020-01-01T00:00:00Z"}]})
    note = ticket["note"][-1]
    assert (note["text"], note["author"]) == ("called back", "call-center")
    assert before <= _instant(note["date"]) <= _now(), "a partner cannot backdate a note"
    world.refused("PATCH", f"{TICKET}/{id_}", "call-center", {"note": [{"text": "all fine", "author": "csp"}]}, 400,
                  "a note is written in your own name (call-center), not 'csp'")
    assert world.ok("GET", f"{TICKET}/{id_}", "call-center")["note"] == [note]  # nothing of the refused patch
    # the same when the ticket is opened with its first note
    world.refused("POST", TICKET, "call-center", {"description": "x", "severity": "minor", "ticketType": "sim",
                                                  "note": [{"text": "first call", "author": "csp"}]}, 400,
                  "a note is written in your own name (call-center), not 'csp'")
    opened = world.open("call-center", "sim", note=[{"text": "first call", "date": "2020-01-01T00:00:00Z"}])
    assert opened["note"][0]["author"] == "call-center" and opened["note"][0]["date"] == opened["creationDate"]


def test_notes_are_appended_with_their_author_and_date(world: World) -> None:
    id_ = world.open("call-center", "connectivity")["id"]
    before = _now()
    first = world.patch(id_, "call-center", {"note": [{"text": "customer called twice"}]})
    second = world.patch(id_, "csp", {"note": [{"text": "cell 4411 down", "id": "n-2"},
                                               {"text": "repair crew sent"}]})
    # the operator may record a note for someone else, and backdate it
    third = world.patch(id_, "admin", {"note": [{"text": "escalated", "author": "duty manager",
                                                 "date": "2026-03-01T08:00:00Z"}]})
    after = _now()
    notes = third["note"]
    assert [(n["text"], n["author"]) for n in notes] == [
        ("customer called twice", "call-center"), ("cell 4411 down", "csp"), ("repair crew sent", "csp"),
        ("escalated", "duty manager")]
    assert notes[1]["id"] == "n-2"
    assert notes[3]["date"] == "2026-03-01T08:00:00Z"  # the operator's date is kept
    for note, patched in ((notes[0], first), (notes[1], second), (notes[2], second)):
        assert before <= _instant(note["date"]) <= after
        assert note["date"] == patched["lastUpdate"]
    assert first["note"] == notes[:1] and second["note"] == notes[:3]
    # notes change no status and leave the history alone
    assert third["status"] == "acknowledged" and len(third["statusChange"]) == 1
    assert world.ok("GET", f"{TICKET}/{id_}", "csp")["note"] == notes
    events = world.events()
    assert [e[0] for e in events["call-center"]] == ["TroubleTicketCreateEvent"] + [
        "TroubleTicketAttributeValueChangeEvent"] * 3
