"""Decisions: what the fired rules of a compiled rule set mean, with their explanation."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from bssrules.errors import InvalidInput, did_you_mean
from bssrules.rules.compiled import CompiledRule, CompiledRuleSet
from bssrules.rules.decision_cache import DEFAULT_SIZE, memo_of
from bssrules.rules.engine import EngineError
from bssrules.rules.evaluate import explain, holds
from bssrules.rules.facts import FACT_ATTRIBUTES, FactError, typed_facts, unknown_fact_paths
from bssrules.rules.model import (
    CompatibilityRule, EligibilityRule, Prerequisite, RoutingRuleSet, SettlementRule, SlaRule, SplitBillingRule,
    SplitBillingRuleSet, UsageRule,
)

Facts = Mapping[str, Any]


@dataclass
class RuleTrace:
    """One rule's part in a decision: did it fire, and why (the authored condition explained)."""

    rule: str
    fired: bool
    explanation: dict[str, Any]
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "fired": self.fired, "when": self.explanation}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Decision:
    """The outcome of a rule set for one set of facts."""

    rule_set: str
    version: int
    kind: str
    outcome: dict[str, Any]
    fired: list[str]
    trace: list[RuleTrace] = field(default_factory=list)

    def to_dict(self, with_trace: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"ruleSet": self.rule_set, "version": self.version, "kind": self.kind,
                               **self.outcome, "fired": self.fired}
        if with_trace:
            out["explanation"] = [t.to_dict() for t in self.trace]
        return out


def fact_values(facts: Facts, as_of: dt.datetime | None = None) -> dict[str, Any]:
    """Typed values of nested facts (``now`` defaults to ``as_of``, else the current time)."""
    unknown = unknown_fact_paths(facts)
    if unknown:
        first = unknown[0]
        raise InvalidInput(f"unknown fact attribute{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
                           path=tuple(first.split(".")), suggestion=did_you_mean(first, FACT_ATTRIBUTES))
    try:
        values = typed_facts(facts)
    except FactError as exc:
        raise InvalidInput(str(exc), path=tuple(exc.attribute.split("."))) from None
    if "now" not in values:
        values["now"] = as_of or dt.datetime.now(dt.timezone.utc)
    elif as_of is not None and values["now"] != as_of:
        raise InvalidInput(f"the facts say now is {values['now'].isoformat()} but the decision is asked as of "
                           f"{as_of.isoformat()}: give one of them", path=("now",))
    return values


def decide(compiled: CompiledRuleSet, facts: Facts, as_of: dt.datetime | None = None,
           with_trace: bool = True) -> Decision:
    """Decide one set of facts."""
    return decide_many(compiled, [facts], as_of, with_trace)[0]


def decide_many(compiled: CompiledRuleSet, facts: Sequence[Facts], as_of: dt.datetime | None = None,
                with_trace: bool = True, trace_fired_only: bool = False) -> list[Decision]:
    """Decide several fact sets with one engine call per engine rule set.

    ``trace_fired_only`` explains only the rules that fired (what a refusal or violation
    needs), not every rule of the set: with a thousand rules, that is the difference
    between microseconds and a tenth of a second per basket."""
    values = [fact_values(f, as_of) for f in facts]
    if with_trace or compiled.kind == "sla" or cache_size() == 0:
        fired_sets = compiled.engine.matching_many(values)
        return [_decision(compiled, v, fired, with_trace, trace_fired_only) for v, fired in zip(values, fired_sets)]
    return _remembered(compiled, values, trace_fired_only)


def cache_size() -> int:
    """Decisions remembered per compiled rule set (:mod:`bssrules.rules.decision_cache`);
    ``BSSRULES_DECISION_CACHE=0`` turns the cache off."""
    return _CACHE_SIZE


def _cache_size_from_env() -> int:
    raw = os.environ.get("BSSRULES_DECISION_CACHE", "").strip()
    if not raw:
        return DEFAULT_SIZE
    if not raw.isdigit():
        raise ValueError(f"BSSRULES_DECISION_CACHE must be a whole number of decisions (0: no cache), got {raw!r}")
    return int(raw)


_CACHE_SIZE = _cache_size_from_env()


