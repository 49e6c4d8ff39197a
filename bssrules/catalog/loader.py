"""Loading a catalog folder: parse every YAML file, validate, check across files.

Every problem is reported at once, positioned as ``file:line:column``; nothing is
returned unless the whole folder is valid.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator
from pydantic import ValidationError

from bssrules.catalog.catalog import Catalog, Origin
from bssrules.catalog.checks import catalog_problems
from bssrules.catalog.model import COLLECTIONS
from bssrules.catalog.schema import catalog_schema
from bssrules.errors import Diagnostic, InvalidSource
from bssrules.schema_errors import pydantic_diagnostics, schema_diagnostics
from bssrules.yaml_source import Path_, SourceDocument, parse_file, parse_text, yaml_files


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(catalog_schema())


def load_catalog(folder: Path | str) -> Catalog:
    """Load and validate every YAML file under ``folder``; raise :class:`InvalidSource` listing
    every problem when anything is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidSource([Diagnostic(str(folder), 1, 1, "not a folder", code="notFound")])
    documents, diagnostics = [], []
    files = list(yaml_files(folder))
    if not files:
        raise InvalidSource([Diagnostic(str(folder), 1, 1, "no .yaml or .yml file in this folder", code="empty")])
    for path in files:
        doc, problems = parse_file(path, _display(path))
        diagnostics += problems
        if doc is not None and not is_rules_document(doc):
            documents.append(doc)
    return catalog_from_documents(documents, diagnostics)


RULES_SECTIONS = ("ruleSets", "tests")


def is_rules_document(doc: SourceDocument) -> bool:
    """Rule files sit beside catalog files; they are told apart by their sections."""
    return isinstance(doc.data, dict) and any(key in doc.data for key in RULES_SECTIONS)


def load_catalog_text(text: str, file: str = "<text>") -> Catalog:
    """Load a catalog from a single YAML text (used by tests and the API's import)."""
    doc, diagnostics = parse_text(text, file)
    return catalog_from_documents([doc] if doc else [], diagnostics)


def catalog_from_documents(documents: list[SourceDocument], diagnostics: list[Diagnostic] | None = None) -> Catalog:
    """Validate parsed documents into one catalog, or raise with every diagnostic."""
    catalog, found = check_catalog_documents(documents, diagnostics)
    if found:
        raise InvalidSource(found)
    return catalog


def check_catalog_documents(documents: list[SourceDocument], diagnostics: list[Diagnostic] | None = None
                            ) -> tuple[Catalog, list[Diagnostic]]:
    """The valid part of the catalog and every diagnostic (so rules can still be checked)."""
    diagnostics = list(diagnostics or [])
    catalog = Catalog()
    where: dict[tuple[str, str], tuple[SourceDocument, Path_]] = {}
    # Ids of entities that failed their own validation still exist as far as references go:
    # reporting every reference to them as unknown would bury the one real error.
    invalid_ids: dict[str, set[str]] = {entity_type.kind: set() for entity_type in COLLECTIONS.values()}
    for doc in documents:
        if doc.data is None:
            continue  # an empty file (only comments) is allowed
        problems = schema_diagnostics(_validator(), doc)
        diagnostics += problems
        bad_paths = {d.path for d in problems}
        if not isinstance(doc.data, dict):
            continue
        for collection, entity_type in COLLECTIONS.items():
            items = doc.data.get(collection)
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                base: Path_ = (collection, index)
                raw_id = item.get("id") if isinstance(item, dict) else None
                if any(p[:2] == base for p in bad_paths):
                    if isinstance(raw_id, str):
                        invalid_ids[entity_type.kind].add(raw_id)
                    continue  # already reported by the schema; pydantic would repeat it
                try:
                    entity = entity_type.model_validate(item)
                except ValidationError as exc:
                    diagnostics += pydantic_diagnostics(exc, doc, base)
                    if isinstance(raw_id, str):
                        invalid_ids[entity_type.kind].add(raw_id)
                    continue
                key = (entity.kind, entity.id)
                if key in where:
                    first_doc, first_path = where[key]
                    line, _ = first_doc.position(first_path)
                    diagnostics.append(doc.diagnostic(base + ("id",), f"duplicate {entity.kind} id '{entity.id}' "
                                                      f"(first defined at {first_doc.file}:{line})",
                                                      code="duplicateId"))
                    continue
                where[key] = (doc, base)
                catalog.add(entity, Origin(doc.file, doc.position(base)[0]))
    for problem in catalog_problems(catalog, lambda kind: catalog.ids(kind) | invalid_ids[kind]):
        doc, base = where[(problem.kind, problem.id)]
        diagnostics.append(doc.diagnostic(base + problem.path, problem.message,
                                          suggestion=problem.suggestion, code=problem.code))
    return catalog, diagnostics


def _display(path: Path) -> str:
    """Paths relative to the working directory when possible, as editors expect them."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
