"""Rules benchmark: compiling a large eligibility rule set, and deciding baskets with it.

1. Generates, without any catalog, an eligibility rule set of 1,000 rules with a realistic
   mix: each rule scoped to a few offerings or to categories (a few to all offerings),
   with conditions on ``party.classification``, ``channel.id``,
   ``inventory.activeOfferings`` (contains), numeric ranges (``party.age``,
   ``accumulated.amount``), a boolean, some ``any`` and ``not``, some validity periods;
   plus a compatibility rule set (required / forbidden / exactlyOne between offerings).
2. Times their compilation (conditions parsed, expanded into branches and handed to
   durable-rules), and the full check of the same rules written as a YAML rules file
   (:func:`bssrules.rules.loader.check_rule_documents`: parse, schema, compile, lint).
3. Decides baskets of 20 items one after the other: the 20 fact sets of a basket
   (one per offering in it, with the same party, channel and inventory) go to
   :func:`bssrules.rules.decisions.decide_many` (``with_trace=False``) in one call, and,
   to separate the engine from the decision layer, the same 20 typed fact sets go to
   :meth:`RuleEngine.matching_many` directly; the compatibility rule set decides the
   basket as one fact set. Reported per basket: p50 / p99 latency, baskets and fact sets
   (evaluations) per second.

Everything is bounded: at most ``baskets`` measured baskets per line, and a time budget
after which a line stops early (the table says how many were measured).

``python -m benchmarks.rules_bench --profile [--quick]`` profiles the eligibility line with
cProfile instead and prints where the time goes, grouped (engine C calls, JSON, the
durable-rules action machinery in Python, bssrules' own code).
"""
from __future__ import annotations

import datetime as dt
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

NAME = "rules"
SEED = 3
ITEMS_PER_BASKET = 20


@dataclass(frozen=True)
class Sizes:
    rules: int  # eligibility rules
    compatibility_rules: int
    baskets: int  # measured baskets per line (at most)
    warmup: int  # unmeasured baskets per line first
    budget_s: float  # a line stops early after this long


FULL = Sizes(rules=1_000, compatibility_rules=200, baskets=2_000, warmup=20, budget_s=20.0)
QUICK = Sizes(rules=250, compatibility_rules=50, baskets=50, warmup=3, budget_s=1.0)

OFFERINGS = [f"po-{i:04d}" for i in range(400)]
CATEGORIES = [f"cat-{i:02d}" for i in range(40)]
CLASSIFICATIONS = ["VIP", "GOLD", "SILVER", "BRONZE", "STANDARD"]
CHANNELS = ["web", "shop", "app", "call-centre", "partner-api", "b2b-portal"]
SEGMENTS = ["consumer", "small-business", "enterprise", "public-sector"]
COUNTRIES = ["FR", "DE", "ES", "IT", "BE", "NL"]
AS_OF = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.timezone.utc)


# ------------------------------------------------------------------------ the rules


def _condition(rng: random.Random) -> dict[str, Any]:
    """One to three conditions of the kinds catalog managers write, sometimes with any / not."""
    makers: list[Callable[[], dict[str, Any]]] = [
        lambda: {"party.classification": {"in": rng.sample(CLASSIFICATIONS, rng.randint(1, 3))}},
        lambda: {"party.classification": rng.choice(CLASSIFICATIONS)},
        lambda: {"channel.id": {"in": rng.sample(CHANNELS, rng.randint(1, 3))}},
        lambda: {"channel.id": rng.choice(CHANNELS)},
        lambda: {"inventory.activeOfferings": {"contains": rng.choice(OFFERINGS)}},
        lambda: {"inventory.activeOfferings": {"containsAny": rng.sample(OFFERINGS, rng.randint(2, 4))}},
        lambda: {"party.age": {"gte": rng.choice([16, 18, 21])}},
        lambda: {"party.age": {"between": sorted(rng.sample(range(16, 80), 2))}},
        lambda: {"accumulated.amount": {"lt": rng.choice([100, 250, 500, 1000])}},
        lambda: {"party.isCustomer": True},
        lambda: {"party.segment": {"notIn": rng.sample(SEGMENTS, rng.randint(1, 2))}},
        lambda: {"place.country": {"in": rng.sample(COUNTRIES, rng.randint(1, 4))}},
    ]
    draw = rng.random()
    if draw < 0.12:  # one of several ways in
        return {"any": [rng.choice(makers)() for _ in range(rng.randint(2, 3))]}
    if draw < 0.20:  # an exclusion
        return {"all": [rng.choice(makers)(), {"not": rng.choice(makers)()}]}
    parts = [rng.choice(makers)() for _ in range(rng.randint(1, 3))]
    merged: dict[str, Any] = {}
    for part in parts:
        if any(key in merged for key in part):
            return {"all": parts}
        merged.update(part)
    return merged


