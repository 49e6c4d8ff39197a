"""Use case of TMF679: qualify the requested offerings for a party and store the answer."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from bssrules.configurator.model import Basket
from bssrules.configurator.qualification import offerings_in_category, qualify
from bssrules.errors import Conflict, InvalidInput, NotFound, UnknownReference, did_you_mean
from bssrules.services.catalog import partner_view
from bssrules.services.parties import caller_of, party_context
from bssrules.services.records import StoredResource, href
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork
from bssrules.services.runtime import Runtime

API = "/tmf-api/productOfferingQualification/v4"
KIND = "productOfferingQualification"
PARTY_KINDS = ("individual", "organization")
EFFECTIVE = ("active", "pendingTerminate", "suspended")


def _instant(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _category_items(uow: UnitOfWork, runtime: Runtime, body: dict[str, Any], items: list[dict[str, Any]]
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
    view = partner_view(uow)
    out: list[dict[str, Any]] = []
    for offering_id in offerings_in_category(runtime.catalog, category_id):
        if offering_id in named or (view is not None and not uow.catalog.is_visible("productOffering", offering_id,
                                                                                      *view)):
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
    items = [i for i in body.get("productOfferingQualificationItem") or [] if isinstance(i, dict)]
    if not items and not isinstance(body.get("category"), dict):
        raise InvalidInput("nothing to qualify: productOfferingQualificationItem lists the offerings, or category "
                           "names a category of them; neither is given", path=("productOfferingQualificationItem",))
    parties = [p for p in body.get("relatedParty") or [] if isinstance(p, dict)]
    party_id = next((p.get("id") for p in parties if p.get("role") in ("customer", "buyer", None)), None) \
        or (parties[0].get("id") if parties else None)
    party, inventory = party_context(uow, party_id, now)
    channel = (body.get("channel") or {}).get("id")

    context = Basket(party=party, channel=channel, caller=caller_of(uow), as_of=now, inventory=inventory)
    offerings = [values_at(item, "productOffering.id")[:1] for item in items]
    if any(not o for o in offerings):
        raise InvalidInput("every productOfferingQualificationItem names a productOffering.id",
                           path=("productOfferingQualificationItem",))
    of_category = _category_items(uow, runtime, body, items)
    answers = qualify(context, runtime.catalog, runtime.rules,
                      [o[0] for o in offerings] + [i["productOffering"]["id"] for i in of_category],
                      body.get("provideAlternative", True) is not False)
    out_items = []
    only_available = body.get("provideOnlyAvailable") is True
    for index, (item, answer) in enumerate(zip(items + of_category, answers)):
        if index >= len(items) and only_available and answer.result != "qualified":
            continue  # provideOnlyAvailable: a category's offerings the party cannot have are left out
        out = {**item, "state": "done", "qualificationItemResult": answer.result}
        if answer.reasons and body.get("provideUnavailabilityReason", True) is not False:
            out["eligibilityUnavailabilityReason"] = [{"code": r["code"], "label": r["label"]} for r in answer.reasons]
        if answer.alternates:
            out["alternateProductOfferingProposal"] = [
                {"id": f"{item.get('id')}-{a}", "alternateProductOffering": {"id": a, "@referredType": "ProductOffering"}}
                for a in answer.alternates]
        out_items.append(out)
    document = {k: v for k, v in body.items() if k not in ("id", "href", "@type")}
    results = {a.result for a in answers}  # of every offering asked about, those provideOnlyAvailable left out too
    document.update(productOfferingQualificationItem=out_items, state="done",
                    productOfferingQualificationDate=_instant(now), effectiveQualificationDate=_instant(now),
                    qualificationResult="qualified" if results == {"qualified"} else
                    "unqualified" if results <= {"unqualified"} else "partiallyQualified")
    stored = StoredResource(KIND, qualification_id, 1, now, now, document, state="done", party_id=party_id)
    uow.resources.insert(stored)
    uow.commit()
    return render(stored)


def render(stored: StoredResource) -> dict[str, Any]:
    return {**stored.document, "id": stored.id, "href": href(f"{API}/{KIND}", stored.id),
            "@type": "ProductOfferingQualification"}


def get_qualification(uow: UnitOfWork, qualification_id: str) -> dict[str, Any]:
    stored = uow.resources.get(KIND, qualification_id)
    if stored is None:
        raise NotFound("ProductOfferingQualification", qualification_id)
    return render(stored)


def list_qualifications(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int
                        ) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page(KIND, filters, offset, limit)
    return [render(s) for s in page], total
