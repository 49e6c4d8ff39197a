"""Use cases of TMF679: qualify the requested offerings for a party and store the answer;
retrieve and list answers; annotate one by merge patch; delete one.

A stored qualification is the answer given, at one instant, to one question: which of these
offerings (or of this category) may this party have, through this channel. A patch may add
what the requester knows about it (:data:`PATCHABLE`: a description, notes, the dates it
planned) but not change the question (:data:`QUESTION`) nor the answer (:data:`ANSWER`): a
patch that would is refused with 400, naming each attribute, and nothing is stored — to
qualify other offerings, or for another party or channel, post a new qualification. The
answer is given at once, so a qualification is ``done`` from its creation, and ``done`` is
final in the task states of TMF679 (acknowledged, inProgress, done, terminatedWithError):
another ``state`` is a 409. Another partner's qualification is not there (404), as for
every read."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from bssrules.configurator.model import Basket
from bssrules.configurator.qualification import Visible, offerings_in_category, qualify
from bssrules.errors import Conflict, InvalidInput, NotFound, UnknownReference, did_you_mean
from bssrules.services import notifications
from bssrules.services.catalog import merge_patch, partner_view
from bssrules.services.parties import caller_of, party_context
from bssrules.services.records import StoredResource, href
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork
from bssrules.services.runtime import Runtime

API = "/tmf-api/productOfferingQualification/v4"
KIND = "productOfferingQualification"
PARTY_KINDS = ("individual", "organization")
CUSTOMER_ROLES = ("customer", "buyer", None)  # the roles of the party qualified (None: a party without one)
EFFECTIVE = ("active", "pendingTerminate", "suspended")
TYPE = "ProductOfferingQualification"
# What a merge patch may change: what the requester says about its request, not the request
PATCHABLE = ("description", "note", "requestedPOQCompletionDate", "expectedPOQCompletionDate", "@baseType",
             "@schemaLocation")
# The question that was answered: who, through which channel, where, which offerings, and how
# the answer was to be given. Changed, the stored answer would answer another question.
QUESTION = ("productOfferingQualificationItem", "relatedParty", "channel", "category", "place",
            "provideAlternative", "provideOnlyAvailable", "provideUnavailabilityReason", "instantSyncQualification")
# The server's answer: its result, when it was given, how long it holds (state: below)
ANSWER = ("qualificationResult", "effectiveQualificationDate", "expirationDate")
FINAL_STATE = "done"  # answered at once: no later TMF679 task state follows it
# What the server answers for each item: sent in a request, it would be stored as if the server
# had said it (a reason beside "qualified", a proposal nobody made), so it is refused
ITEM_ANSWER = ("state", "qualificationItemResult", "eligibilityUnavailabilityReason",
               "alternateProductOfferingProposal", "terminationError")
INSTANTS = ("requestedPOQCompletionDate", "expectedPOQCompletionDate")


def _instant(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _visibility(uow: UnitOfWork) -> Visible | None:
    """Whether the caller may see an offering (each asked once), or None for the operator, who
    sees them all: a partner qualifies the offerings it sees, another partner's are not there."""
    view = partner_view(uow)
    if view is None:
        return None
    seen: dict[str, bool] = {}

    def visible(offering_id: str) -> bool:
        if offering_id not in seen:
            seen[offering_id] = uow.catalog.is_visible("productOffering", offering_id, *view)
        return seen[offering_id]
    return visible


