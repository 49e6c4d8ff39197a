"""Settlement notes between partners for a month, computed by the settlement rule sets and
exposed through TMF678 as customer bills of category ``settlement``.

The items of the month — tickets opened in it, the items of the customer bills of the
month (fees and usage, by offering), SLA violations observed in it — are decided by every
settlement rule set in force; each rule that holds for an item owes its amount (or its
percentage of the charge, rounded half-up to the cent) from its payer to its payee. One
note per payer, payee and currency, with one item per rule. Notes move from ``sent``
(issued) to ``validated`` (accepted) or ``onHold`` (disputed), and from ``validated`` to
``settled`` (paid). Re-running a month makes no second note. Both partners of a note see
it; nobody else does.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from bssrules.services import notifications
from bssrules.catalog.model import ProductOffering
from bssrules.catalog.types import format_instant, parse_instant
from bssrules.errors import Conflict, InvalidInput, NotFound
from bssrules.money import Money
from bssrules.pricing.billing import BillingPeriod
from bssrules.rules.decisions import decide_many
from bssrules.services.records import StoredResource, href
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork
from bssrules.services.runtime import Runtime
from bssrules.services.sla import metric_facts

API = "/tmf-api/customerBillManagement/v4"
CHARGE_TYPES = {"recurringCharge": "recurring", "usageCharge": "usage", "oneTimeCharge": "oneTime",
                "discount": "discount"}
NOTE_TRANSITIONS = {"sent": {"validated", "onHold"}, "onHold": {"validated", "sent"}, "validated": {"settled"}}


def _in(period: BillingPeriod, value: Any) -> dt.datetime | None:
    """The instant ``value`` names when it falls in the period, else None."""
    try:
        instant = parse_instant(value) if value else None
    except ValueError:
        return None
    return instant if isinstance(instant, dt.datetime) and period.start <= instant < period.end else None


def _items(uow: UnitOfWork, period: BillingPeriod) -> list[tuple[str, dict[str, Any], dt.datetime]]:
    """(label, facts, instant) of every item of the month, read across all partners."""
    everyone = uow.all_resources
    items: list[tuple[str, dict[str, Any], dt.datetime]] = []
    for ticket in everyone.find("troubleTicket", {}, 1_000_000):
        doc = ticket.document
        created = _in(period, doc.get("creationDate"))
        if created is None:
            continue
        facts = {k: doc[f] for k, f in (("type", "ticketType"), ("severity", "severity")) if doc.get(f)}
        originator = next((p["id"] for p in doc.get("relatedParty", []) if p.get("role") == "originator"), None)
        if originator:
            facts["originator"] = originator
        items.append((f"troubleTicket {ticket.id}", {"ticket": facts}, created))
    bills = [b for b in everyone.find("customerBill", {"billingPeriod.startDateTime": [format_instant(period.start)]},
                                      1_000_000) if b.document.get("category") != "settlement"]
    offerings: dict[str, str | None] = {}
    categories: dict[str, list[str]] = {}
    for bill in bills:
        for rate in everyone.find("appliedCustomerBillingRate", {"bill.id": [bill.id]}, 1_000_000):
            doc = rate.document
            product = values_at(doc, "product.id")[0] if values_at(doc, "product.id") else None
            if product and product not in offerings:
                stored = everyone.get("product", product)
                offerings[product] = (values_at(stored.document, "productOffering.id") or [None])[0] if stored else None
            money = doc["taxIncludedAmount"]
            rate_type = doc.get("appliedBillingRateType")
            charge = {"type": CHARGE_TYPES.get(rate_type, "other") if isinstance(rate_type, str) else "other",
                      "amount": Decimal(str(money["value"])), "currency": money["unit"]}
            offering = offerings.get(product or "")
            if offering:
                charge["offering"] = offering
                if offering not in categories:
                    entity = uow.catalog.get("productOffering", offering)
                    if entity is None:
                        categories[offering] = []
                    else:
                        assert isinstance(entity.entity, ProductOffering)  # stored under the kind productOffering
                        categories[offering] = list(entity.entity.categories)
                charge["categories"] = categories[offering]
            service = next((c["value"] for c in doc.get("characteristic", []) if c.get("name") == "service"), None)
            if service:
                charge["service"] = service
            items.append((f"appliedCustomerBillingRate {rate.id}", {"charge": charge}, period.start))
    for violation in everyone.find("slaViolation", {}, 1_000_000):
        doc = violation.document
        observed = _in(period, doc.get("observedAt"))
        if observed is not None:
            facts = metric_facts(doc["metric"], Decimal(str(doc["value"])), doc.get("window"), doc.get("service"),
                                 doc.get("relatedParty", []), doc.get("severity"))
            items.append((f"slaViolation {violation.id}", facts, observed))
    return items


def note_id(payer: str, payee: str, period: BillingPeriod, currency: str) -> str:
    return f"settlement-{payer}-{payee}-{period.label}-{currency}"


def run_settlement(uow: UnitOfWork, runtime: Runtime, period_label: str) -> dict[str, Any]:
    """Compute and issue the month's settlement notes (none twice)."""
    try:
        period = BillingPeriod.month(period_label)
    except ValueError as exc:
        raise InvalidInput(str(exc), path=("period",)) from None
    uow.charges.lock_bill_runs()
    items = _items(uow, period)
    totals: dict[tuple[str, str, str], dict[str, list[Money]]] = {}
    for rule_set_id in sorted(runtime.rules.versions):
        versions = [c for c in runtime.rules.versions[rule_set_id]
                    if c.kind == "settlement" and c.definition.valid_for.contains(period.start)]
        if not versions or not items:
            continue
        decisions = decide_many(versions[-1], [facts for _, facts, _ in items], period.start, with_trace=False)
        for (_, facts, _), decision in zip(items, decisions):
            for line in decision.outcome["lines"]:
                if "percentage" in line:
                    charge = facts["charge"]
                    money = (Money(charge["amount"], charge["currency"]) * (line["percentage"] / 100)).rounded()
                else:
                    money = Money(line["amount"], line["currency"]).rounded()
                key = (line["payer"], line["payee"], money.currency)
                totals.setdefault(key, {}).setdefault(f"{rule_set_id}/{line['rule']}", []).append(money)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    made, existing = [], []
    for (payer, payee, currency), by_rule in sorted(totals.items()):
        identifier = note_id(payer, payee, period, currency)
        if uow.all_resources.get("customerBill", identifier) is not None:
            existing.append(identifier)
            continue
        lines = [(rule, sum((m.amount for m in amounts), Decimal(0)), len(amounts))
                 for rule, amounts in sorted(by_rule.items())]
        total = sum((amount for _, amount, _ in lines), Decimal(0))
        coverage = {"startDateTime": format_instant(period.start), "endDateTime": format_instant(period.end)}
        document = {"billNo": identifier, "billDate": format_instant(now), "billingPeriod": coverage,
                    "category": "settlement", "runType": "onCycle", "state": "sent",
                    "amountDue": {"unit": currency, "value": total}, "remainingAmount": {"unit": currency, "value": total},
                    "taxIncludedAmount": {"unit": currency, "value": total},
                    "relatedParty": [{"id": payer, "role": "payer", "@referredType": "Organization"},
                                     {"id": payee, "role": "payee", "@referredType": "Organization"}],
                    "sharedWith": sorted({payer, payee})}
        stored = StoredResource("customerBill", identifier, 1, now, now, document, state="sent", partner_id=payee)
        uow.resources.insert(stored)
        for index, (rule, amount, count) in enumerate(lines, start=1):
            uow.resources.insert(StoredResource(
                "appliedCustomerBillingRate", f"{identifier}-{index:04d}", 1, now, now,
                {"appliedBillingRateType": "settlement", "name": rule, "date": format_instant(now), "isBilled": True,
                 "bill": {"id": identifier, "href": href(f"{API}/customerBill", identifier)},
                 "periodCoverage": coverage,
                 "taxIncludedAmount": {"unit": currency, "value": amount},
                 "characteristic": [{"name": "items", "value": count}], "sharedWith": sorted({payer, payee})},
                partner_id=payee))
        rendered = render_note(stored)
        notifications.publish(uow, "TMF678", "CustomerBillCreateEvent", "customerBill", rendered, [payer, payee])
        made.append(identifier)
    uow.commit()
    return {"billingPeriod": {"startDateTime": format_instant(period.start), "endDateTime": format_instant(period.end)},
            "settlementNotesMade": made, "settlementNotesAlreadyMade": existing, "itemsDecided": len(items)}


