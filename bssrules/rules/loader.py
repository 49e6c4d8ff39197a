"""Loading rule files: schema per kind, models, conditions, compilation and lint — every
problem positioned as ``file:line:column``, all reported at once — into a
:class:`~bssrules.rules.book.RuleBook`.

Checking is in two steps, so that a project's check can keep the first in a cache:

1. each file alone (:func:`check_rules_file`): schema, model, compilation and the lint of
   each rule set, the facts of each rule test; a rule set in error is still compiled as far
   as it can be read (its other rules, its references are still checked);
2. the files together (:func:`cross_file_diagnostics`): a version defined twice, references
   to the catalog, versions in force at once or ended, rule tests against their rule sets.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from bssrules.catalog.catalog import Catalog, Origin
from bssrules.catalog.checks import CatalogPrice, KnownIds, PriceOf
from bssrules.catalog.loader import CatalogFileCheck
from bssrules.catalog.types import ValidFor
from bssrules.errors import BssRulesError, Diagnostic, did_you_mean
from bssrules.schema_errors import holds_unstorable_text, unstorable_diagnostics
from bssrules.rules.book import RuleBook
from bssrules.rules.compiled import CompiledRuleSet, compile_rule_set
from bssrules.rules.conditions import parse_condition
from bssrules.rules.lint import (
    AmountFeed, DiscountAim, PricesOf, Version, amount_feeds, condition_references, discount_aims,
    discount_price_findings, kind_findings, mixed_currencies, rule_references, rule_set_findings,
    rule_set_references, unknown_references, version_findings, written_condition_references,
)
from bssrules.rules.model import RULE_SET_TYPES, RuleSet, RuleTest
from bssrules.rules.prices import NamedPrice, named_prices, price_book, price_findings
from bssrules.rules.schema import file_check, kind_check
from bssrules.rules.testing import (
    expectation_findings, fact_findings, period_findings, rating_expectation_findings, repeated_totals,
    subscriber_references,
)
from bssrules.schema_errors import Lenient, errors_alone, fields_alone, items_set_aside, lenient_model
from bssrules.yaml_source import Path_, SourceDocument, said_once

Children = Callable[[str], "list[str] | None"]
# The code of an error of a rule test that cannot pass whatever is decided (an expectation
# of the wrong key or type, facts the model does not have): check fails on it; the project
# still loads, and ``bssrules test`` reports it as that test's failure.
TEST_CANNOT_PASS = "testCannotPass"


class FoundRuleSet(NamedTuple):
    """A rule set of a file as far as it could be read."""

    base: Path_  # ("ruleSets", index) in its file
    id: str | None
    kind: str | None  # None: not a kind of rule set (nothing more could be read)
    version: int | None
    valid: bool  # compiled without an error: part of the rule book
    valid_for: tuple[dt.datetime | None, dt.datetime | None] | None  # of a valid rule set
    rule_ids: tuple[str, ...]  # as written, for what rule tests may expect
    references: tuple[tuple[Path_, str, str], ...]  # (path inside it, catalog kind, id)
    asked: tuple[tuple[str, tuple[str, ...] | None], ...]  # compound children the compilation asked for
    prices: tuple[NamedPrice, ...] = ()  # what its rates that name a catalog price state (paths inside it)
    accumulators: tuple[str, ...] = ()  # ids as written, for what rating tests may name
    discounts: tuple[DiscountAim, ...] = ()  # what its discount rules target (paths inside it)
    # its accumulators of measure: amount fed by a rate whose currency is its catalog price's
    amount_feeds: tuple[AmountFeed, ...] = ()
    # of a misspelt kind: the kind it seems to mean (the one suggested), against which its
    # rule tests are checked, so that their errors come in the same run as that of the kind
    meant_kind: str | None = None


class FoundTest(NamedTuple):
    """A rule test of a file as far as it could be read."""

    base: Path_  # ("tests", index) in its file
    rule_set: str | None
    expect: Mapping[str, Any] | None
    valid: bool
    records: tuple[str, ...] | None = None  # of a test that plays records: their ids
    before: tuple[str, ...] = ()  # the accumulators whose totals it gives before
    references: tuple[tuple[Path_, str, str], ...] = ()  # (path inside it, catalog kind, id): its subscriber's


class RulesFileCheck(NamedTuple):
    """What one rules file says on its own: its diagnostics, rule sets and tests."""

    diagnostics: tuple[Diagnostic, ...]
    rule_sets: tuple[FoundRuleSet, ...]
    tests: tuple[FoundTest, ...]


def check_rule_documents(documents: list[SourceDocument], catalog: Catalog | None = None
                         ) -> tuple[RuleBook, list[Diagnostic]]:
    """Compile every rule set of the documents; return them and every diagnostic (errors
    and lint warnings). References to the catalog are checked when one is given."""
    children = _compound_children(catalog) if catalog is not None else None
    checks, compiled, tests = [], [], []
    diagnostics: list[Diagnostic] = []
    for doc in documents:
        check, sets, models = check_rules_file(doc, children)
        checks.append(check)
        compiled.append(sets)
        tests.append(models)
        diagnostics += check.diagnostics
    known = None if catalog is None else (lambda kind: set(catalog.entities.get(kind, {})))
    price_of = None if catalog is None else _catalog_prices(catalog)
    diagnostics += cross_file_diagnostics(checks, lambda i: documents[i], known, price_of=price_of,
                                          prices_of=None if catalog is None or price_of is None
                                          else _offering_prices(catalog, price_of))
    book = build_book(checks, compiled, tests, lambda i: documents[i])
    if catalog is not None:
        price_book(book, catalog)
    return book, diagnostics


def _catalog_prices(catalog: Catalog) -> PriceOf:
    def price_of(id: str) -> CatalogPrice | None:
        price = catalog.prices.get(id)
        if price is None:
            return None
        origin = catalog.origins.get(("productOfferingPrice", id))
        return CatalogPrice(id, price.price_type, price.amount, price.currency, price.unit, price.unit_quantity,
                            f"{origin.file}:{origin.line}" if origin else "the catalog")

    return price_of


def _offering_prices(catalog: Catalog, price_of: PriceOf) -> PricesOf:
    def prices_of(offering_id: str) -> list[CatalogPrice] | None:
        offering = catalog.offerings.get(offering_id)
        if offering is None:
            return None
        prices = [price_of(id) for id in offering.prices]
        return [p for p in prices if p is not None] if all(prices) else None

    return prices_of


def offering_price_lookup(checks: Sequence[CatalogFileCheck], price_of: PriceOf) -> PricesOf:
    """The prices of each valid offering of the catalog files (the first of an id), for the
    checks of the discounts that target it; None for an offering that is unknown or in error,
    or one of whose prices is (its own errors are reported: nothing is checked against it)."""
    price_ids: dict[str, tuple[str, ...] | None] = {}
    for check in checks:
        for entity in check.entities:
            if entity.kind != "productOffering" or entity.id is None or entity.id in price_ids:
                continue
            price_ids[entity.id] = None if not entity.valid or entity.links is None else tuple(
                target for path, kind, target in entity.links.refs if path[:1] == ("prices",))

    def prices_of(offering_id: str) -> list[CatalogPrice] | None:
        ids = price_ids.get(offering_id)
        if ids is None:
            return None
        prices = [price_of(id) for id in ids]
        return [p for p in prices if p is not None] if all(prices) else None

    return prices_of


# ------------------------------------------------------------- one file


def check_rules_file(doc: SourceDocument, children: Children | None = None
                     ) -> tuple[RulesFileCheck, list[CompiledRuleSet | None], list[RuleTest | None]]:
    """Check one rules file alone; the compiled valid rule sets and the valid tests come
    along (None for the others), in the order of the check's ``rule_sets`` and ``tests``.
    ``children`` gives the children of a compound resource specification (the catalog's)."""
    if doc.data is None:
        return RulesFileCheck((), (), ()), [], []
    diagnostics = file_check().diagnostics(doc)
    if doc.may_hold_escapes and holds_unstorable_text(doc.data):  # a NUL or lone surrogate: no database stores it
        diagnostics += unstorable_diagnostics(doc, doc.data)
    rule_sets: list[FoundRuleSet] = []
    compiled: list[CompiledRuleSet | None] = []
    tests: list[FoundTest] = []
    models: list[RuleTest | None] = []
    data = doc.data if isinstance(doc.data, dict) else {}
    for index, raw in enumerate(_list(data.get("ruleSets"))):
        found, rule_set, more = _rule_set(doc, raw, ("ruleSets", index), children)
        rule_sets.append(found)
        compiled.append(rule_set)
        diagnostics += more
    in_error = {d.path[:3] for d in diagnostics}
    for index, raw in enumerate(_list(data.get("tests"))):
        base: Path_ = ("tests", index)
        found_test, test, more = _test(doc, raw, base, in_error)
        tests.append(found_test)
        models.append(test)
        diagnostics += more
    return RulesFileCheck(tuple(said_once(diagnostics, lambda _: doc)), tuple(rule_sets), tuple(tests)), compiled, models


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# Placeholder for a missing or invalid id, so that the rest of a rule set can be read.
_PLACEHOLDERS = {"id": "x"}


class _Asked:
    """The children of compound resource specifications, as asked while compiling."""

    def __init__(self, children: Children | None):
        self.children = children
        self.answers: dict[str, tuple[str, ...] | None] = {}

    def __call__(self, id: str) -> list[str] | None:
        answer = self.children(id) if self.children else None
        self.answers[id] = tuple(answer) if answer else None
        return answer


def _rule_set(doc: SourceDocument, raw: Any, base: Path_, children: Children | None
              ) -> tuple[FoundRuleSet, CompiledRuleSet | None, list[Diagnostic]]:
    raw = raw if isinstance(raw, dict) else {}
    id = raw.get("id") if isinstance(raw.get("id"), str) else None
    kind = raw.get("kind") if isinstance(raw.get("kind"), str) and raw.get("kind") in RULE_SET_TYPES else None
    version = raw.get("version", 1)
    version = version if isinstance(version, int) and not isinstance(version, bool) else None
    rule_ids = tuple(str(r["id"]) for r in _list(raw.get("rules")) if isinstance(r, dict) and "id" in r)
    accumulators = tuple(str(a["id"]) for a in _list(raw.get("accumulators")) if isinstance(a, dict) and "id" in a)
    nothing = FoundRuleSet(base, id, kind, version, False, None, rule_ids, (), (), accumulators=accumulators)
    if kind is None:
        references, diagnostics = _of_unknown_kind(doc, raw, base, children)
        written = raw.get("kind")
        meant = did_you_mean(written, RULE_SET_TYPES) if isinstance(written, str) else None
        return nothing._replace(references=references, meant_kind=meant), None, diagnostics
    problems = kind_check(kind).diagnostics(doc, raw, base)
    read = lenient_model(RULE_SET_TYPES[kind], raw, doc, base, problems, _PLACEHOLDERS, by_item=("rules",))
    repeated = _repeated_ids(doc, raw, base)
    diagnostics = problems + read.more + list(repeated.values())
    rule_set: RuleSet | None = read.partial  # type: ignore[assignment]  # lenient_model of a RuleSet type
    aside = _aside_rules(doc, raw, base, kind, read, diagnostics)
    if read.valid is None:  # what is set aside for an error may hold errors of its own
        diagnostics += errors_alone(RULE_SET_TYPES[kind], raw, doc, base, [d.path for d in diagnostics])
    if rule_set is None:  # not compiled: what compiling checks of the rule set itself is checked here
        diagnostics += _time_zone_problem(doc, raw, base, diagnostics)
        # (none of its conditions was read: each item's are, from what is written)
        return nothing._replace(references=_distinct(aside + _written_conditions(raw, rules=True))), None, \
            diagnostics
    found: list[Diagnostic] = []
    in_conditions: set[Path_] = set()  # the conditions with an error (compiled as ALWAYS)

    def report(path: Path_, message: str, suggestion: str | None = None, at_key: bool = False) -> None:
        found.append(doc.diagnostic(base + read.path(tuple(path)), message, suggestion=suggestion,
                                    code="invalidRule", at_key=at_key))
        if path[:1] == ("appliesTo",) or len(path) >= 3 and path[2] == "when":
            in_conditions.add(tuple(path[:1] if path[0] == "appliesTo" else path[:3]))

    asked = _Asked(children)
    try:
        compiled = compile_rule_set(rule_set, report, asked)
    except BssRulesError as exc:  # the engine refused what was compiled: an error of this rule set
        diagnostics += found + [doc.diagnostic(base, str(exc), code="invalidRule")]
        return nothing, None, diagnostics
    # A repeated rule id was reported above, from what was written (the first use may be a rule
    # set aside): the compiler's report of it is the same error.
    in_error = bool(found) or bool(repeated) or read.valid is None
    found = [d for d in found if d.path not in repeated]
    diagnostics += found
    written = [reference for at in sorted(in_conditions, key=str)
               for reference in written_condition_references(_at(raw, read.path(at)), at)]
    references = tuple((read.path(path), k, i) for path, k, i in rule_set_references(rule_set, compiled) + written)
    # (a rule set in error: its partial model may hold none of its accumulators and prerequisites)
    references = _distinct(references + aside + (_written_conditions(raw) if read.valid is None else ()))
    valid = not in_error
    # Lint of a rule set in error: only what each rule says wrong of itself (tiers, pairs of
    # rules that contradict each other), not what the rules set aside could change.
    for finding in rule_set_findings(compiled, whole=valid, accumulators=accumulators):
        diagnostics.append(doc.diagnostic(base + read.path(finding.path), finding.message, code=finding.code,
                                          severity=finding.severity))
    period = (rule_set.valid_for.start, rule_set.valid_for.end) if valid else None
    prices = tuple((read.path(path), id, amount, currency, per) for path, id, amount, currency, per
                   in named_prices(rule_set))
    discounts = tuple((read.path(path), *rest) for path, *rest in discount_aims(rule_set))
    feeds = tuple(feed for feed in amount_feeds(compiled)
                  if any(currency is None and price is not None for _, currency, price in feed[2]))
    return (FoundRuleSet(base, rule_set.id if valid else id, kind, rule_set.version if valid else version, valid,
                         period, rule_ids, references, tuple(asked.answers.items()), prices, accumulators,
                         discounts, feeds),  # type: ignore[arg-type]  # a DiscountAim rebuilt with its path read
            compiled if valid else None, diagnostics)


def _written_conditions(raw: dict[str, Any], rules: bool = False) -> tuple[tuple[Path_, str, str], ...]:
    """The references of the conditions of a rule set's accumulators and prerequisites (and of
    its rules, with ``rules``: a rule set none of whose items was read), from what is written:
    where the rule set has an error its model may hold none of them, and the unknown offering
    such a condition names was said only once the other error was fixed."""
    found: list[tuple[Path_, str, str]] = []
    for name in ("accumulators", "prerequisites") + (("rules",) if rules else ()):
        for index, item in enumerate(_list(raw.get(name))):
            if isinstance(item, dict):
                found += written_condition_references(item.get("when"), (name, index, "when"))
    return tuple(found)


def _distinct(references: tuple[tuple[Path_, str, str], ...]) -> tuple[tuple[Path_, str, str], ...]:
    return tuple(dict.fromkeys(references))


def _at(data: Any, path: Path_) -> Any:
    """The value at ``path`` in what is written (None where there is none)."""
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _time_zone_problem(doc: SourceDocument, raw: dict[str, Any], base: Path_, diagnostics: list[Diagnostic]
                       ) -> list[Diagnostic]:
    """An unknown ``timeZone`` of a rule set that could not be compiled (compiling says it of the others)."""
    zone = raw.get("timeZone")
    if not isinstance(zone, str) or any(d.path == base + ("timeZone",) for d in diagnostics):
        return []
    try:
        ZoneInfo(zone)
        return []
    except (ZoneInfoNotFoundError, ValueError):
        suggestion = did_you_mean(zone, available_timezones())
        return [doc.diagnostic(base + ("timeZone",), f"unknown time zone '{zone}'" +
                               ("" if suggestion else " (use an IANA name such as Europe/Paris)"),
                               suggestion=suggestion, code="invalidRule")]


def _of_unknown_kind(doc: SourceDocument, raw: dict[str, Any], base: Path_, children: Children | None
                     ) -> tuple[tuple[tuple[Path_, str, str], ...], list[Diagnostic]]:
    """The references and errors of a rule set whose ``kind`` is not one (its own error, said
    by the file's schema): read as the kind it is close to (``eligibilty``: eligibility), it
    has everything else checked — the kind is what says the fields of its rules; read as no
    kind, only what every kind shares is: repeated ids, and the rules' conditions."""
    written = raw.get("kind")
    meant = did_you_mean(written, RULE_SET_TYPES) if isinstance(written, str) else None
    if meant is not None:
        found, _, diagnostics = _rule_set(doc, {**raw, "kind": meant}, base, children)
        # Its warnings wait until the kind is right: they speak of a rule set that may then be another.
        return found.references, [d for d in diagnostics if d.severity == "error" and d.path != base + ("kind",)]
    diagnostics = list(_repeated_ids(doc, {"rules": raw.get("rules")}, base).values())
    references: list[tuple[Path_, str, str]] = []

    def report(at: Path_, message: str, suggestion: str | None = None, at_key: bool = False) -> None:
        diagnostics.append(doc.diagnostic(base + tuple(at), message, suggestion=suggestion, code="invalidRule",
                                          at_key=at_key))

    for index, rule in enumerate(_list(raw.get("rules"))):
        when = rule.get("when") if isinstance(rule, dict) else None
        if isinstance(when, dict):
            condition = parse_condition(when, ("rules", index, "when"), report)
            references += condition_references(condition) if condition is not None else \
                written_condition_references(when, ("rules", index, "when"))
    return tuple(references), diagnostics


# The lists of a rule set whose items are told apart by their id (rating and the rule tests
# look them up by it): a repeated id would hide the first item.
_KEYED = (("rules", "rule id"), ("accumulators", "accumulator id"), ("prerequisites", "prerequisite id"))


def _repeated_ids(doc: SourceDocument, raw: dict[str, Any], base: Path_) -> dict[Path_, Diagnostic]:
    """An id written twice in a rule set (of a rule, accumulator, prerequisite; of a threshold
    in its accumulator; a payer role in the shares of a rule) and thresholds listed out of
    order, each at the item in error, by its path: read from what is written, so that the
    first item is counted even when it is in error."""
    found: dict[Path_, Diagnostic] = {}
    for name, noun in _KEYED:
        found.update(_repeats(doc, _list(raw.get(name)), base + (name,), "id", noun))
    for index, accumulator in enumerate(_list(raw.get("accumulators"))):
        if not isinstance(accumulator, dict):
            continue
        where = base + ("accumulators", index, "thresholds")
        owner = accumulator.get("id")
        within = f" in accumulator '{owner}'" if isinstance(owner, str) else ""
        thresholds = _list(accumulator.get("thresholds"))
        found.update(_repeats(doc, thresholds, where, "id", "threshold id", within))
        found.update(_out_of_order(doc, thresholds, where))
    for index, rule in enumerate(_list(raw.get("rules"))):
        if isinstance(rule, dict):
            found.update(_repeats(doc, _list(rule.get("shares")), base + ("rules", index, "shares"), "payer",
                                  "payer role", " in shares"))
    return found


def _repeats(doc: SourceDocument, items: list[Any], where: Path_, key: str, noun: str, within: str = ""
             ) -> dict[Path_, Diagnostic]:
    """Each item of ``items`` (the list at ``where``) whose ``key`` an earlier item has."""
    first: dict[str, int] = {}
    found: dict[Path_, Diagnostic] = {}
    for index, item in enumerate(items):
        value = item.get(key) if isinstance(item, dict) else None
        if not isinstance(value, str):
            continue
        if value in first:
            path = where + (index, key)
            line = doc.position(where + (first[value],))[0]
            # (the first is in the same file: its line only — the check's cache keeps a file's
            # findings by its content, which a copy or a move of the file keeps too)
            found[path] = doc.diagnostic(path, f"duplicate {noun} '{value}'{within} (first defined at "
                                               f"line {line})", code="duplicateId")
        else:
            first[value] = index
    return found


def _level(value: Any) -> Decimal | None:
    """A threshold's ``at`` as written, when it is a valid level, a finite number > 0 (its errors
    are the model's: a level in error is not also out of order)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() and number > 0 else None


def _out_of_order(doc: SourceDocument, thresholds: list[Any], where: Path_) -> dict[Path_, Diagnostic]:
    """Each threshold (of the list at ``where``) whose ``at`` is below that of one listed before it."""
    found: dict[Path_, Diagnostic] = {}
    highest: tuple[Decimal, int] | None = None
    for index, threshold in enumerate(thresholds):
        at = _level(threshold.get("at")) if isinstance(threshold, dict) else None
        if at is None:
            continue
        if highest is None or at >= highest[0]:
            highest = (at, index)
            continue
        above = thresholds[highest[1]]
        path = where + (index, "at")
        found[path] = doc.diagnostic(
            path, f"thresholds must be listed from the lowest to the highest: {_threshold_name(threshold)} at "
                  f"{threshold['at']} comes after {_threshold_name(above)} at {above['at']} "
                  f"(line {doc.position(where + (highest[1],))[0]})", code="thresholdOrder")
    return found


def _threshold_name(threshold: dict[str, Any]) -> str:
    id = threshold.get("id")
    return f"threshold '{id}'" if isinstance(id, str) else "a threshold"


def _aside_rules(doc: SourceDocument, raw: dict[str, Any], base: Path_, kind: str, read: Lenient[Any],
                 diagnostics: list[Diagnostic]) -> tuple[tuple[Path_, str, str], ...]:
    """The references made by the rules set aside (in error), from their fields that are valid
    on their own; their conditions are read too, their problems added to ``diagnostics``."""
    references: list[tuple[Path_, str, str]] = []
    for index, rule in items_set_aside(RULE_SET_TYPES[kind], raw, read).get("rules", {}).items():
        path: Path_ = ("rules", index)
        references += rule_references(rule, path)
        when = getattr(rule, "when", None)
        if when is None:
            continue

        def report(at: Path_, message: str, suggestion: str | None = None, at_key: bool = False) -> None:
            diagnostics.append(doc.diagnostic(base + tuple(at), message, suggestion=suggestion, code="invalidRule",
                                              at_key=at_key))

        condition = parse_condition(when, path + ("when",), report)
        references += condition_references(condition) if condition is not None else \
            written_condition_references(when, path + ("when",))
    return tuple(references)


def _test(doc: SourceDocument, raw: Any, base: Path_, in_error: set[Path_]
          ) -> tuple[FoundTest, RuleTest | None, list[Diagnostic]]:
    raw = raw if isinstance(raw, dict) else {}
    rule_set = raw.get("ruleSet") if isinstance(raw.get("ruleSet"), str) else None
    expect = raw.get("expect") if isinstance(raw.get("expect"), dict) else None
    # What is in error is not checked again against the rule set.
    rule_set = None if base + ("ruleSet",) in in_error else rule_set
    expect = None if base + ("expect",) in in_error else expect
    # Read from what is written, so that they are said with the test's other errors.
    repeated = _repeated_totals(doc, raw, base)
    references = tuple(subscriber_references(raw.get("subscriber")))
    if base in in_error or any(p[:2] == base for p in in_error):
        return (_test_in_error(raw, base, rule_set, expect, in_error)._replace(references=references), None,
                repeated + _facts_of_test_in_error(doc, raw, base, in_error))
    read = lenient_model(RuleTest, raw, doc, base, [])
    if read.valid is None:
        in_error = {d.path[:3] for d in read.more}
        expect = None if base + ("expect",) in in_error else expect
        return (_test_in_error(raw, base, rule_set, expect, in_error)._replace(references=references), None,
                read.more + repeated + _facts_of_test_in_error(doc, raw, base, in_error))
    test = read.valid
    # Facts the test cannot be decided with are errors of the project; the test itself stays
    # a test (run, it says the same).
    more = [doc.diagnostic(base + path, message, suggestion=suggestion, code=TEST_CANNOT_PASS)
            for path, message, suggestion in fact_findings(test)]
    records = tuple(r.id for r in test.records) if test.records is not None else None
    return FoundTest(base, test.rule_set, test.expect, True, records, tuple(t.accumulator for t in test.accumulators),
                     references), test, repeated + more


def _repeated_totals(doc: SourceDocument, raw: dict[str, Any], base: Path_) -> list[Diagnostic]:
    """Each total given before the records that repeats an earlier one's accumulator and
    period, at the repetition, with where the first is (as the catalog says a repeated entry):
    an error of the test, which is not run (which of the two should count?)."""
    found = []
    for index, first, shown in repeated_totals(raw.get("accumulators")):
        line, column = doc.position(base + ("accumulators", first))
        found.append(doc.diagnostic(base + ("accumulators", index), f"accumulator total listed more than once: "
                                    f"{shown} (first at line {line}, column {column})", code="duplicateId"))
    return found


def _test_in_error(raw: dict[str, Any], base: Path_, rule_set: str | None, expect: Mapping[str, Any] | None,
                   in_error: set[Path_]) -> FoundTest:
    """A test in error as far as it is written: one that plays records (whatever is wrong in
    them) stays one, with the ids written, so that its expectations are checked as a rating
    test's, not reported as those of a decision."""
    if "records" not in raw:
        return FoundTest(base, rule_set, expect, False)
    records = tuple(dict.fromkeys(str(r["id"]) for r in _list(raw["records"])
                                  if isinstance(r, dict) and isinstance(r.get("id"), (str, int))))
    before = () if base + ("accumulators",) in in_error else tuple(
        a["accumulator"] for a in _list(raw.get("accumulators"))
        if isinstance(a, dict) and isinstance(a.get("accumulator"), str))
    return FoundTest(base, rule_set, expect, False, records, before)


def _facts_of_test_in_error(doc: SourceDocument, raw: dict[str, Any], base: Path_, in_error: set[Path_]
                            ) -> list[Diagnostic]:
    """The facts and ``asOf`` of a decision test in error, when they are not what is in error:
    checked all the same (a test that plays records takes none)."""
    if "records" in raw:  # (a period written as one but not of the calendar is not the schema's error)
        return [doc.diagnostic(base + path, message, code=TEST_CANNOT_PASS)
                for path, message, _ in period_findings(raw.get("accumulators"))]
    fields = {k: v for k, v in raw.items() if k in ("given", "asOf") and base + (k,) not in in_error}
    test = fields_alone(RuleTest, fields, require=None)
    if test is None:
        return []
    return [doc.diagnostic(base + path, message, suggestion=suggestion, code=TEST_CANNOT_PASS)
            for path, message, suggestion in fact_findings(test)]


# ------------------------------------------------------------- the files together


def cross_file_diagnostics(checks: Sequence[RulesFileCheck], document: Callable[[int], SourceDocument],
                           known_ids: KnownIds | None = None, also_rule_sets: set[str] | frozenset[str] = frozenset(),
                           today: dt.date | None = None, price_of: PriceOf | None = None,
                           prices_of: PricesOf | None = None) -> list[Diagnostic]:
    """A version defined twice, references to the catalog (when ``known_ids`` gives its ids),
    rates that disagree with the catalog price they name (when ``price_of`` gives the prices),
    discounts that can alter no price of the offering they target (when ``prices_of`` gives
    the prices of an offering),
    findings across versions, and rule tests against their rule sets (``also_rule_sets``:
    ids a file that could not be parsed seems to declare). The file of ``checks[i]`` is
    ``document(i)``, asked for only where a problem is."""
    diagnostics: list[Diagnostic] = []
    first: dict[tuple[str, int], tuple[int, Path_]] = {}
    versions: dict[str, list[Version]] = {}
    kinds: dict[str, list[tuple[int, str]]] = {}  # of every version whose kind is known, valid or not
    where: dict[tuple[str, int], tuple[int, Path_]] = {}
    for number, check in enumerate(checks):
        for found in check.rule_sets:
            if known_ids is not None:
                for path, message, suggestion in unknown_references(found.references, known_ids):
                    diagnostics.append(document(number).diagnostic(found.base + path, message, suggestion=suggestion,
                                                                   code="unknownReference"))
            for named in found.prices:
                if price_of is None:  # no catalog: a rate cannot leave anything to a price
                    path, id, amount, currency, _ = named
                    if amount is None or currency is None:
                        diagnostics.append(document(number).diagnostic(
                            found.base + path + ("price",), f"the rate leaves its {'amount' if amount is None else 'currency'}"
                            f" to the catalog price '{id}', but there is no catalog", code="unknownReference"))
                    continue
                for path, message in price_findings(named, price_of(named[1])):
                    diagnostics.append(document(number).diagnostic(found.base + path, message, code="priceDisagrees"))
            for feed in found.amount_feeds:
                if price_of is None or mixed_currencies(feed) is not None:  # no prices, or said with the rule set
                    continue
                mixed = mixed_currencies(feed, lambda id: getattr(price_of(id), "currency", None))
                if mixed is not None:
                    diagnostics.append(document(number).diagnostic(found.base + feed[0], mixed,
                                                                   code="mixedCurrencies"))
            for aim in found.discounts:
                if prices_of is None:  # no catalog: nothing to check a discount against
                    break
                for path, message, severity in discount_price_findings(aim, prices_of(aim[2])):
                    diagnostics.append(document(number).diagnostic(found.base + path, message, code="discountPrice",
                                                                   severity=severity))
            if found.id is None or found.version is None or found.kind is None:
                continue
            key = (found.id, found.version)
            if key in first:
                first_doc, (first_number, first_base) = document(first[key][0]), first[key]
                diagnostics.append(document(number).diagnostic(
                    found.base + ("version",), f"rule set '{found.id}' version {found.version} is defined twice "
                                               f"(first at {first_doc.file}:{first_doc.position(first_base)[0]})",
                    code="duplicateId"))
                continue
            first[key] = (number, found.base)
            kinds.setdefault(found.id, []).append((found.version, found.kind))
            where[key] = (number, found.base)
            if found.valid and found.valid_for is not None:
                start, end = found.valid_for
                versions.setdefault(found.id, []).append(Version(found.id, found.version,
                                                                 ValidFor(start=start, end=end)))
    for finding in kind_findings(kinds) + version_findings(versions, today):
        number, base = where[(finding.rule_set, finding.version)]
        diagnostics.append(document(number).diagnostic(base + finding.path, finding.message, code=finding.code,
                                                       severity=finding.severity))
    if known_ids is not None:  # the offerings the subscriber of a rating test names
        for number, check in enumerate(checks):
            for test in check.tests:
                for path, message, suggestion in unknown_references(test.references, known_ids):
                    diagnostics.append(document(number).diagnostic(test.base + path, message, suggestion=suggestion,
                                                                   code="unknownReference"))
    diagnostics += _test_diagnostics(checks, document, also_rule_sets)
    return diagnostics


def _test_diagnostics(checks: Sequence[RulesFileCheck], document: Callable[[int], SourceDocument],
                      also_rule_sets: set[str] | frozenset[str]) -> list[Diagnostic]:
    kinds: dict[str, str] = {}
    first_version: dict[str, int] = {}
    rule_ids: dict[str, set[str]] = {}
    accumulators: dict[str, set[str]] = {}
    named = set(also_rule_sets)  # every rule set id written, even of a rule set whose kind is wrong
    misspelt: dict[str, FoundRuleSet] = {}  # of each id the versions of no known kind, the first kept
    for check in checks:
        for found in check.rule_sets:
            if found.id is not None:
                named.add(found.id)
            if found.id is not None and found.kind is None:
                misspelt.setdefault(found.id, found)
            if found.id is not None and found.kind is not None:
                # the kind of the first version (another kind of a later one is its error)
                version = found.version if found.version is not None else 0
                if found.id not in kinds or version < first_version[found.id]:
                    kinds[found.id], first_version[found.id] = found.kind, version
                rule_ids.setdefault(found.id, set()).update(found.rule_ids)
                accumulators.setdefault(found.id, set()).update(found.accumulators)
    for id, found in misspelt.items():
        if id not in kinds:
            rule_ids[id], accumulators[id] = set(found.rule_ids), set(found.accumulators)
    diagnostics: list[Diagnostic] = []
    for number, check in enumerate(checks):
        for test in check.tests:
            if test.rule_set is None:
                continue
            kind = kinds.get(test.rule_set) or _meant_kind(misspelt.get(test.rule_set), test)
            if kind is None:
                if test.rule_set not in named:  # a rule set of no known kind has its own error
                    diagnostics.append(document(number).diagnostic(
                        test.base + ("ruleSet",), f"unknown rule set '{test.rule_set}'",
                        suggestion=did_you_mean(test.rule_set, named), code="unknownReference"))
                continue
            if test.records is not None:
                its = accumulators[test.rule_set]  # (not ``named``: that is of the rule sets, for the next tests)
                for i, name in enumerate(test.before):
                    if kind == "usage" and name not in its:
                        diagnostics.append(document(number).diagnostic(
                            test.base + ("accumulators", i, "accumulator"),
                            f"rule set '{test.rule_set}' has no accumulator '{name}'",
                            suggestion=did_you_mean(name, its), code=TEST_CANNOT_PASS))
            if test.expect is None:
                continue
            findings = expectation_findings(kind, test.expect, rule_ids[test.rule_set], test.rule_set) \
                if test.records is None else rating_expectation_findings(
                    kind, test.expect, test.records, rule_ids[test.rule_set], accumulators[test.rule_set],
                    test.rule_set)
            for path, message, suggestion in findings:
                diagnostics.append(document(number).diagnostic(test.base + path, message, suggestion=suggestion,
                                                               code=TEST_CANNOT_PASS))
    return diagnostics


def _meant_kind(found: FoundRuleSet | None, test: FoundTest) -> str | None:
    """The kind a test of a rule set whose kind is misspelt (and of no version of a known kind)
    is checked against, so that the errors of the test come in the same run as that of the
    kind, not once it is fixed: the kind suggested for it, else, for a test that plays records,
    usage (the only kind such a test can test); None: nothing to check the test against."""
    if found is None:
        return None
    return found.meant_kind or ("usage" if test.records is not None else None)


def build_book(checks: Sequence[RulesFileCheck], compiled: Sequence[Sequence[CompiledRuleSet | None]],
               tests: Sequence[Sequence[RuleTest | None]], document: Callable[[int], SourceDocument]) -> RuleBook:
    """The rule book of the valid rule sets (the first of an id and version) and of the valid
    tests of those, each with where it was authored."""
    book = RuleBook()
    for number, (check, sets) in enumerate(zip(checks, compiled)):
        for found, rule_set in zip(check.rule_sets, sets):
            if rule_set is not None and (rule_set.id, rule_set.definition.version) not in book.origins:
                doc = document(number)
                book.add(rule_set, Origin(doc.file, doc.position(found.base)[0]))
    for number, (check, models) in enumerate(zip(checks, tests)):
        for found_test, test in zip(check.tests, models):
            if test is not None and test.rule_set in book.versions:
                doc = document(number)
                book.tests.append((test, Origin(doc.file, doc.position(found_test.base)[0])))
    return book


def _compound_children(catalog: Catalog) -> Children:
    def children(resource_spec_id: str) -> list[str] | None:
        spec = catalog.resource_specifications.get(resource_spec_id)
        return list(spec.children) if spec and spec.children else None

    return children


# RuleBook is defined in bssrules.rules.book; it stays importable from here for its callers.
__all__ = ["RuleBook", "check_rule_documents", "offering_price_lookup", "check_rules_file", "cross_file_diagnostics", "build_book",
           "FoundRuleSet", "FoundTest", "RulesFileCheck"]