def _too_complex(rule: dict[str, Any]) -> bool:
    """Whether the engine would refuse the rule: what makes an eligibility rule fire (in scope
    and ``when`` not holding) expands past the branch limit (see bssrules.rules.compiled)."""
    from bssrules.rules.compile import TooComplex, to_dnf, to_nnf
    from bssrules.rules.conditions import ALWAYS, All, Any_, Not, Test, parse_condition

    when = parse_condition(rule["when"], (), lambda *problem: None)
    if when is None:
        raise RuntimeError(f"generated an invalid condition: {rule['when']}")
    scope = [Test("offering.id", "in", tuple(rule.get("offerings", ())))] if rule.get("offerings") else []
    if rule.get("categories"):
        scope.append(Test("offering.categories", "containsAny", tuple(rule["categories"])))
    try:
        to_dnf(to_nnf(All((Any_(tuple(scope)) if scope else ALWAYS, Not(when)))))
    except TooComplex:
        return True
    return False


def eligibility_rules(count: int, seed: int = SEED) -> tuple[dict[str, Any], int]:
    """A raw (YAML-shaped) eligibility rule set of ``count`` rules, and how many drawn rules
    were drawn again because the engine refuses them as too complex."""
    rng = random.Random(seed)
    rules: list[dict[str, Any]] = []
    redrawn = 0
    while len(rules) < count:
        i = len(rules)
        rule: dict[str, Any] = {"id": f"rule-{i:04d}"}
        scope = rng.random()
        if scope < 0.73:
            rule["offerings"] = rng.sample(OFFERINGS, rng.randint(1, 4))
        elif scope < 0.98:
            rule["categories"] = rng.sample(CATEGORIES, rng.randint(1, 2))
        # else: every offering
        rule["when"] = _condition(rng)
        rule["reason"] = {"code": f"reason{i % 50}", "label": f"Not eligible (rule {i})"}
        if rng.random() < 0.1:
            rule["alternate"] = rng.choice(OFFERINGS)
        if rng.random() < 0.15:
            start = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(0, 700))
            rule["validFor"] = {"start": start.isoformat()}
            if rng.random() < 0.4:
                rule["validFor"]["end"] = (start + dt.timedelta(days=rng.randrange(60, 400))).isoformat()
        if _too_complex(rule):
            redrawn += 1
            continue
        rules.append(rule)
    return {"id": "bench-eligibility", "kind": "eligibility", "rules": rules}, redrawn


def compatibility_rules(count: int, seed: int = SEED) -> dict[str, Any]:
    """A raw compatibility rule set between offerings: required, forbidden, exactlyOne."""
    rng = random.Random(seed + 1)
    rules = []
    for i in range(count):
        subject, target, *among = rng.sample(OFFERINGS, 5)
        kind = rng.choices(["required", "forbidden", "exactlyOne"], [45, 45, 10])[0]
        rule: dict[str, Any] = {"id": f"compat-{i:04d}", "type": kind, "subject": {"productOffering": subject}}
        if kind == "exactlyOne":
            rule["among"] = among[:rng.randint(2, 3)]
        else:
            rule["target"] = {"productOffering": target}
        rules.append(rule)
    return {"id": "bench-compatibility", "kind": "compatibility", "rules": rules}


def rules_yaml(rule_sets: Sequence[dict[str, Any]]) -> str:
    from bssrules.yaml_source import dump_yaml

    return dump_yaml({"ruleSets": list(rule_sets)})


# ------------------------------------------------------------------------ baskets


def offering_categories(rng: random.Random) -> dict[str, list[str]]:
    return {o: rng.sample(CATEGORIES, rng.randint(1, 2)) for o in OFFERINGS}


