"""A rule book as bulk rating's tables (once per book), and the subscribers as one table.

:class:`_BookTables` holds what the usage and split billing rule sets become for bulk
rating: their decisions as polars expressions (:mod:`bssrules.pricing.vectorized`), and the
numeric tables the kernels (:mod:`bssrules.pricing.bulk_kernels`) read — the rates as arrays
(kind, scales, flat prices, tiers, the accumulator whose period total their tiers count on
top of), the accumulator definitions and their thresholds.
:func:`_subscription_table` is the subscribers frame sorted by id, one row per id;
:func:`_conversions`, how units convert into each other as integer ratios.

Apart from the chunk because none of it depends on a chunk: the book's tables are cached for
the book's life and the subscription table for the frame's, since all the chunks of a file
share them.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Mapping, Sequence, TypeVar

import numpy as np
import polars as pl

from bssrules.money import minor_unit_exponent
from bssrules.pricing.bulk_frames import (
    _MAX, SCAN_DIGITS, SUBSCRIBER_SCHEMA, _decimal_digits, _scale, conform, money_digits,
)
from bssrules.pricing.bulk_kernels import (
    _BLOCK, _CHANGE_RATE, _FLAT, _GRADUATED, _I8, _I32, _I64, _NOTIFY, _VOLUME_TIERS, _Mask,
)
from bssrules.pricing.rating import MAX_AMOUNT
from bssrules.pricing.units import convert
from bssrules.pricing.vectorized import SplitBillingDecisions, UsageDecisions
from bssrules.rules.book import RuleBook
from bssrules.rules.model import Rate, Threshold, UsageRuleSet


_ACTIONS = {"notify": _NOTIFY, "block": _BLOCK, "changeRate": _CHANGE_RATE}
# the rates as arrays, one entry per rate (tiers: tier_ptr[i]:tier_ptr[i + 1] of tier_up, tier_amount):
# ok, kind, price_digits, volume_digits, minor, flat, tier_ptr, tier_up, tier_amount, currency
_RateArrays = tuple[_Mask, _I8, _I64, _I64, _I64, _I64, _I64, _I64, _I64, _I32]
# per definition: measure, whether it caps, def_ptr; per threshold: column, level, whether exact, action,
# whether it caps, rate
_ThresholdArrays = tuple[_I8, _Mask, _I64, _I64, _I64, _Mask, _I8, _Mask, _I32]
_V = TypeVar("_V")


@dataclass(frozen=True)
class _AccumulatorDef:
    version: int
    name: str  # "<rule set>/<accumulator>": the key shared by every version of the rule set
    measure: str
    period: str
    zone: str
    thresholds: tuple[int, ...]  # global threshold indexes


class _BookTables:
    """What a rule book becomes for bulk rating: decision expressions and numeric tables.
    Built once per book."""

    def __init__(self, book: RuleBook):
        self.usage = UsageDecisions(book)
        self.split = SplitBillingDecisions(book)
        self.rates: list[Rate] = [r.compiled.source.rate for r in self.usage.rules]
        self.defs: list[_AccumulatorDef] = []
        self.def_offsets: list[int] = []
        self.thresholds: list[tuple[int, Threshold]] = []  # (def, threshold)
        self.threshold_rates: list[int] = []
        rate_versions = [r.version for r in self.usage.rules]  # the rule set version of each rate
        for index, compiled in enumerate(self.usage.versions):
            self.def_offsets.append(len(self.defs))
            usage = compiled.definition
            assert isinstance(usage, UsageRuleSet)  # UsageDecisions keeps the usage rule sets only
            for accumulator in usage.accumulators:
                found = []
                for threshold in accumulator.thresholds:
                    found.append(len(self.thresholds))
                    self.thresholds.append((len(self.defs), threshold))
                    if threshold.action == "changeRate" and threshold.rate is not None:
                        self.threshold_rates.append(len(self.rates))
                        self.rates.append(threshold.rate)
                        rate_versions.append(index)
                    else:
                        self.threshold_rates.append(-1)
                self.defs.append(_AccumulatorDef(index, f"{compiled.id}/{accumulator.id}", accumulator.measure,
                                                 accumulator.period, compiled.zone.key, tuple(found)))
        self.currencies = sorted({r.currency for r in self.rates})
        # the decimals of amounts in the rated frame: the largest minor unit of the book's currencies
        # (2.50 EUR as the API writes it; a book charging in EUR and KWD gives 3 to both)
        self.money_digits = money_digits(self.currencies)
        self.pers = [r.per for r in self.rates]
        self.names = sorted({d.name for d in self.defs})
        self.rate_arrays = self._rate_arrays()
        self.count_defs = self._count_defs(rate_versions)
        # the dearest charge one record may have (rating.MAX_AMOUNT), in each rate's minor units
        self.max_amounts = np.array([int(MAX_AMOUNT.scaleb(minor_unit_exponent(r.currency))) for r in self.rates]
                                    or [0], dtype=np.int64)
        # the usage rule sets' condition expressions, built once per volume scale (bulk_decide):
        # the same for every chunk, whose columns have the same names
        self.usage_masks: dict[int, dict[str, pl.Expr]] = {}

    def _rate_arrays(self) -> _RateArrays:
        currency_code = {c: i for i, c in enumerate(self.currencies)}
        n = len(self.rates)
        ok, kind = np.ones(n, bool), np.zeros(n, np.int8)
        price_digits, volume_digits, minor = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
        flat, tier_ptr, currency = np.zeros(n, np.int64), np.zeros(n + 1, np.int64), np.zeros(n, np.int32)
        tier_up: list[int] = []
        tier_amount: list[int] = []
        for i, rate in enumerate(self.rates):
            amounts = [rate.amount] if rate.amount is not None else [t.amount for t in rate.tiers]
            p = max(_decimal_digits(a) for a in amounts)
            v = max([SCAN_DIGITS] + [_decimal_digits(t.up_to) for t in rate.tiers if t.up_to is not None])
            price_digits[i], volume_digits[i] = p, v
            minor[i] = minor_unit_exponent(rate.currency)
            currency[i] = currency_code[rate.currency]
            if rate.amount is not None:
                kind[i] = _FLAT
                scaled = _scale(rate.amount, p)
                ok[i] &= scaled is not None
                flat[i] = scaled or 0
            else:
                kind[i] = _VOLUME_TIERS if rate.tier_mode == "volume" else _GRADUATED
                for tier in rate.tiers:
                    up = -1 if tier.up_to is None else _scale(tier.up_to, v)
                    price = _scale(tier.amount, p)
                    ok[i] &= up is not None and price is not None
                    tier_up.append(up if up is not None else -1)
                    tier_amount.append(price or 0)
            tier_ptr[i + 1] = len(tier_up)
            # the product's scale must stay within int64 powers of ten, the rounding above the minor unit
            ok[i] &= p + v <= 18 and p + v >= minor[i]
        return (ok, kind, price_digits, volume_digits, minor, flat, tier_ptr,
                np.array(tier_up, np.int64), np.array(tier_amount, np.int64), currency)

    def _count_defs(self, rate_versions: list[int]) -> _I64:
        """Per rate, the accumulator definition (of its rule set version) whose period total its
        tiers count on top of; -1 when they count the record alone — or name an accumulator the
        version does not have, which the reference counts from nothing too."""
        found = np.full(max(len(self.rates), 1), -1, np.int64)
        for r, (rate, version) in enumerate(zip(self.rates, rate_versions)):
            if rate.period_tiers is None:
                continue
            usage = self.usage.versions[version].definition
            assert isinstance(usage, UsageRuleSet)  # UsageDecisions keeps the usage rule sets only
            names = [a.id for a in usage.accumulators]
            if rate.period_tiers in names:
                found[r] = self.def_offsets[version] + names.index(rate.period_tiers)
        return found

    def threshold_arrays(self, threshold_columns: Mapping[tuple[str, str], int],
                         volume_digits: int) -> _ThresholdArrays:
        """Per accumulator definition its measure, whether a threshold of it caps, and its
        thresholds; per threshold its column in the reached matrix, its level (``at`` at the
        scale of its measure, rounded up) and whether that is exact, its action, whether it caps
        (``crossing: rateUpToCap``) and its rate."""
        def_measure = np.array([0 if d.measure == "volume" else 1 for d in self.defs], np.int8)
        capped = np.array([threshold.caps for _, threshold in self.thresholds], dtype=bool)
        def_capped = np.array([any(capped[t] for t in d.thresholds) for d in self.defs], dtype=bool)
        def_ptr = np.zeros(len(self.defs) + 1, np.int64)
        for i, definition in enumerate(self.defs):
            def_ptr[i + 1] = def_ptr[i] + len(definition.thresholds)
        column = np.zeros(len(self.thresholds), np.int64)
        level = np.zeros(len(self.thresholds), np.int64)
        exact = np.zeros(len(self.thresholds), bool)
        action = np.zeros(len(self.thresholds), np.int8)
        rate = np.array(self.threshold_rates, np.int32) if self.thresholds else np.zeros(0, np.int32)
        for t, (d, threshold) in enumerate(self.thresholds):
            column[t] = threshold_columns[(self.defs[d].name, threshold.id)]
            # value >= at  <=>  scaled value >= ceil(at * 10**digits): volumes or money
            digits = volume_digits if self.defs[d].measure == "volume" else SCAN_DIGITS
            scaled = threshold.at.scaleb(digits)
            level[t] = min(math.ceil(scaled), int(_MAX))
            exact[t] = scaled == scaled.to_integral_value() and scaled <= int(_MAX)
            action[t] = _ACTIONS[threshold.action]
        return def_measure, def_capped, def_ptr, column, level, exact, action, capped, rate


_TABLES: dict[int, tuple[weakref.ref[RuleBook], _BookTables]] = {}
_SUBSCRIPTIONS: dict[int, tuple[weakref.ref[pl.DataFrame], pl.DataFrame, tuple[int, pl.Schema]]] = {}


def _dropping(cache: dict[int, _V], key: int) -> Callable[[object], None]:
    """The callback of a weak reference that takes ``key`` out of ``cache`` once its object is gone."""
    def drop(_: object) -> None:
        cache.pop(key, None)
    return drop


def _subscription_table(subscribers: pl.DataFrame) -> pl.DataFrame:
    """The subscribers of :data:`SUBSCRIBER_SCHEMA`, one row per id (the last given, as a
    mapping keeps it), sorted by id. Kept for the frame's life: a file's chunks share it."""
    cached = _SUBSCRIPTIONS.get(id(subscribers))
    if cached is not None and cached[0]() is subscribers and cached[2] == (subscribers.height, subscribers.schema):
        return cached[1]
    table = conform(subscribers, SUBSCRIBER_SCHEMA).unique("id", keep="last", maintain_order=True).sort("id")
    _SUBSCRIPTIONS[id(subscribers)] = (weakref.ref(subscribers, _dropping(_SUBSCRIPTIONS, id(subscribers))), table,
                                       (subscribers.height, subscribers.schema))
    return table


def _subscription_table_parts(subscribers: pl.DataFrame, part: pl.Expr, partitions: int) -> list[pl.DataFrame]:
    """The subscription table of ``subscribers`` cut in ``partitions`` parts by ``part`` (an
    expression of the columns giving 0 to ``partitions - 1``), each in the table's order: the
    subscription table of its own rows, which :func:`_subscription_table` gives back as it is
    (not made again for each part)."""
    table = _subscription_table(subscribers)
    pieces = table.with_columns(_part=part).partition_by("_part", as_dict=True, include_key=False,
                                                         maintain_order=True)
    parts = [pieces.get((index,), table.clear()) for index in range(partitions)]
    for piece in parts:  # a clone: the cache must not keep the part itself alive
        _SUBSCRIPTIONS[id(piece)] = (weakref.ref(piece, _dropping(_SUBSCRIPTIONS, id(piece))), piece.clone(),
                                     (piece.height, piece.schema))
    return parts


def _tables(book: RuleBook) -> _BookTables:
    cached = _TABLES.get(id(book))
    if cached is not None and cached[0]() is book:
        return cached[1]
    tables = _BookTables(book)
    _TABLES[id(book)] = (weakref.ref(book, _dropping(_TABLES, id(book))), tables)
    return tables


def _conversions(units: Sequence[str]) -> tuple[_I64, _I64]:
    """``numerator[a, b] / denominator[a, b]``: a volume in ``units[a]`` expressed in
    ``units[b]`` (0 / 0 when they do not convert), read off :func:`units.convert` itself."""
    k = len(units)
    numerator, denominator = np.zeros((max(k, 1), max(k, 1)), np.int64), np.ones((max(k, 1), max(k, 1)), np.int64)
    for a, unit in enumerate(units):
        for b, other in enumerate(units):
            ratio = convert(Decimal(1), unit, other)
            if ratio is None:
                continue
            if ratio == ratio.to_integral_value():  # to a smaller unit: a whole factor
                n, d = int(ratio), 1
            else:  # to a larger one: the factor back is whole (convert rounds 1/60)
                back = convert(Decimal(1), other, unit)
                assert back is not None and back == back.to_integral_value()
                n, d = 1, int(back)
            numerator[a, b], denominator[a, b] = n, d
    return numerator, denominator
