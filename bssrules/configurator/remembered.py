"""The decisions of a validation, remembered where the rule set's cache knows the facts.

A basket's items, charges and compatibility facts are decided by the engine once per
projection of their facts (:mod:`bssrules.rules.decision_cache`: two fact sets every test of
the rule set sees alike get the same decision — held to the engine by its property test).
Partner traffic repeats itself: the same offerings for parties of the same classification,
channel and inventory. What is not remembered yet goes to the engine, in one call per rule
set as before; the decisions in which a rule fired are taken again with their explanation
when one is asked for (refusals and violations are few, and the engine and the evaluator
are then checked to agree, as in every explained decision).

``BSSRULES_DECISION_CACHE=0`` turns the cache off: every decision is the engine's, every time.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from bssrules.rules.compiled import CompiledRuleSet
from bssrules.rules.decision_cache import memo_of
from bssrules.rules.decisions import Decision, cache_size, decide_values


def decided(compiled: CompiledRuleSet, facts: Sequence[Mapping[str, Any]], shared: Mapping[str, Any],
            explain: bool, lasting: bool = True) -> list[Decision]:
    """:func:`decide_values` of fact sets sharing a part (fact set ``i`` is ``{**shared,
    **facts[i]}``), explained for the fired rules only when ``explain``. The decisions handed
    back may be shared with later validations: read them, never change them.

    ``lasting``: each of ``facts`` is a read-only mapping kept for later validations (an
    offering's or a price's typed facts), whose part of the cache key is kept with it."""
    size = cache_size()
    if size == 0 or compiled.kind == "sla" or not facts:  # an SLA decision reports the metric's value
        return decide_values(compiled, facts, shared, with_trace=explain, trace_fired_only=True)
    memo = memo_of(compiled, size)
    keys = memo.split_keys(shared, facts, lasting)
    found: list[Decision | None] = memo.get_many(keys)
    missing = [i for i, decision in enumerate(found) if decision is None]
    if missing:
        for i, decision in zip(missing, decide_values(compiled, [facts[i] for i in missing], shared,
                                                      with_trace=False)):
            memo.put(keys[i], decision)
            found[i] = decision
    decisions = [d for d in found if d is not None]
    if explain:
        fired = [i for i, decision in enumerate(decisions) if decision.fired]
        if fired:
            explained = decide_values(compiled, [facts[i] for i in fired], shared, with_trace=True,
                                      trace_fired_only=True)
            for i, decision in zip(fired, explained):
                decisions[i] = decision
    return decisions
