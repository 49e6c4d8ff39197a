"""Rule conditions and decisions as polars expressions: a whole column of records at once.

:func:`condition_expr` compiles a condition (:mod:`bssrules.rules.conditions`) into a boolean
expression over a frame whose columns hold the fact attributes. Its semantics are those of
the reference evaluator (:func:`bssrules.rules.evaluate.holds`), exactly:

- a test of an absent attribute (a null, or a column the frame does not have) is false,
  except ``exists: false``; ``not`` negates; ``all`` of nothing holds, ``any`` of nothing not;
- numbers are compared exactly: a number column is a scaled integer column (``volume`` in
  millionths, say) and the operand is turned into an integer bound with floor/ceiling, never
  into a float;
- date-times are compared on their microseconds since the epoch; ``timeOfDay`` (both minutes
  included, wrapping over midnight when ``from > to``) and ``dayOfWeek`` look at the local
  time in the rule set's time zone;
- a list attribute holds strings; ``contains`` / ``notContains`` / ``containsAny`` /
  ``containsAll`` test membership (an empty list contains nothing).

On top of it, :class:`UsageDecisions` decides every usage rule set in force at each record's
start (the first rule set by id that rates it, the rule, the accumulators that count it, the
reasons of a rejection) and :class:`SplitBillingDecisions` decides the payer plan of each
charge — as :mod:`bssrules.rules.decisions` does record by record. Rule validity
(``validFor``) is already part of each compiled rule's ``fires`` condition
(:func:`bssrules.rules.compile.validity_condition`); it is reused, not re-derived.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import polars as pl

from bssrules.rules.book import RuleBook
from bssrules.rules.compile import validity_condition
from bssrules.rules.compiled import CompiledRule, CompiledRuleSet
from bssrules.rules.conditions import All, Condition, Not, Test, TimeWindow, attributes_of
from bssrules.rules.facts import FACT_ATTRIBUTES
from bssrules.rules.model import Prerequisite, SplitBillingRule, SplitBillingRuleSet, UsageRuleSet

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)
_INT64_MAX = 2**63 - 1
BITS_PER_WORD = 62  # flags packed into Int64 columns, clear of the sign bit


# ---------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class FactColumns:
    """Where the fact attributes are in a frame.

    ``columns`` maps an attribute to an expression: strings as Utf8, booleans as Boolean,
    date-times as a time-zone-aware Datetime, lists as List(Utf8), numbers as an integer
    column holding the value times ``10 ** number_digits[attribute]``. An attribute that is
    not mapped is absent from every record."""

    columns: Mapping[str, pl.Expr]
    number_digits: Mapping[str, int] = field(default_factory=dict)
    # tests already decided elsewhere (say once per subscriber rather than per record), by test_key
    decided: Mapping[tuple[Any, ...], pl.Expr] = field(default_factory=dict)
    # (attribute, zone) -> the attribute as wall-clock time in that zone, without a zone (a
    # naive Datetime in microseconds), worked out once for all the timeOfDay / dayOfWeek tests
    # that read it
    local: Mapping[tuple[str, str], pl.Expr] = field(default_factory=dict)

    def get(self, attribute: str) -> pl.Expr | None:
        return self.columns.get(attribute)


def test_key(test: Test) -> tuple[Any, ...]:
    """What identifies a test whatever its place in the rules."""
    return (test.attribute, test.op, test.value)


def condition_expr(condition: Condition, facts: FactColumns, zone: str = "UTC") -> pl.Expr:
    """A boolean expression (never null) that holds exactly where ``holds(condition)`` does."""
    if isinstance(condition, Test):
        return _test(condition, facts, zone)
    if isinstance(condition, Not):
        return ~condition_expr(condition.item, facts, zone)
    parts = [condition_expr(c, facts, zone) for c in condition.items]
    if isinstance(condition, All):
        return pl.all_horizontal(parts) if parts else pl.lit(True)
    return pl.any_horizontal(parts) if parts else pl.lit(False)


def _test(test: Test, facts: FactColumns, zone: str) -> pl.Expr:
    decided = facts.decided.get(test_key(test))
    if decided is not None:
        return decided
    column = facts.get(test.attribute)
    if column is None:
        return pl.lit(test.op == "exists" and test.value is False)
    present = column.is_not_null()
    if test.op == "exists":
        return present if test.value else ~present
    kind = FACT_ATTRIBUTES[test.attribute]
    if kind == "number":
        body = _number_test(test, column, facts.number_digits[test.attribute])
    elif kind == "datetime":
        body = _datetime_test(test, column, zone, facts.local.get((test.attribute, zone)))
    elif kind == "list":
        body = _list_test(test, column)
    else:
        body = _plain_test(test, column)
    # An absent attribute fails every test but `exists: false` (null & x is false or null).
    return (present & body).fill_null(False)


def _plain_test(test: Test, column: pl.Expr) -> pl.Expr:
    op, value = test.op, test.value
    # the operand (test.value) is untyped: the result of comparing with it is spelt out
    if op == "eq":
        equal: pl.Expr = column == value
        return equal
    if op == "ne":
        unequal: pl.Expr = column != value
        return unequal
    if op == "in":
        return column.is_in(list(value))
    if op == "notIn":
        return ~column.is_in(list(value))
    raise ValueError(f"operator {op} does not apply to {test.attribute}")


def _scaled_bounds(value: Decimal, digits: int) -> tuple[int, int]:
    """(floor, ceiling) of ``value * 10**digits``: integer bounds equivalent to the exact value."""
    scaled = Decimal(value).scaleb(digits)
    return math.floor(scaled), math.ceil(scaled)


def _compare(column: pl.Expr, op: str, bound: int) -> pl.Expr:
    """``column op bound`` on an Int64 column, with a bound outside the Int64 range decided
    as a constant (the column can never reach it)."""
    if bound > _INT64_MAX:
        return pl.lit(op in ("lt", "lte"))
    if bound < -_INT64_MAX:
        return pl.lit(op in ("gt", "gte"))
    return {"lt": column < bound, "lte": column <= bound, "gt": column > bound, "gte": column >= bound}[op]


def _number_equals(column: pl.Expr, value: Decimal, digits: int) -> pl.Expr:
    low, high = _scaled_bounds(value, digits)
    if low != high or abs(low) > _INT64_MAX:
        return pl.lit(False)  # more decimals than the column holds: no value can equal it
    return column == low


def _number_test(test: Test, column: pl.Expr, digits: int) -> pl.Expr:
    op, value = test.op, test.value
    if op == "eq":
        return _number_equals(column, value, digits)
    if op == "ne":
        return ~_number_equals(column, value, digits)
    if op == "in":
        return pl.any_horizontal([_number_equals(column, v, digits) for v in value])
    if op == "notIn":
        return ~pl.any_horizontal([_number_equals(column, v, digits) for v in value])
    if op == "between":
        return _number_test(Test(test.attribute, "gte", value[0]), column, digits) \
            & _number_test(Test(test.attribute, "lte", value[1]), column, digits)
    low, high = _scaled_bounds(value, digits)
    # x < v  <=> x < ceil(v);  x <= v <=> x <= floor(v);  x > v <=> x > floor(v);  x >= v <=> x >= ceil(v)
    return _compare(column, op, {"lt": high, "lte": low, "gt": low, "gte": high}[op])


def epoch_microseconds(instant: dt.datetime) -> int:
    """Microseconds since 1970-01-01T00:00Z, exactly (no float on the way)."""
    return (instant - _EPOCH) // _MICROSECOND


_MICROSECONDS_A_MINUTE = 60_000_000


def _datetime_test(test: Test, column: pl.Expr, zone: str, local: pl.Expr | None = None) -> pl.Expr:
    """``local``, when given: the column as wall-clock time in ``zone`` (naive), which gives
    the same hours, minutes and weekdays as converting the column here."""
    op, value = test.op, test.value
    if op in ("timeOfDay", "dayOfWeek"):
        naive = local is not None  # wall-clock microseconds without a zone
        if local is None:
            local = column.dt.convert_time_zone(zone)
        if op == "dayOfWeek":
            return local.dt.weekday().is_in(list(value))  # ISO weekdays, Monday = 1, as the model's
        if naive:  # the minute of the day from the microseconds, floored (before 1970 too): a fifth
            # of the time of hour * 60 + minute, which work out each start's calendar date first
            minute = ((local.dt.epoch("us") // _MICROSECONDS_A_MINUTE) % (24 * 60)).cast(pl.Int32)
        else:
            minute = local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32)
        window: TimeWindow = value
        if window.start <= window.end:
            return (minute >= window.start) & (minute <= window.end)
        return (minute >= window.start) | (minute <= window.end)
    micros = column.dt.epoch("us")
    if op == "between":
        return (micros >= epoch_microseconds(value[0])) & (micros <= epoch_microseconds(value[1]))
    bound = epoch_microseconds(value)
    return {"lt": micros < bound, "lte": micros <= bound, "gt": micros > bound, "gte": micros >= bound}[op]


def _list_test(test: Test, column: pl.Expr) -> pl.Expr:
    op, value = test.op, test.value
    if op == "contains":
        return column.list.contains(value)
    if op == "notContains":
        return ~column.list.contains(value)
    if op == "containsAny":
        return pl.any_horizontal([column.list.contains(v) for v in value])
    if op == "containsAll":
        return pl.all_horizontal([column.list.contains(v) for v in value])
    raise ValueError(f"operator {op} does not apply to {test.attribute}")


# ------------------------------------------------------------------------ usage decisions


def _in_force(versions: Sequence[CompiledRuleSet], index: int, facts: FactColumns) -> pl.Expr:
    """Whether ``versions[index]`` is the version in force at ``now``: valid then, and no later
    version (by number) is (as ``RuleBook.in_force`` and ``rating.usage_rule_sets`` choose)."""
    def valid(compiled: CompiledRuleSet) -> pl.Expr:
        period = compiled.definition.valid_for
        return condition_expr(validity_condition(period.start, period.end), facts)

    later = [valid(v) for v in versions[index + 1:]]
    mine = valid(versions[index])
    return mine & ~pl.any_horizontal(later) if later else mine


@dataclass(frozen=True)
class UsageRule:
    """A rate rule of a usage rule set version, with its place in the decision tables."""

    version: int  # index into UsageDecisions.versions
    compiled: CompiledRule


@dataclass(frozen=True)
class ReasonSource:
    """Something a rejection can cite: a catalog that does not apply, or an unmet prerequisite."""

    version: int
    prerequisite: Prerequisite | None  # None: the rule set's appliesTo does not hold


@dataclass(frozen=True)
class UsageOutcome:
    """The usage decisions of a column of records (numpy arrays, one entry per record)."""

    chosen_version: np.ndarray  # the first rule set by id whose version in force rates it; -1: none
    chosen_rule: np.ndarray  # a global index into UsageDecisions.rules; -1: none
    accumulators: list[np.ndarray]  # [j]: accumulator j of the chosen version counts it
    reason_words: np.ndarray  # (records x words): the reasons the rule sets give, as bits of reason_sources
    needs_reference: np.ndarray  # a version in force that cannot be decided here (UsageDecisions.unsupported)


class UsageDecisions:
    """Every usage rule set of a book, decided for whole columns of records: polars
    evaluates the conditions (:meth:`masks`), numpy combines them (:meth:`decide`)."""

    def __init__(self, book: RuleBook):
        self.versions: list[CompiledRuleSet] = []
        by_id: list[list[int]] = []
        for rule_set_id in sorted(book.versions):
            usage = [c for c in book.versions[rule_set_id] if c.kind == "usage"]
            if usage:
                by_id.append(list(range(len(self.versions), len(self.versions) + len(usage))))
                self.versions.extend(usage)
        self._by_id = by_id
        self.rules: list[UsageRule] = []
        self.rule_offsets: list[int] = []
        self.reason_sources: list[ReasonSource] = []
        self.accumulator_count = max((len(v.definition.accumulators) for v in self.versions
                                      if isinstance(v.definition, UsageRuleSet)), default=0)  # all of them
        self.unsupported: dict[int, str] = {}
        for index, compiled in enumerate(self.versions):
            self.rule_offsets.append(len(self.rules))
            self.rules += [UsageRule(index, r) for r in self._rate_rules(compiled)]
            self.reason_sources.append(ReasonSource(index, None))
            self.reason_sources += [ReasonSource(index, r.source) for r in self._prerequisites(compiled)]
            problem = self._unsupported(compiled)
            if problem:
                self.unsupported[index] = problem

    @staticmethod
    def _rate_rules(compiled: CompiledRuleSet) -> list[CompiledRule]:
        return [r for r in compiled.rules if not r.key.startswith(("prerequisite:", "accumulator:"))
                and r.key != "appliesTo"]

    @staticmethod
    def _prerequisites(compiled: CompiledRuleSet) -> list[CompiledRule]:
        return [r for r in compiled.rules if r.key.startswith("prerequisite:")]

    @staticmethod
    def _accumulators(compiled: CompiledRuleSet) -> list[CompiledRule]:
        return [r for r in compiled.rules if r.key.startswith("accumulator:")]

    @staticmethod
    def _unsupported(compiled: CompiledRuleSet) -> str | None:
        """Why the engine's decision could differ from the tables here: keys used twice make
        the engine report one key for two conditions, which only the reference reproduces."""
        keys = [r.key for r in compiled.rules]
        if len(set(keys)) != len(keys):
            return f"usage rule set {compiled.id} uses a prerequisite or accumulator id twice"
        return None

    def conditions(self) -> list[Condition]:
        """Every condition the usage rule sets decide with."""
        return [rule.fires for compiled in self.versions for rule in compiled.rules]

    def masks(self, facts: FactColumns) -> dict[str, pl.Expr]:
        """The boolean columns the decisions are taken from, by name: per version whether it
        is in force, refused (appliesTo), each prerequisite unmet, each rate rule and each
        accumulator firing. Only conditions: :meth:`decide` combines them."""
        out: dict[str, pl.Expr] = {}
        for ids in self._by_id:
            same_id = [self.versions[i] for i in ids]
            for position, index in enumerate(ids):
                compiled = self.versions[index]
                zone = compiled.zone.key
                out[f"v{index}_in_force"] = _in_force(same_id, position, facts)
                applies = next((r for r in compiled.rules if r.key == "appliesTo"), None)
                if applies is not None:
                    out[f"v{index}_refused"] = condition_expr(applies.fires, facts, zone)
                for j, rule in enumerate(self._prerequisites(compiled)):
                    out[f"v{index}_unmet_{j}"] = condition_expr(rule.fires, facts, zone)
                for k, rule in enumerate(self._rate_rules(compiled)):
                    out[f"v{index}_rate_{k}"] = condition_expr(rule.fires, facts, zone)
                for j, rule in enumerate(self._accumulators(compiled)):
                    out[f"v{index}_acc_{j}"] = condition_expr(rule.fires, facts, zone)
        return out

    def decide(self, masks: Mapping[str, np.ndarray], n: int) -> UsageOutcome:
        """The decisions of ``n`` records from their :meth:`masks` (numpy booleans): the
        first rule set by id that rates a record wins, with its first rule that fires."""
        none = np.zeros(n, bool)
        chosen = np.full(n, -1, np.int32)
        rule = np.full(n, -1, np.int32)
        words = np.zeros((n, self.reason_word_count()), np.int64)
        needs_reference = np.zeros(n, bool)
        source = 0
        for ids in self._by_id:
            for index in ids:
                compiled = self.versions[index]
                in_force = masks[f"v{index}_in_force"]
                first = np.full(n, -1, np.int32)
                for k in range(len(self._rate_rules(compiled))):
                    first[(first < 0) & masks[f"v{index}_rate_{k}"]] = self.rule_offsets[index] + k
                refused = masks.get(f"v{index}_refused", none)
                unmet = [masks[f"v{index}_unmet_{j}"] for j in range(len(self._prerequisites(compiled)))]
                any_unmet = np.logical_or.reduce(unmet) if unmet else none
                matched = in_force & (first >= 0)
                rates_it = matched & ~refused & ~any_unmet
                wins = rates_it & (chosen < 0)
                chosen[wins] = index
                rule[wins] = first[wins]
                # a rejection cites the catalogs that had a rate for the record (matchedRule)
                for flag in [matched & refused] + [matched & ~refused & u for u in unmet]:
                    word, bit = divmod(source, BITS_PER_WORD)
                    words[flag, word] |= np.int64(1) << np.int64(bit)
                    source += 1
                if index in self.unsupported:
                    needs_reference |= in_force
        accumulators = []
        for j in range(self.accumulator_count):
            flag = np.zeros(n, bool)
            for index, compiled in enumerate(self.versions):
                if j < len(self._accumulators(compiled)):
                    flag |= (chosen == index) & masks[f"v{index}_acc_{j}"]
            accumulators.append(flag)
        return UsageOutcome(chosen, rule, accumulators, words, needs_reference)

    def reasons(self, words: Sequence[int]) -> list[dict[str, str]]:
        """The reasons of a record that no rule set rates, from its reason words — as
        ``rating._rate_one`` gathers them (catalog order, prerequisites in order, "not for
        you" left out when a prerequisite says more)."""
        reasons: list[dict[str, str]] = []
        for position, source in enumerate(self.reason_sources):
            word, bit = divmod(position, BITS_PER_WORD)
            if not (words[word] >> bit) & 1:
                continue
            compiled = self.versions[source.version]
            if source.prerequisite is None:
                reasons.append({"code": "notApplicable", "label": f"usage catalog {compiled.id} does not apply here"})
            else:
                p = source.prerequisite
                reasons.append({"code": p.reason.code, "label": p.reason.label, "prerequisite": p.id})
        if any(r["code"] != "notApplicable" for r in reasons):
            reasons = [r for r in reasons if r["code"] != "notApplicable"]
        return reasons or [{"code": "noApplicableRate", "label": "no usage catalog has a rate for this usage"}]

    def reason_word_count(self) -> int:
        return max(1, -(-len(self.reason_sources) // BITS_PER_WORD))


# ------------------------------------------------------------------ split billing decisions

SUBSCRIBER_DEFAULT = -1  # no split billing rule set: the subscription's own payer
NO_PAYER = -2  # the rule set names no payer for the charge
UNAVAILABLE = -3  # no split billing rule set of that id is in force (or it is not one)


@dataclass(frozen=True)
class PayerPlan:
    """How a charge is shared: (payer role, weight) parts, in order."""

    parts: tuple[tuple[str, Decimal], ...]


class SplitBillingDecisions:
    """The split billing rule sets of a book, decided for whole columns of charges.

    The plan of a charge is an index into :attr:`plans` (the first rule that holds, else the
    rule set's default payer), or :data:`SUBSCRIBER_DEFAULT`, :data:`NO_PAYER`,
    :data:`UNAVAILABLE`. :attr:`amount_dependent` and :attr:`currency_dependent` name the rule
    sets whose rules test ``charge.amount`` / ``charge.currency``: those values are only known
    once balances are applied, so the caller decides them with the undiminished charge and
    must check the guess."""

    def __init__(self, book: RuleBook):
        self.book = book
        self.plans: list[PayerPlan] = []
        self._plan_of: dict[tuple[int, str], int] = {}  # (id(compiled), rule key or "default") -> plan
        self.amount_dependent: set[str] = set()
        self.currency_dependent: set[str] = set()
        for rule_set_id, versions in book.versions.items():
            for compiled in versions:
                if not isinstance(compiled.definition, SplitBillingRuleSet):  # its kind is not splitBilling
                    continue
                attributes = set().union(*(attributes_of(r.fires) for r in compiled.rules)) if compiled.rules else set()
                if "charge.amount" in attributes:
                    self.amount_dependent.add(rule_set_id)
                if "charge.currency" in attributes:
                    self.currency_dependent.add(rule_set_id)
                for rule in compiled.rules:
                    source: SplitBillingRule = rule.source
                    self._add(compiled, rule.key, tuple((role, Decimal(w)) for role, w in source.parts()))
                default = compiled.definition.default
                if default:
                    self._add(compiled, "default", ((default, Decimal(1)),))

    def _add(self, compiled: CompiledRuleSet, key: str, parts: tuple[tuple[str, Decimal], ...]) -> None:
        self._plan_of[(id(compiled), key)] = len(self.plans)
        self.plans.append(PayerPlan(parts))

    def roles(self) -> set[str]:
        """Every payer role a plan names."""
        return {role for plan in self.plans for role, _ in plan.parts}

    def plan_expr(self, names: Mapping[str, pl.Expr], facts: FactColumns) -> pl.Expr:
        """The plan of each charge (Int32). ``names[id]`` says where the subscription names
        the split billing rule set ``id``; a charge whose subscription names none has
        :data:`SUBSCRIBER_DEFAULT`."""
        plan: Then | ChainedThen = pl.when(~pl.any_horizontal(list(names.values())) if names else pl.lit(True)) \
            .then(pl.lit(SUBSCRIBER_DEFAULT, dtype=pl.Int32))
        for rule_set_id in sorted(names):
            versions = self.book.versions.get(rule_set_id, [])
            for position, compiled in enumerate(versions):
                # RuleBook.in_force takes the highest version valid at the date, whatever its kind.
                named = names[rule_set_id] & _in_force(versions, position, facts)
                plan = plan.when(named).then(self._version_plan(compiled, facts))
        return plan.otherwise(pl.lit(UNAVAILABLE, dtype=pl.Int32))

    def conditions(self) -> list[Condition]:
        """Every condition the split billing rule sets decide with."""
        return [rule.fires for versions in self.book.versions.values() for compiled in versions
                if compiled.kind == "splitBilling" for rule in compiled.rules]

    def _version_plan(self, compiled: CompiledRuleSet, facts: FactColumns) -> pl.Expr:
        if compiled.kind != "splitBilling":
            return pl.lit(UNAVAILABLE, dtype=pl.Int32)
        default = self._plan_of.get((id(compiled), "default"), NO_PAYER)
        zone = compiled.zone.key
        chain: Then | ChainedThen | None = None
        for rule in compiled.rules:
            mask = condition_expr(rule.fires, facts, zone)
            value = pl.lit(self._plan_of[(id(compiled), rule.key)], dtype=pl.Int32)
            chain = pl.when(mask).then(value) if chain is None else chain.when(mask).then(value)
        fallback = pl.lit(default, dtype=pl.Int32)
        return fallback if chain is None else chain.otherwise(fallback)


__all__ = ["FactColumns", "condition_expr", "test_key", "epoch_microseconds", "UsageDecisions", "UsageOutcome",
           "SplitBillingDecisions",
           "PayerPlan", "SUBSCRIBER_DEFAULT", "NO_PAYER", "UNAVAILABLE", "BITS_PER_WORD"]
