"""Use case of TMF679: qualify the requested offerings for a party and store the answer."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from bssrules.configurator.model import Basket, InventoryProduct, Party
from bssrules.configurator.qualification import qualify
from bssrules.errors import Conflict, InvalidInput, NotFound
from bssrules.services.parties import caller_of, party_context
from bssrules.services.records import StoredResource, href
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork
from bssrules.services.runtime import Runtime

API = "/tmf-api/productOfferingQualification/v4"
KIND = "productOfferingQualification"
PARTY_KINDS = ("individual", "organization")
EFFECTIVE = ("active", "pendingTerminate", "suspended")




def create_qualification(uow: UnitOfWork, runtime: Runtime, body: dict[str, Any]) -> dict[str, Any]:
    """Qualify every item of a TMF679 create body; the answer is stored and returned (state done)."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    qualification_id = body.get("id") or str(uuid.uuid4())
    if uow.resources.get(KIND, qualification_id) is not None:  # checked first: nothing is qualified twice
        raise Conflict(f"a ProductOfferingQualification with id '{qualification_id}' already exists; choose "
                       "another id or leave it out to have one made")
    items = [i for i in body.get("productOfferingQualificationItem") or [] if isinstance(i, dict)]
    if not items:
        raise InvalidInput("productOfferingQualificationItem lists the offerings to qualify; it is empty",
                           path=("productOfferingQualificationItem",))
    parties = [p for p in body.get("relatedParty") or [] if isinstance(p, dict)]
    party_id = next((p.get("id") for p in parties if p.get("role") in ("customer", "buyer", None)), None) \
        or (parties[0].get("id") if parties else None)
    party, inventory = party_context(uow, party_id)
    channel = (body.get("channel") or {}).get("id")

    context = Basket(party=party, channel=channel, caller=caller_of(uow), as_of=now, inventory=inventory)
    offerings = [values_at(item, "productOffering.id")[:1] for item in items]
    if any(not o for o in offerings):
        raise InvalidInput("every productOfferingQualificationItem names a productOffering.id",
                           path=("productOfferingQualificationItem",))
    answers = qualify(context, runtime.catalog, runtime.rules, [o[0] for o in offerings],
                      body.get("provideAlternative", True) is not False)
    out_items = []
    for item, answer in zip(items, answers):
        out = {**item, "state": "done", "qualificationItemResult": answer.result}
        if answer.reasons and body.get("provideUnavailabilityReason", True) is not False:
            out["eligibilityUnavailabilityReason"] = [{"code": r["code"], "label": r["label"]} for r in answer.reasons]
        if answer.alternates:
            out["alternateProductOfferingProposal"] = [
                {"id": f"{item.get('id')}-{a}", "alternateProductOffering": {"id": a, "@referredType": "ProductOffering"}}
                for a in answer.alternates]
        out_items.append(out)
    results = {a.result for a in answers}
    document = {k: v for k, v in body.items() if k not in ("id", "href", "@type")}
    document.update(productOfferingQualificationItem=out_items, state="done",
                    effectiveQualificationDate=now.isoformat().replace("+00:00", "Z"),
                    qualificationResult="qualified" if results == {"qualified"} else
                    "unqualified" if results == {"unqualified"} else "partiallyQualified")
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
