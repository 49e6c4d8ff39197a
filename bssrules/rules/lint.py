"""Static findings a catalog manager cannot see by eye.

Errors: references to unknown catalog items, a pair both required and forbidden while both
rules are in force, tiers out of order, tiers counting the period total of an accumulator
the rule set lacks or that counts no volume of the rate's kind, an accumulator of charges
(``measure: amount``) fed in several currencies, charge types split billing leaves without
payer.
Warnings: cycles of ``required``, rules shadowed by an earlier rule, thresholds above a hard cap, overlapping or gapped
time windows in a usage catalog, rule sets whose validity has ended, versions in force at
the same time, a usage rule set testing a fact rating never has (`party.segment`, `party.age`…).
"""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Protocol, Sequence

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.checks import CatalogPrice
from bssrules.catalog.types import ValidFor
from bssrules.errors import did_you_mean
from bssrules.pricing.units import convert
from bssrules.rules.book import RuleBook
from bssrules.rules.compile import Atom, TooComplex, to_dnf, to_nnf
from bssrules.rules.compiled import CompiledRuleSet
from bssrules.rules.conditions import (
    ALWAYS, OPERATORS_BY_TYPE, All, Condition, Not, Path, Test, TimeWindow, parse_condition, tests_of,
)
from bssrules.rules.facts import FACT_ATTRIBUTES, WEEKDAYS, engine_key
from bssrules.rules.model import (
    CompatibilityRule, CompatibilityRuleSet, DiscountRule, DiscountRuleSet, EligibilityRule, Rate, RoutingRuleSet,
    RuleSet, SplitBillingRuleSet, UsageRuleSet,
)
from bssrules.rules.prices import named_prices

CHARGE_TYPES = ("recurring", "oneTime", "usage", "outOfTariff")
# Attributes whose values are ids of catalog items.
ID_ATTRIBUTES = {
    "inventory.offerings": "productOffering", "inventory.activeOfferings": "productOffering",
    "present.productOfferings": "productOffering", "offering.id": "productOffering",
    "usage.offering": "productOffering", "charge.offering": "productOffering",
    "present.productSpecifications": "productSpecification", "offering.productSpecification": "productSpecification",
    "inventory.productSpecifications": "productSpecification",
    "present.resourceSpecifications": "resourceSpecification", "offering.categories": "category", "charge.categories": "category",
}


@dataclass(frozen=True)
class Finding:
    rule_set: str
    version: int
    path: Path
    message: str
    severity: str = "warning"
    code: str = "lint"


def reference_findings(rule_set: RuleSet, catalog: Catalog, compiled: CompiledRuleSet
                       ) -> list[tuple[Path, str, str | None]]:
    """References from a rule set to catalog items that do not exist."""
    return unknown_references(rule_set_references(rule_set, compiled), lambda kind: set(catalog.entities[kind]))


def unknown_references(references: Iterable[tuple[Path, str, str]], known_ids: Callable[[str], set[str]]
                       ) -> list[tuple[Path, str, str | None]]:
    """(path, message, suggestion) of each reference to a catalog id not known."""
    found: list[tuple[Path, str, str | None]] = []
    known: dict[str, set[str]] = {}
    for path, kind, id in references:
        if kind not in known:
            known[kind] = known_ids(kind)
        if id not in known[kind]:
            found.append((path, f"unknown {kind} '{id}'", did_you_mean(id, known[kind])))
    return found


def rule_set_references(rule_set: RuleSet, compiled: CompiledRuleSet) -> list[tuple[Path, str, str]]:
    """(path, kind, id) of every catalog item a rule set names: in the fields of its rules,
    and in the conditions on attributes whose values are ids."""
    found: list[tuple[Path, str, str]] = []
    for i, rule in enumerate(rule_set.rules):
        found += rule_references(rule, ("rules", i))
    for rate_path, price, *_ in named_prices(rule_set):
        found.append((rate_path + ("price",), "productOfferingPrice", price))
    for compiled_rule in compiled.rules:
        found += condition_references(compiled_rule.authored)
    return found


def rule_references(rule: object, path: Path) -> list[tuple[Path, str, str]]:
    """(path, kind, id) of the catalog items the fields of one rule name. A rule read field by
    field (in error) may lack fields: only those it has are looked at."""
    found: list[tuple[Path, str, str]] = []
    # each kind of rule set holds rules of its own class
    if isinstance(rule, EligibilityRule):
        for j, offering in enumerate(getattr(rule, "offerings", [])):
            found.append((path + ("offerings", j), "productOffering", offering))
        for j, category in enumerate(getattr(rule, "categories", [])):
            found.append((path + ("categories", j), "category", category))
        alternate = getattr(rule, "alternate", None)
        if alternate:
            found.append((path + ("alternate",), "productOffering", alternate))
    if isinstance(rule, CompatibilityRule):
        for end in ("subject", "target"):
            item = getattr(rule, end, None)
            if item is not None:
                found.append((path + (end, _field(item.kind)), item.kind, item.id))
        subject = getattr(rule, "subject", None)
        if subject is not None:
            for j, id in enumerate(getattr(rule, "among", [])):
                found.append((path + ("among", j), subject.kind, id))
    if isinstance(rule, DiscountRule):
        target = getattr(rule, "target", None)
        if target is not None:
            found.append((path + ("target", "offering"), "productOffering", target.offering))
        for j, offering in enumerate(getattr(rule, "combination", [])):
            found.append((path + ("combination", j), "productOffering", offering))
    return found


