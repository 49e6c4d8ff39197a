"""A project folder: its catalog files and its rule files, checked together."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.loader import _display, check_catalog_documents, is_rules_document
from bssrules.errors import Diagnostic, InvalidSource
from bssrules.rules.loader import RuleBook, check_rule_documents
from bssrules.yaml_source import SourceDocument, parse_file, parse_text, yaml_files


@dataclass
class Project:
    """A valid catalog and rule book, and the warnings found on the way."""

    catalog: Catalog
    rules: RuleBook
    warnings: list[Diagnostic] = field(default_factory=list)


def _split(diagnostics: list[Diagnostic]) -> tuple[list[Diagnostic], list[Diagnostic]]:
    errors = [d for d in diagnostics if d.severity != "warning"]
    return errors, [d for d in diagnostics if d.severity == "warning"]


def load_project(folder: Path | str) -> Project:
    """Load every catalog and rule file under ``folder``; raise :class:`InvalidSource` with
    every error (and the warnings) when anything is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidSource([Diagnostic(str(folder), 1, 1, "not a folder", code="notFound")])
    files = list(yaml_files(folder))
    if not files:
        raise InvalidSource([Diagnostic(str(folder), 1, 1, "no .yaml or .yml file in this folder", code="empty")])
    diagnostics: list[Diagnostic] = []
    catalog_docs: list[SourceDocument] = []
    rule_docs: list[SourceDocument] = []
    for path in files:
        doc, problems = parse_file(path, _display(path))
        diagnostics += problems
        if doc is not None:
            (rule_docs if is_rules_document(doc) else catalog_docs).append(doc)
    return _project(catalog_docs, rule_docs, diagnostics)


def load_project_texts(texts: dict[str, str]) -> Project:
    """A project from named YAML texts (for tests and documentation examples)."""
    diagnostics: list[Diagnostic] = []
    catalog_docs: list[SourceDocument] = []
    rule_docs: list[SourceDocument] = []
    for name, text in texts.items():
        doc, problems = parse_text(text, name)
        diagnostics += problems
        if doc is not None:
            (rule_docs if is_rules_document(doc) else catalog_docs).append(doc)
    return _project(catalog_docs, rule_docs, diagnostics)


def _project(catalog_docs: list[SourceDocument], rule_docs: list[SourceDocument],
             diagnostics: list[Diagnostic]) -> Project:
    catalog, catalog_problems = check_catalog_documents(catalog_docs, diagnostics)
    catalog_ok = not [d for d in catalog_problems if d.severity != "warning"]
    # Rule references are checked against the catalog only when it is itself valid:
    # otherwise every reference to a broken entity would be reported twice.
    book, rule_problems = check_rule_documents(rule_docs, catalog if catalog_ok and catalog_docs else None)
    errors, warnings = _split(catalog_problems + rule_problems)
    if errors:
        raise InvalidSource(errors + warnings)
    return Project(catalog, book, warnings)
