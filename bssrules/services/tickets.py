"""Trouble tickets (TMF621): created by a call center, routed by a rule set to the partner
that resolves that kind of trouble, redirected on misdirection, worked, resolved, sent back
and closed — every change kept in the ticket's history and notified to both sides.

Who sees a ticket: its originator (the partner that created it) and its assignee; another
partner gets a 404. Who may do what: the assignee works, redirects and resolves; the
originator closes a resolved ticket or sends it back (``inProgress``); the operator may do
anything.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Iterable

from bssrules.services import notifications
from bssrules.catalog.types import format_instant
from bssrules.errors import Conflict, InvalidInput, NotFound, UnknownReference, did_you_mean
from bssrules.rules.decisions import decide
from bssrules.services.records import StoredResource, href
from bssrules.services.ports import UnitOfWork
from bssrules.services.runtime import Runtime

API = "/tmf-api/troubleTicket/v4"
KIND = "troubleTicket"
TRANSITIONS = {
    "acknowledged": {"inProgress", "pending", "held", "rejected", "cancelled", "resolved"},
    "inProgress": {"pending", "held", "resolved", "cancelled"},
    "pending": {"inProgress", "cancelled"},
    "held": {"inProgress", "cancelled"},
    "resolved": {"closed", "inProgress"},
}
ASSIGNEE, ORIGINATOR = "assignee", "originator"
# Statuses no transition leaves: the ticket is settled evidence between partners (its severity
# and type are what settlement counts), so what it says and who holds it change no more.
FINAL = ("closed", "cancelled", "rejected")
# What a partner may change on a ticket besides its status, notes and assignee; TMF621 requires
# a description and a severity of every ticket, so a merge patch cannot remove them.
INFORMATION = ("description", "severity", "priority", "expectedResolutionDate", "name", "relatedEntity", "attachment")
REQUIRED = ("description", "severity")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def render(stored: StoredResource) -> dict[str, Any]:
    shown = stored.shown
    return {**shown, "id": stored.id, "href": href(f"{API}/{KIND}", stored.id), "@type": "TroubleTicket"}


def _party(document: dict[str, Any], role: str) -> str | None:
    return next((p.get("id") for p in document.get("relatedParty") or []
                 if isinstance(p, dict) and p.get("role") == role), None)


def refuse_unknown_partners(uow: UnitOfWork, named: Iterable[tuple[Any, Any]]) -> None:
    """Refuse (422, every one at once, each with the closest partner id) the parties named as
    ``(role, id)`` that are no partner: a ticket or an SLA is seen and worked by its partners
    only, so one assigned to a name no partner has is worked by nobody. Without any partner
    (authentication off: every caller is the operator, and no partner is registered) the
    parties are free names, as they always were."""
    known = uow.all_resources.ids(("partner",))  # every partner, whoever asks: a partner names others
    if not known:
        return
    lines = []
    for role, party in dict.fromkeys((str(role), party) for role, party in named if isinstance(party, str)):
        if party not in known:
            hint = did_you_mean(party, known)
            lines.append(f"{role} {party!r} is no partner" + (f" (did you mean '{hint}'?)" if hint else ""))
    if lines:
        raise UnknownReference(f"relatedParty: {'; '.join(lines)}", details=lines)


def route(runtime: Runtime, facts: dict[str, Any], now: dt.datetime) -> tuple[str | None, str | None, str | None]:
    """(assignee, rule set, rule) from the routing rule sets in force (the first by id that assigns)."""
    for rule_set_id in sorted(runtime.rules.versions):
        versions = [c for c in runtime.rules.versions[rule_set_id]
                    if c.kind == "routing" and c.definition.valid_for.contains(now)]
        if versions:
            outcome = decide(versions[-1], facts, now, with_trace=False).outcome
            if outcome["assignTo"]:
                return outcome["assignTo"], rule_set_id, outcome["rule"]
    return None, None, None


def _facts(body: dict[str, Any], originator: str | None) -> dict[str, Any]:
    ticket: dict[str, Any] = {}
    for fact, field in (("type", "ticketType"), ("severity", "severity"), ("priority", "priority")):
        if body.get(field) is not None:
            ticket[fact] = body[field]
    if isinstance(body.get("channel"), dict) and body["channel"].get("id"):
        ticket["channel"] = body["channel"]["id"]
    service = next((e.get("id") or e.get("name") for e in body.get("relatedEntity") or []
                    if isinstance(e, dict) and e.get("role") == "service"), None)
    if service:
        ticket["service"] = service
    if originator:
        ticket["originator"] = originator
    return {"ticket": ticket}


def _publish(uow: UnitOfWork, event_type: str, stored: StoredResource, also: list[str | None] = []) -> None:  # noqa: B006
    """One event to the ticket's parties (and ``also``: a former assignee learns of the hand-over)."""
    notifications.publish(uow, "TMF621", event_type, "troubleTicket", render(stored),
                          [stored.partner_id, *stored.document.get("sharedWith", []), *also])