def baskets(count: int, seed: int = SEED) -> list[list[dict[str, Any]]]:
    """``count`` baskets of 20 nested fact sets (one per offering in the basket)."""
    rng = random.Random(seed + 2)
    categories = offering_categories(random.Random(seed + 3))
    out = []
    for _ in range(count):
        common: dict[str, Any] = {
            "now": AS_OF,
            "party": {"classification": rng.choice(CLASSIFICATIONS), "segment": rng.choice(SEGMENTS),
                      "isCustomer": rng.random() < 0.8, "age": rng.randint(16, 85),
                      **({"country": rng.choice(COUNTRIES)} if rng.random() < 0.5 else {})},
            "channel": {"id": rng.choice(CHANNELS)},
            "place": {"country": rng.choice(COUNTRIES)},
            "inventory": {"activeOfferings": rng.sample(OFFERINGS, rng.randint(0, 6))},
            "accumulated": {"amount": rng.randint(0, 1500)},
        }
        items = rng.sample(OFFERINGS, ITEMS_PER_BASKET)
        out.append([{**common, "offering": {"id": o, "categories": categories[o]}} for o in items])
    return out


def compatibility_facts(basket: list[dict[str, Any]]) -> dict[str, Any]:
    present = sorted({item["offering"]["id"] for item in basket}
                     | set(basket[0]["inventory"]["activeOfferings"]))
    return {"now": AS_OF, "present": {"productOfferings": present}}


# ------------------------------------------------------------------------ measuring


@dataclass
class Line:
    label: str
    baskets: int
    facts_per_basket: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    baskets_per_s: float
    fired: float  # mean rules fired per basket

    @property
    def evaluations_per_s(self) -> float:
        return self.baskets_per_s * self.facts_per_basket


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    return sorted_values[max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))]


def measure(label: str, work: Callable[[Any], int], inputs: list[Any], facts_per_basket: int,
            sizes: Sizes) -> Line:
    """Warm up, then run ``work`` on up to ``sizes.baskets`` inputs one after the other."""
    for basket in inputs[:sizes.warmup]:
        work(basket)
    latencies, fired = [], 0
    started = time.perf_counter()
    deadline = started + sizes.budget_s
    for basket in inputs[sizes.warmup:sizes.warmup + sizes.baskets]:
        begun = time.perf_counter()
        fired += work(basket)
        done = time.perf_counter()
        latencies.append(done - begun)
        if done > deadline:
            break
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Line(label, len(latencies), facts_per_basket, _percentile(latencies, 0.50) * 1e3,
                _percentile(latencies, 0.99) * 1e3, sum(latencies) / len(latencies) * 1e3,
                len(latencies) / elapsed, fired / len(latencies))


@dataclass
class Prepared:
    """What the measured lines (and :func:`profile`) run on."""

    eligibility: Any  # CompiledRuleSet
    compatibility: Any  # CompiledRuleSet
    baskets: list[list[dict[str, Any]]]
    compile_eligibility_s: float
    compile_compatibility_s: float
    check_yaml_s: float
    yaml_bytes: int
    redrawn: int  # generated rules drawn again: too complex for the engine


def prepare(sizes: Sizes) -> Prepared:
    from bssrules.rules.compiled import compile_rule_set
    from bssrules.rules.loader import check_rule_documents
    from bssrules.rules.model import CompatibilityRuleSet, EligibilityRuleSet
    from bssrules.yaml_source import parse_text

    raw_eligibility, redrawn = eligibility_rules(sizes.rules)
    raw_compatibility = compatibility_rules(sizes.compatibility_rules)

    eligibility_model = EligibilityRuleSet.model_validate(raw_eligibility)
    started = time.perf_counter()
    eligibility = compile_rule_set(eligibility_model)
    compile_eligibility_s = time.perf_counter() - started

    compatibility_model = CompatibilityRuleSet.model_validate(raw_compatibility)
    started = time.perf_counter()
    compatibility = compile_rule_set(compatibility_model)
    compile_compatibility_s = time.perf_counter() - started

    text = rules_yaml([raw_eligibility, raw_compatibility])
    started = time.perf_counter()
    doc, problems = parse_text(text, "bench-rules.yaml")
    book, diagnostics = check_rule_documents([doc] if doc else [])
    check_yaml_s = time.perf_counter() - started
    errors = problems + [d for d in diagnostics if d.severity != "warning"]
    if errors or len(book) != 2:
        raise RuntimeError("the generated rules are invalid:\n" + "\n".join(map(str, errors[:20])))
    return Prepared(eligibility, compatibility, baskets(sizes.warmup + sizes.baskets), compile_eligibility_s,
                    compile_compatibility_s, check_yaml_s, len(text.encode("utf-8")), redrawn)


