"""Rule tests written as data next to the rules: given facts, the decision expected.

What a test may expect of each kind of decision, and of what type, is :data:`EXPECTATIONS`:
``bssrules check`` holds every test to it (and its facts to the fact model) so that a test
cannot pass the check and then fail on its own spelling.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Collection, Mapping, NamedTuple

from bssrules.catalog.catalog import Origin
from bssrules.catalog.types import parse_instant
from bssrules.errors import BssRulesError, did_you_mean
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, RatedUsage, RatingState, Subscriber, UsageRecord,
)
from bssrules.rules.book import RuleBook
from bssrules.rules.decisions import Decision, decide, fact_values
from bssrules.rules.facts import FACT_ATTRIBUTES, FactError, typed_facts, unknown_fact_paths
from bssrules.rules.model import RuleTest, TestSubscriber


def summary(decision: Decision) -> dict[str, Any]:
    """The comparable face of a decision: what ``expect`` may state, per kind."""
    out = decision.outcome
    if decision.kind == "eligibility":
        return {"qualified": out["qualified"], "reasons": [r["code"] for r in out["reasons"]],
                "rules": [r["rule"] for r in out["reasons"]],
                "alternates": [r["alternate"] for r in out["reasons"] if "alternate" in r]}
    if decision.kind == "compatibility":
        return {"valid": out["valid"], "violations": [v["rule"] for v in out["violations"]]}
    if decision.kind == "usage":
        result = {"status": out["status"], "rule": out.get("rule"),
                  "reasons": [r["code"] for r in out.get("reasons", [])],
                  "provisioningId": out.get("provisioningId")}
        if "rate" in out:
            result["amount"] = out["rate"].get("amount")
        return result
    if decision.kind == "splitBilling":  # (shares: role -> weight as the rule writes them; None: one role pays)
        shares = {share["payer"]: share["weight"] for share in out.get("shares", ())}
        return {"payer": out["payer"], "rule": out["rule"], "shares": shares or None}
    if decision.kind == "settlement":
        return {"rules": [line["rule"] for line in out["lines"]]}
    if decision.kind == "routing":
        return {"assignTo": out["assignTo"], "rule": out["rule"]}
    if decision.kind == "discount":
        return {"discounts": out["discounts"]}
    return {"violated": out["violated"], "violations": [v["rule"] for v in out["violations"]],
            "severities": [v["severity"] for v in out["violations"]]}


class Expected(NamedTuple):
    """The type of one expectation: what it is, as said in messages, and the test of a value."""

    what: str
    accepts: Callable[[Any], bool]
    rules: str = ""  # "one" or "list": the value names rules of the rule set ("default" too for "one")
    options: tuple[str, ...] = ()
    why: Callable[[Any], "str | None"] | None = None  # what is wrong with a value it does not accept, if more is to say


def _text(value: Any) -> bool:  # compared as written; a number is compared as a number
    return value is not None and not isinstance(value, (bool, list, dict))


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(_text(v) for v in value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


_PERIOD = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
PERIOD_FORM = "a month (YYYY-MM) or a day (YYYY-MM-DD)"


def _not_in_calendar(value: Any) -> str | None:
    """Why ``value``, written as a period, is no month or day of the calendar (None: it is one,
    or it is not written as a period at all)."""
    match = _PERIOD.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None and month is not None
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    try:
        dt.date(year, month, day or 1)
    except ValueError:
        return f"there is no year {year}" if year < dt.MINYEAR else f"{year:04d}-{month:02d} has no day {day}"
    return None


def _period(value: Any) -> bool:
    return isinstance(value, str) and _PERIOD.match(value) is not None and _not_in_calendar(value) is None


def _shares(value: Any) -> bool:
    return value is None or isinstance(value, dict) and bool(value) and all(
        _text(role) and _number(weight) and weight > 0 for role, weight in value.items())


BOOLEAN = Expected("true or false", lambda v: isinstance(v, bool))
TEXTS = Expected("a list of codes or ids", _texts)
RULES = Expected("a list of rule ids", _texts, rules="list")
RULE = Expected("a rule id (or nothing)", lambda v: v is None or _text(v), rules="one")
TEXT = Expected("an id (or nothing)", lambda v: v is None or _text(v))

# What a rule test may expect of each kind of decision (the keys of :func:`summary`).
EXPECTATIONS: dict[str, dict[str, Expected]] = {
    "eligibility": {"qualified": BOOLEAN, "reasons": TEXTS, "rules": RULES, "alternates": TEXTS},
    "compatibility": {"valid": BOOLEAN, "violations": RULES},
    "usage": {"status": Expected("rated or rejected", lambda v: v in ("rated", "rejected"),
                                 options=("rated", "rejected")),
              "rule": RULE, "reasons": TEXTS, "provisioningId": TEXT, "amount": Expected("a number", _number)},
    "splitBilling": {"payer": TEXT, "rule": RULE,
                     "shares": Expected("a mapping of payer role to weight ({holder: 70, employer: 30}), or nothing",
                                        _shares)},
    "settlement": {"rules": RULES},
    "routing": {"assignTo": TEXT, "rule": RULE},
    "discount": {"discounts": RULES},
    "sla": {"violated": BOOLEAN, "violations": RULES, "severities": TEXTS},
}

# What a rating test may expect of each record it plays, and of each accumulator total after.
RECORD_EXPECTATIONS: dict[str, Expected] = {
    "status": Expected("rated or rejected", lambda v: v in ("rated", "rejected"), options=("rated", "rejected")),
    "rule": RULE, "charge": Expected("a number", _number), "ratedVolume": Expected("a number", _number),
    "refusedVolume": Expected("a number", _number), "billed": Expected("a number", _number),
    "reasons": TEXTS, "events": Expected("a list of accumulator/threshold ids", _texts),
}
TOTAL_EXPECTATIONS: dict[str, Expected] = {
    "accumulator": Expected("an accumulator id", _text), "period": Expected(PERIOD_FORM, _period, why=_not_in_calendar),
    "volume": Expected("a number", _number), "amount": Expected("a number", _number), "reached": TEXTS,
}
RATING_EXPECTATIONS = ("records", "accumulators")

TestFinding = tuple[tuple[str | int, ...], str, "str | None"]  # (path inside the test, message, suggestion)


def _unknown_key(key: str, kind: str) -> tuple[str, str | None]:
    face = EXPECTATIONS[kind]
    hint = did_you_mean(key, face)
    article = "an" if kind == "eligibility" else "a"  # a usage, a compatibility …
    return (f"'{key}' cannot be expected of {article} {kind} decision"
            + ("" if hint else f"; use one of: {', '.join(face)}")), hint


def expectation_findings(kind: str, expect: Mapping[str, Any], rule_ids: Collection[str],
                         rule_set: str = "") -> list[TestFinding]:
    """What is wrong with the ``expect`` of a test of a rule set of that kind whose rules are
    ``rule_ids`` (empty: not known, not checked): keys it cannot expect, values of the wrong
    type, rules it does not have."""
    found: list[TestFinding] = []
    face = EXPECTATIONS.get(kind)
    if face is None:
        return found
    for key, value in expect.items():
        expected = face.get(key)
        if expected is None:
            message, hint = _unknown_key(key, kind)
            found.append((("expect", key), message, hint))
        elif not expected.accepts(value):
            found.append((("expect", key), f"expected {expected.what} for '{key}', got {_written(value)}",
                          did_you_mean(str(value), expected.options) if expected.options else None))
        elif expected.rules and rule_ids:
            named = [(("expect", key), value)] if expected.rules == "one" else \
                [(("expect", key, i), item) for i, item in enumerate(value)]
            for path, rule in named:
                if rule is not None and str(rule) not in rule_ids and not (expected.rules == "one" and rule == "default"):
                    found.append((path, f"rule set '{rule_set}' has no rule '{rule}'",
                                  did_you_mean(str(rule), rule_ids)))
    return found


def rating_expectation_findings(kind: str, expect: Mapping[str, Any], records: Collection[str],
                                rule_ids: Collection[str], accumulators: Collection[str] | None,
                                rule_set: str = "") -> list[TestFinding]:
    """What is wrong with the ``expect`` of a test that plays ``records`` (their ids) against a
    rule set of that kind, whose rules and accumulators are given (None: not known, not
    checked): keys it cannot expect, values of the wrong type, records it does not play,
    rules and accumulators the rule set does not have."""
    if kind != "usage":
        return [(("records",), f"only a usage rule set rates records; '{rule_set}' is a {kind} rule set", None)]
    found: list[TestFinding] = []
    for key, value in expect.items():
        if key not in RATING_EXPECTATIONS:
            hint = did_you_mean(key, RATING_EXPECTATIONS)
            found.append((("expect", key), f"'{key}' cannot be expected of a test that plays records"
                          + ("" if hint else f"; use one of: {', '.join(RATING_EXPECTATIONS)}"), hint))
        elif key == "records":
            found += _record_findings(value, records, rule_ids, rule_set)
        else:
            found += _total_findings(value, accumulators, rule_set)
    return found


def _typed(path: tuple[str | int, ...], item: Mapping[str, Any], face: Mapping[str, Expected], what: str
           ) -> list[TestFinding]:
    found: list[TestFinding] = []
    for key, value in item.items():
        expected = face.get(key)
        if expected is None:
            hint = did_you_mean(str(key), face)
            found.append((path + (key,), f"'{key}' cannot be expected of {what}"
                          + ("" if hint else f"; use one of: {', '.join(face)}"), hint))
        elif not expected.accepts(value):
            why = expected.why(value) if expected.why else None
            found.append((path + (key,), f"expected {expected.what} for '{key}', got {_written(value)}"
                          + (f": {why}" if why else ""),
                          did_you_mean(str(value), expected.options) if expected.options else None))
    return found


def _record_findings(value: Any, records: Collection[str], rule_ids: Collection[str], rule_set: str
                     ) -> list[TestFinding]:
    if not isinstance(value, dict):
        return [(("expect", "records"), "expected a mapping of record id to what rating makes of it, got "
                                        f"{_written(value)}", None)]
    found: list[TestFinding] = []
    for id, item in value.items():
        path: tuple[str | int, ...] = ("expect", "records", id)
        if str(id) not in records:
            found.append((path, f"the test plays no record '{id}'", did_you_mean(str(id), records)))
        elif not isinstance(item, dict):
            found.append((path, f"expected a mapping of what rating makes of record '{id}', got {_written(item)}", None))
        else:
            found += _typed(path, item, RECORD_EXPECTATIONS, "a rated record")
            rule = item.get("rule")
            if rule is not None and rule_ids and _text(rule) and str(rule) not in rule_ids:
                found.append((path + ("rule",), f"rule set '{rule_set}' has no rule '{rule}'",
                              did_you_mean(str(rule), rule_ids)))
    return found


def _total_findings(value: Any, accumulators: Collection[str] | None, rule_set: str) -> list[TestFinding]:
    if not isinstance(value, list):
        return [(("expect", "accumulators"), f"expected a list of accumulator totals, got {_written(value)}", None)]
    found: list[TestFinding] = []
    for i, item in enumerate(value):
        path: tuple[str | int, ...] = ("expect", "accumulators", i)
        if not isinstance(item, dict):
            found.append((path, f"expected an accumulator total (accumulator, period, volume, amount, reached), "
                                f"got {_written(item)}", None))
            continue
        found += _typed(path, item, TOTAL_EXPECTATIONS, "an accumulator total")
        missing = [k for k in ("accumulator", "period") if k not in item]
        if missing:
            found.append((path, f"an accumulator total names its {' and its '.join(missing)}", None))
        name = item.get("accumulator")
        if accumulators is not None and _text(name) and str(name) not in accumulators:
            found.append((path + ("accumulator",), f"rule set '{rule_set}' has no accumulator '{name}'",
                          did_you_mean(str(name), accumulators)))
    return found


def _written(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a mapping"
    return _shown(value)


def fact_findings(test: RuleTest) -> list[TestFinding]:
    """What would stop a test from being decided or rated at all: facts the model does not
    have or of the wrong type, an ``asOf`` that is no date, a ``now`` that contradicts it; a
    total given before its records for a period that is no month or day of the calendar."""
    return given_findings(test.given, test.as_of) + period_findings(
        [{"period": total.period} for total in test.accumulators])


def period_findings(totals: Any) -> list[TestFinding]:
    """The totals given before the records (as written: the others are the schema's) whose
    period is written as one but is no month or day of the calendar, each at its period."""
    found: list[TestFinding] = []
    for i, total in enumerate(totals if isinstance(totals, list) else []):
        message = _period_problem(total.get("period")) if isinstance(total, dict) else None
        if message:
            found.append((("accumulators", i, "period"), message, None))
    return found


def repeated_totals(totals: Any) -> list[tuple[int, int, str]]:
    """The totals given before the records (as written) that repeat an earlier one's
    accumulator and period — rating would keep the last alone —, each as (its index, the
    index of the first, the two said as ``budget 2026-06``)."""
    first: dict[tuple[str, str], int] = {}
    found: list[tuple[int, int, str]] = []
    for i, total in enumerate(totals if isinstance(totals, list) else []):
        if not isinstance(total, dict) or not all(isinstance(total.get(k), str) for k in ("accumulator", "period")):
            continue
        key = (total["accumulator"].strip(), total["period"].strip())
        if key in first:
            found.append((i, first[key], " ".join(key)))
        else:
            first[key] = i
    return found


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")  # (another text is an error of the schema's)


def subscriber_references(subscriber: Any) -> list[tuple[tuple[str | int, ...], str, str]]:
    """(path in the test, catalog kind, id) of the offerings the subscriber of a rating test
    names (as written): its ``offering`` and its ``activeOfferings``, catalog offering ids."""
    if not isinstance(subscriber, dict):
        return []
    named: list[tuple[tuple[str | int, ...], Any]] = [(("subscriber", "offering"), subscriber.get("offering"))]
    offerings = subscriber.get("activeOfferings")
    named += [(("subscriber", "activeOfferings", i), id) for i, id in
              enumerate(offerings if isinstance(offerings, list) else [])]
    return [(path, "productOffering", id) for path, id in named if isinstance(id, str) and _ID.match(id)]


def _period_problem(period: Any, key: str = "") -> str | None:
    """What is wrong with the period of a total (given, or ``key`` of an expected one) that is
    written as a period but is no month or day of the calendar: the check and the run say it
    alike (the model holds its form, 2026-06 or 2026-06-20; an expected one, :func:`_typed`)."""
    why = _not_in_calendar(period)
    return f"expected {PERIOD_FORM}{f' for {key!r}' if key else ''}, got {_written(period)}: {why}" if why else None


def _known_facts(path: str) -> str:
    """What may be written instead of an unknown fact attribute that is close to none: the
    attributes of its fact, or the facts."""
    fact = path.split(".")[0]
    attributes = sorted(a for a in FACT_ATTRIBUTES if a.startswith(fact + "."))
    if attributes:
        return f"; {fact} has: {', '.join(a.split('.', 1)[1] for a in attributes)}"
    return f"; the facts are: {', '.join(sorted({a.split('.')[0] for a in FACT_ATTRIBUTES}))}"


def given_findings(given: Mapping[str, Any], as_of: Any = None) -> list[TestFinding]:
    """What would stop facts from being decided at all (those of a test, or of a facts file
    for ``bssrules explain``), each with its path: under ``("given", …)`` for a fact,
    ``("asOf",)`` for the instant. Every problem of the facts at once."""
    found: list[TestFinding] = []
    for path in unknown_fact_paths(given):
        hint = did_you_mean(path, FACT_ATTRIBUTES)
        found.append((("given", *path.split(".")), f"unknown fact attribute '{path}'"
                      + ("" if hint else _known_facts(path)), hint))
    for attribute in FACT_ATTRIBUTES:
        try:
            typed_facts(given, [attribute])
        except FactError as exc:
            found.append((("given", *attribute.split(".")), f"{attribute}: {exc.message}", None))
    if as_of is not None:  # read alone, so that it is reported with the facts' errors
        try:
            decision_instant(None, as_of)
        except ValueError as exc:
            found.append((("asOf",), str(exc), None))
    if found:
        return found
    try:
        instant = decision_instant(given, as_of)
    except ValueError as exc:
        return [(("asOf",), str(exc), None)]
    try:
        fact_values(given, instant)
    except BssRulesError as exc:
        return [(("given", *getattr(exc, "path", ())), str(exc), None)]
    return found


@dataclass
class TestResult:
    test: RuleTest
    origin: Origin
    passed: bool
    problems: list[str]
    decision: Decision | None


def _same(expected: object, actual: object) -> bool:
    if isinstance(expected, dict) or isinstance(actual, dict):  # (shares: the same roles, each its weight)
        return isinstance(expected, dict) and isinstance(actual, dict) and \
            sorted(map(str, expected)) == sorted(map(str, actual)) and \
            all(_same(value, actual[key]) for key, value in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return sorted(map(str, expected)) == sorted(map(str, actual))
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) or hasattr(expected, "as_tuple"):
        try:
            return Decimal(str(expected)) == Decimal(str(actual))
        except Exception:  # noqa: BLE001
            return False
    return expected == actual


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return str(value)


def decision_instant(facts: Any, as_of: Any = None) -> dt.datetime:
    """The instant a decision is taken for: ``as_of`` if given, else the ``now`` of the
    facts, else the current time."""
    if as_of is None and isinstance(facts, dict) and facts.get("now") is not None:
        as_of = facts["now"]
    if as_of is None:
        return dt.datetime.now(dt.timezone.utc)
    instant = parse_instant(as_of)
    if not isinstance(instant, dt.datetime):
        raise ValueError(f"'{as_of}' is not a date or date-time")
    return instant


def run_test(book: RuleBook, test: RuleTest, origin: Origin) -> TestResult:
    """Run one rule test; problems say what differed."""
    if test.records is not None:
        return TestResult(test, origin, *_rating_problems(book, test), None)
    try:
        as_of = decision_instant(test.given, test.as_of)
        compiled = book.in_force(test.rule_set, as_of)
        decision = decide(compiled, test.given, as_of)
    except (BssRulesError, ValueError) as exc:
        return TestResult(test, origin, False, [f"could not decide: {exc}"], None)
    face = summary(decision)
    typed = EXPECTATIONS.get(decision.kind, {})
    problems = []
    for key, expected in test.expect.items():
        accepted = typed.get(key)
        if accepted is not None and key in face and not accepted.accepts(expected):
            # a value no decision can say ('rateed', a quoted "2.50"): said as check says it
            problems.append(f"expected {accepted.what} for '{key}', got {_written(expected)}")
        if key not in face:
            hint = did_you_mean(key, face)
            article = "an" if decision.kind == "eligibility" else "a"  # a usage, a compatibility …
            problems.append(f"'{key}' cannot be expected of {article} {decision.kind} decision"
                            + (f" (did you mean '{hint}'?)" if hint else f"; use one of: {', '.join(face)}"))
        elif not _same(expected, face[key]):
            problems.append(f"expected {key} {_shown(expected)}, got {_shown(face[key])}")
    return TestResult(test, origin, not problems, problems, decision)


SUBSCRIBER = "subscriber"  # the id rating knows a test's subscriber by


def _rating_problems(book: RuleBook, test: RuleTest) -> tuple[bool, list[str]]:
    """Play the records of a rating test against its rule set (and the split billing rule
    set its subscriber names), from the totals it gives; what differed from ``expect``."""
    assert test.records is not None
    if test.rule_set not in book.versions:
        hint = did_you_mean(test.rule_set, book.versions)
        return False, [f"could not rate: unknown rule set '{test.rule_set}'" + (f" (did you mean '{hint}'?)" if hint else "")]
    played = RuleBook(versions={test.rule_set: book.versions[test.rule_set]})
    who = test.subscriber or TestSubscriber()
    if who.split_billing is not None and who.split_billing in book.versions:
        played.versions[who.split_billing] = book.versions[who.split_billing]
    accumulators = {a.id for c in book.versions[test.rule_set] for a in getattr(c.definition, "accumulators", [])}
    rule_ids = {r.id for c in book.versions[test.rule_set] for r in getattr(c.definition, "rules", [])}
    # What check finds in ``expect`` (a quoted charge, a record the test does not play, a
    # period that is no month): said as check says it, so that ``bssrules test`` places it.
    kind = book.versions[test.rule_set][0].definition.kind
    unmet = [message for _, message, _ in rating_expectation_findings(
        kind, test.expect, [r.id for r in test.records], rule_ids, accumulators, test.rule_set)]
    problems = [f"rule set '{test.rule_set}' has no accumulator '{total.accumulator}'"
                for total in test.accumulators if total.accumulator not in accumulators]
    problems += [message for total in test.accumulators if (message := _period_problem(total.period))]
    if problems:
        return False, problems
    subscriber = Subscriber(SUBSCRIBER, party_id=who.party_id, classification=who.classification,
                            offering=who.offering, active_offerings=tuple(who.active_offerings),
                            payers=dict(who.payers), split_billing=who.split_billing)
    before = {AccumulatorKey(f"{test.rule_set}/{t.accumulator}", SUBSCRIBER, t.period):
              AccumulatorTotal(t.volume, t.amount, tuple(t.reached)) for t in test.accumulators}
    records = [UsageRecord(r.id, SUBSCRIBER, r.service, r.start, r.volume, unit=r.unit, type=r.type,
                           roaming=r.roaming, country=r.country) for r in test.records]
    try:
        results, state = rate_records(records, {SUBSCRIBER: subscriber}, played, RatingState(accumulators=before))
    except (BssRulesError, ValueError) as exc:
        return False, [f"could not rate: {exc}"]
    expected_records = test.expect.get("records") or {}
    for result in results:
        wanted = expected_records.get(result.record.id)
        if not isinstance(wanted, dict):
            continue
        got = {"status": result.status, "rule": result.rule, "charge": result.amount,
               "ratedVolume": result.rated_volume, "refusedVolume": result.refused_volume, "billed": result.billed,
               "reasons": [r["code"] for r in result.reasons],
               "events": [f"{e.accumulator.split('/', 1)[1]}/{e.threshold}" for e in result.events]}
        differ = [f"{key} {_shown(value)}, got {_shown(got[key])}" for key, value in wanted.items()
                  if key in got and not _same(value, got[key])]
        differ += [f"'{key}' cannot be expected of a rated record" for key in wanted if key not in got]
        if differ:
            problems.append(f"record {result.record.id}: expected " + "; ".join(differ))
            problems.append(f"  rating gave: {_rated(result)}")
    for wanted_total in test.expect.get("accumulators") or []:
        if not isinstance(wanted_total, dict):
            continue
        name, period = str(wanted_total.get("accumulator")), str(wanted_total.get("period"))
        total = state.accumulators.get(AccumulatorKey(f"{test.rule_set}/{name}", SUBSCRIBER, period))
        if total is None:  # (a period that is no month or day of the calendar: none ever counts there)
            problems.append(_period_problem(period, "period")
                            or f"accumulator {name} {period}: expected a total, rating counted nothing there")
            continue
        got_total = {"volume": total.volume, "amount": total.amount, "reached": list(total.reached)}
        differ = [f"{key} {_shown(value)}, got {_shown(got_total[key])}" for key, value in wanted_total.items()
                  if key in got_total and not _same(value, got_total[key])]
        if differ:
            problems.append(f"accumulator {name} {period}: expected " + "; ".join(differ))
    problems = unmet + [problem for problem in problems if problem not in unmet]
    return not problems, problems


def _rated(result: RatedUsage) -> str:
    """What rating made of a record, in a few words."""
    if result.status == "rejected":
        return "rejected " + ", ".join(r["code"] for r in result.reasons)
    text = f"rated by {result.rule}, charge {result.amount} {result.currency}"
    if result.refused_volume:
        text += f", {result.refused_volume} refused ({', '.join(r['code'] for r in result.reasons)})"
    if result.events:
        text += ", events " + ", ".join(f"{e.accumulator.split('/', 1)[1]}/{e.threshold}" for e in result.events)
    return text


def run_tests(book: RuleBook) -> list[TestResult]:
    """Every rule test of the book, in file order."""
    return [run_test(book, test, origin) for test, origin in book.tests]