def _note(uow: UnitOfWork, note: dict[str, Any], caller: str | None, now: dt.datetime) -> dict[str, Any]:
    """A note as recorded: a partner writes in its own name, at the time it is received (the
    history is evidence between partners, settled on); the operator may record a note for
    someone else (an ``author`` given) and backdate it."""
    principal = uow.principal
    if principal is not None and not principal.is_admin:
        if note.get("author") not in (None, principal.id):
            raise InvalidInput(f"a note is written in your own name ({principal.id}), not {note['author']!r}",
                               path=("note", "author"))
        return {**note, "author": principal.id, "date": format_instant(now)}
    return {**note, "date": note.get("date") or format_instant(now), "author": note.get("author") or caller or "operator"}


def create_ticket(uow: UnitOfWork, runtime: Runtime, body: dict[str, Any]) -> dict[str, Any]:
    """Open a ticket and route it (a ``relatedParty`` with role assignee, when given, wins)."""
    now = _now()
    caller = uow.principal.id if uow.principal is not None else None
    if body.get("status") not in (None, "acknowledged"):
        raise InvalidInput("a new ticket is acknowledged; its status moves by later changes", path=("status",))
    if body.get("resolutionDate") is not None:
        raise InvalidInput("a new ticket is not resolved: its resolutionDate is set when its assignee resolves it",
                           path=("resolutionDate",))
    parties = [p for p in body.get("relatedParty") or [] if isinstance(p, dict)]
    _refuse_parties_of_a_new_ticket(uow, parties)
    assignee, rule_set, rule = _party(body, ASSIGNEE), None, None
    refuse_unknown_partners(uow, [(p.get("role"), p.get("id")) for p in parties
                                  if p.get("role") in (ASSIGNEE, ORIGINATOR)])
    if assignee is None:
        assignee, rule_set, rule = route(runtime, _facts(body, caller), now)
    if assignee is None:
        raise InvalidInput("no routing rule assigns this ticket: name an assignee in relatedParty or add a routing "
                           "rule set with a default", path=("ticketType",))
    parties = [p for p in parties if p.get("role") != ASSIGNEE]
    parties.append({"id": assignee, "role": ASSIGNEE, "@referredType": "Organization"})
    if caller and not any(p.get("role") == ORIGINATOR for p in parties):
        parties.append({"id": caller, "role": ORIGINATOR, "@referredType": "Organization"})
    # the originator the operator named sees the ticket it is to close, as the assignee does
    originator = _party({"relatedParty": parties}, ORIGINATOR)
    shared = [assignee, *([originator] if originator not in (None, caller, assignee) else [])]
    reason = f"routed to {assignee}" + (f" by {rule_set}/{rule}" if rule_set else " as requested")
    document = {k: v for k, v in body.items() if k not in ("id", "href", "@type", "status", "relatedParty")}
    if isinstance(body.get("note"), list):
        document["note"] = [_note(uow, n, caller, now) for n in body["note"] if isinstance(n, dict)]
    document.update(status="acknowledged", relatedParty=parties, creationDate=format_instant(now),
                    lastUpdate=format_instant(now), statusChangeDate=format_instant(now),
                    statusChange=[{"status": "acknowledged", "changeDate": format_instant(now), "changeReason": reason}],
                    sharedWith=shared)
    stored = StoredResource(KIND, body.get("id") or str(uuid.uuid4()), 1, now, now, document, state="acknowledged")
    if uow.resources.get(KIND, stored.id) is not None:
        raise Conflict(f"a TroubleTicket with id '{stored.id}' already exists")
    uow.resources.insert(stored)
    created = uow.resources.get(KIND, stored.id)
    assert created is not None  # inserted just above, in this unit of work
    _publish(uow, "TroubleTicketCreateEvent", created)
    uow.commit()
    return render(created)