def render_note(stored: StoredResource) -> dict[str, Any]:
    shown = stored.shown
    return {**shown, "id": stored.id, "href": href(f"{API}/customerBill", stored.id), "@type": "CustomerBill"}


def change_bill_state(uow: UnitOfWork, bill_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Move a settlement note: the payer accepts (``validated``) or disputes (``onHold``);
    the payee re-issues (``sent``); the payer pays (``settled``)."""
    unknown = sorted(set(body) - {"state", "@type"})
    if unknown:
        raise InvalidInput(f"only the state of a bill changes; {unknown[0]} cannot", path=(unknown[0],))
    stored = uow.resources.get("customerBill", bill_id, for_update=True)
    if stored is None:
        raise NotFound("CustomerBill", bill_id)
    if stored.document.get("category") != "settlement":
        raise Conflict("only settlement notes change state here; a customer bill is settled by its payment")
    target, current = body.get("state"), stored.document.get("state")
    if target == current:
        return render_note(stored)
    if target not in (NOTE_TRANSITIONS.get(current, set()) if isinstance(current, str) else set()):
        raise Conflict(f"a settlement note {current} cannot become {target}")
    caller = uow.principal.id if uow.principal is not None and not uow.principal.is_admin else None
    payer = next(p["id"] for p in stored.document["relatedParty"] if p["role"] == "payer")
    payee = next(p["id"] for p in stored.document["relatedParty"] if p["role"] == "payee")
    if caller is not None and caller != (payee if target == "sent" else payer):
        raise Conflict(f"the {'payee' if target == 'sent' else 'payer'} of the note moves it to {target}")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    document = dict(stored.document, state=target)
    if target == "settled":
        currency = document["amountDue"]["unit"]
        document["remainingAmount"] = {**document["amountDue"], "value": Money(Decimal(0), currency).rounded().amount}
    updated = stored.bumped(document, now, state=target)
    uow.resources.replace(updated)
    notifications.publish(uow, "TMF678", "CustomerBillStateChangeEvent", "customerBill", render_note(updated),
                          [payer, payee])
    uow.commit()
    return render_note(updated)