def lines(prepared: Prepared, sizes: Sizes) -> list[Line]:
    from bssrules.rules.decisions import decide, decide_many, fact_values

    eligibility, compatibility = prepared.eligibility, prepared.compatibility
    typed = [[fact_values(item) for item in basket] for basket in prepared.baskets]
    compat_facts = [compatibility_facts(basket) for basket in prepared.baskets]
    compat_typed = [fact_values(f) for f in compat_facts]

    def decide_basket(basket: list[dict[str, Any]]) -> int:
        return sum(len(d.fired) for d in decide_many(eligibility, basket, AS_OF, with_trace=False))

    def match_basket(values: list[dict[str, Any]]) -> int:
        return sum(len(k) for k in eligibility.engine.matching_many(values))

    def decide_compatibility(facts: dict[str, Any]) -> int:
        return len(decide(compatibility, facts, AS_OF, with_trace=False).fired)

    def match_compatibility(values: dict[str, Any]) -> int:
        return len(compatibility.engine.matching(values))

    def whole_basket(basket: list[dict[str, Any]]) -> int:
        fired = decide_basket(basket)
        return fired + decide_compatibility(compatibility_facts(basket))

    return [
        measure("eligibility: decide_many(20 fact sets, with_trace=False)", decide_basket, prepared.baskets,
                ITEMS_PER_BASKET, sizes),
        measure("eligibility: RuleEngine.matching_many(20 typed fact sets)", match_basket, typed,
                ITEMS_PER_BASKET, sizes),
        measure("compatibility: decide(1 fact set, 20+ offerings present)", decide_compatibility, compat_facts,
                1, sizes),
        measure("compatibility: RuleEngine.matching(1 typed fact set)", match_compatibility, compat_typed,
                1, sizes),
        measure("basket: eligibility of 20 items + compatibility", whole_basket, prepared.baskets,
                ITEMS_PER_BASKET + 1, sizes),
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Run the rules benchmark, print its table, and return the figures as rows."""
    sizes = QUICK if quick else FULL
    prepared = prepare(sizes)
    eligibility, compatibility = prepared.eligibility, prepared.compatibility
    figures: list[dict[str, Any]] = []
    print(f"rules: {sizes.rules:,} eligibility rules -> {eligibility.engine.branch_count:,} engine branches in "
          f"{eligibility.engine.chunk_count} engine rule sets; {sizes.compatibility_rules:,} compatibility rules -> "
          f"{compatibility.engine.branch_count:,} branches in {compatibility.engine.chunk_count} rule sets; "
          f"{os.cpu_count()} cores (os.cpu_count)", flush=True)
    print(f"({prepared.redrawn} generated eligibility rules were drawn again: the engine refuses them as too complex)",
          flush=True)
    print(f"\n{'phase':<76} {'seconds':>8} {'rules/s':>9}")
    for phase, seconds, count in (
            (f"compile_rule_set: {sizes.rules:,} eligibility rules", prepared.compile_eligibility_s, sizes.rules),
            (f"compile_rule_set: {sizes.compatibility_rules:,} compatibility rules",
             prepared.compile_compatibility_s, sizes.compatibility_rules),
            (f"check_rule_documents: both from YAML, {prepared.yaml_bytes / 1e3:,.0f} kB (parse+schema+compile+lint)",
             prepared.check_yaml_s, sizes.rules + sizes.compatibility_rules)):
        print(f"{phase:<76} {seconds:>8.2f} {count / seconds:>9,.0f}", flush=True)
        figures.append({"phase": phase, "seconds": seconds, "rules": count})

    print(f"\nbaskets of {ITEMS_PER_BASKET} items, sequential, one thread; up to {sizes.baskets:,} baskets per line "
          f"after {sizes.warmup} warm-up (at most {sizes.budget_s:.0f} s each); as of {AS_OF.date().isoformat()}")
    print(f"{'evaluation':<62} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'baskets/s':>10} "
          f"{'evals/s':>9} {'fired':>6}", flush=True)
    for line in lines(prepared, sizes):
        print(f"{line.label:<62} {line.baskets:>6} {line.p50_ms:>8.2f} {line.p99_ms:>8.2f} {line.mean_ms:>8.2f} "
              f"{line.baskets_per_s:>10.1f} {line.evaluations_per_s:>9,.0f} {line.fired:>6.1f}", flush=True)
        figures.append({**line.__dict__, "evaluations_per_s": line.evaluations_per_s})
    return figures


# ------------------------------------------------------------------------ profiling


def _group(file: str, name: str) -> str:
    if "durable_rules_engine" in name:
        return "durable-rules C calls (assert_facts, update_state, complete_and_start_action, ...)"
    if file.endswith(("json/encoder.py", "json/decoder.py", "json/__init__.py", "json/scanner.py")) \
            or name in ("<method 'match' of 're.Pattern' objects>", "<method 'end' of 're.Match' objects>"):
        return "JSON: durable-rules' json.dumps / json.loads of events, states and actions"
    if "/durable/" in file or name in ("<built-in method now>", "<built-in method utcfromtimestamp>",
                                        "<method 'total_seconds' of 'datetime.timedelta' objects>"):
        return "durable-rules Python action machinery (Closure, _flush_actions, callbacks)"
    if file.endswith("bssrules/rules/engine.py"):
        return "bssrules engine adapter (record action, chunk loop, results)"
    if file.endswith("bssrules/rules/facts.py"):
        return "bssrules facts: typing and flattening"
    if "/bssrules/" in file:
        return "bssrules decisions and the rest of bssrules"
    return "other (builtins, typing, ...)"


def profile(quick: bool = False, baskets: int = 40) -> None:
    """Profile ``decide_many`` on baskets of the eligibility rule set and print the groups."""
    import cProfile
    import pstats

    from bssrules.rules.decisions import decide_many

    sizes = QUICK if quick else FULL
    prepared = prepare(Sizes(sizes.rules, sizes.compatibility_rules, baskets, 2, 600.0))
    for basket in prepared.baskets[:2]:
        decide_many(prepared.eligibility, basket, AS_OF, with_trace=False)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for basket in prepared.baskets[2:]:
        decide_many(prepared.eligibility, basket, AS_OF, with_trace=False)
    profiler.disable()
    wall = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    groups: dict[str, float] = {}
    calls: dict[str, int] = {}
    actions = 0
    for (file, _, name), (_, ncalls, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        if file.endswith("bssrules/rules/engine.py") and name == "record":
            actions = ncalls
        group = _group(file, name)
        groups[group] = groups.get(group, 0.0) + own
        calls[group] = calls.get(group, 0) + ncalls
    total = sum(groups.values())
    count = len(prepared.baskets) - 2
    print(f"cProfile of decide_many(with_trace=False) on {count} baskets of {ITEMS_PER_BASKET} items, "
          f"{sizes.rules:,} rules ({prepared.eligibility.engine.chunk_count} engine rule sets): "
          f"{wall / count * 1e3:.1f} ms per basket under the profiler")
    chunks = prepared.eligibility.engine.chunk_count
    print(f"engine actions run per basket: {actions / count:,.0f}, of which catch-all "
          f"({ITEMS_PER_BASKET} facts x {chunks} engine rule sets): {ITEMS_PER_BASKET * chunks:,}")
    print(f"{'own time in':<88} {'s':>7} {'%':>6} {'fn calls/basket':>16}")
    for group, seconds in sorted(groups.items(), key=lambda item: -item[1]):
        print(f"{group:<88} {seconds:>7.2f} {seconds / total * 100:>6.1f} {calls[group] / count:>16,.0f}")
    print()
    stats.sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    if "--profile" in sys.argv[1:]:
        profile(quick="--quick" in sys.argv[1:])
        sys.exit(0)
    from benchmarks.__main__ import main

    sys.exit(main(["--only", NAME, *sys.argv[1:]]))
