"""Commitments on orders and products (issue 15, item 2).

An order item of an offering with terms (TMF620 ``productOfferingTerm``) takes one of them:
the one named by its ``itemTerm`` (TMF622), or the offering's only term. Completing the
order carries it onto each product as TMF637 ``productTerm``: its name, duration and the
first term's ``validFor`` (from the product's start), with the catalog's ``atEnd`` and
``earlyTermination`` — what was sold is what the product keeps, whatever the catalog
later says.

A product under commitment that becomes ``terminated`` before the term in force ends
(renewals counted: :mod:`bssrules.pricing.commitments`) gets its early termination charge:
a one-time ``productPrice`` of ``@type`` ``EarlyTerminationCharge``, paid by the account of
its recurring prices, which the bill run bills in the month of the ``terminationDate``.
Every product that becomes ``terminated`` without a ``terminationDate``, under commitment
or not, is dated now (it is written on the product): bills count a product up to it.

A product is shown with the term in force (:func:`shown_terms`): a term that ``renew``s and
is past its end shows the renewal in force — now, or at the product's termination — as its
``validFor``; a term that ``end``s keeps its own, in the past: the product goes on without
commitment (it is not terminated) and terminating it costs nothing. The product keeps the
first term as sold (renewals are counted from it, so that month ends never drift); only
what is shown moves on.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Mapping, Sequence

from pydantic import ValidationError

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.model import OfferingTerm, ProductOffering
from bssrules.catalog.tmf import render_term
from bssrules.catalog.types import WHOLE_DIGITS, format_instant, parse_instant
from bssrules.errors import InvalidInput, did_you_mean, format_path
from bssrules.money import ISO_4217, Money
from bssrules.pricing.billing import _discount_end
from bssrules.pricing.commitments import Recurring, early_termination_charges, term_end, term_ended_by, term_in_force

ETF_TYPE = "EarlyTerminationCharge"
PERIODS = ("day", "week", "month", "year")


# ------------------------------------------------------------- orders


def offered(offering: ProductOffering, as_of: dt.datetime) -> list[OfferingTerm]:
    """The terms the offering is sold with at ``as_of`` (a term's ``validFor``)."""
    return [t for t in offering.terms if t.valid_for.contains(as_of)]


def term_violations(catalog: Catalog, items: Any, as_of: dt.datetime, path: str = "productOrderItem",
                    children: str = "productOrderItem") -> list[dict[str, Any]]:
    """Why the ``itemTerm`` of the order's items (and their bundles' items, under
    ``children``: ``cartItem`` in a cart) cannot be taken at ``as_of``: one violation per
    item, in the order's shape (code, message, path)."""
    found: list[dict[str, Any]] = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or item.get("action", "add") != "add":
            continue
        ordered = item.get("productOffering")
        offering_id = ordered.get("id") if isinstance(ordered, dict) else None
        offering = catalog.offerings.get(offering_id) if isinstance(offering_id, str) else None
        given = item.get("itemTerm")
        # (an offering sold without terms, and no term named: nothing to check — the usual item)
        if offering is not None and (offering.terms or given not in (None, [])):
            problem = _term_problem(offering, offered(offering, as_of), given)
            if problem:
                found.append({"code": problem[0], "message": problem[1], "path": f"{path}[{index}]{problem[2]}"})
        if item.get(children):
            found += term_violations(catalog, item[children], as_of, f"{path}[{index}].{children}", children)
    return found


def _term_problem(offering: ProductOffering, terms: list[OfferingTerm], given: Any) -> tuple[str, str, str] | None:
    names = [t.name for t in terms]
    if given in (None, []):
        if len(terms) > 1:
            return ("termRequired", f"offering {offering.id} is sold with a choice of terms: name one in "
                                    f"itemTerm ({', '.join(names)})", ".itemTerm")
        return None
    if not isinstance(given, list) or len(given) != 1 or not isinstance(given[0], dict):
        return ("invalidTerm", "itemTerm is a list of one term: [{name}]", ".itemTerm")
    name = given[0].get("name")
    if any(t.name == name for t in offering.terms) and not any(t.name == name for t in terms):
        return ("termNotOffered", f"term '{name}' of offering {offering.id} is not offered at this date (its "
                                  f"validFor); offered: {', '.join(names) or 'none'}", ".itemTerm[0].name")
    if not terms:
        return ("noTerm", f"offering {offering.id} is sold without a term", ".itemTerm")
    term = next((t for t in terms if t.name == name), None)
    if term is None:
        hint = did_you_mean(str(name), names)
        return ("unknownTerm", f"offering {offering.id} has no term '{name}'"
                + (f" (did you mean '{hint}'?)" if hint else f"; its terms: {', '.join(names)}"), ".itemTerm[0].name")
    duration = given[0].get("duration")
    if duration is not None and (not isinstance(duration, dict) or duration.get("amount") != term.duration.amount
                                 or str(duration.get("units", "")).removesuffix("s") != term.duration.units):
        return ("termMismatch", f"term '{name}' lasts {term.duration.amount} {term.duration.units}(s), not "
                                f"{duration.get('amount') if isinstance(duration, dict) else duration} "
                                f"{duration.get('units') if isinstance(duration, dict) else ''}".rstrip(),
                ".itemTerm[0].duration")
    return None


def chosen_term(offering: ProductOffering, item: Mapping[str, Any], as_of: dt.datetime) -> OfferingTerm | None:
    """The term an item (checked by :func:`term_violations` when the order was placed) takes
    of its offering: the one it names, else the only one offered at ``as_of``."""
    given = item.get("itemTerm")
    if isinstance(given, list) and given and isinstance(given[0], dict):
        return next((t for t in offering.terms if t.name == given[0].get("name")), None)
    terms = offered(offering, as_of)
    return terms[0] if len(terms) == 1 else None


def product_term(term: OfferingTerm, start: dt.datetime) -> dict[str, Any]:
    """The TMF637 ``productTerm`` of a product that starts at ``start`` under ``term``."""
    out = render_term(term)
    out.pop("validFor", None)  # when the catalog offered the term; the product's is its own
    try:
        end = term_end(start, term.duration.amount, term.duration.units)
    except (ValueError, OverflowError):  # a term that would end beyond the calendar: no end date shown
        return dict(out, validFor={"startDateTime": format_instant(start)})
    out["validFor"] = {"startDateTime": format_instant(start), "endDateTime": format_instant(end)}
    return out


# ------------------------------------------------------------- the term in force


def shown_terms(document: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The product as shown: each ``productTerm`` that renews with the ``validFor`` of the
    renewal in force at ``now`` (once terminated, the one it ended under: terminated exactly
    as a term ends, that term, not the renewal it never used); the document itself when
    nothing moves on."""
    terms = document.get("productTerm")
    if not isinstance(terms, list) or not any(isinstance(t, dict) and t.get("atEnd") == "renew" for t in terms):
        return document
    at = now
    ended = _instant(document.get("terminationDate")) if document.get("status") == "terminated" else None
    if ended is not None and ended <= now:
        at = ended
    shown = [_in_force(t, _instant(document.get("startDate")), at, at == ended) if isinstance(t, dict) else t
             for t in terms]
    return document if shown == terms else {**document, "productTerm": shown}


def _in_force(term: dict[str, Any], started: dt.datetime | None, at: dt.datetime, ended: bool = False
              ) -> dict[str, Any]:
    valid = term.get("validFor")
    duration = term.get("duration")
    start = (_instant(valid.get("startDateTime")) if isinstance(valid, dict) else None) or started
    if term.get("atEnd") != "renew" or start is None or not isinstance(duration, dict):
        return term
    amount, units = duration.get("amount"), str(duration.get("units", "")).removesuffix("s")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1 or units not in PERIODS:
        return term  # not a term bssrules reads (a hand-written one): shown as written
    try:
        current = (term_ended_by if ended else term_in_force)(start, amount, units, "renew", at)
    except (ValueError, OverflowError):  # beyond the calendar: the term as written
        return term
    if current is None or current[0] == start:
        return term
    return {**term, "validFor": {"startDateTime": format_instant(current[0]), "endDateTime": format_instant(current[1])}}


# ------------------------------------------------------------- termination


def values_at(document: Any, path: str) -> list[Any]:
    """The values at a dotted path of a document (no list walked: a price's own fields)."""
    node = document
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return [] if node is None else [node]


def instant_of(value: Any) -> dt.datetime | None:
    """An instant a document writes (None: none, or not a date)."""
    return _instant(value)


def termination_at(product: Mapping[str, Any], at: dt.datetime) -> dt.datetime:
    """When a product terminated at ``at`` ends: at ``at``, or at its ``startDate`` when it has
    not started by then (an undated termination asked before a future start) — a product
    never ends before it starts, and bills count from its start. A start that names no zone
    is passed over (``at`` as given)."""
    start = _instant(product.get("startDate"))
    return start if start is not None and start.tzinfo is not None and start > at else at


def _instant(value: Any) -> dt.datetime | None:
    try:
        parsed = parse_instant(value) if value else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dt.datetime) else None


# ------------------------------------------------------------- a price as the bill run reads it
#
# How a product's price is read — its period, its amount, its discounts' months — by the bill
# run (services.billing, which calls these: it imports services.resources, which imports this
# module, so they live here), by the early termination charge (which counts what the bill run
# would still bill) and by the inventory, which refuses the prices the run could not bill
# (services.resources); tests/api/test_inventory_price_checks.py holds the verdicts to agree.

PERIOD_WORDS = {"day": "day", "week": "week", "month": "month", "year": "year",
                "daily": "day", "weekly": "week", "monthly": "month", "yearly": "year", "annual": "year",
                "annually": "year"}
PERIOD_HINT = "day, week, month or year, or a number of them: '3 months'"
Where = tuple[str | int, ...]


def charge_period(text: Any) -> tuple[str, int] | None:
    """(period, length) of a ``recurringChargePeriod`` as the bill run reads it: ("month", 1)
    of "month", "Months", "monthly" or none; ("month", 2) of "2 months"; None of what names
    no period ("fortnight", "0 months", "٣ months")."""
    if text is None or text == "":
        return "month", 1
    words = text.lower().split() if isinstance(text, str) else []
    if len(words) == 2 and words[0].isascii() and words[0].isdigit() and int(words[0]) > 0:
        length, word = int(words[0]), words[1]
    elif len(words) == 1:
        length, word = 1, words[0]
    else:
        return None
    period = PERIOD_WORDS.get(word) or PERIOD_WORDS.get(word.removesuffix("s"))
    return (period, length) if period else None


def amount_problem(node: Any) -> tuple[Where, str] | Money:
    """The money of a ``taxIncludedAmount`` as a bill holds it, or why it cannot (the
    attribute at fault, under the amount, and why): a currency of ISO 4217, and a finite
    number of at most 15 digits before the point."""
    unit = node.get("unit") if isinstance(node, dict) else None
    value = node.get("value") if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return (), "an amount is {unit, value}"
    if not isinstance(unit, str):
        return ("unit",), "an amount names its currency (unit: an ISO 4217 code, 'EUR')"
    if value is None:
        return ("value",), "an amount has a value"
    if unit not in ISO_4217:
        hint = did_you_mean(unit, ISO_4217)
        return ("unit",), f"{unit!r} is not a currency (ISO 4217)" + (f"; did you mean {hint!r}?" if hint else "")
    try:
        amount = Decimal(str(value)) if not isinstance(value, bool) and isinstance(value, (int, float, str, Decimal)) \
            else Decimal("NaN")
    except ArithmeticError:
        amount = Decimal("NaN")
    if not amount.is_finite():
        return ("value",), f"{value!r} is not a number"
    if abs(amount) >= Decimal(10) ** WHOLE_DIGITS:
        return ("value",), f"expected a number of at most {WHOLE_DIGITS} digits before the point, got {value}"
    return Money(amount, unit)


def discount_months(value: Any, written: bool = False) -> int | None | str:
    """The months a discount's ``applicationDuration`` lasts (None: as long as the product), or
    why it is none: a whole number, 0 or more as the bill run reads it, 1 or more when written
    (a discount of 0 months takes nothing off). A number of months beyond the calendar lasts
    as long as the product."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)  # (a document's numbers may be read as decimals)
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= (1 if written else 0)):
        return value
    shown = repr(value) if isinstance(value, str) else str(value)
    return f"applicationDuration {shown} is not a whole number of months" + (", 1 or more" if written else "")


def price_problems(price: Any, written: bool = False) -> list[tuple[Where, str]]:
    """Why the bill run cannot bill a product's price (a ``recurring`` or ``oneTime`` one with an
    amount: it bills no other), each with its path in the price; none when it can. ``written``:
    as a price is checked when written, which also refuses a discount of 0 months."""
    if not isinstance(price, dict) or price.get("priceType") not in ("recurring", "oneTime"):
        return []
    node = price.get("price")
    if not isinstance(node, dict) or node.get("taxIncludedAmount") is None:
        return []  # nothing the bill run reads (it bills no price without an amount)
    where: Where = ("price", "taxIncludedAmount")
    net = amount_problem(node["taxIncludedAmount"])
    if not isinstance(net, Money):
        return [(where + net[0], net[1])]
    found = []
    for index, alteration in enumerate(price.get("priceAlteration") or []):
        value = alteration.get("price") if isinstance(alteration, dict) else None
        if not isinstance(value, dict) or value.get("taxIncludedAmount") is None:
            continue  # an alteration of no amount: the bill run passes it over
        at: Where = ("priceAlteration", index)
        name = alteration.get("name", "discount")
        reduction = amount_problem(value["taxIncludedAmount"])
        if not isinstance(reduction, Money):
            found.append((at + where + reduction[0], f"discount {name!r}: {reduction[1]}"))
            continue
        if reduction.currency != net.currency:
            found.append((at + where + ("unit",), f"discount {name!r} is in {reduction.currency}, "
                                                   f"its price in {net.currency}"))
        months = discount_months(alteration.get("applicationDuration"), written)
        if isinstance(months, str):
            found.append((at + ("applicationDuration",), f"discount {name!r}: {months}"))
    if price["priceType"] == "recurring" and charge_period(price.get("recurringChargePeriod")) is None:
        found.append((("recurringChargePeriod",), f"{price.get('recurringChargePeriod')!r} is not a period "
                                                   f"({PERIOD_HINT})"))
    return found


def _recurring(product: Mapping[str, Any], start: dt.datetime, only: Sequence[int] | None = None) -> list[Recurring]:
    """The recurring prices of a product (before discounts) and their discounts, each as long
    as it lasts (``applicationDuration`` months from the product's start), as bills read them:
    a price the bill run could not bill (stored before prices were checked) is a 400 naming
    it — its charge would be a guess. ``only``: the prices at these indexes, else all."""
    prices = []
    for index, price in enumerate(product.get("productPrice") or []):
        if not isinstance(price, dict) or price.get("priceType") != "recurring" or (only is not None
                                                                                    and index not in only):
            continue
        problems = price_problems(price)
        if problems:
            path, text = problems[0]
            where = format_path(("productPrice", index, *path)).removeprefix("$.")
            raise InvalidInput(f"{where}: {text}: the early termination charge counts what the price would "
                               "still bill; correct the price first (or in the patch that terminates the product)",
                               path=("productPrice", index, *path))
        money = values_at(price, "price.taxIncludedAmount")
        if not money:
            continue
        net = amount_problem(money[0])
        period = charge_period(price.get("recurringChargePeriod"))
        assert isinstance(net, Money) and period is not None  # (price_problems said so)
        name = str((values_at(price, "productOfferingPrice.id") or [price.get("name", "price")])[0])
        lines = []
        for alteration in price.get("priceAlteration") or []:
            value = values_at(alteration, "price.taxIncludedAmount") if isinstance(alteration, dict) else []
            reduction = amount_problem(value[0]) if value else None
            if not isinstance(reduction, Money) or reduction.amount >= 0:
                continue  # a surcharge (positive) is in the net amount and stays in the charge, as on a bill
            net = net - reduction  # (negative: what it takes off) the price is shown net of its discounts
            months = discount_months(alteration.get("applicationDuration"))
            assert not isinstance(months, str)
            # as the bill run: beyond the calendar (a million months), as long as the product
            lines.append(Recurring(name, reduction, period[0], period[1],
                                   None if months is None else _discount_end(start, months)))
        prices += [Recurring(name, net, period[0], period[1]), *lines]
    return prices


def _payer(product: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[Any] | None]:
    """Who pays an early termination charge: the payer of the product's recurring price, and
    its ``payerShares`` when a split billing rule shares it (the charge stands for the recurring
    charges left: the bill run splits it as it splits them, services.billing); else the
    product's account."""
    for price in product.get("productPrice") or []:
        if isinstance(price, dict) and price.get("priceType") == "recurring" and isinstance(price.get("billingAccount"),
                                                                                              dict):
            shares = price.get("payerShares")
            return {"id": price["billingAccount"].get("id")}, shares if isinstance(shares, list) and shares else None
    account = product.get("billingAccount")
    return ({"id": account.get("id")} if isinstance(account, dict) and account.get("id") else None), None


def _payers(product: Mapping[str, Any]) -> list[tuple[dict[str, Any] | None, list[Any] | None, list[int]]]:
    """Who pays the product's recurring prices, each payer once in the order of the prices: its
    account (the price's own, else the product's, as the bill run reads it), its
    ``payerShares`` when they are shared, and the indexes of the prices it pays. A charge that
    stands for the recurring charges left is paid as they would have been: a price paid by
    another account (a second currency billed apart) is not charged to the first."""
    found: dict[str, tuple[dict[str, Any] | None, list[Any] | None, list[int]]] = {}
    own = product.get("billingAccount")
    for index, price in enumerate(product.get("productPrice") or []):
        if not isinstance(price, dict) or price.get("priceType") != "recurring":
            continue
        account = price.get("billingAccount") if isinstance(price.get("billingAccount"), dict) else own
        payer = {"id": account.get("id")} if isinstance(account, dict) and account.get("id") else None
        shares = price.get("payerShares") if payer and isinstance(price.get("payerShares"), list) \
            and price.get("payerShares") else None
        key = json.dumps([payer, shares], sort_keys=True, default=str)
        found.setdefault(key, (payer, shares, []))[2].append(index)
    return list(found.values())


def on_product_change(before: Mapping[str, Any], after: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The product as changed: when the change terminates it, dated ``now`` if the change
    gives no ``terminationDate`` (bills count a product up to that date: undated, it would be
    billed for ever), with its early termination charge when that is before its commitment
    ends (``after`` unchanged otherwise). The charge is that of the product's termination: a
    terminated product whose ``terminationDate`` is corrected is charged again at the new date,
    and one that is no longer terminated (put back in force) keeps no charge, nor the date of
    the termination undone (unless the change gives one: an end planned) — its next
    termination is charged then."""
    if after.get("status") != "terminated":
        if before.get("status") != "terminated":
            return after
        back = _without_charge(after)
        if after.get("terminationDate") is not None and after.get("terminationDate") == before.get("terminationDate"):
            # the termination undone: its date goes with it (bills count a product up to its
            # terminationDate: kept, the product in force was billed no more after it)
            back = {key: value for key, value in back.items() if key != "terminationDate"}
        return back
    if before.get("status") == "terminated":
        moved = _instant(before.get("terminationDate")) != _instant(after.get("terminationDate"))
        return _with_charges(_without_charge(after)) if moved else after
    if not after.get("terminationDate"):  # now, or its start if it has not started
        after = dict(after, terminationDate=format_instant(termination_at(after, now)))
    return after if _has_charge(after) else _with_charges(after)


def _has_charge(product: Mapping[str, Any]) -> bool:
    return any(isinstance(p, dict) and p.get("@type") == ETF_TYPE for p in product.get("productPrice") or [])


def _without_charge(product: dict[str, Any]) -> dict[str, Any]:
    """The product without its early termination charge (none: the product itself)."""
    if not _has_charge(product):
        return product
    return dict(product, productPrice=[p for p in product.get("productPrice") or []
                                       if not (isinstance(p, dict) and p.get("@type") == ETF_TYPE)])


def _with_charges(after: dict[str, Any]) -> dict[str, Any]:
    """The terminated product with the early termination charge of each of its terms that has one."""
    terms = [t for t in after.get("productTerm") or [] if isinstance(t, dict) and isinstance(t.get("earlyTermination"),
                                                                                            dict)]
    if not terms:
        return after
    after = dict(after)
    terminated = _instant(after.get("terminationDate"))
    if terminated is None:
        return after  # not a date: the change is refused for it
    charges = []
    for index, term in enumerate(after.get("productTerm") or []):
        if term in terms:
            charges += _charges(_read_term(term, index), term, after, terminated)
    if charges:
        after["productPrice"] = list(after.get("productPrice") or []) + charges
    return after


def check_terms(terms: Any, kept: Any = ()) -> None:
    """Refuse, when a product is written, a term its termination could not read (a 400 naming
    it, :func:`_read_term`): a product written by hand with ``earlyTermination.share: 1.5``
    was stored, and only terminating it failed — or, with an ``earlyTermination`` that is no
    object, its charge was silently never made. Terms ``kept`` as stored are not judged again."""
    if terms is None:
        return
    if not isinstance(terms, list):
        raise InvalidInput("productTerm is a list of terms", path=("productTerm",))
    kept = kept if isinstance(kept, list) else []
    for index, term in enumerate(terms):
        if term in kept:
            continue
        if not isinstance(term, dict):
            raise InvalidInput(f"productTerm[{index}] is an object (a term)", path=("productTerm", index))
        if term.get("earlyTermination") is not None:  # (what a termination reads of it)
            _read_term(term, index)


def _read_term(term: Mapping[str, Any], index: int) -> OfferingTerm:
    """A product's term read as the catalog's (a product may be written by hand: a term that
    is not one is a 400 naming it, not a charge guessed)."""
    duration = term.get("duration")
    if isinstance(duration, dict) and isinstance(duration.get("units"), str):
        duration = dict(duration, units=duration["units"].removesuffix("s"))
    data = {"name": term.get("name") or "term", "duration": duration, "atEnd": term.get("atEnd"),
            "earlyTermination": term.get("earlyTermination")}
    try:
        return OfferingTerm.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"productTerm[{index}].{where}: {first['msg'].removeprefix('Value error, ')}",
                           path=("productTerm", index, *first["loc"])) from None


def _charges(read: OfferingTerm, term: Mapping[str, Any], product: Mapping[str, Any], terminated: dt.datetime
             ) -> list[dict[str, Any]]:
    early = read.early_termination
    start = _instant((term.get("validFor") or {}).get("startDateTime")) if isinstance(term.get("validFor"), dict) \
        else None
    start = start or _instant(product.get("startDate"))
    if start is None or early is None:
        return []
    try:
        term_ended = term_ended_by(start, read.duration.amount, read.duration.units, read.at_end, terminated)
    except (ValueError, OverflowError):  # a term beyond the calendar: no end before it
        return []
    end = None if term_ended is None else term_ended[1]
    if end is None or max(terminated, start) >= end:
        return []
    share = early.fraction
    if early.charge == "fixed":  # what the term says, whatever the prices; paid by the product's payer
        fixed = Money(early.amount, early.currency) if early.amount is not None and early.currency else None
        payer, shares = _payer(product)
        amounts = [(money, payer, shares) for money in
                   early_termination_charges("fixed", share, fixed, [], max(terminated, start), end)]
    else:  # the recurring charges left, per payer: each pays the share of what it would have been billed
        prices_start = _instant(product.get("startDate")) or start
        amounts = [(money, payer, shares) for payer, shares, indexes in _payers(product)
                   for money in early_termination_charges(early.charge, share, None,
                                                          _recurring(product, prices_start, indexes),
                                                          max(terminated, start), end)]
    how = "fixed" if early.charge == "fixed" else \
        f"{share} of the recurring charges left" if share != 1 else "the recurring charges left"
    return [{"@type": ETF_TYPE, "name": f"Early termination charge ({term.get('name')})", "priceType": "oneTime",
             "description": f"{how} from {format_instant(max(terminated, start))} to the end of the term, "
                            f"{format_instant(end)}",
             "price": {"taxIncludedAmount": {"unit": money.currency, "value": money.amount}},
             **({"billingAccount": payer} if payer else {}), **({"payerShares": shares} if shares else {})}
            for money, payer, shares in amounts]