def _category_items(runtime: Runtime, body: dict[str, Any], items: list[dict[str, Any]], visible: Visible | None
                    ) -> list[dict[str, Any]]:
    """The items a top-level ``category`` asks about: one per offering of the category (and of
    the categories under it) that the caller may see and the request does not already name."""
    category = body.get("category")
    if not isinstance(category, dict):
        return []
    category_id = category.get("id")
    if category_id not in runtime.catalog.categories:
        hint = did_you_mean(str(category_id), runtime.catalog.categories)
        raise UnknownReference(f"category.id: no category '{category_id}'" + (f" (did you mean '{hint}'?)" if hint
                                                                            else ""))
    named = {o for item in items for o in values_at(item, "productOffering.id")}
    taken = {str(item.get("id")) for item in items}
    # numbered after the items named: after the highest number among their ids (item "3" alone: 4, 5 …)
    after = max([len(items), *(int(t) for t in taken if t.isascii() and t.isdigit() and len(t) < 10)])
    out: list[dict[str, Any]] = []
    for offering_id in offerings_in_category(runtime.catalog, category_id):
        if offering_id in named or (visible is not None and not visible(offering_id)):
            continue
        number = after + len(out) + 1
        while str(number) in taken:
            number += 1
        taken.add(str(number))
        offering = runtime.catalog.offerings[offering_id]
        out.append({"id": str(number), "productOffering": {"id": offering_id, "name": offering.name,
                                                           "@referredType": "ProductOffering"}})
    return out


def create_qualification(uow: UnitOfWork, runtime: Runtime, body: dict[str, Any]) -> dict[str, Any]:
    """Qualify every item of a TMF679 create body, and every offering of its top-level
    ``category``; the answer is stored and returned (state done), submitted and answered now
    (``productOfferingQualificationDate``, ``effectiveQualificationDate``)."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    qualification_id = body.get("id") or str(uuid.uuid4())
    if uow.resources.get(KIND, qualification_id) is not None:  # checked first: nothing is qualified twice
        raise Conflict(f"a ProductOfferingQualification with id '{qualification_id}' already exists; choose "
                       "another id or leave it out to have one made")
    if body.get("@type") not in (None, TYPE):  # (as a patch, and every other resource, checks it)
        raise InvalidInput(f"@type '{body['@type']}' does not match this resource ({TYPE})", path=("@type",))
    for name in INSTANTS:  # (as a patch checks them: a date-time with its zone)
        if body.get(name) is not None:
            _check_instant(name, body[name])
    _check_note_ids(body.get("note"))
    items = [i for i in body.get("productOfferingQualificationItem") or [] if isinstance(i, dict)]
    _check_items(items)
    if not items and not isinstance(body.get("category"), dict):
        raise InvalidInput("nothing to qualify: productOfferingQualificationItem lists the offerings, or category "
                           "names a category of them; neither is given", path=("productOfferingQualificationItem",))
    party_id = _party_asked_about([p for p in body.get("relatedParty") or [] if isinstance(p, dict)])
    party, inventory = party_context(uow, party_id, now)
    channel = (body.get("channel") or {}).get("id")

    context = Basket(party=party, channel=channel, caller=caller_of(uow), as_of=now, inventory=inventory)
    offerings = [values_at(item, "productOffering.id")[:1] for item in items]
    if any(not o for o in offerings):
        raise InvalidInput("every productOfferingQualificationItem names a productOffering.id",
                           path=("productOfferingQualificationItem",))
    visible = _visibility(uow)
    of_category = _category_items(runtime, body, items, visible)
    answers = qualify(context, runtime.catalog, runtime.rules,
                      [o[0] for o in offerings] + [i["productOffering"]["id"] for i in of_category],
                      body.get("provideAlternative", True) is not False, visible)
    out_items = []
    only_available = body.get("provideOnlyAvailable") is True
    for index, (item, answer) in enumerate(zip(items + of_category, answers)):
        if index >= len(items) and only_available and answer.result != "qualified":
            continue  # provideOnlyAvailable: a category's offerings the party cannot have are left out
        out = {**item, "state": "done", "qualificationItemResult": answer.result}
        if answer.reasons and body.get("provideUnavailabilityReason", True) is not False:
            out["eligibilityUnavailabilityReason"] = [_shown(r) for r in answer.reasons]
        if answer.alternates:
            out["alternateProductOfferingProposal"] = [
                {"id": f"{item.get('id')}-{a}", "alternateProductOffering": {"id": a, "@referredType": "ProductOffering"}}
                for a in answer.alternates]
        out_items.append(out)
    document = {k: v for k, v in body.items() if k not in ("id", "href", "@type")}
    results = {a.result for a in answers}  # of every offering asked about, those provideOnlyAvailable left out too
    document.update(productOfferingQualificationItem=out_items, state="done",
                    productOfferingQualificationDate=_instant(now), effectiveQualificationDate=_instant(now),
                    # an alternate proposed is not the offering asked about: none qualified, unqualified
                    qualificationResult="qualified" if results == {"qualified"} else
                    "unqualified" if "qualified" not in results else "partiallyQualified")
    stored = StoredResource(KIND, qualification_id, 1, now, now, document, state="done", party_id=party_id)
    uow.resources.insert(stored)
    rendered = render(stored)
    notifications.publish(uow, "TMF679", "ProductOfferingQualificationCreateEvent", KIND, rendered,
                          uow.resources.scope)
    uow.commit()
    return rendered


def _shown(reason: dict[str, Any]) -> dict[str, Any]:
    """A reason as answered: its code and label (TMF679), and the rule that refused with its
    rule set (an extension), as a configuration check names them: two rules may share a code."""
    shown = {"code": reason["code"], "label": reason["label"]}
    shown.update({name: reason[name] for name in ("rule", "ruleSet") if reason.get(name) is not None})
    return shown


def _party_asked_about(parties: list[dict[str, Any]]) -> Any:
    """The id of the party the offerings are qualified for: the one of role customer or buyer
    (or of no role); a party alone, whatever its role. Among several, none of which is the
    customer, any choice could qualify the seller in the customer's stead: a 400."""
    chosen = next((p.get("id") for p in parties if p.get("role") in CUSTOMER_ROLES), None)
    if chosen is not None or len(parties) <= 1:
        return chosen if chosen is not None else (parties[0].get("id") if parties else None)
    roles = ", ".join(repr(p.get("role")) for p in parties)
    raise InvalidInput(f"relatedParty: no party has the role 'customer' (or 'buyer', or none), the party the "
                       f"offerings are qualified for; the roles given are {roles}", path=("relatedParty",))