def _remembered(compiled: CompiledRuleSet, values: Sequence[Mapping[str, Any]], trace_fired_only: bool
                ) -> list[Decision]:
    """Decisions without explanation, taken from the rule set's cache where the facts'
    projection is known, else from the engine (one call for all the others)."""
    memo = memo_of(compiled, cache_size())
    keys = [memo.projection.key(v) for v in values]
    found: list[Decision | None] = [memo.get(k) for k in keys]
    missing = [i for i, decision in enumerate(found) if decision is None]
    if missing:
        fired_sets = compiled.engine.matching_many([values[i] for i in missing])
        for i, fired in zip(missing, fired_sets):
            decision = _decision(compiled, values[i], fired, False, trace_fired_only)
            memo.put(keys[i], decision)
            found[i] = decision
    # Each caller gets its own outcome: a cached one is never changed through a caller.
    return [Decision(d.rule_set, d.version, d.kind, _copied(d.outcome), list(d.fired), [])
            for d in found if d is not None]


def _copied(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


def decide_values(compiled: CompiledRuleSet, values: Sequence[Mapping[str, Any]], shared: Mapping[str, Any],
                  with_trace: bool = True, trace_fired_only: bool = False) -> list[Decision]:
    """:func:`decide_many` for typed values (as :func:`fact_values` makes them) that share
    a part: fact set ``i`` is ``{**shared, **values[i]}``. A basket's party, channel,
    inventory and date are typed once and sent to the engine once per rule set, whatever
    the number of its items or charges. Without explanations, decisions come from the rule
    set's decision cache as in :func:`decide_many` (rating types a record's facts once and
    decides them under each usage rule set in force)."""
    if not with_trace and compiled.kind != "sla" and cache_size() != 0:
        # the decision cache, as decide_many: the projection is of the whole fact set
        return _remembered(compiled, [{**shared, **own} for own in values] if shared else list(values),
                           trace_fired_only)
    fired_sets = compiled.engine.matching_many(values, shared)
    # The outcome reads values only for SLA (the metric's value); explanations read them all
    # (none is made when only fired rules are explained and none fired).
    sla = compiled.kind == "sla"
    return [_decision(compiled, {**shared, **own} if sla or (with_trace and (fired or not trace_fired_only)) else own,
                      fired, with_trace, trace_fired_only)
            for own, fired in zip(values, fired_sets)]


def _decision(compiled: CompiledRuleSet, values: Mapping[str, Any], fired: set[str], with_trace: bool,
              trace_fired_only: bool = False) -> Decision:
    if not fired and (not with_trace or trace_fired_only) and compiled.kind in _NOTHING_FIRED:
        # what most facts come to (an eligible offering, a compatible basket): said at once
        nothing = {key: [] if isinstance(value, list) else value for key, value in _NOTHING_FIRED[compiled.kind].items()}
        return Decision(compiled.id, compiled.definition.version, compiled.kind, nothing, [], [])
    fired_in_order = sorted(fired, key=compiled.position)
    rules = compiled.by_key()
    kind = compiled.kind
    outcome: dict[str, Any]
    if kind == "eligibility":
        failures = []
        for key in fired_in_order:
            rule: EligibilityRule = rules[key].source
            failure = {"rule": key, "code": rule.reason.code, "label": rule.reason.label}
            if rule.alternate:
                failure["alternate"] = rule.alternate
            failures.append(failure)
        outcome = {"qualified": not failures, "reasons": failures}
    elif kind == "compatibility":
        violations: list[dict[str, Any]] = []
        for key in fired_in_order:
            crule: CompatibilityRule = rules[key].source
            violation = {"rule": key, "type": crule.type, "subject": str(crule.subject),
                         "message": crule.message or _compatibility_message(crule)}
            if crule.target:
                violation["target"] = str(crule.target)
            violations.append(violation)
        outcome = {"valid": not violations, "violations": violations}
    elif kind == "usage":
        outcome = _usage_outcome(compiled, fired_in_order, rules)
    elif kind == "splitBilling":
        payers = [k for k in fired_in_order]
        if payers:
            first: SplitBillingRule = rules[payers[0]].source
            outcome = {"payer": first.parts()[0][0], "rule": payers[0]}
            if first.shares:
                outcome["shares"] = [{"payer": s.payer, "weight": s.weight} for s in first.shares]
        elif isinstance(compiled.definition, SplitBillingRuleSet) and compiled.definition.default:
            outcome = {"payer": compiled.definition.default, "rule": "default"}
        else:
            outcome = {"payer": None, "rule": None, "reason": {"code": "noPayer",
                                                              "label": "no split billing rule names a payer"}}
    elif kind == "settlement":
        lines = []
        for key in fired_in_order:
            settlement: SettlementRule = rules[key].source
            line: dict[str, Any] = {"rule": key, "payer": settlement.payer, "payee": settlement.payee}
            if settlement.percentage is not None:
                line["percentage"] = settlement.percentage
            else:
                line.update(amount=settlement.amount, currency=settlement.currency)
            lines.append(line)
        outcome = {"lines": lines}
    elif kind == "routing":
        if fired_in_order:
            outcome = {"assignTo": rules[fired_in_order[0]].source.assign_to, "rule": fired_in_order[0]}
        elif isinstance(compiled.definition, RoutingRuleSet) and compiled.definition.default:
            outcome = {"assignTo": compiled.definition.default, "rule": "default"}
        else:
            outcome = {"assignTo": None, "rule": None}
    elif kind == "discount":
        outcome = {"discounts": sorted(fired_in_order, key=lambda k: (rules[k].source.priority, compiled.position(k)))}
    else:  # sla
        violations = []
        for key in fired_in_order:
            srule: SlaRule = rules[key].source
            violations.append({"rule": key, "metric": srule.metric, "severity": srule.severity,
                               "value": values.get("metric.value")})
        outcome = {"violated": bool(violations), "violations": violations}
    trace = []
    if with_trace:
        # Only the fired rules, in the rule set's order, when only they are explained (a
        # thousand rules are not walked for each fact to find the few that fired).
        explained = [rules[key] for key in fired_in_order] if trace_fired_only else compiled.rules
        for compiled_rule in explained:
            explanation = explain(compiled_rule.authored, values, compiled.zone)
            note = None
            source = compiled_rule.source
            valid_for = getattr(source, "valid_for", None)
            if valid_for is not None and not valid_for.contains(values["now"]):
                note = "not in force at this date (validFor)"
            trace.append(RuleTrace(compiled_rule.key, compiled_rule.key in fired, explanation.to_dict(), note))
            # The engine decides; the evaluator explains. They must agree.
            if holds(compiled_rule.fires, values, compiled.zone) != (compiled_rule.key in fired):
                raise EngineError(f"the engine and the reference evaluator disagree on rule "
                                  f"{compiled.id}/{compiled_rule.key}; please report this with the facts")
    return Decision(compiled.id, compiled.definition.version, kind, outcome, fired_in_order, trace)


# The outcome of the kinds whose outcome, when no rule fired, depends on nothing else.
_NOTHING_FIRED: dict[str, dict[str, Any]] = {"eligibility": {"qualified": True, "reasons": []},
                                             "compatibility": {"valid": True, "violations": []},
                                             "settlement": {"lines": []}, "discount": {"discounts": []}}


def _compatibility_message(rule: CompatibilityRule) -> str:
    if rule.type == "required":
        return f"{rule.subject} requires {rule.target}"
    if rule.type == "forbidden":
        return f"{rule.subject} cannot go with {rule.target}"
    return f"{rule.subject} needs exactly one of {', '.join(rule.among) or 'its children'}"


def _usage_outcome(compiled: CompiledRuleSet, fired: list[str], rules: dict[str, CompiledRule]) -> dict[str, Any]:
    counted = [k.split(":", 1)[1] for k in fired if k.startswith("accumulator:")]
    rates = [k for k in fired if not k.startswith(("prerequisite:", "accumulator:")) and k != "appliesTo"]
    # A rejection says which rate would have applied: rating across several usage catalogs
    # reports the reasons of the catalogs that speak of the record, not of every catalog.
    would = {"matchedRule": rates[0]} if rates else {}
    if "appliesTo" in fired:
        return {"status": "rejected", "reasons": [{"code": "notApplicable",
                                                   "label": f"usage catalog {compiled.id} does not apply here"}],
                **would}
    unmet = [rules[k].source for k in fired if k.startswith("prerequisite:")]
    if unmet:
        return {"status": "rejected",
                "reasons": [{"code": p.reason.code, "label": p.reason.label, "prerequisite": p.id}
                            for p in unmet if isinstance(p, Prerequisite)], **would}
    if not rates:
        return {"status": "rejected", "reasons": [{"code": "noApplicableRate",
                                                   "label": "no rate rule applies to this usage"}]}
    rule: UsageRule = rules[rates[0]].source
    outcome: dict[str, Any] = {"status": "rated", "rule": rule.id,
                               "rate": rule.rate.model_dump(mode="python", by_alias=True, exclude_defaults=True)}
    if rule.provisioning_id:
        outcome["provisioningId"] = rule.provisioning_id
    if counted:
        outcome["accumulators"] = counted
    return outcome
