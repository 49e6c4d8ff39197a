"""The rule book: every compiled rule set, by id then version, and the rule tests.

The loader fills it; the lint, the rule tests, the configurator and rating read it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterator

from bssrules.catalog.catalog import Origin
from bssrules.errors import InvalidInput, NotFound, did_you_mean
from bssrules.rules.compiled import CompiledRuleSet
from bssrules.rules.model import RuleTest


@dataclass
class RuleBook:
    """Every compiled rule set, by id then version, and the rule tests."""

    versions: dict[str, list[CompiledRuleSet]] = field(default_factory=dict)
    tests: list[tuple[RuleTest, Origin]] = field(default_factory=list)
    origins: dict[tuple[str, int], Origin] = field(default_factory=dict)

    def __iter__(self) -> Iterator[CompiledRuleSet]:
        for versions in self.versions.values():
            yield from versions

    def __len__(self) -> int:
        return sum(len(v) for v in self.versions.values())

    def add(self, compiled: CompiledRuleSet, origin: Origin) -> None:
        self.versions.setdefault(compiled.id, []).append(compiled)
        self.versions[compiled.id].sort(key=lambda c: c.definition.version)
        self.origins[(compiled.id, compiled.definition.version)] = origin

    def in_force(self, rule_set_id: str, as_of: dt.datetime) -> CompiledRuleSet:
        """The version of a rule set in force at ``as_of`` (the highest when several are)."""
        versions = self.versions.get(rule_set_id)
        if not versions:
            raise NotFound("rule set", rule_set_id, did_you_mean(rule_set_id, self.versions))
        candidates = [c for c in versions if c.definition.valid_for.contains(as_of)]
        if not candidates:
            raise InvalidInput(f"no version of rule set '{rule_set_id}' is in force at "
                               f"{as_of.isoformat().replace('+00:00', 'Z')}")
        return candidates[-1]


__all__ = ["RuleBook"]