def _check_items(items: list[dict[str, Any]]) -> None:
    """Each item has an id of its own (its answer, and the ids of its proposals, are named by
    it) and asks whether its offering may be bought (action ``add``): what the server answers
    for it is not sent (:data:`ITEM_ANSWER`)."""
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"productOfferingQualificationItem[{index}]"
        given = [name for name in ITEM_ANSWER if name in item]
        if given:
            raise InvalidInput(f"{where}: {', '.join(given)} {'is' if len(given) == 1 else 'are'} the server's answer "
                               "for the item, given when the qualification is made: leave "
                               f"{'it' if len(given) == 1 else 'them'} out",
                               path=("productOfferingQualificationItem", index, given[0]))
        if item.get("action", "add") != "add":  # answered as a purchase, it would answer another question
            raise InvalidInput(f"{where}.action: {item['action']!r} is not qualified here: a qualification answers "
                               "whether an offering may be bought (action 'add', or no action)",
                               path=("productOfferingQualificationItem", index, "action"))
        item_id = item.get("id")
        if not isinstance(item_id, str):  # (the definition requires a text id: checked before)
            continue
        if item_id in seen:
            raise InvalidInput(f"{where}.id: the item id '{item_id}' is that of productOfferingQualificationItem"
                               f"[{seen[item_id]}] too; each item has an id of its own",
                               path=("productOfferingQualificationItem", index, "id"))
        seen[item_id] = index


def render(stored: StoredResource) -> dict[str, Any]:
    return {**stored.document, "id": stored.id, "href": href(f"{API}/{KIND}", stored.id), "@type": TYPE}


def get_qualification(uow: UnitOfWork, qualification_id: str) -> dict[str, Any]:
    stored = uow.resources.get(KIND, qualification_id)
    if stored is None:
        raise NotFound(TYPE, qualification_id)
    return render(stored)


def _refused(changed: list[str]) -> InvalidInput:
    """The 400 of a patch that changes the question or the answer: every such attribute named."""
    lines = []
    for name in changed:
        if name in QUESTION:
            lines.append(f"{name} is part of what was qualified: the stored answer is the answer to it; post a new "
                         "qualification to qualify other offerings, or for another party, channel or category")
        else:
            lines.append(f"{name} is the server's answer, given when the qualification was made; it is not patched")
    return InvalidInput("; ".join(lines), path=(changed[0],), details=lines)