def condition_references(condition: Condition) -> list[tuple[Path, str, str]]:
    """(path, kind, id) of the catalog items a condition tests for, on attributes whose values are ids."""
    found: list[tuple[Path, str, str]] = []
    for test in tests_of(condition):
        kind = ID_ATTRIBUTES.get(test.attribute)
        # Tests without a path were generated from fields checked above (subject, target …).
        if kind is None or test.op == "exists" or not test.path:
            continue
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        for value in values:
            found.append((test.path, kind, value))
    return found


def written_condition_references(when: Any, path: Path) -> list[tuple[Path, str, str]]:
    """(path, kind, id) of the catalog items a condition in error tests for, read from what is
    written: its tests that are right name ids that must exist all the same (an unknown
    offering is said in the run that says the misspelt attribute beside it). The paths and
    values are those :func:`condition_references` gives of the condition once it is right."""
    found: list[tuple[Path, str, str]] = []
    if not isinstance(when, dict):
        return found
    for key, value in when.items():
        here = path + (key,)
        if key in ("all", "any") and isinstance(value, list):
            for index, part in enumerate(value):
                found += written_condition_references(part, here + (index,))
        elif key == "not":
            found += written_condition_references(value, here)
        elif key in ID_ATTRIBUTES:
            tests = value.items() if isinstance(value, dict) else [(None, value)]
            allowed = OPERATORS_BY_TYPE[FACT_ATTRIBUTES[key]]
            for op, operand in tests:
                if op is not None and (op not in allowed or op == "exists"):
                    continue
                at = here if op is None else here + (op,)
                operands = operand if isinstance(operand, list) and op is not None else [operand]
                found += [(at, ID_ATTRIBUTES[key], str(one)) for one in operands
                          if isinstance(one, (str, int, Decimal)) and not isinstance(one, bool)]
    return found


# What a discount rule says of the prices it alters: (path of the rule in its rule set, rule id,
# offering, priceType or None for both, currency of an amount discount or None for a
# percentage). Plain tuples: kept in the check cache.
DiscountAim = tuple[Path, str, str, "str | None", "str | None"]
# The prices of an offering (None: the offering or one of its prices could not be read).
PricesOf = Callable[[str], "Sequence[CatalogPrice] | None"]
_ALTERED = ("oneTime", "recurring")  # the price types a discount alters (never a usage rate)


def discount_aims(rule_set: RuleSet) -> list[DiscountAim]:
    """What each rule of a discount rule set targets, for the checks against the catalog."""
    if not isinstance(rule_set, DiscountRuleSet):
        return []
    return [(("rules", i), rule.id, rule.target.offering, rule.target.price_type,
             rule.currency if rule.amount is not None else None) for i, rule in enumerate(rule_set.rules)]


def discount_price_findings(aim: DiscountAim, prices: Sequence[CatalogPrice] | None
                            ) -> list[tuple[Path, str, str]]:
    """(path in the rule set, message, severity) of a discount that can never alter a price:
    its offering has no price of the type it targets (a warning: the offering may get one),
    or an amount discount is in another currency than every price it targets (an error:
    pricing only takes an amount off a price of its own currency, so it never applies while
    a rule test of it passes). ``prices`` None: not known, nothing to check."""
    path, rule_id, offering, price_type, currency = aim
    if prices is None:
        return []
    types = (price_type,) if price_type else _ALTERED
    targeted = [p for p in prices if p.price_type in types]
    if not targeted:
        where = path + (("target", "priceType") if price_type else ("target", "offering"))
        wanted = " or ".join(types)
        return [(where, f"offering '{offering}' has no {wanted} price: discount '{rule_id}' never alters a price",
                 "warning")]
    if currency is None or any(p.currency == currency for p in targeted):
        return []
    shown = ", ".join(f"'{p.id}' in {p.currency} (at {p.where})" for p in targeted)
    return [(path + ("currency",), f"discount '{rule_id}' takes an amount in {currency} off the "
                                   f"{' and '.join(types)} prices of offering '{offering}', but they are in other "
                                   f"currencies: {shown}; an amount is only taken off a price of its currency, so "
                                   f"it never applies", "error")]


