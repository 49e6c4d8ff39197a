"""Review 14, an assurance manager trying TMF621 tickets: what a ticket says about its times
and its information through send-backs, merge patches and its end.

* A resolution sent back (resolved → inProgress) did not hold: the ticket loses its
  ``resolutionDate`` until it is resolved again (it kept the first one, so a ticket being worked
  read as resolved, and a resolution time measured from it was wrong).
* A merge patch's null removes an optional field (RFC 7396) and is refused for the fields
  TMF621 requires (``description``, ``severity``) and for ``status``; it stored ``null``, a
  ticket the TMF621 contract refuses.
* A closed, cancelled or rejected ticket is final: its information and its assignee change no
  more (its severity and type are what settlement counts); a note may still be added.
* A new ticket is not resolved: a ``resolutionDate`` given to it is refused (it was kept).

Every response is checked against the official TMF621 ``TroubleTicket`` (or ``Error``) made
strict, by the world of tests/api/test_tmf621_tickets.py.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.session_app import keyed_app_on_engine  # noqa: F401  (the world's fixture)
from tests.api.test_tmf621_tickets import TICKET, World, world  # noqa: F401  (the world's fixture)


def _resolved(world: World) -> str:
    id_ = world.open("call-center", "connectivity")["id"]
    world.patch(id_, "csp", {"status": "inProgress"})
    assert "resolutionDate" in world.patch(id_, "csp", {"status": "resolved"})
    return id_


def test_a_resolution_sent_back_leaves_the_ticket_unresolved_until_resolved_again(world: World) -> None:
    id_ = _resolved(world)
    back = world.patch(id_, "call-center", {"status": "inProgress", "statusChangeReason": "still no data"})
    assert back["status"] == "inProgress"
    assert "resolutionDate" not in back
    assert "resolutionDate" not in world.ok("GET", f"{TICKET}/{id_}", "csp")
    again = world.patch(id_, "csp", {"status": "resolved"})
    assert again["resolutionDate"] == again["statusChangeDate"] == again["statusChange"][-1]["changeDate"]
    closed = world.patch(id_, "call-center", {"status": "closed"})
    assert closed["resolutionDate"] == again["resolutionDate"]


def test_a_null_in_a_merge_patch_removes_an_optional_field(world: World) -> None:
    id_ = world.open("call-center", "connectivity", name="No data", priority="high",
                     relatedEntity=[{"id": "p-1", "role": "product", "@referredType": "Product"}])["id"]
    patched = world.patch(id_, "csp", {"name": None, "relatedEntity": None, "priority": None})
    assert not {"name", "relatedEntity", "priority"} & set(patched)
    assert world.ok("GET", f"{TICKET}/{id_}", "call-center") == patched


@pytest.mark.parametrize("body, message", [
    ({"description": None}, "description cannot be removed from a ticket (TMF621 requires one): give a new "
                            "description or leave it out"),
    ({"severity": None, "name": "kept?"}, "severity cannot be removed from a ticket (TMF621 requires one): give a "
                                          "new severity or leave it out"),
    ({"status": None}, "status cannot be removed from a ticket: name the status it moves to"),
])
def test_a_null_for_what_every_ticket_has_is_refused_and_changes_nothing(world: World, body: dict[str, Any],
                                                                         message: str) -> None:
    ticket = world.open("call-center", "connectivity")
    world.refused("PATCH", f"{TICKET}/{ticket['id']}", "csp", body, 400, message)
    assert world.ok("GET", f"{TICKET}/{ticket['id']}", "csp") == ticket


@pytest.mark.parametrize("end, who", [("closed", "call-center"), ("cancelled", "call-center"), ("rejected", "csp")])
@pytest.mark.parametrize("body, field", [
    ({"severity": "minor"}, "severity"),
    ({"description": "another trouble"}, "description"),
    ({"priority": None, "name": "renamed"}, "name"),
    ({"relatedParty": [{"id": "car-maker", "role": "assignee", "@referredType": "Organization"}]}, "assignee"),
])
def test_a_final_ticket_keeps_what_it_says_and_who_holds_it(world: World, end: str, who: str,
                                                            body: dict[str, Any], field: str) -> None:
    id_ = _resolved(world) if end == "closed" else world.open("call-center", "connectivity")["id"]
    final = world.patch(id_, who, {"status": end})
    for partner in ("csp", "call-center", "admin"):
        world.refused("PATCH", f"{TICKET}/{id_}", partner, body, 409,
                      f"a ticket {end} is final: its {field} cannot change (a note may still be added)")
    assert world.ok("GET", f"{TICKET}/{id_}", "call-center") == final
    # what it already says may be repeated, and a note added
    noted = world.patch(id_, "call-center", {"severity": final["severity"], "note": [{"text": "driver informed"}]})
    assert (noted["status"], noted["severity"], noted["note"][-1]["text"]) == (end, final["severity"],
                                                                             "driver informed")


def test_a_new_ticket_is_not_resolved(world: World) -> None:
    world.refused("POST", TICKET, "call-center", {"description": "x", "severity": "major", "ticketType": "sim",
                                                  "resolutionDate": "2020-01-01T00:00:00Z"}, 400,
                  "a new ticket is not resolved: its resolutionDate is set when its assignee resolves it")
    assert world.ok("GET", TICKET, "admin") == []


# ----------------------------------------------------------------------------- parties

ORG = {"@referredType": "Organization"}


def test_a_partner_opens_a_ticket_in_its_own_name(world: World) -> None:
    """The call center named the car maker originator: the car maker, which alone closes the
    ticket, could not even see it."""
    world.refused("POST", TICKET, "call-center", {"description": "x", "severity": "major", "ticketType": "sim",
                                                  "relatedParty": [{"id": "car-maker", "role": "originator", **ORG}]},
                  400, "a ticket is opened in your own name (call-center): its originator cannot be 'car-maker'")
    assert world.ok("GET", TICKET, "admin") == []
    mine = world.open("call-center", "sim", relatedParty=[{"id": "call-center", "role": "originator", **ORG}])
    assert [p["id"] for p in mine["relatedParty"] if p["role"] == "originator"] == ["call-center"]


def test_the_originator_the_operator_names_sees_and_closes_its_ticket(world: World) -> None:
    ticket = world.open("admin", "sim", relatedParty=[{"id": "car-maker", "role": "originator", **ORG}])
    id_ = ticket["id"]
    assert world.ok("GET", f"{TICKET}/{id_}", "car-maker") == ticket
    world.patch(id_, "csp", {"status": "resolved"})
    assert world.patch(id_, "car-maker", {"status": "closed"})["status"] == "closed"
    assert [e[2] for e in world.events()["car-maker"]] == ["acknowledged", "resolved", "closed"]


@pytest.mark.parametrize("who, role", [("call-center", "assignee"), ("admin", "assignee"), ("admin", "originator")])
def test_a_ticket_has_one_assignee_and_one_originator(world: World, who: str, role: str) -> None:
    body = {"description": "x", "severity": "major", "ticketType": "sim",
            "relatedParty": [{"id": "csp", "role": role, **ORG}, {"id": "car-maker", "role": role, **ORG}]}
    world.refused("POST", TICKET, who, body, 400, f"a ticket has one {role}, not 2 (csp, car-maker)")
    assert world.ok("GET", TICKET, "admin") == []


@pytest.mark.parametrize("party, message", [
    ({"id": "car-maker", "role": "originator"}, "a ticket's originator does not change: it is 'call-center', not "
                                                "'car-maker'"),
    ({"id": "content-provider", "role": "reporter"}, "a patch's relatedParty names the new assignee (a redirect), "
                                                     "not a reporter ('content-provider')"),
])
def test_a_patch_changes_no_party_but_the_assignee(world: World, party: dict[str, str], message: str) -> None:
    ticket = world.open("call-center", "sim")
    for who in ("csp", "call-center", "admin"):
        world.refused("PATCH", f"{TICKET}/{ticket['id']}", who, {"relatedParty": [{**party, **ORG}]}, 400, message)
    assert world.ok("GET", f"{TICKET}/{ticket['id']}", "call-center") == ticket
    # the parties repeated as they are, with the new assignee: a redirect
    redirected = world.patch(ticket["id"], "csp", {"relatedParty": [
        {"id": "call-center", "role": "originator", **ORG}, {"id": "car-maker", "role": "assignee", **ORG}]})
    assert sorted((p["role"], p["id"]) for p in redirected["relatedParty"]) == [
        ("assignee", "car-maker"), ("originator", "call-center")]
    world.refused("PATCH", f"{TICKET}/{ticket['id']}", "car-maker", {"relatedParty": [
        {"id": "csp", "role": "assignee", **ORG}, {"id": "content-provider", "role": "assignee", **ORG}]}, 400,
        "a ticket has one assignee, not 2 (csp, content-provider)")


# ----------------------------------------------------------------------------- what the guide says of the ends


def test_the_ends_of_a_ticket_are_as_the_guide_says(world: World) -> None:
    """docs/partner-guide.md: the assignee rejects a ticket it has not started, either side
    cancels one that is not resolved, and no ticket is deleted."""
    fresh = world.open("call-center", "sim")["id"]
    world.refused("PATCH", f"{TICKET}/{fresh}", "call-center", {"status": "rejected"}, 409,
                  "only the assignee moves a ticket to rejected")
    assert world.patch(fresh, "csp", {"status": "rejected"})["status"] == "rejected"
    started = world.open("call-center", "sim")["id"]
    world.patch(started, "csp", {"status": "inProgress"})
    world.refused("PATCH", f"{TICKET}/{started}", "csp", {"status": "rejected"}, 409,
                  "a ticket inProgress cannot become rejected (it can become cancelled, held, pending, resolved)")
    for who in ("call-center", "csp"):
        id_ = world.open("call-center", "sim")["id"]
        world.patch(id_, "csp", {"status": "held"})
        assert world.patch(id_, who, {"status": "cancelled"})["status"] == "cancelled"
    resolved = _resolved(world)
    world.refused("PATCH", f"{TICKET}/{resolved}", "call-center", {"status": "cancelled"}, 409,
                  "a ticket resolved cannot become cancelled (it can become closed, inProgress)")
    response = world.call("DELETE", f"{TICKET}/{resolved}", "admin")
    assert response.status_code == 405 and response.json()["@type"] == "Error"
    assert world.ok("GET", f"{TICKET}/{resolved}", "call-center")["status"] == "resolved"
