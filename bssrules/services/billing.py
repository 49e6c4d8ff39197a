"""Bill runs and the bills they make (TMF678 ``customerBill`` with its
``appliedCustomerBillingRate`` items).

A bill run for a month bills every billing account that pays a recurring fee active in the
month, a one-time fee of a product started in it (an early termination charge: terminated in
it), or has unbilled rated usage in it — one bill per account and currency, in one
transaction. A bill's id is made of its account, month and currency, so running the same
month again finds the bills made and bills nothing twice; the usage charges a bill took are
marked with its id. Usage rated later for an already billed month stays unbilled and is
reported by the run (a supplementary bill is not made automatically). An account paying for a
product whose dates or prices cannot be billed (stored before they were checked), one that
does not exist, or one whose bill would have a settlement note's id, is not billed and is
reported with the reason (``accountsNotBilled``): fixed, the next run of the month bills it.

A price shared between payers (``payerShares`` of a product's price: each payer role's
weight and billing account, kept when its order completed) bills each account its part of
every line (:mod:`bssrules.pricing.billing`); a share naming no account leaves the others'
accounts unbilled with ``noBillingAccount`` rather than charging them the whole.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

from bssrules.services import allowance_buckets, notifications
from bssrules.catalog.types import DECIMAL_PLACES, WHOLE_DIGITS, format_instant, parse_instant
from bssrules.errors import InvalidInput, NotFound, UnknownReference, did_you_mean
from bssrules.money import Money
from bssrules.pricing.billing import (
    Bill, BillingPeriod, Discount, OneTimeFee, PayerShare, RecurringFee, UsageTotal, bill, bill_id,
)
from bssrules.services.commitments import amount_problem, charge_period, discount_months
from bssrules.services.records import StoredResource, href
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork

API = "/tmf-api/customerBillManagement/v4"


def _instant(value: Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_instant(value)
    if not isinstance(parsed, dt.datetime):
        # parse_instant makes a date-time of every text and date, and hands anything else
        # back unchanged (the request schemas let only text into a product's dates)
        raise ValueError(f"{value!r} is not a date or date-time")
    return parsed


def _period_of(text: Any) -> tuple[str, int] | None:
    """(period, length) of a price's ``recurringChargePeriod``, None of what names no period: read
    as the inventory checks it when a product is written (:func:`commitments.charge_period`)."""
    return charge_period(text)


def _amount(node: Any, what: str) -> Money | str:
    """The money of a ``taxIncludedAmount``, or why a bill cannot hold it: a bill line is
    the amount rounded to its currency's minor unit, so the currency must be one (ISO 4217)
    and the amount a finite number of at most 15 digits before the point, as a catalog's —
    read as the inventory checks it when a product is written (:func:`commitments.amount_problem`)."""
    read = amount_problem(node)
    if isinstance(read, Money):
        return read
    if not isinstance(node, dict) or not isinstance(node.get("unit"), str) or node.get("value") is None:
        return f"{what}: no amount (a unit and a value), got {json.dumps(node, default=str)[:100]}"
    return f"{what}: {read[1]}"


def _discounts(price: dict[str, Any], net: Money, what: str) -> list[Discount] | str:
    """The discounts of a price (its ``priceAlteration``s that take something off: negative),
    each with the months it lasts (:func:`commitments.discount_months`), or why one cannot be
    read. An alteration that adds to the price (positive: a surcharge) is part of the net
    amount and stays in the charge."""
    discounts = []
    for alteration in price.get("priceAlteration") or []:
        node = values_at(alteration, "price.taxIncludedAmount")
        if not node:
            continue
        name = alteration.get("name", "discount")
        value = _amount(node[0], f"{what}: discount {name!r}")
        if isinstance(value, str):
            return value
        if value.currency != net.currency:
            return f"{what}: discount {name!r} is in {value.currency}, its price in {net.currency}"
        months = discount_months(alteration.get("applicationDuration"))
        if isinstance(months, str):
            return f"{what}: discount {name!r}: {months}"
        if value.amount < 0:
            discounts.append(Discount(name, Money(-value.amount, value.currency), months))
    return discounts


def _dates(product: StoredResource) -> tuple[dt.datetime, dt.datetime | None] | str:
    """(start, end) of a product's fees, or why its dates cannot be read.

    A product ``terminated`` without a ``terminationDate`` (kept before a termination was
    dated when made: services.commitments) ends when it was last changed — at the latest
    when it was known to be terminated — rather than never."""
    try:
        start = _instant(product.document.get("startDate")) or product.created
        end = _instant(product.document.get("terminationDate"))
    except ValueError as exc:
        return f"product {product.id}: {exc}"
    if end is None and product.document.get("status") == "terminated":
        end = product.last_update
    return start, end


def _fee(product: str, price: dict[str, Any], price_id: Any, money: Any, start: dt.datetime,
         end: dt.datetime | None) -> RecurringFee | OneTimeFee | str:
    """The fee of one price of a product, or why the run cannot bill it (a product stored
    before its prices were checked): the run then leaves its account unbilled, not the month."""
    what = f"product {product}: price {price.get('name', price_id)!r}"
    net = _amount(money, what)
    if isinstance(net, str):
        return net
    discounts = _discounts(price, net, what)
    if isinstance(discounts, str):
        return discounts
    # the charge is the price before its discounts, each of which follows it as a line
    gross = net + sum((d.reduction for d in discounts), Money(Decimal(0), net.currency))
    if price["priceType"] == "oneTime":
        # an early termination charge is due when the product ends (services.commitments)
        at = end if end is not None and price.get("@type") == "EarlyTerminationCharge" else start
        return OneTimeFee(product, price_id, price.get("name", price_id), gross, at, tuple(discounts),
                          credit=net.amount < 0)
    period = _period_of(price.get("recurringChargePeriod"))
    if period is None:
        return f"{what}: recurringChargePeriod {price.get('recurringChargePeriod')!r} is not a period " \
               f"(day, week, month or year, or a number of them: '3 months')"
    return RecurringFee(product, price_id, price.get("name", price_id), gross, period[0], period[1], start, end,
                        tuple(discounts), credit=net.amount < 0)


def _payers(product: str, price: dict[str, Any], doc: dict[str, Any]
            ) -> list[tuple[str, PayerShare | None]] | tuple[list[str], str]:
    """(account, its share) of each payer of a price: one account paying it whole (its
    ``billingAccount``, else the product's) or, for a price with ``payerShares``, each share's.
    Shares that cannot be billed give (the accounts named, why): a share without an account
    (``noBillingAccount``: its part would go to no one, or to another payer), a weight that is
    not a positive number, a role named twice."""
    shares = price.get("payerShares")
    if shares is None:
        account = values_at(price, "billingAccount.id") or values_at(doc, "billingAccount.id")
        return [(account[0], None)] if account else []
    what = f"product {product}: price {price.get('name', 'price')!r}"
    listed = shares if isinstance(shares, list) else []
    accounts = [a for s in listed if isinstance(s, dict) for a in values_at(s, "billingAccount.id")[:1]]
    accounts = [a for a in accounts if isinstance(a, str)] or \
        [a for a in values_at(price, "billingAccount.id") or values_at(doc, "billingAccount.id") if isinstance(a, str)][:1]
    if not listed or not all(isinstance(s, dict) for s in listed):
        return accounts, f"{what}: payerShares is a list of {{role, weight, billingAccount}}"
    roles: list[str] = []
    weights: list[Decimal] = []
    paying: list[str] = []
    for share in listed:
        role, weight = share.get("role"), share.get("weight")
        if not isinstance(role, str) or not role or role in roles:
            return accounts, f"{what}: payerShares: a share's role is a text, each role once, got {role!r}"
        amount = Decimal(weight) if isinstance(weight, (int, Decimal)) and not isinstance(weight, bool) else None
        # as a rule's weight (a weight of a thousand decimal places would be split as numbers of
        # a thousand digits)
        if amount is None or not amount.is_finite() or amount <= 0 or amount >= Decimal(10) ** WHOLE_DIGITS \
                or amount != amount.quantize(Decimal(1).scaleb(-DECIMAL_PLACES)):
            return accounts, f"{what}: payerShares: the weight of '{role}' is a positive number of at most " \
                             f"{WHOLE_DIGITS} digits before the point and {DECIMAL_PLACES} after, got {weight!r}"
        account = values_at(share, "billingAccount.id")
        if not account or not isinstance(account[0], str):
            return accounts, f"{what}: noBillingAccount: no billing account for the payer role '{role}'"
        roles.append(role)
        weights.append(amount)
        paying.append(account[0])
    return [(account, PayerShare(role, tuple(weights), index))
            for index, (account, role) in enumerate(zip(paying, roles))]


def inventory_fees(uow: UnitOfWork, unreadable: dict[str, str] | None = None
                   ) -> tuple[dict[str, list[RecurringFee]], dict[str, list[OneTimeFee]]]:
    """Every recurring and one-time fee of the inventory, by the billing account that pays it
    (a price shared between payers: each account its part, :func:`_payers`).

    A product whose dates cannot be read (kept before they were checked) bills nothing, and
    neither does a price that cannot be billed (:func:`_fee`) or whose shares cannot
    (:func:`_payers`): their accounts are put in ``unreadable`` with the reason, for the run
    to leave unbilled."""
    fees: dict[str, list[RecurringFee]] = {}
    one_time: dict[str, list[OneTimeFee]] = {}
    offset = 0

    def refuse(accounts: list[str], reason: str) -> None:
        for account in accounts:
            if unreadable is not None:
                unreadable.setdefault(account, reason)

    while True:
        page, total = uow.resources.page("product", {"productPrice.priceType": ["recurring", "oneTime"]}, offset, 1000)
        for product in page:
            doc = product.document
            if doc.get("status") in ("cancelled", "aborted", "created"):
                continue
            dates = _dates(product)
            for price in doc.get("productPrice") or []:
                if not isinstance(price, dict) or price.get("priceType") not in ("recurring", "oneTime"):
                    continue
                payers = _payers(product.id, price, doc)
                money = values_at(price, "price.taxIncludedAmount")
                if not payers or not money:
                    continue
                if isinstance(payers, tuple):
                    refuse(*payers)
                    continue
                if isinstance(dates, str):
                    refuse([a for a, _ in payers], dates)
                    continue
                start, end = dates
                price_id = (values_at(price, "productOfferingPrice.id") or [price.get("name", "price")])[0]
                read = _fee(product.id, price, price_id, money[0], start, end)
                if isinstance(read, str):
                    refuse([a for a, _ in payers], read)
                    continue
                for account, share in payers:
                    if isinstance(read, OneTimeFee):
                        one_time.setdefault(account, []).append(replace(read, share=share))
                    else:
                        fees.setdefault(account, []).append(replace(read, share=share))
        offset += len(page)
        if not page or offset >= total:
            return fees, one_time


def _render_bill(stored: StoredResource) -> dict[str, Any]:
    shown = stored.shown
    return {**shown, "id": stored.id, "href": href(f"{API}/customerBill", stored.id), "@type": "CustomerBill"}


def _render_rate(stored: StoredResource) -> dict[str, Any]:
    shown = stored.shown
    return {**shown, "id": stored.id, "href": href(f"{API}/appliedCustomerBillingRate", stored.id),
            "@type": "AppliedCustomerBillingRate"}


def _money(money: Money) -> dict[str, Any]:
    return {"unit": money.currency, "value": money.amount}


def _store_bill(uow: UnitOfWork, made: Bill, now: dt.datetime) -> str:
    identifier = bill_id(made.billing_account, made.period, made.currency)
    coverage = {"startDateTime": format_instant(made.period.start), "endDateTime": format_instant(made.period.end)}
    account = uow.resources.get("billingAccount", made.billing_account)
    parties = values_at(account.document, "relatedParty") if account else []
    document = {"billNo": identifier, "billDate": format_instant(now), "billingPeriod": coverage,
                "billingAccount": {"id": made.billing_account, "@referredType": "BillingAccount"},
                "amountDue": _money(made.total), "remainingAmount": _money(made.total),
                "taxIncludedAmount": _money(made.total), "state": "new", "runType": "onCycle",
                "category": "normal", "relatedParty": parties}
    owner = account.partner_id if account else None  # the partner whose customer pays it
    uow.resources.insert(StoredResource("customerBill", identifier, 1, now, now, document, state="new",
                                        party_id=made.billing_account, partner_id=owner))
    # four digits, or as many as the bill's last line needs: the ids sort in the bill's order
    # (line 10000 of a four-digit bill would sort between lines 1000 and 1001)
    width = max(4, len(str(len(made.items))))
    for index, item in enumerate(made.items, start=1):
        rate = {"appliedBillingRateType": item.kind, "name": item.name, "date": format_instant(now),
                "isBilled": True, "bill": {"id": identifier, "href": href(f"{API}/customerBill", identifier)},
                "billingAccount": {"id": made.billing_account, "@referredType": "BillingAccount"},
                "product": {"id": item.product, "@referredType": "Product"},
                "periodCoverage": {"startDateTime": format_instant(item.coverage[0]),
                                   "endDateTime": format_instant(item.coverage[1])},
                "taxIncludedAmount": _money(item.amount),
                "characteristic": [{"name": k, "value": v} for k, v in sorted(item.detail.items())]}
        uow.resources.insert(StoredResource("appliedCustomerBillingRate", f"{identifier}-{index:0{width}d}", 1, now, now, rate,
                                            party_id=made.billing_account, partner_id=owner))
    return identifier


def _refuse_unknown_accounts(known: set[str], accounts: list[str]) -> None:
    """Every account named that does not exist (or the caller may not see), at once, each
    with the closest known id: a reference in a body naming nothing is a 422, as elsewhere."""
    unknown = [a for a in dict.fromkeys(accounts) if a not in known]
    if not unknown:
        return
    lines = []
    for account in unknown:
        hint = did_you_mean(account, known)
        lines.append(f"'{account}'" + (f" (did you mean '{hint}'?)" if hint else ""))
    raise UnknownReference(f"billingAccount: no billing account {', '.join(lines)} is found or visible to you",
                           details=lines)


_BILLS_PAGE = 10_000  # the month's bills read at once, when listing those made before


def _bills_already_made(uow: UnitOfWork, period: BillingPeriod, made: set[str],
                        accounts: list[str] | None) -> set[str]:
    """The month's bills (of ``accounts``, or of all) other than those just ``made``: every one,
    page after page (a single page of 100,000 left out, unsaid, the bills beyond it — an
    account named by a re-run among them seemed never billed)."""
    named = None if accounts is None else set(accounts)
    found: set[str] = set()
    offset = 0
    while True:
        page, total = uow.resources.page("customerBill", {"billingPeriod.startDateTime": [format_instant(period.start)]},
                                         offset, _BILLS_PAGE)
        found |= {b.id for b in page if b.id not in made and b.document.get("category") != "settlement"
                  and (named is None or any(a in named for a in values_at(b.document, "billingAccount.id")[:1]))}
        offset += len(page)
        if not page or offset >= total:
            return found


def run_bills(uow: UnitOfWork, period_label: str, accounts: list[str] | None = None) -> dict[str, Any]:
    """Bill the month ``YYYY-MM`` (every account, or only ``accounts``); re-running it bills
    nothing twice. Returns the bills made, those found already made, and late usage."""
    try:
        period = BillingPeriod.month(period_label)
    except ValueError as exc:
        raise InvalidInput(str(exc), path=("period",)) from None
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    uow.charges.lock_bill_runs()  # a second run waits, then finds the bills made
    unreadable: dict[str, str] = {}
    fees, one_time = inventory_fees(uow, unreadable)
    candidates = set(fees) | set(one_time) | set(uow.charges.accounts_with_unbilled(period.start, period.end))
    candidates |= set(unreadable)
    known = uow.resources.ids(("billingAccount",))
    if accounts is not None:
        _refuse_unknown_accounts(known, accounts)
        candidates &= set(accounts)
    # an account with a product of unreadable dates or prices is not billed at all (its bill
    # would lack that fee, and a bill is made once): fix the product and run the month again;
    # nor is an account that does not exist (named by a price kept before references were
    # checked): its bill would be nobody's — once the account is made, the next run bills it
    unreadable.update({a: f"no billing account {a!r}" for a in candidates - known - set(unreadable)})
    not_billed = [{"id": a, "reason": unreadable[a]} for a in sorted(candidates & set(unreadable))]
    candidates -= set(unreadable)
    made: list[str] = []
    late: list[str] = []
    catalog = allowance_buckets.stored_catalog_prices(uow)
    for account in sorted(candidates):
        charges = uow.charges.unbilled(account, period.start, period.end)
        usage: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
        for charge in charges:
            key = (charge.subscriber, charge.service, charge.currency)
            amount, count = usage.get(key, (Decimal(0), 0))
            usage[key] = (amount + charge.amount, count + 1)
        totals = [UsageTotal(p, s, Money(a, c), n) for (p, s, c), (a, n) in usage.items()]
        # an allowance shows on the bill of the account paying its price, the first payer's when shared
        paid = [f for f in fees.get(account, []) if f.share is None or f.share.index == 0]
        included = allowance_buckets.month_uses(uow, catalog, paid, period, now)
        for drafted in bill(account, period, fees.get(account, []), totals, one_time.get(account, []), included):
            identifier = bill_id(account, period, drafted.currency)
            found = uow.resources.get("customerBill", identifier)
            if found is not None and found.document.get("category") == "settlement":
                # the id of a settlement note (settlement-<payer>-<payee>-…): not this account's
                # bill made already, so its charges are not late, and it has no bill of its own
                not_billed.append({"id": account, "reason": f"its bill's id {identifier!r} is a settlement note's"})
                continue
            if found is not None:
                late += [c.usage_id for c in charges if c.currency == drafted.currency]
                continue
            made.append(_store_bill(uow, drafted, now))
            bill_doc = uow.resources.get("customerBill", made[-1])
            assert bill_doc is not None  # _store_bill inserted it just now, in this unit of work
            # to every partner that sees the bill: its account's, and the partners of the parties it names
            notifications.publish(uow, "TMF678", "CustomerBillCreateEvent", "customerBill", _render_bill(bill_doc),
                                  [bill_doc.partner_id, *uow.resources.viewers("customerBill", bill_doc.id)])
            uow.charges.mark_billed([c for c in charges if c.currency == drafted.currency], identifier)
    existing = sorted(_bills_already_made(uow, period, set(made), accounts))
    uow.commit()
    return {"billingPeriod": {"startDateTime": format_instant(period.start),
                              "endDateTime": format_instant(period.end)},
            "billsMade": made, "billsAlreadyMade": existing, "lateUsage": sorted(set(late)),
            **({"accountsNotBilled": sorted(not_billed, key=lambda a: a["id"])} if not_billed else {})}


def get_bill(uow: UnitOfWork, identifier: str) -> dict[str, Any]:
    stored = uow.resources.get("customerBill", identifier)
    if stored is None:
        raise NotFound("CustomerBill", identifier)
    return _render_bill(stored)


def list_bills(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page("customerBill", filters, offset, limit)
    return [_render_bill(s) for s in page], total


def get_rate(uow: UnitOfWork, identifier: str) -> dict[str, Any]:
    stored = uow.resources.get("appliedCustomerBillingRate", identifier)
    if stored is None:
        raise NotFound("AppliedCustomerBillingRate", identifier)
    return _render_rate(stored)


def list_rates(uow: UnitOfWork, filters: dict[str, list[str]], offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page("appliedCustomerBillingRate", filters, offset, limit)
    return [_render_rate(s) for s in page], total
