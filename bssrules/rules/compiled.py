"""Rule sets compiled once: their conditions parsed, turned into "fires" conditions per
kind, and handed to the engine.

Every kind compiles to the same shape — a list of (key, condition) whose firing the engine
reports — and :mod:`bssrules.rules.decisions` turns what fired into a decision:

- eligibility: fires when valid, in scope and ``when`` does NOT hold → the offering is refused;
- compatibility: fires when valid and the basket breaks the rule → a violation;
- usage: a rate rule fires when valid and ``when`` holds (the first in order rates); a
  prerequisite fires when it is NOT met, ``appliesTo`` when it does NOT hold → rejected;
- split billing: fires when valid and ``when`` holds (the first in order names the payer);
- SLA: fires when valid, the observation is of the rule's metric and ``when`` holds;
- discount: fires when valid, ``when`` holds and the basket holds the combination;
- accumulators of a usage rule set fire when the record counts for them.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bssrules.errors import did_you_mean
from bssrules.rules.compile import TooComplex, to_dnf, to_nnf, validity_condition
from bssrules.rules.conditions import (
    ALWAYS, All, Any_, Condition, Not, Path, Report, Test, _accepts_at_key, parse_condition,
)
from bssrules.rules.engine import RuleEngine
from bssrules.rules.model import (
    CompatibilityRule, DiscountRule, EligibilityRule, RuleSet, SettlementRule, SlaRule, UsageRuleSet,
)

COMPOUND_CHILDREN = Callable[[str], "list[str] | None"]


@dataclass(frozen=True)
class CompiledRule:
    """One engine-level rule: its key, the rule (or prerequisite) it comes from, the
    authored condition (for explanations) and the condition that fires."""

    key: str
    source: Any  # a Rule, Prerequisite or Accumulator, or the UsageRuleSet (appliesTo): its kind says which
    authored: Condition
    fires: Condition


@dataclass
class CompiledRuleSet:
    """A rule set ready to decide: its definition, compiled rules and engine."""

    definition: RuleSet
    zone: ZoneInfo
    rules: list[CompiledRule]
    engine: RuleEngine = field(repr=False)
    _by_key: dict[str, CompiledRule] | None = field(default=None, repr=False, compare=False)
    _positions: dict[str, int] | None = field(default=None, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def kind(self) -> str:
        return self.definition.kind

    def by_key(self) -> dict[str, CompiledRule]:
        """Compiled rules by key (computed once)."""
        if self._by_key is None:
            self._by_key = {r.key: r for r in self.rules}
        return self._by_key

    def position(self, key: str) -> int:
        """The place of a rule in the rule set (first-match kinds decide by it)."""
        if self._positions is None:
            self._positions = {r.key: i for i, r in enumerate(self.rules)}
        return self._positions[key]


class CompileError(ValueError):
    """Problems found while compiling a rule set (path within the rule set, message, suggestion)."""

    def __init__(self, problems: list[tuple[Path, str, str | None]]):
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, p))}: {m}" for p, m, _ in problems))


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    """The IANA names this machine knows (read from its zone files: only when a name is wrong)."""
    return frozenset(available_timezones())


def _contains(attribute: str, id: str) -> Test:
    return Test(attribute, "contains", id)


def _compatibility_breach(rule: CompatibilityRule, children: COMPOUND_CHILDREN | None,
                          report: Report, path: Path) -> Condition | None:
    subject = _contains(rule.subject.attribute, rule.subject.id)
    if rule.type == "optional":
        return None
    if rule.type == "required":
        assert rule.target is not None  # the model gives required and forbidden rules a target
        return All((subject, Not(_contains(rule.target.attribute, rule.target.id))))
    if rule.type == "forbidden":
        assert rule.target is not None
        return All((subject, _contains(rule.target.attribute, rule.target.id)))
    among = list(rule.among) or (children(rule.subject.id) if children else None) or []
    if len(among) < 2:
        report(path + ("among",), "exactlyOne needs at least two items: list them in 'among', or make the subject "
                                  "a compound resource specification with children", None)
        return None
    attribute = rule.subject.attribute
    none = Not(Test(attribute, "containsAny", tuple(among)))
    pairs = tuple(All((_contains(attribute, a), _contains(attribute, b))) for a, b in itertools.combinations(among, 2))
    return All((subject, Any_((none,) + pairs)))


def compile_rule_set(rule_set: RuleSet, report: Report | None = None,
                     compound_children: COMPOUND_CHILDREN | None = None, pool_size: int = 4) -> CompiledRuleSet:
    """Parse every condition of a rule set and compile it onto the engine.

    Problems go to ``report(path, message, suggestion)`` (paths inside the rule set); without
    a ``report`` they raise :class:`CompileError`. ``compound_children`` resolves the children
    of a compound resource specification (from the catalog) for exactlyOne rules."""
    problems: list[tuple[Path, str, str | None]] = []

    keyed = report if report is not None and _accepts_at_key(report) else None

    def note(path: Path, message: str, suggestion: str | None = None, at_key: bool = False) -> None:
        problems.append((path, message, suggestion))
        if report and keyed is not None:
            keyed(path, message, suggestion, at_key=at_key)
        elif report:
            report(path, message, suggestion)

    def condition(raw: Any, path: Path) -> Condition:
        if raw is None:
            return ALWAYS
        parsed = parse_condition(raw, path, note)
        return parsed if parsed is not None else ALWAYS

    try:
        zone = ZoneInfo(rule_set.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        suggestion = did_you_mean(rule_set.time_zone, _time_zones())
        note(("timeZone",), f"unknown time zone '{rule_set.time_zone}'" +
             ("" if suggestion else " (use an IANA name such as Europe/Paris)"), suggestion)
        zone = ZoneInfo("UTC")

    seen: dict[str, int] = {}
    for i, rule in enumerate(rule_set.rules):
        if rule.id in seen:
            note(("rules", i, "id"), f"rule id '{rule.id}' is already used by rule {seen[rule.id] + 1} of this rule set")
        seen.setdefault(rule.id, i)
    compiled: list[CompiledRule] = []
    if isinstance(rule_set, UsageRuleSet):
        if rule_set.applies_to is not None:
            applies = condition(rule_set.applies_to, ("appliesTo",))
            compiled.append(CompiledRule("appliesTo", rule_set, applies, Not(applies)))
        for i, prerequisite in enumerate(rule_set.prerequisites):
            met = condition(prerequisite.when, ("prerequisites", i, "when"))
            compiled.append(CompiledRule(f"prerequisite:{prerequisite.id}", prerequisite, met, Not(met)))
        for i, accumulator in enumerate(rule_set.accumulators):
            counts = condition(accumulator.when, ("accumulators", i, "when"))
            compiled.append(CompiledRule(f"accumulator:{accumulator.id}", accumulator, counts, counts))
    for i, rule in enumerate(rule_set.rules):
        path = ("rules", i)
        when = condition(rule.when, path + ("when",))
        valid = validity_condition(rule.valid_for.start, rule.valid_for.end)
        fires: Condition | None
        # The kind of the rule set decides; its rules are all of the matching rule class.
        if isinstance(rule, EligibilityRule):
            scope: list[Condition] = []
            if rule.offerings:
                scope.append(Test("offering.id", "in", tuple(rule.offerings)))
            if rule.categories:
                scope.append(Test("offering.categories", "containsAny", tuple(rule.categories)))
            in_scope: Condition = Any_(tuple(scope)) if scope else ALWAYS
            fires = All((valid, in_scope, Not(when)))
        elif isinstance(rule, CompatibilityRule):
            breach = _compatibility_breach(rule, compound_children, note, path)
            fires = None if breach is None else All((valid, when, breach))
            if breach is not None:  # explain the breach itself, not only the optional `when`
                when = breach if rule.when is None else All((when, breach))
        elif isinstance(rule, SlaRule):
            metric: list[Condition] = [Test("metric.name", "eq", rule.metric)]
            if rule.window:
                metric.append(Test("metric.window", "eq", rule.window))
            fires = All((valid, *metric, when))
        elif isinstance(rule, SettlementRule):
            basis = {"ticket": "ticket.type", "charge": "charge.type", "slaViolation": "metric.name"}[rule.basis]
            fires = All((valid, Test(basis, "exists", True), when))
        elif isinstance(rule, DiscountRule):
            combination = [Test("present.productOfferings", "containsAll", tuple(rule.combination))] \
                if rule.combination else []
            fires = All((valid, when, *combination))
            if combination:  # explain the combination tested and what the basket held, not only `when`
                when = combination[0] if rule.when is None else All((when, *combination))
        else:  # usage, split billing: the first rule that holds
            fires = All((valid, when))
        if fires is not None:
            try:
                to_dnf(to_nnf(fires))
            except TooComplex as exc:
                note(path + ("when",), f"condition too complex for the engine: {exc}; split the rule")
                continue
            compiled.append(CompiledRule(rule.id, rule, when, fires))
    if problems and report is None:
        raise CompileError(problems)
    engine = RuleEngine([(r.key, r.fires) for r in compiled], zone, pool_size=pool_size)
    return CompiledRuleSet(rule_set, zone, compiled, engine)


__all__ = ["CompiledRule", "CompiledRuleSet", "CompileError", "compile_rule_set"]
