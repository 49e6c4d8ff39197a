"""Order valuation: the one-time and recurring value of a basket, price by price, with the
discounts of the discount rule sets in force.

The interface the configurator and orders use. Amounts are exact: unit price × quantity,
rounded half-up to the currency's minor unit; a discount's reduction is rounded the same
way and never takes a line below zero. Totals are sums of the rounded net lines, per price
type, period and currency (for a recurring price: what the first period costs). Usage
prices are rates: listed, never added to a total. Options accumulate: every component of a
bundle brings its own prices (seed 002's tablet with a 32 GB option), unless the bundle
entry says ``charged: false`` (its prices are included in the bundle's).

Discounts (rule sets of kind ``discount``) fire on the basket's facts; they apply by
priority (lowest first, then rule set id and position). Each applies to the price lines of
its target offering, at most once per line, on at most as many units as the basket holds
its ``combination`` (2 data + 1 music = one "data + music" combination); an exclusive
discount takes the units it altered away from every later discount (no double-dipping).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from bssrules.catalog.catalog import Catalog
from bssrules.configurator.model import Basket, Path
from bssrules.configurator.validate import party_facts
from bssrules.money import Money
from bssrules.rules.book import RuleBook
from bssrules.rules.decisions import decide
from bssrules.rules.model import DiscountRule


@dataclass(frozen=True)
class Alteration:
    """A discount on a price line: which rule, how much it takes off, for how long."""

    rule_set: str
    rule: str
    reduction: Money  # positive: what is taken off the line
    units: int
    priority: int
    percentage: Decimal | None = None
    duration_periods: int | None = None
    description: str | None = None


@dataclass(frozen=True)
class PriceLine:
    """What one price of one basket item comes to."""

    item: str
    offering: str
    price: str
    price_type: str  # oneTime | recurring | usage
    amount: Money  # for usage: the rate per unit; otherwise unit price × quantity
    period: str | None = None  # recurring: "month", "2 months" …
    unit: str | None = None  # usage: per what
    quantity: int = 1
    alterations: tuple[Alteration, ...] = field(default=())
    path: Path = ()  # where the item is in the basket (ids need not be unique): ("items", 0, "items", 1)

    @property
    def net(self) -> Money:
        """The amount after every discount (for a recurring price: its first period)."""
        reduced = self.amount
        for alteration in self.alterations:
            reduced = reduced - alteration.reduction
        return reduced


@dataclass(frozen=True)
class Total:
    price_type: str
    period: str | None
    amount: Money


def _charged(catalog: Catalog, item_offering: str, parent_offering: str | None) -> bool:
    """Whether an item's own prices are charged: not when its bundle includes them in its own."""
    parent = catalog.offerings.get(parent_offering) if parent_offering else None
    entry = next((b for b in parent.bundle if b.offering == item_offering), None) if parent else None
    return entry is None or entry.charged


def _base_lines(basket: Basket, catalog: Catalog, when: dt.datetime) -> list[PriceLine]:
    lines = []
    for path, item, parent in basket.all_items():
        offering = catalog.offerings.get(item.offering)
        if offering is None or not _charged(catalog, item.offering, parent.offering if parent else None):
            continue
        for price_id in offering.prices:
            price = catalog.prices.get(price_id)
            if price is None or not price.valid_for.contains(when):
                continue
            unit_price = Money(price.amount, price.currency)
            if price.price_type == "usage":
                per = price.unit if price.unit_quantity == 1 else f"{price.unit_quantity} {price.unit}"
                lines.append(PriceLine(item.id, offering.id, price.id, "usage", unit_price, unit=per, path=path))
                continue
            period = None
            if price.price_type == "recurring":
                period = price.recurring_period if price.period_length == 1 else \
                    f"{price.period_length} {price.recurring_period}s"
            lines.append(PriceLine(item.id, offering.id, price.id, price.price_type,
                                   (unit_price * item.quantity).rounded(), period, quantity=item.quantity, path=path))
    return lines


