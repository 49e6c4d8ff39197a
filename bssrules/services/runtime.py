"""The decision runtime of an API worker: the stored catalog and compiled rule sets.

Workers keep no state of their own: this is a cache of what the database holds, keyed by
the catalog revision every change increments, rebuilt when another worker (or a load)
changes it. Compiling once per revision is what "rules are compiled once, at load" means
for a fleet of stateless workers.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from bssrules.catalog.catalog import Catalog, Origin
from bssrules.errors import BssRulesError
from bssrules.rules.compiled import CompileError, compile_rule_set
from bssrules.rules.loader import RuleBook
from bssrules.rules.model import RULE_SET_TYPES
from bssrules.services.ports import UnitOfWork


@dataclass(frozen=True)
class Runtime:
    revision: int
    catalog: Catalog
    rules: RuleBook


def build_runtime(uow: UnitOfWork) -> Runtime:
    """Read the catalog and rule sets of the database and compile the rule sets."""
    revision = uow.catalog.revision()
    catalog = Catalog()
    for stored in uow.catalog.all():
        catalog.add(stored.entity)
    book = RuleBook()

    def children(resource_spec_id: str) -> list[str] | None:
        spec = catalog.resource_specifications.get(resource_spec_id)
        return list(spec.children) if spec and spec.children else None

    for rule_set in uow.rule_sets.all():
        definition = RULE_SET_TYPES[rule_set.kind].model_validate(rule_set.document)
        try:
            compiled = compile_rule_set(definition, compound_children=children)
        except CompileError as exc:  # they were checked at load; a failure here is a defect
            raise BssRulesError(f"stored rule set {rule_set.id} v{rule_set.version} does not compile: {exc}") from exc
        book.add(compiled, Origin(f"database ({rule_set.source})", 0))
    return Runtime(revision, catalog, book)


class RuntimeNotBuilt(Exception):
    """:meth:`RuntimeCache.built` found no runtime of the revision the transaction reads."""


class RuntimeCache:
    """One runtime per worker, rebuilt when the stored revision moves on."""

    def __init__(self) -> None:
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()

    def get(self, uow: UnitOfWork) -> Runtime:
        revision = uow.catalog.revision()
        current = self._runtime
        if current is not None and current.revision == revision:
            return current
        with self._lock:
            if self._runtime is None or self._runtime.revision != revision:
                self._runtime = build_runtime(uow)
            return self._runtime

    def built(self, uow: UnitOfWork) -> Runtime:
        """:meth:`get`'s runtime when the one of the revision this transaction reads is built
        already; :class:`RuntimeNotBuilt` otherwise, without building it (that takes seconds:
        a caller on the event loop builds it where it blocks nothing else)."""
        revision = uow.catalog.revision()
        current = self._runtime
        if current is not None and current.revision == revision:
            return current
        raise RuntimeNotBuilt(f"the runtime of catalog revision {revision} is not built yet")
