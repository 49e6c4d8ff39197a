"""Loading rule files: schema per kind, models, conditions, compilation and lint — every
problem positioned as ``file:line:column``, all reported at once — into a
:class:`~bssrules.rules.book.RuleBook`."""
from __future__ import annotations

from typing import Any, Callable

from pydantic import ValidationError

from bssrules.catalog.catalog import Catalog, Origin
from bssrules.errors import Diagnostic, did_you_mean
from bssrules.rules.book import RuleBook
from bssrules.rules.compiled import compile_rule_set
from bssrules.rules.lint import lint_rule_book, reference_findings
from bssrules.rules.model import RULE_SET_TYPES, RuleTest
from bssrules.rules.schema import file_validator, kind_validator
from bssrules.schema_errors import pydantic_diagnostics, schema_diagnostics
from bssrules.yaml_source import Path_, SourceDocument


def check_rule_documents(documents: list[SourceDocument], catalog: Catalog | None = None
                         ) -> tuple[RuleBook, list[Diagnostic]]:
    """Compile every rule set of the documents; return them and every diagnostic (errors
    and lint warnings). References to the catalog are checked when one is given."""
    book = RuleBook()
    diagnostics: list[Diagnostic] = []
    sources: dict[tuple[str, int], tuple[SourceDocument, Path_]] = {}
    children = _compound_children(catalog) if catalog is not None else None
    raw_tests: list[tuple[SourceDocument, Path_, Any]] = []
    for doc in documents:
        if doc.data is None:
            continue
        top = schema_diagnostics(file_validator(), doc)
        diagnostics += top
        if not isinstance(doc.data, dict) or top and any(len(d.path) < 2 for d in top):
            continue
        bad = {d.path[:2] for d in top}
        for index, raw in enumerate(doc.data.get("ruleSets") or []):
            base: Path_ = ("ruleSets", index)
            if base in bad or not isinstance(raw, dict):
                continue
            kind = raw["kind"]
            problems = [d for d in schema_diagnostics(kind_validator(kind), _shifted(doc, raw, base))]
            diagnostics += problems
            if problems:
                continue
            try:
                rule_set = RULE_SET_TYPES[kind].model_validate(raw)
            except ValidationError as exc:
                diagnostics += pydantic_diagnostics(exc, doc, base)
                continue
            key = (rule_set.id, rule_set.version)
            if key in sources:
                first_doc, first_base = sources[key]
                diagnostics.append(doc.diagnostic(base + ("version",), f"rule set '{rule_set.id}' version "
                                                  f"{rule_set.version} is defined twice (first at "
                                                  f"{first_doc.file}:{first_doc.position(first_base)[0]})",
                                                  code="duplicateId"))
                continue
            found: list[Diagnostic] = []

            def report(path: Path_, message: str, suggestion: str | None = None, at_key: bool = False,
                       _doc: SourceDocument = doc, _base: Path_ = base, _found: list[Diagnostic] = found) -> None:
                _found.append(_doc.diagnostic(_base + tuple(path), message, suggestion=suggestion,
                                              code="invalidRule", at_key=at_key))

            compiled = compile_rule_set(rule_set, report, children)
            diagnostics += found
            if catalog is not None:
                for path, message, suggestion in reference_findings(rule_set, catalog, compiled):
                    diagnostics.append(doc.diagnostic(base + tuple(path), message, suggestion=suggestion,
                                                      code="unknownReference"))
            if found:
                continue
            sources[key] = (doc, base)
            book.add(compiled, Origin(doc.file, doc.position(base)[0]))
        for index, raw in enumerate(doc.data.get("tests") or []):
            raw_tests.append((doc, ("tests", index), raw))
    for doc, base, raw in raw_tests:
        if any(d.file == doc.file and d.path[:2] == base for d in diagnostics):
            continue
        try:
            test = RuleTest.model_validate(raw)
        except ValidationError as exc:
            diagnostics += pydantic_diagnostics(exc, doc, base)
            continue
        if test.rule_set not in book.versions and not _failed_rule_set(test.rule_set, documents):
            diagnostics.append(doc.diagnostic(base + ("ruleSet",), f"unknown rule set '{test.rule_set}'",
                                              suggestion=did_you_mean(test.rule_set, book.versions),
                                              code="unknownReference"))
            continue
        book.tests.append((test, Origin(doc.file, doc.position(base)[0])))
    for finding in lint_rule_book(book, catalog):
        doc, base = sources[(finding.rule_set, finding.version)]
        diagnostics.append(doc.diagnostic(base + finding.path, finding.message, code=finding.code,
                                          severity=finding.severity))
    return book, diagnostics


def _failed_rule_set(rule_set_id: str, documents: list[SourceDocument]) -> bool:
    """Whether a rule set of that id exists but failed (so its tests are not reported twice)."""
    return any(isinstance(d.data, dict) and any(isinstance(r, dict) and r.get("id") == rule_set_id
                                                for r in d.data.get("ruleSets") or []) for d in documents)


def _shifted(doc: SourceDocument, data: Any, base: Path_) -> SourceDocument:
    """A view of one node of ``doc`` whose paths are absolute (for positions)."""
    return _Shifted(doc, data, base)


class _Shifted(SourceDocument):
    def __init__(self, doc: SourceDocument, data: Any, base: Path_):
        super().__init__(doc.file, data, doc.positions, doc.key_positions)
        self._base = base

    def diagnostic(self, path: Path_, message: str, *, suggestion: str | None = None,
                   code: str = "invalid", at_key: bool = False, severity: str = "error") -> Diagnostic:
        return super().diagnostic(self._base + tuple(path), message, suggestion=suggestion, code=code,
                                  at_key=at_key, severity=severity)


def _compound_children(catalog: Catalog) -> Callable[[str], list[str] | None]:
    def children(resource_spec_id: str) -> list[str] | None:
        spec = catalog.resource_specifications.get(resource_spec_id)
        return list(spec.children) if spec and spec.children else None

    return children


# RuleBook is defined in bssrules.rules.book; it stays importable from here for its callers.
__all__ = ["RuleBook", "check_rule_documents"]