def _fired_discounts(basket: Basket, catalog: Catalog, rules: RuleBook, when: dt.datetime
                     ) -> list[tuple[str, DiscountRule]]:
    offerings = sorted({item.offering for _, item, _ in basket.all_items()})
    facts: dict[str, Any] = {**party_facts(basket, catalog), "present": {"productOfferings": offerings}}
    fired: list[tuple[int, str, int, DiscountRule]] = []
    for rule_set_id in sorted(rules.versions):
        versions = [c for c in rules.versions[rule_set_id]
                    if c.kind == "discount" and c.definition.valid_for.contains(when)]
        if not versions:
            continue
        compiled = versions[-1]
        for key in decide(compiled, facts, when, with_trace=False).outcome["discounts"]:
            rule: DiscountRule = compiled.by_key()[key].source
            fired.append((rule.priority, compiled.id, compiled.position(key), rule))
    return [(rule_set, rule) for _, rule_set, _, rule in sorted(fired, key=lambda f: f[:3])]


def _apply(lines: list[PriceLine], basket: Basket, discounts: list[tuple[str, DiscountRule]]) -> list[PriceLine]:
    quantities: dict[str, int] = {}
    for _, item, _ in basket.all_items():
        quantities[item.offering] = quantities.get(item.offering, 0) + item.quantity
    exclusive_units = [0] * len(lines)  # units of each line already taken by an exclusive discount
    for rule_set, rule in discounts:
        applications = min(quantities.get(o, 0) for o in rule.combination) if rule.combination else None
        for index, line in enumerate(lines):
            if line.offering != rule.target.offering or line.price_type == "usage":
                continue
            if rule.target.price_type and line.price_type != rule.target.price_type:
                continue
            if rule.amount is not None and rule.currency != line.amount.currency:
                continue
            if rule.exclusive and line.alterations:
                free = line.quantity - max(exclusive_units[index],
                                           max(a.units for a in line.alterations))
            else:
                free = line.quantity - exclusive_units[index]
            units = free if applications is None else min(free, applications)
            if units <= 0:
                continue
            unit_price = Money(line.amount.amount / line.quantity, line.amount.currency)
            if rule.percentage is not None:
                per_unit = unit_price * (rule.percentage / 100)
            else:
                assert rule.amount is not None  # a discount gives either a percentage or an amount
                per_unit = Money(min(rule.amount, unit_price.amount), line.amount.currency)
            reduction = (per_unit * units).rounded()
            reduction = Money(min(reduction.amount, line.net.amount), reduction.currency)
            if reduction.amount <= 0:
                continue
            alteration = Alteration(rule_set, rule.id, reduction, units, rule.priority, rule.percentage,
                                    rule.duration_periods if line.price_type == "recurring" else None,
                                    rule.description)
            lines[index] = replace(line, alterations=line.alterations + (alteration,))
            if rule.exclusive:
                exclusive_units[index] += units
            if applications is not None:
                applications -= units
    return lines


def value_basket(basket: Basket, catalog: Catalog, as_of: dt.datetime | None = None,
                 rules: RuleBook | None = None, last: Path | None = None) -> tuple[list[PriceLine], list[Total]]:
    """Every price line of the basket's items (bundle components included) in force at
    ``as_of``, with the discounts of ``rules``, and the net totals by price type, period
    and currency. ``last``: the item there (with its components) takes its discounts after
    every other item took theirs, wherever it is in the basket — what it adds bought with
    the others (a cart's item saved for later); the lines keep the basket's order."""
    when = as_of or basket.as_of or dt.datetime.now(dt.timezone.utc)
    lines = _base_lines(basket, catalog, when)
    if rules is not None:
        if last is None:
            lines = _apply(lines, basket, _fired_discounts(basket, catalog, rules, when))
        else:
            order = sorted(range(len(lines)), key=lambda i: lines[i].path[:len(last)] == last)
            applied = _apply([lines[i] for i in order], basket, _fired_discounts(basket, catalog, rules, when))
            for position, index in enumerate(order):
                lines[index] = applied[position]
    return lines, totals_of(lines)


def totals_of(lines: list[PriceLine]) -> list[Total]:
    """The net totals of price lines by price type, period and currency (usage rates are not
    added up), in a stable order: the basket's totals, or one item's (its lines and its
    components')."""
    sums: dict[tuple[str, str | None, str], Money] = {}
    for line in lines:
        if line.price_type == "usage":
            continue
        key = (line.price_type, line.period, line.amount.currency)
        sums[key] = sums[key] + line.net if key in sums else line.net
    return [Total(t, p, m) for (t, p, _), m in sorted(sums.items(),
                                                      key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2]))]