def _field(kind: str) -> str:
    return kind  # the YAML field names the kind: resourceSpecification, productSpecification, productOffering


class Version(NamedTuple):
    """What the findings across the versions of a rule set need of one version."""

    id: str
    version: int
    valid_for: ValidFor


def lint_rule_book(book: RuleBook, catalog: Catalog | None = None, today: dt.date | None = None) -> list[Finding]:
    """Every finding over every rule set of the book."""
    findings = version_findings({id: [Version(c.id, c.definition.version, c.definition.valid_for) for c in versions]
                                 for id, versions in book.versions.items()}, today)
    findings += kind_findings({id: [(c.definition.version, c.definition.kind) for c in versions]
                               for id, versions in book.versions.items()})
    for compiled in book:
        findings += rule_set_findings(compiled)
    return findings


def version_findings(versions: Mapping[str, Sequence[Version]], today: dt.date | None = None) -> list[Finding]:
    """Findings across the versions of each rule set (in force at once), and on the date
    (ended: no longer applies, unless a later version takes over)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    findings: list[Finding] = []
    for of_one in versions.values():
        ordered = sorted(of_one, key=lambda v: v.version)
        for a, b in itertools.combinations(ordered, 2):
            if a.valid_for.overlaps(b.valid_for):
                findings.append(Finding(b.id, b.version, ("validFor",),
                                        f"versions {a.version} and {b.version} of rule set '{b.id}' are in force at "
                                        f"the same time; version {b.version} wins where they overlap",
                                        code="versionOverlap"))
        for one in ordered:
            end = one.valid_for.end
            if end is not None and end.date() <= today and not _superseded(one, ordered):
                findings.append(Finding(one.id, one.version, ("validFor", "end"),
                                        f"rule set '{one.id}' ended on {end.date().isoformat()}: it no longer applies",
                                        code="ended"))
    return findings


def kind_findings(kinds: Mapping[str, Sequence[tuple[int, str]]]) -> list[Finding]:
    """Each version (of ``kinds``: rule set id -> (version, kind)) whose kind is not that of
    the rule set's first version: a rule set is of one kind (its decisions, and what its
    tests can expect, are of that kind), whatever version is in force."""
    findings: list[Finding] = []
    for id, of_one in kinds.items():
        ordered = sorted(of_one)
        first_version, first_kind = ordered[0]
        for version, kind in ordered[1:]:
            if kind != first_kind:
                findings.append(Finding(id, version, ("kind",), f"version {version} of rule set '{id}' is of kind "
                                        f"{kind}, which changes the kind of the rule set: version {first_version} "
                                        f"is of kind {first_kind} (a new kind of rule set needs a new id)",
                                        "error", "kindChanged"))
    return findings


def _superseded(one: Version, versions: Sequence[Version]) -> bool:
    """Whether a later version takes over when this one ends (its end is then no news)."""
    end = one.valid_for.end
    return end is not None and any(other.version > one.version and other.valid_for.contains(end)
                                   for other in versions)


class _Add(Protocol):
    """Records a finding of the rule set being linted."""

    def __call__(self, path: Path, message: str, severity: str = "warning", code: str = "lint") -> None: ...


def rule_set_findings(compiled: CompiledRuleSet, whole: bool = True, accumulators: Iterable[str] = ()
                      ) -> list[Finding]:
    """The findings on one rule set alone (whatever the date and the other versions).
    ``whole=False``: of what is left of a rule set in error (rules set aside), only the
    errors that no rule set aside could change: tiers out of order, contradicting pairs,
    tiers counting an accumulator the rule set does not have or that cannot count them —
    ``accumulators``: the ids written, of the accumulators in error too (tiers naming one of
    those are not checked against it)."""
    definition = compiled.definition
    out: list[Finding] = []

    def add(path: Path, message: str, severity: str = "warning", code: str = "lint") -> None:
        out.append(Finding(definition.id, definition.version, path, message, severity, code))

    if not whole:
        if isinstance(definition, CompatibilityRuleSet):
            _lint_compatibility(definition, add)
        if isinstance(definition, UsageRuleSet):
            _lint_tiers(definition, add)
            _lint_period_tiers(compiled, definition, add, frozenset(accumulators))
            _lint_amount_currencies(compiled, definition, add)
        return [f for f in out if f.severity == "error"]
    if isinstance(definition, CompatibilityRuleSet):
        _lint_compatibility(definition, add)
    if isinstance(definition, (UsageRuleSet, SplitBillingRuleSet, RoutingRuleSet)):
        _lint_shadowing(compiled, add)
    if isinstance(definition, UsageRuleSet):
        _lint_usage(compiled, definition, add)
    if isinstance(definition, SplitBillingRuleSet):
        _lint_split_billing(compiled, definition, add)
    return out


def _same_condition(a: object, b: object) -> bool:
    """Whether two raw ``when``s hold in the same cases: written alike, or each implying the
    other once parsed (``{channel.id: web}`` and ``{channel.id: {eq: web}}``; a plain value
    means equality) — sound, not complete: conditions too complex to compare are not the same."""
    if a == b:
        return True
    parsed = [ALWAYS if raw is None else parse_condition(raw, (), lambda *_: None) for raw in (a, b)]
    first, second = parsed
    if first is None or second is None:  # (a condition in error: reported where it is)
        return False
    return _implies(first, second) and _implies(second, first)


def _lint_compatibility(definition: CompatibilityRuleSet, add: _Add) -> None:
    rules = list(enumerate(definition.rules))
    for (i, a), (j, b) in itertools.combinations(rules, 2):
        if {a.type, b.type} != {"required", "forbidden"} or not a.valid_for.overlaps(b.valid_for):
            continue
        if not _same_condition(a.when, b.when):  # conditioned differently: they may never apply together
            continue
        same = (a.subject, a.target) == (b.subject, b.target)
        mirrored = (a.type == "required" and b.type == "forbidden" and (b.subject, b.target) == (a.target, a.subject)) \
            or (b.type == "required" and a.type == "forbidden" and (a.subject, a.target) == (b.target, b.subject))
        if same or mirrored:
            add(("rules", j), f"rules '{a.id}' and '{b.id}' make {a.subject} both require and forbid "
                              f"{a.target} while both are in force", "error", "contradiction")
    required: dict[str, list[tuple[int, str]]] = {}
    for i, rule in rules:
        if rule.type == "required" and rule.target is not None:
            required.setdefault(str(rule.subject), []).append((i, str(rule.target)))
    reported: set[frozenset[str]] = set()
    for start in sorted(required):
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for i, target in required.get(node, []):
                if target == start:
                    cycle = frozenset(trail)
                    if cycle not in reported:
                        reported.add(cycle)
                        add(("rules", i), "cycle of required rules: " + " -> ".join(trail + [start]) +
                            " (each needs the next: they can only be sold together)", code="requiredCycle")
                elif target not in trail and len(trail) < 20:
                    stack.append((target, trail + [target]))


# Atoms that hold only of a value that is there: each implies that its attribute is present.
_OF_A_VALUE = ("eq", "lt", "lte", "gt", "gte", "iany")


def _atom_implies(strong: Atom, weak: Atom) -> bool:
    """Whether ``strong`` holding guarantees ``weak`` (conservative)."""
    if strong == weak:
        return True
    if weak.op == "eq" and weak.value is True and weak.key == engine_key(strong.key, "present") \
            and strong.op in _OF_A_VALUE:  # exists: true holds of every value (charge.type: recurring)
        return True
    if strong.key != weak.key:
        return False
    s, w = strong.value, weak.value
    if isinstance(s, bool) or isinstance(w, bool) or not isinstance(s, (int, float, Decimal, dt.datetime)):
        return strong.op == "eq" and weak.op == "neq" and s != w
    try:
        if strong.op == "eq":
            implied: dict[str, bool] = {"lt": s < w, "lte": s <= w, "gt": s > w, "gte": s >= w, "neq": s != w}
            return implied.get(weak.op, False)
        if strong.op in ("gt", "gte") and weak.op in ("gt", "gte"):
            return s > w or (s == w and (weak.op == "gte" or strong.op == "gt"))
        if strong.op in ("lt", "lte") and weak.op in ("lt", "lte"):
            return s < w or (s == w and (weak.op == "lte" or strong.op == "lt"))
    except TypeError:
        return False
    return False


def _branch_implies(strong: tuple[Atom, ...], weak: tuple[Atom, ...]) -> bool:
    return all(any(_atom_implies(s, w) for s in strong) for w in weak)


class _Branch(NamedTuple):
    """A branch of a condition's disjunctive form, with the attribute keys it tests and those
    a branch implying it must test too (every atom but ``eq true``, which an atom of another
    key may imply: a value implies its attribute's presence)."""

    atoms: tuple[Atom, ...]
    keys: frozenset[str]
    needs: frozenset[str]
    held: frozenset[Atom] | None  # its atoms (None: one of them is not hashable)
    equal: frozenset[Atom]  # its ``eq`` atoms but ``eq true``: only the same atom implies one


def _branches(condition: Condition) -> list[_Branch] | None:
    """The branches of ``condition`` (None: too complex to put in that form)."""
    try:
        branches = to_dnf(to_nnf(condition))
    except TooComplex:
        return None
    return [_branch_of(tuple(branch)) for branch in branches]


def _branch_of(atoms: tuple[Atom, ...]) -> _Branch:
    held: frozenset[Atom] | None
    try:
        held = frozenset(atoms)
        equal = frozenset(a for a in atoms if a.op == "eq" and a.value is not True)
    except TypeError:  # (an unhashable value: no shortcut for this branch)
        held, equal = None, frozenset()
    return _Branch(atoms, frozenset(a.key for a in atoms),
                   frozenset(a.key for a in atoms if not (a.op == "eq" and a.value is True)), held, equal)


def _branches_imply(strong: list[_Branch], weak: list[_Branch]) -> bool:
    # (a strong branch that lacks a key the weak one needs cannot imply it — no atom of another
    # key implies an atom that is not an ``eq true`` — nor one that lacks one of its ``eq``
    # atoms: ``eq`` is implied by itself alone; checked first, they spare most pairs)
    return all(any(w.needs <= s.keys and (s.held is None or w.equal <= s.held) and _branch_implies(s.atoms, w.atoms)
                   for w in weak) for s in strong)


def _implies(strong: Condition, weak: Condition) -> bool:
    """Whether every case where ``strong`` holds is one where ``weak`` holds (sound, incomplete)."""
    strong_branches, weak_branches = _branches(strong), _branches(weak)
    if strong_branches is None or weak_branches is None:
        return False
    return _branches_imply(strong_branches, weak_branches)


def _lint_shadowing(compiled: CompiledRuleSet, add: _Add) -> None:
    # prerequisites, appliesTo and accumulators are not first-match rules: nothing shadows them
    rules = [r for r in compiled.rules if not r.key.startswith(("prerequisite:", "accumulator:")) and r.key != "appliesTo"]
    index = {rule.id: i for i, rule in enumerate(compiled.definition.rules)}
    # each rule's branches made once (not once per pair: a rule set of 1,000 rules took 17.7 s)
    branches = [_branches(rule.fires) for rule in rules]
    for later_pos, later in enumerate(rules):
        later_branches = branches[later_pos]
        if later_branches is None:
            continue
        for earlier_pos, earlier in enumerate(rules[:later_pos]):
            earlier_branches = branches[earlier_pos]
            if earlier_branches is not None and _branches_imply(later_branches, earlier_branches):
                add(("rules", index[later.key]), f"rule '{later.key}' never applies: the earlier rule "
                                                f"'{earlier.key}' matches every case it matches", code="shadowed")
                break


class _Timed(NamedTuple):
    """A rule with time windows, as the gap check sees it."""

    position: int  # (the rule's, in its rule set)
    windows: list[TimeWindow]
    days: frozenset[int]  # the days of the week it rates (1 = Monday); all seven without a test
    valid_for: ValidFor


_EVERY_DAY = frozenset(range(1, 8))


def _days_tests(condition: Condition) -> tuple[frozenset[int], Condition]:
    """The days of the week the top-level ``dayOfWeek`` tests of a condition let through, and
    the rest of it."""
    parts = condition.items if isinstance(condition, All) else (condition,)
    days = _EVERY_DAY
    for part in parts:
        if isinstance(part, Test) and part.op == "dayOfWeek":
            days = days & frozenset(part.value)
    rest = tuple(p for p in parts if not (isinstance(p, Test) and p.op == "dayOfWeek"))
    return days, (rest[0] if len(rest) == 1 else All(rest))


def _uncovered(rules: Sequence[_Timed]) -> tuple[list[int], str] | None:
    """The minutes of the day no window covers on some day of the week in some stretch of the
    rules' validity (each day and each stretch between their validity dates looked at), and
    where ("" when everywhere); None when every minute is covered everywhere."""
    bounds = sorted({b for r in rules for b in (r.valid_for.start, r.valid_for.end) if b is not None})
    probes: list[dt.datetime | None] = [None] if not bounds else \
        [bounds[0] - dt.timedelta(seconds=1), *bounds]  # (one instant in each stretch between the dates)
    found: dict[tuple[int, ...], list[tuple[int, dt.datetime | None]]] = {}
    for probe in probes:
        for day in sorted(_EVERY_DAY):
            covered: set[int] = set()
            for rule in rules:
                if day in rule.days and (probe is None or rule.valid_for.contains(probe)):
                    for window in rule.windows:
                        covered |= window.minutes()
            if len(covered) < 1440:
                found.setdefault(tuple(sorted(set(range(1440)) - covered)), []).append((day, probe))
    if not found:
        return None
    minutes, cases = next(iter(found.items()))
    days = sorted({d for d, _ in cases})
    stretches = sorted({p for _, p in cases if p is not None})
    where = ""
    if len(found) > 1 or len(cases) < 7 * len(probes):  # not the same gap everywhere: say where this one is
        if len(days) < 7:
            where += " (on " + ", ".join(WEEKDAYS[d - 1] for d in days)
        if stretches and len({p for _, p in cases}) < len(probes):
            shown = [f"before {bounds[0].isoformat()}" if p < bounds[0] else f"from {p.isoformat()}"
                     for p in stretches[:3]]
            where += (" (" if not where else ", ") + ", ".join(shown)
        where += ")" if where else ""
    return list(minutes), where


def _time_tests(condition: Condition) -> tuple[list[TimeWindow], Condition]:
    """The timeOfDay windows at the top level of a condition, and the rest of it."""
    parts = condition.items if isinstance(condition, All) else (condition,)
    windows = [p.value for p in parts if isinstance(p, Test) and p.op == "timeOfDay"]
    rest = All(tuple(p for p in parts if not (isinstance(p, Test) and p.op == "timeOfDay")))
    return windows, rest


# What rating a usage record (online and bulk alike) knows besides the record: the
# subscription's party id and classification and the party's offerings
# (pricing.usage.Subscriber.facts). A usage rule set's test of any other fact never holds there —
# the period's totals (accumulated.*) included: an accumulator's thresholds act on them, no fact
# gives them to a rule.
_RATING_KNOWS = ("usage.", "now", "party.id", "party.classification", "inventory.activeOfferings",
                 "inventory.offerings")


def _lint_rating_facts(compiled: CompiledRuleSet, add: _Add) -> None:
    """A test of a fact rating never has (party.segment, party.age, channel.id…): a rule test
    giving it passes, while a real usage always sees it absent."""
    for rule in compiled.rules:
        for test in tests_of(rule.authored):
            known = any(test.attribute == k or (k.endswith(".") and test.attribute.startswith(k))
                        for k in _RATING_KNOWS)
            if not known and not (test.op == "exists" and test.value is False):
                totals = " (the period's totals act through an accumulator's thresholds: block, notify or " \
                    "changeRate)" if test.attribute.startswith("accumulated.") else ""
                add(test.path, f"'{test.attribute}' is never known when a usage is rated (rating knows the usage, "
                               "party.id, party.classification and the party's offerings): "
                               f"there it is always absent, whatever a rule test gives{totals}", code="unknownWhenRating")


def _lint_usage(compiled: CompiledRuleSet, definition: UsageRuleSet, add: _Add) -> None:
    """``definition`` is ``compiled.definition``."""
    _lint_rating_facts(compiled, add)
    _lint_tiers(definition, add)
    _lint_period_tiers(compiled, definition, add)
    _lint_amount_currencies(compiled, definition, add)
    _lint_beyond_cap(definition, add)
    groups: dict[str, list[tuple[int, TimeWindow]]] = {}
    fallbacks: list[Condition] = []
    # the windows of the rules whose other tests are alike but their days of the week, and their
    # validity: together they may cover every minute (a night rate split by days or by a price change)
    timed: dict[str, list[_Timed]] = {}
    others: dict[str, Condition] = {}
    for i, rule in enumerate(definition.rules):
        compiled_rule = next((r for r in compiled.rules if r.key == rule.id), None)
        if compiled_rule is None:
            continue
        windows, rest = _time_tests(compiled_rule.authored)
        key = str(rest) + "|" + str(rule.valid_for)
        if not windows:
            fallbacks.append(compiled_rule.fires)
            continue
        for window in windows:
            groups.setdefault(key, []).append((i, window))
        days, other = _days_tests(rest)
        timed.setdefault(str(other), []).append(_Timed(i, windows, days, rule.valid_for))
        others[str(other)] = other
    for key, group in groups.items():
        for (i, a), (j, b) in itertools.combinations(group, 2):
            shared = a.minutes() & b.minutes()
            if shared:
                add(("rules", j, "when"), f"time window {b} overlaps {a} of an earlier rule on "
                                          f"{len(shared)} minute(s): the earlier rule wins there", code="overlap")
    for other_key, rules_timed in timed.items():
        # A rule without a window that matches every case of the group's other tests catches the rest.
        if any(_implies(others[other_key], fallback) for fallback in fallbacks):
            continue
        gaps = _uncovered(rules_timed)
        if gaps:
            minutes, where = gaps
            add(("rules", rules_timed[0].position, "when"), "time windows leave minutes without a rate and no rule "
                                                         "without a time window catches them: "
                                                         + ", ".join(_ranges(minutes)) + where, code="gap")


def _units_convert(unit: str, to: str) -> bool:
    """Whether a volume in ``unit`` converts to ``to`` (units of one kind: GB and MB, min and s)."""
    return convert(Decimal(1), unit, to) is not None


def _lint_tiers(definition: UsageRuleSet, add: _Add) -> None:
    """Each rate's tiers: the limits written must increase, and only the last tier has none
    (both said at once when both are wrong)."""
    for i, rule in enumerate(definition.rules):
        tiers = rule.rate.tiers
        bounds = [t.up_to for t in tiers]
        limits = [b for b in bounds if b is not None]
        if tiers and (any(b is None for b in bounds[:-1]) or bounds[-1] is not None):
            add(("rules", i, "rate", "tiers"), "only the last tier may (and must) have no upTo", "error", "tiers")
        if any(a >= b for a, b in zip(limits[:-1], limits[1:])):
            add(("rules", i, "rate", "tiers"), "tier limits (upTo) must increase", "error", "tiers")


def _lint_period_tiers(compiled: CompiledRuleSet, definition: UsageRuleSet, add: _Add,
                       in_error: frozenset[str] = frozenset()) -> None:
    """Tiers that count an accumulator's period total (``tiersCount``): the accumulator must be
    one of the rule set's, count volume (``measure: volume``), in units of the rate's kind —
    it counts each record in the unit of the rule that rated it, so every rule whose records it
    may count must be per a unit that converts to the rate's — and should count the records of
    the rules the rate prices (their units are priced on top of a total they do not add to).
    ``in_error``: ids written of accumulators that could not be read (nothing is checked
    against them)."""
    by_id = {a.id: a for a in definition.accumulators}
    rules = compiled.by_key()
    # (where, rate, the rule it prices: None for a changeRate rate, which prices any rule's records)
    rates: list[tuple[Path, Rate, str | None]] = [(("rules", i, "rate"), rule.rate, rule.id)
                                                  for i, rule in enumerate(definition.rules)]
    for i, holder in enumerate(definition.accumulators):
        for j, threshold in enumerate(holder.thresholds):
            if threshold.rate is not None:
                rates.append((("accumulators", i, "thresholds", j, "rate"), threshold.rate, None))
    for path, rate, rule_id in rates:
        name = rate.period_tiers
        if name is None:
            continue
        where = path + ("tiersCount", "accumulator")
        accumulator = by_id.get(name)
        if accumulator is None and name in in_error:
            continue
        if accumulator is None:
            written = set(by_id) | in_error
            suggestion = did_you_mean(name, written)
            known = ", ".join(sorted(written)) or "none"
            add(where, f"unknown accumulator '{name}': the tiers count the period total of an accumulator of this "
                       f"rule set (it has: {known})" + (f" (did you mean '{suggestion}'?)" if suggestion else ""),
                "error", "unknownAccumulator")
            continue
        if accumulator.measure != "volume":
            add(where, f"accumulator '{name}' has measure: {accumulator.measure}; tiers count volume: name an "
                       f"accumulator of measure: volume", "error", "tiersCount")
            continue
        counts = rules[f"accumulator:{name}"].fires if f"accumulator:{name}" in rules else None
        for rule in definition.rules:
            if rule.rate.price is not None and "per" not in rule.rate.model_fields_set:
                continue  # its unit is the catalog price's, not known to the rule set alone
            fires = rules[rule.id].fires if rule.id in rules else None
            exclusive = counts is not None and fires is not None and _implies(fires, Not(counts))
            if not exclusive and not _units_convert(rule.rate.per, rate.per):
                add(where, f"accumulator '{name}' counts the usage of rule '{rule.id}' in {rule.rate.per}, which is "
                           f"not of the kind of {rate.per}, the rate's unit: its total cannot place a volume in "
                           f"these tiers", "error", "tiersCount")
                break
        if counts is not None and rule_id is not None:
            if rule_id in rules and not _implies(rules[rule_id].fires, counts):
                add(where, f"accumulator '{name}' may not count the usage rule '{rule_id}' rates: such usage is "
                           f"priced on top of the period total but does not add to it", code="tiersCount")


def _lint_beyond_cap(definition: UsageRuleSet, add: _Add) -> None:
    """A threshold above a hard cap (a ``block`` threshold with ``crossing: rateUpToCap``) of
    its accumulator: the cap keeps the total at or below its ``at``, so it is never reached."""
    for i, accumulator in enumerate(definition.accumulators):
        cap = next((t for t in accumulator.thresholds if t.action == "block" and t.caps), None)
        if cap is None:
            continue
        for j, threshold in enumerate(accumulator.thresholds):
            if threshold.at > cap.at:
                add(("accumulators", i, "thresholds", j), f"threshold '{threshold.id}' at {threshold.at} is never "
                    f"reached: the block threshold '{cap.id}' (crossing: rateUpToCap) keeps the total of "
                    f"accumulator '{accumulator.id}' at or below {cap.at}", code="unreachable")


# What adds up in an accumulator of measure: amount: (its path in the rule set, its id, and for
# each rate that may feed it: who states the rate, its currency — None when the catalog price
# it names gives it — and that price). Plain tuples: kept in the check cache.
AmountFeed = tuple[Path, str, tuple[tuple[str, "str | None", "str | None"], ...]]


def amount_feeds(compiled: CompiledRuleSet) -> list[AmountFeed]:
    """The rates that may feed each accumulator of ``measure: amount`` of a usage rule set:
    those of the rules whose usage it may count, and the ``changeRate`` rates of its
    thresholds and of those of the accumulators that may count the same usage."""
    definition = compiled.definition
    if not isinstance(definition, UsageRuleSet):
        return []
    rules = compiled.by_key()

    def counts(accumulator_id: str) -> Condition | None:
        rule = rules.get(f"accumulator:{accumulator_id}")
        return rule.fires if rule is not None else None

    def apart(one: Condition | None, other: Condition | None) -> bool:
        """Whether no usage can be counted by both (conditions unknown: they may meet)."""
        return one is not None and other is not None and _implies(one, Not(other))

    feeds: list[AmountFeed] = []
    for i, accumulator in enumerate(definition.accumulators):
        if accumulator.measure != "amount":
            continue
        mine = counts(accumulator.id)
        rates: list[tuple[str, str | None, str | None]] = []
        for rule in definition.rules:
            if not apart(rules[rule.id].fires if rule.id in rules else None, mine):
                rates.append((f"rule '{rule.id}'", rule.rate.currency or None, rule.rate.price))
        for other in definition.accumulators:
            if other is not accumulator and apart(counts(other.id), mine):
                continue
            for threshold in other.thresholds:
                if threshold.rate is not None:
                    name = threshold.id if other is accumulator else f"{other.id}/{threshold.id}"
                    rates.append((f"threshold '{name}'", threshold.rate.currency or None, threshold.rate.price))
        feeds.append((("accumulators", i), accumulator.id, tuple(rates)))
    return feeds


def mixed_currencies(feed: AmountFeed, currency_of: Callable[[str], str | None] | None = None) -> str | None:
    """Why an accumulator of measure: amount would add up charges in different currencies
    (None: it would not, as far as is known). A rate's currency left to the catalog price it
    names is ``currency_of(price)`` (unknown without it)."""
    _, id, rates = feed
    currencies: dict[str, list[str]] = {}
    for who, currency, price in rates:
        if currency is None and price is not None and currency_of is not None:
            currency = currency_of(price)
        if currency is not None:
            currencies.setdefault(currency, []).append(who)
    if len(currencies) < 2:
        return None
    shown = "; ".join(f"{currency} by {', '.join(by)}" for currency, by in currencies.items())
    return (f"accumulator '{id}' (measure: amount) would add up charges in different currencies ({shown}): its "
            f"total and its thresholds' 'at' have no currency, and none is converted into another; keep one "
            f"currency to an accumulator of measure: amount (an accumulator per currency, each counting the usage "
            f"rated in it)")


def _lint_amount_currencies(compiled: CompiledRuleSet, definition: UsageRuleSet, add: _Add) -> None:
    """An accumulator of ``measure: amount`` adds up the charges of the records it counts:
    its total and its thresholds' ``at`` have no currency, and no rate converts one currency
    into another, so charges in two currencies would be added as if they were one. Rates
    that leave their currency to the catalog price they name are compared across files,
    once the prices are known."""
    for feed in amount_feeds(compiled):
        message = mixed_currencies(feed)
        if message is not None:
            add(feed[0], message, "error", "mixedCurrencies")


def _ranges(minutes: list[int]) -> list[str]:
    out, start = [], None
    for m, nxt in zip(minutes, minutes[1:] + [None]):
        start = m if start is None else start
        if nxt != m + 1:
            out.append(f"{start // 60:02d}:{start % 60:02d}–{m // 60:02d}:{m % 60:02d}")
            start = None
    return out


def _lint_split_billing(compiled: CompiledRuleSet, definition: SplitBillingRuleSet, add: _Add) -> None:
    """``definition`` is ``compiled.definition``."""
    if definition.default:
        return
    uncovered = []
    for charge_type in CHARGE_TYPES:
        probe = Test("charge.type", "eq", charge_type)
        if not any(_implies(probe, rule.fires) for rule in compiled.rules):
            uncovered.append(charge_type)
    if uncovered:
        add(("default",), "no default payer, and no rule assigns every charge of type " + ", ".join(uncovered) +
            " whatever its other attributes: such charges may be left without a payer", "error", "noPayer")


__all__ = ["AmountFeed", "DiscountAim", "Finding", "PricesOf", "Version", "condition_references", "discount_aims",
           "discount_price_findings", "amount_feeds", "mixed_currencies", "kind_findings", "lint_rule_book", "reference_findings", "rule_references",
           "rule_set_findings", "rule_set_references", "unknown_references", "version_findings"]