# an RFC 3339 date-time (the definition's format): the other ISO 8601 forms Python's
# fromisoformat reads (20260901T120000Z, 2026-09-01T12:00+02:00, week dates, a comma) are not
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _check_instant(name: str, value: Any) -> None:
    """A date the requester gives is a date-time naming its zone, as the definition says."""
    try:
        parsed = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00")) \
            if isinstance(value, str) and _DATE_TIME.fullmatch(value) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(f"{name}: {value!r} is not a date-time with its zone (2026-09-01T12:00:00Z or "
                           "2026-09-01T14:00:00+02:00)", path=(name,))


def _check_note_ids(notes: Any) -> None:
    """A note's id names it among the qualification's notes: given twice, a 400."""
    seen: dict[str, int] = {}
    for index, note in enumerate(notes if isinstance(notes, list) else []):
        note_id = note.get("id") if isinstance(note, dict) else None
        if isinstance(note_id, str):
            if note_id in seen:
                raise InvalidInput(f"note[{index}].id: the note id '{note_id}' is that of note[{seen[note_id]}] too; "
                                   "each note has an id of its own", path=("note", index, "id"))
            seen[note_id] = index


def change_qualification(uow: UnitOfWork, qualification_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Merge-patch a stored qualification (``null`` removes): only :data:`PATCHABLE` may
    change (400 for the question or the answer, 409 for another state than ``done``); an
    attribute sent with the value it has is no change. A change is stored with its
    ``ProductOfferingQualificationAttributeValueChangeEvent``; a patch changing nothing
    stores nothing and answers the qualification as it is."""
    stored = uow.resources.get(KIND, qualification_id, for_update=True)
    if stored is None:
        raise NotFound(TYPE, qualification_id)
    if body.get("id") not in (None, qualification_id):
        raise InvalidInput(f"the id of a qualification cannot be changed (it is '{qualification_id}')", path=("id",))
    if body.get("@type") not in (None, TYPE):
        raise InvalidInput(f"@type '{body['@type']}' does not match this resource ({TYPE})", path=("@type",))
    changes = {k: v for k, v in body.items() if k not in ("id", "@type")}
    document = merge_patch(stored.document, changes)
    changed = [k for k in changes if document.get(k) != stored.document.get(k)]
    refused = [k for k in changed if k not in PATCHABLE and k != "state"]
    if refused:
        raise _refused(refused)
    if "state" in changed:
        current = stored.document.get("state", FINAL_STATE)
        wanted = body["state"]
        if wanted is None:
            raise InvalidInput("state cannot be removed: a qualification has one (done, when it was answered)",
                               path=("state",))
        raise Conflict(f"a qualification {current} cannot become {wanted if wanted is not None else 'stateless'}: it "
                       "was answered when it was made, and done is final; delete it, or post a new qualification")
    for name in INSTANTS:
        if name in changed and name in document:
            _check_instant(name, document[name])
    if "note" in changed:
        _check_note_ids(document.get("note"))
    if not changed:
        return render(stored)
    updated = stored.bumped(document, dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    uow.resources.replace(updated)
    rendered = render(updated)
    notifications.publish(uow, "TMF679", "ProductOfferingQualificationAttributeValueChangeEvent", KIND,
                          rendered, stored.partner_id, field_path=",".join(sorted(changed)))
    uow.commit()
    return rendered


def delete_qualification(uow: UnitOfWork, qualification_id: str) -> None:
    """Delete a stored qualification (nothing refers to one), with its
    ``ProductOfferingQualificationDeleteEvent``."""
    stored = uow.resources.get(KIND, qualification_id, for_update=True)
    if stored is None:
        raise NotFound(TYPE, qualification_id)
    uow.resources.delete(KIND, qualification_id)
    notifications.publish(uow, "TMF679", "ProductOfferingQualificationDeleteEvent", KIND, render(stored),
                          stored.partner_id)
    uow.commit()


def list_qualifications(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int
                        ) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page(KIND, filters, offset, limit)
    return [render(s) for s in page], total
