"""One price, stated once: usage rates that name the catalog's usage price.

A rate of a usage rule set (a rule's, or a ``changeRate`` threshold's) may say ``price: ID``,
naming a ``productOfferingPrice`` of ``priceType: usage`` of the catalog. Then:

- what the rate leaves out is taken from the price when the project is loaded
  (:func:`price_book`): ``amount`` (the price's amount per one unit: ``amount`` divided by
  ``unitQuantity``, when that is an exact decimal), ``currency`` and ``per`` (its ``unit``);
  rating and the database only ever see the complete rate;
- what the rate states besides must agree with the price: ``bssrules check`` reports every
  disagreement (:func:`price_findings`) at the rate's position, naming the price's.

What each rate of a file says is found with the file (:func:`named_prices`, kept in the check
cache); the agreement is checked across files, where the catalog is known.
"""
from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.checks import CatalogPrice
from bssrules.catalog.model import ProductOfferingPrice
from bssrules.rules.book import RuleBook
from bssrules.rules.compiled import CompiledRuleSet
from bssrules.rules.model import Rate, RuleSet, UsageRuleSet

Path_ = tuple[str | int, ...]
# What a rate naming a price states: (path of the rate in its rule set, price id, amount,
# currency, per) — None for what it leaves to the price. Plain tuples: kept in the check cache.
NamedPrice = tuple[Path_, str, "Decimal | None", "str | None", "str | None"]


def _rates(rule_set: RuleSet) -> list[tuple[Path_, Rate]]:
    """Every rate of a usage rule set, with its path in the rule set."""
    if not isinstance(rule_set, UsageRuleSet):
        return []
    found: list[tuple[Path_, Rate]] = [(("rules", i, "rate"), rule.rate) for i, rule in enumerate(rule_set.rules)]
    for i, accumulator in enumerate(rule_set.accumulators):
        for j, threshold in enumerate(accumulator.thresholds):
            if threshold.rate is not None:
                found.append((("accumulators", i, "thresholds", j, "rate"), threshold.rate))
    return found


def named_prices(rule_set: RuleSet) -> list[NamedPrice]:
    """What each rate of the rule set that names a catalog price states besides."""
    return [(path, rate.price, rate.amount, rate.currency or None, rate.per if "per" in rate.model_fields_set else None)
            for path, rate in _rates(rule_set) if rate.price is not None]


def per_unit(amount: Decimal, quantity: Decimal) -> Decimal | None:
    """``amount`` for ``quantity`` units as the exact amount of one unit; None when it has no
    exact decimal form (0.10 for 3 minutes). The amount as written when the quantity is 1."""
    if quantity == 1:
        return amount
    share = Fraction(amount) / Fraction(quantity)
    rest = share.denominator
    for factor in (2, 5):
        while rest % factor == 0:
            rest //= factor
    if rest != 1:
        return None
    places = 0
    while (share * 10**places).denominator != 1:
        places += 1
    return Decimal((share * 10**places).numerator).scaleb(-places) if places else Decimal(share.numerator)


def _shown(price: CatalogPrice) -> str:
    quantity = "" if price.quantity == 1 else f"{price.quantity} "
    return f"{price.amount} {price.currency} per {quantity}{price.unit}"


def price_findings(named: NamedPrice, price: CatalogPrice | None) -> list[tuple[Path_, str]]:
    """(path in the rule set, message) of every way a rate disagrees with the catalog price it
    names (None: the price is unknown or in error, reported elsewhere: nothing to check)."""
    path, id, amount, currency, per = named
    if price is None:
        return []
    if price.price_type != "usage":
        return [(path + ("price",), f"price '{id}' is a {price.price_type} price, not a usage price: a rate can "
                                    f"only be a usage price (at {price.where})")]
    found: list[tuple[Path_, str]] = []
    about = f"the catalog's price '{id}': {_shown(price)} (at {price.where})"
    if currency is not None and currency != price.currency:
        found.append((path + ("currency",), f"currency {currency} disagrees with {about}"))
    if per is not None and per != price.unit:
        found.append((path + ("per",), f"per {per} disagrees with {about}"))
    if amount is not None and Fraction(amount) * Fraction(price.quantity) != Fraction(price.amount):
        found.append((path + ("amount",), f"amount {amount} per {per or price.unit} disagrees with {about}"))
    if amount is None and per_unit(price.amount, price.quantity) is None:
        found.append((path + ("price",), f"the catalog's price '{id}' ({_shown(price)}, at {price.where}) is no "
                                         f"exact amount per {price.unit}: state the rate's amount"))
    return found


def _complete(rate: Rate, price: ProductOfferingPrice) -> Rate:
    """The rate with what it leaves out taken from the price it names (checked to agree)."""
    update: dict[str, Any] = {}
    if rate.amount is None:
        amount = per_unit(price.amount, price.unit_quantity)
        assert amount is not None  # check refuses a price without an exact amount per unit
        update["amount"] = amount
    if not rate.currency:
        update["currency"] = price.currency
    if "per" not in rate.model_fields_set and price.unit:
        update["per"] = price.unit
    return rate.model_copy(update=update) if update else rate


def priced(compiled: CompiledRuleSet, price_of: Callable[[str], ProductOfferingPrice | None]) -> CompiledRuleSet:
    """The compiled rule set with every rate that names a price complete (the same one when
    none does). Rules, accumulators and their compiled forms are replaced together, so that a
    decision and the definition give the same rate."""
    definition = compiled.definition
    if not isinstance(definition, UsageRuleSet) or not named_prices(definition):
        return compiled
    replaced: dict[int, Any] = {}

    def complete(rate: Rate) -> Rate:
        price = price_of(rate.price) if rate.price is not None else None
        return _complete(rate, price) if price is not None else rate

    rules = []
    for rule in definition.rules:
        new = rule.model_copy(update={"rate": complete(rule.rate)}) if rule.rate.price else rule
        replaced[id(rule)] = new
        rules.append(new)
    accumulators = []
    for accumulator in definition.accumulators:
        thresholds = [t.model_copy(update={"rate": complete(t.rate)}) if t.rate is not None and t.rate.price else t
                      for t in accumulator.thresholds]
        new_accumulator = accumulator.model_copy(update={"thresholds": thresholds})
        replaced[id(accumulator)] = new_accumulator
        accumulators.append(new_accumulator)
    new_definition = definition.model_copy(update={"rules": rules, "accumulators": accumulators})
    replaced[id(definition)] = new_definition
    compiled_rules = [dataclasses.replace(r, source=replaced.get(id(r.source), r.source)) for r in compiled.rules]
    return dataclasses.replace(compiled, definition=new_definition, rules=compiled_rules, _by_key=None,
                               _positions=None)


def price_book(book: RuleBook, catalog: Catalog) -> None:
    """Complete, in the book, every rate that names a price of the catalog."""
    prices = catalog.entities.get("productOfferingPrice", {})

    def price_of(id: str) -> ProductOfferingPrice | None:
        price = prices.get(id)
        return price if isinstance(price, ProductOfferingPrice) else None

    for rule_set_id, versions in book.versions.items():
        book.versions[rule_set_id] = [priced(compiled, price_of) for compiled in versions]


__all__ = ["NamedPrice", "named_prices", "per_unit", "price_book", "price_findings", "priced"]