def change_ticket(uow: UnitOfWork, runtime: Runtime, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Work a ticket: status, notes, information, or a redirect (a new assignee)."""
    stored = uow.resources.get(KIND, ticket_id, for_update=True)
    if stored is None:
        raise NotFound("TroubleTicket", ticket_id)
    now = _now()
    caller = uow.principal.id if uow.principal is not None and not uow.principal.is_admin else None
    document = dict(stored.document)
    assignee, originator = _party(document, ASSIGNEE), _party(document, ORIGINATOR)
    history = list(document.get("statusChange") or [])
    current = document.get("status", "acknowledged")
    event = "TroubleTicketAttributeValueChangeEvent"
    if "status" in body and body["status"] is None:
        raise InvalidInput("status cannot be removed from a ticket: name the status it moves to", path=("status",))
    _refuse_changes_to_a_final_ticket(document, body)
    _refuse_party_changes_but_a_redirect(document, body)
    target = body.get("status")
    if target is not None and target != current:
        if target not in TRANSITIONS.get(current, set()):
            raise Conflict(f"a ticket {current} cannot become {target}"
                           + (f" (it can become {', '.join(sorted(TRANSITIONS[current]))})" if current in TRANSITIONS
                              else " (it is final)"))
        if caller is not None:
            # the originator closes, sends back (resolved → inProgress) or cancels; the assignee works the rest
            by_originator = target == "closed" or (current == "resolved" and target == "inProgress")
            if by_originator and caller != originator:
                raise Conflict("only the originator closes a ticket" if target == "closed"
                               else "only the originator sends a resolution back")
            if not by_originator and target != "cancelled" and caller != assignee:
                raise Conflict("only the assignee resolves a ticket" if target == "resolved"
                               else f"only the assignee moves a ticket to {target}")
        reason = body.get("statusChangeReason") or {"resolved": "resolved, sent back to the originator",
                                                     "closed": "closed by the originator"}.get(target, target)
        history.append({"status": target, "changeDate": format_instant(now), "changeReason": reason})
        document.update(status=target, statusChangeDate=format_instant(now), statusChangeReason=reason)
        if target == "resolved":
            document["resolutionDate"] = format_instant(now)
        elif current == "resolved" and target != "closed":
            # sent back: the resolution did not hold, and the ticket is resolved no more
            document.pop("resolutionDate", None)
        event = "TroubleTicketResolvedEvent" if target == "resolved" else "TroubleTicketStatusChangeEvent"
    new_assignee = _party(body, ASSIGNEE) if "relatedParty" in body else None
    if new_assignee and new_assignee != assignee:
        if caller is not None and caller != assignee:
            raise Conflict("only the assignee redirects a ticket")
        refuse_unknown_partners(uow, [(ASSIGNEE, new_assignee)])
        parties = [p for p in document.get("relatedParty") or [] if p.get("role") != ASSIGNEE]
        parties.append({"id": new_assignee, "role": ASSIGNEE, "@referredType": "Organization"})
        history.append({"status": document["status"], "changeDate": format_instant(now),
                        "changeReason": body.get("statusChangeReason") or f"redirected from {assignee} to {new_assignee}"})
        # the former assignee hands the ticket over: it no longer sees it (unless it is its originator)
        shared = {*document.get("sharedWith", []), new_assignee} - ({assignee} - {originator})
        document.update(relatedParty=parties, sharedWith=sorted(shared))
    _merge_information(document, body)
    if body.get("note"):
        document["note"] = list(document.get("note") or []) + [_note(uow, n, caller, now)
                                                                for n in body["note"] if isinstance(n, dict)]
    unknown = sorted(set(body) - {"status", "statusChangeReason", "relatedParty", "note", *INFORMATION, "@type"})
    if unknown:
        raise InvalidInput(f"{unknown[0]} cannot be changed on a ticket", path=(unknown[0],))
    if document == stored.document:
        return render(stored)
    document.update(statusChange=history, lastUpdate=format_instant(now))
    updated = stored.bumped(document, now, state=document["status"])
    uow.resources.replace(updated)
    _publish(uow, event, updated, also=[assignee] if new_assignee and new_assignee != assignee else [])
    uow.commit()
    return render(updated)


def _one_per_role(parties: list[dict[str, Any]]) -> None:
    for role in (ASSIGNEE, ORIGINATOR):
        named = [p.get("id") for p in parties if p.get("role") == role]
        if len(named) > 1:
            raise InvalidInput(f"a ticket has one {role}, not {len(named)} ({', '.join(map(str, named))})",
                               path=("relatedParty",))


def _refuse_parties_of_a_new_ticket(uow: UnitOfWork, parties: list[dict[str, Any]]) -> None:
    """One assignee and one originator at most (the first won, the others were dropped); a
    partner opens a ticket in its own name (one it names the originator of could neither see
    nor close it); the operator may open one for any partner."""
    _one_per_role(parties)
    principal = uow.principal
    originator = _party({"relatedParty": parties}, ORIGINATOR)
    if principal is not None and not principal.is_admin and originator not in (None, principal.id):
        raise InvalidInput(f"a ticket is opened in your own name ({principal.id}): its originator cannot be "
                           f"{originator!r}", path=("relatedParty",))


def _refuse_party_changes_but_a_redirect(document: dict[str, Any], body: dict[str, Any]) -> None:
    """A patch's ``relatedParty`` redirects the ticket (a new assignee) and may repeat the
    other parties as they are; it changes no other party (that was silently ignored)."""
    if "relatedParty" not in body:
        return
    named = [p for p in body["relatedParty"] or [] if isinstance(p, dict)]
    _one_per_role(named)
    current = {(p.get("id"), p.get("role")) for p in document.get("relatedParty") or [] if isinstance(p, dict)}
    for party in named:
        role = party.get("role")
        if role == ASSIGNEE or (party.get("id"), role) in current:
            continue
        if role == ORIGINATOR:
            raise InvalidInput(f"a ticket's originator does not change: it is {_party(document, ORIGINATOR)!r}, "
                               f"not {party.get('id')!r}", path=("relatedParty",))
        raise InvalidInput(f"a patch's relatedParty names the new assignee (a redirect), not a {role} "
                           f"({party.get('id')!r})", path=("relatedParty",))


def _refuse_changes_to_a_final_ticket(document: dict[str, Any], body: dict[str, Any]) -> None:
    """A closed, cancelled or rejected ticket keeps what it says and who holds it (409); a note
    may still be added to it."""
    status = document.get("status")
    if status not in FINAL:
        return
    changed = [f for f in INFORMATION if f in body and body[f] != document.get(f)]
    new_assignee = _party(body, ASSIGNEE) if "relatedParty" in body else None
    if new_assignee and new_assignee != _party(document, ASSIGNEE):
        changed.append("assignee")
    if changed:
        raise Conflict(f"a ticket {status} is final: its {changed[0]} cannot change (a note may still be added)")


def _merge_information(document: dict[str, Any], body: dict[str, Any]) -> None:
    """The information fields of a merge patch: a value replaces, null removes (RFC 7396) — but
    not a field TMF621 requires of every ticket."""
    for field in INFORMATION:
        if field not in body:
            continue
        if body[field] is not None:
            document[field] = body[field]
        elif field in REQUIRED:
            raise InvalidInput(f"{field} cannot be removed from a ticket (TMF621 requires one): give a new "
                               f"{field} or leave it out", path=(field,))
        else:
            document.pop(field, None)


def get_ticket(uow: UnitOfWork, ticket_id: str) -> dict[str, Any]:
    stored = uow.resources.get(KIND, ticket_id)
    if stored is None:
        raise NotFound("TroubleTicket", ticket_id)
    return render(stored)


def list_tickets(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page(KIND, filters, offset, limit)
    return [render(s) for s in page], total
