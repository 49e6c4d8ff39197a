"""Loading a catalog folder: parse every YAML file, validate, check across files.

Every problem is reported at once, positioned as ``file:line:column``; nothing is
returned unless the whole folder is valid.

Checking is in two steps, so that a project's check can keep the first in a cache:

1. each file alone (:func:`check_catalog_file`): schema, model, and the :class:`FoundEntity`
   of every entity — also of one that failed its own validation, which is still known by
   its id and, as far as it could be read, still checked for what it refers to;
2. the files together (:func:`cross_file_diagnostics`): duplicate ids, references,
   characteristic uses and cycles (:mod:`bssrules.catalog.checks`).
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

from pydantic import ValidationError as PydanticError

from bssrules.catalog.catalog import Catalog, Origin
from bssrules.catalog.checks import CatalogPrice, KnownIds, Links, PriceOf, link_problems, links_of
from bssrules.catalog.model import (
    COLLECTIONS, VALUE_TYPES, Entity, ProductOfferingPrice, Ref, describe, scalar_problem, show_value,
)
from bssrules.catalog.schema import catalog_schema
from bssrules.errors import Diagnostic, InvalidSource, did_you_mean
from bssrules.schema_errors import (
    Lenient, SchemaCheck, _field_adapter, fields_alone, pydantic_diagnostics,
    holds_unstorable_text, items_set_aside, lenient_model, unstorable_diagnostics,
)
from bssrules.yaml_source import Path_, SourceDocument, ids_in_text, parse_file, parse_text, said_once, yaml_files


class FoundEntity(NamedTuple):
    """An entity of a file as far as it could be read."""

    base: Path_  # (collection, index) in its file
    kind: str
    id: str | None  # None: it has no id to be known by
    links: Links | None  # None: too broken to check what it refers to
    valid: bool  # it passed its own validation: it is part of the catalog


class CatalogFileCheck(NamedTuple):
    """What one catalog file says on its own: its diagnostics and entities."""

    diagnostics: tuple[Diagnostic, ...]
    entities: tuple[FoundEntity, ...]


@lru_cache(maxsize=1)
def _schemas() -> tuple[SchemaCheck, dict[str, SchemaCheck]]:
    """The file's schema without its entities, and each collection's entity schema: an
    entity's errors are looked for only when it is invalid, and only in it."""
    schema = catalog_schema()
    shell = {**schema, "properties": {name: {k: v for k, v in sub.items() if k != "items"}
                                      for name, sub in schema["properties"].items()}}
    items = {name: SchemaCheck({"$defs": schema["$defs"], **schema["properties"][name]["items"]})
             for name in COLLECTIONS}
    return SchemaCheck(shell), items


def require_folder(folder: Path) -> None:
    """Refuse what is not a folder, saying which: one that does not exist (a typo in the path),
    or a file given where the folder that holds it was meant."""
    if folder.is_dir():
        return
    said = "is a file, not a folder: give the folder that holds the project's YAML files" if folder.exists() \
        else "no such folder"
    raise InvalidSource([Diagnostic(str(folder), 1, 1, said, code="notFound")])


def load_catalog(folder: Path | str) -> Catalog:
    """Load and validate every YAML file under ``folder``; raise :class:`InvalidSource` listing
    every problem when anything is wrong."""
    folder = Path(folder)
    require_folder(folder)
    documents, diagnostics = [], []
    declared: set[str] = set()  # ids written in the files that cannot be parsed
    files = list(yaml_files(folder))
    if not files:
        raise InvalidSource([Diagnostic(str(folder), 1, 1, "no .yaml or .yml file in this folder", code="empty")])
    for path in files:
        doc, problems = parse_file(path, _display(path), located=True)  # every entity's line is kept
        diagnostics += problems
        if doc is None:
            declared |= ids_in_text(path.read_bytes().decode("utf-8", errors="replace"))
        elif not is_rules_document(doc):
            documents.append(doc)
    return catalog_from_documents(documents, diagnostics, declared)


RULES_SECTIONS = ("ruleSets", "tests")


def is_rules_document(doc: SourceDocument) -> bool:
    """Rule files sit beside catalog files; they are told apart by their sections (a file
    with no catalog section and a misspelt rules section is a rules file)."""
    if not isinstance(doc.data, dict):
        return False
    if any(key in doc.data for key in RULES_SECTIONS):
        return True
    return not any(key in doc.data for key in (*COLLECTIONS, "formatVersion")) and any(
        did_you_mean(str(key), RULES_SECTIONS) for key in doc.data)


def load_catalog_text(text: str, file: str = "<text>") -> Catalog:
    """Load a catalog from a single YAML text (used by tests and the API's import)."""
    doc, diagnostics = parse_text(text, file, located=True)
    return catalog_from_documents([doc] if doc else [], diagnostics)


def catalog_from_documents(documents: list[SourceDocument], diagnostics: list[Diagnostic] | None = None,
                           declared: set[str] | frozenset[str] = frozenset()) -> Catalog:
    """Validate parsed documents into one catalog, or raise with every diagnostic
    (``declared``: ids written in files that could not be parsed, not reported as unknown)."""
    catalog, found = check_catalog_documents(documents, diagnostics, declared)
    if found:
        raise InvalidSource(found)
    return catalog


def check_catalog_documents(documents: list[SourceDocument], diagnostics: list[Diagnostic] | None = None,
                            declared: set[str] | frozenset[str] = frozenset()) -> tuple[Catalog, list[Diagnostic]]:
    """The valid part of the catalog and every diagnostic."""
    diagnostics = list(diagnostics or [])
    checks, models = [], []
    for doc in documents:
        check, entities = check_catalog_file(doc)
        checks.append(check)
        models.append(entities)
        diagnostics += check.diagnostics
    diagnostics += cross_file_diagnostics(checks, lambda i: documents[i], declared)
    by_file = {doc.file: doc for doc in documents}
    return build_catalog(checks, models, lambda i: documents[i]), said_once(diagnostics, by_file.get)


def build_catalog(checks: Sequence[CatalogFileCheck], models: Sequence[Sequence[Entity | None]],
                  document: Callable[[int], SourceDocument]) -> Catalog:
    """The catalog of the valid entities (the first of an id), each with where it was authored."""
    catalog = Catalog()
    for number, (check, entities) in enumerate(zip(checks, models)):
        for found, entity in zip(check.entities, entities):
            if entity is not None and catalog.get(entity.kind, entity.id) is None:
                catalog.add(entity, Origin(document(number).file, document(number).position(found.base)[0]))
    return catalog


# ------------------------------------------------------------- one file


def check_catalog_file(doc: SourceDocument) -> tuple[CatalogFileCheck, list[Entity | None]]:
    """Check one catalog file alone; the models of its valid entities (None for the others)
    come along, in the order of :attr:`CatalogFileCheck.entities`."""
    if doc.data is None:
        return CatalogFileCheck((), ()), []  # an empty file (only comments) is allowed
    shell, item_schemas = _schemas()
    diagnostics = shell.diagnostics(doc)
    unstorable = doc.may_hold_escapes and holds_unstorable_text(doc.data)  # then looked for entity by entity
    if unstorable and isinstance(doc.data, dict):  # text outside the entities (theirs is checked with each)
        diagnostics = _with_texts(diagnostics, unstorable_diagnostics(
            doc, {k: v for k, v in doc.data.items() if k not in COLLECTIONS}))
    found: list[FoundEntity] = []
    models: list[Entity | None] = []
    if isinstance(doc.data, dict):
        for collection, entity_type in COLLECTIONS.items():
            items = doc.data.get(collection)
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                base: Path_ = (collection, index)
                # Text no store keeps (NUL, a lone surrogate) makes the entity invalid: said
                # here, where it is written, rather than by the database when it is loaded.
                problems = _with_texts(item_schemas[collection].diagnostics(doc, item, base),
                                       (unstorable_diagnostics(doc, item, base) if unstorable else [])
                                       + _value_diagnostics(doc, item, base))
                # Read from what is written, whatever else is wrong: the entry repeated is set
                # aside (its list is read item by item), the rest of the entity still checked.
                # A valid entity has none (its model refuses them): looked for in the others.
                listed, within = _repeated_entries(doc, collection, item, base) if problems else ([], [])
                entity, more, links = _entity(entity_type, item, doc, base, problems + listed)
                if not problems and entity is None:
                    listed, within = _repeated_entries(doc, collection, item, base)
                    if listed:
                        entity, more, links = _entity(entity_type, item, doc, base, listed)
                if entity is None and (listed or within) and not problems:
                    # Refused for its repeated entries only: read again without them, so that its
                    # own rules (a recurring price's period, a default among the values) are said
                    # in the same run. Only an entity in error pays for this.
                    said = {(d.path, d.message) for d in more}
                    more += [d for d in _without_repeats(entity_type, item, doc, base, listed + within)
                             if (d.path, d.message) not in said and not d.message.startswith(_MODEL_REPEATS)]
                if entity is None and entity_type is ProductOfferingPrice:
                    more += _price_shape(item, doc, base, problems + listed + more)
                problems += listed
                if within:  # said at the repeated value rather than (by the model) at its list's owner
                    more = [d for d in more if not d.message.startswith(_MODEL_REPEATS)] + within
                diagnostics += problems + more
                raw_id = item.get("id") if isinstance(item, dict) else None
                id = entity.id if entity is not None else raw_id if isinstance(raw_id, str) else None
                found.append(FoundEntity(base, entity_type.kind, id, links, entity is not None))
                models.append(entity)
    return CatalogFileCheck(tuple(diagnostics), tuple(found)), models


def _with_texts(problems: list[Diagnostic], texts: list[Diagnostic]) -> list[Diagnostic]:
    """``problems`` and the errors of values said in our words (text no store keeps, a
    characteristic value not of its valueType), which say what is wrong at their place
    better than a schema's error there or inside (an id of the wrong shape quoting a NUL;
    "expected true or false", the first member of the union of scalars, for any value)."""
    if not texts:
        return problems
    at = {d.path for d in texts}
    return [d for d in problems if not any(d.path[:n] in at for n in range(len(d.path) + 1))] + texts


# What a characteristic's valueType asks of each of its values, said in a message.
_VALUE_WORDS = {"string": "text", "integer": "an integer", "number": "a number", "boolean": "true or false",
                "date": "a date (YYYY-MM-DD)"}


def _value_diagnostics(doc: SourceDocument, item: Any, base: Path_) -> list[Diagnostic]:
    """One error per value (``values`` and ``default``) of a specification's characteristics,
    and of an offering's characteristic uses, that is no value at all (a mapping, nothing, a
    list, an infinite number or one of too many digits), in the words of the characteristic's
    valueType: "expected a number, got a mapping". A value of another type is the model's to
    report."""
    found: list[Diagnostic] = []
    characteristics = item.get("characteristics") if isinstance(item, dict) else None
    for i, characteristic in enumerate(characteristics if isinstance(characteristics, list) else []):
        if not isinstance(characteristic, dict):
            continue
        value_type = characteristic.get("valueType", "string")
        values = characteristic.get("values")
        located: list[tuple[Path_, Any]] = [(("values", j), v) for j, v in enumerate(values)
                                            ] if isinstance(values, list) else []
        if characteristic.get("default") is not None:
            located.append((("default",), characteristic["default"]))
        for path, value in located:
            problem = scalar_problem(value)
            if problem is None:
                continue
            numeric = isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
            if value_type in VALUE_TYPES and not (numeric and value_type in ("integer", "number")):
                problem = f"expected {_VALUE_WORDS[value_type]}, got {describe(value)}"
            found.append(doc.diagnostic(base + ("characteristics", i) + path, problem))
    # An offering's characteristic use: the valueType is its specification's, maybe in
    # another file; said as any value ("expected text, a number, or true or false").
    uses = item.get("characteristicUses") if isinstance(item, dict) else None
    for i, use in enumerate(uses if isinstance(uses, list) else []):
        values = use.get("values") if isinstance(use, dict) else None
        for j, value in enumerate(values if isinstance(values, list) else []):
            problem = scalar_problem(value)
            if problem:
                found.append(doc.diagnostic(base + ("characteristicUses", i, "values", j), problem))
    return found


# Placeholders for a missing or invalid id or name, so that the rest of an entity can be read.
_PLACEHOLDERS = {"id": "x", "name": "?"}
# Lists whose items are read one by one: an item in error is set aside, not the whole list.
_BY_ITEM = ("characteristics", "characteristicUses", "bundle", "relationships", "relatedParties", "terms",
            "allowances", "channels", "categories", "prices")

# The lists of an entity (by collection) whose entries must differ, as (list, what tells an
# entry apart: a field, the entry itself (None) or a relationship's type and offering, noun).
_UNIQUE: dict[str, tuple[tuple[str, str | None, str], ...]] = {
    "productSpecifications": (("characteristics", "name", "characteristic name"),),
    "resourceSpecifications": (("characteristics", "name", "characteristic name"),),
    "productOfferings": (("bundle", "offering", "bundle offering"), ("channels", None, "channel"),
                         ("categories", None, "category"), ("prices", None, "price"),
                         ("relationships", "type offering", "relationship"),
                         ("characteristicUses", "name", "characteristicUse"), ("terms", "name", "term")),
    "productOfferingPrices": (("allowances", "id", "allowance id"),),
}


# The model's words for the repeated values inside an entry (what _repeated_entries says instead).
_MODEL_REPEATS = ("values are not unique: ", "usage type listed more than once: ")


# The values inside the entries of a list that must differ: (list, field of values, noun, name field).
_UNIQUE_INSIDE = {"productSpecifications": ("characteristics", "values", "value", "name"),
                  "resourceSpecifications": ("characteristics", "values", "value", "name"),
                  "productOfferingPrices": ("allowances", "usageTypes", "usage type", "id")}


def _repeated_entries(doc: SourceDocument, collection: str, item: Any, base: Path_
                      ) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Each entry of an entity's list that repeats an earlier one (a term, an allowance, a
    characteristic of the same name; a price listed twice), and each value repeated inside
    an entry (of a characteristic, a usage type of an allowance), at the repeated one, naming
    where the first is. Read from what is written, so that it is said in the same run as the
    entity's other errors (the model's own check says it only of an entity otherwise valid,
    at the list). The repeated entries are set aside (what is left of the entity is still
    checked); a repeated value is not (its entry's other errors are the model's to say)."""
    found: list[Diagnostic] = []
    inside: list[Diagnostic] = []
    if not isinstance(item, dict):
        return found, inside
    for name, key, noun in _UNIQUE.get(collection, ()):
        entries = item.get(name)
        if entries.__class__ is list and len(entries) > 1 and not _all_differ(entries, key):
            found += _repeats(doc, entries, base + (name,), key, noun)
    if collection in _UNIQUE_INSIDE:
        name, inner, noun, label_key = _UNIQUE_INSIDE[collection]
        entries = item.get(name)
        for index, entry in enumerate(entries if isinstance(entries, list) else ()):
            values = entry.get(inner) if isinstance(entry, dict) else None
            if isinstance(values, list) and len(values) > 1 and not _all_differ(values, None):
                label = entry.get(label_key)
                of = f" of '{label}'" if isinstance(label, str) else ""
                inside += _repeats(doc, values, base + (name, index, inner), None, noun, of)
    return found, inside


def _price_shape(item: Any, doc: SourceDocument, base: Path_, said: list[Diagnostic]) -> list[Diagnostic]:
    """The errors of a price as a whole after the first (the model says one): of a price
    whose fields are valid and whose only error is one of its shape (amount 1.001 of a
    oneTime price with a unit: both the decimals and the unit)."""
    if not said or any(d.path != base for d in said) or not isinstance(item, dict):
        return []
    model = fields_alone(ProductOfferingPrice, item)
    try:
        problems = model.shape_problems() if model is not None else []
    except AttributeError:  # a field it needs is missing
        return []
    known = {d.message for d in said}
    return [doc.diagnostic(base, message) for message in problems if message not in known]


def _without_repeats(entity_type: type[Entity], item: dict[str, Any], doc: SourceDocument, base: Path_,
                     repeated: list[Diagnostic]) -> list[Diagnostic]:
    """The model's errors of ``item`` read without its ``repeated`` entries and values (said by
    :func:`_repeated_entries`), positioned in ``item`` (what is left is the entity as meant:
    the first of each repeated entry is kept)."""
    entries: dict[str, set[int]] = {}
    values: dict[tuple[str, int], tuple[str, set[int]]] = {}
    inner_field = _UNIQUE_INSIDE[str(base[0])][1] if base and base[0] in _UNIQUE_INSIDE else None
    for d in repeated:
        at = d.path[len(base):]
        if len(at) >= 4 and at[2] == inner_field and isinstance(at[1], int) and isinstance(at[3], int):
            values.setdefault((str(at[0]), at[1]), (str(at[2]), set()))[1].add(at[3])
        elif len(at) >= 2 and isinstance(at[1], int):
            entries.setdefault(str(at[0]), set()).add(at[1])
    data = dict(item)
    kept: dict[str, list[int]] = {}
    kept_inside: dict[tuple[str, int], tuple[str, list[int]]] = {}
    alone: list[tuple[str, int, Any]] = []  # the repeated entries, each read on its own
    for name in set(entries) | {name for name, _ in values}:
        written = item.get(name)
        if not isinstance(written, list):
            continue
        kept[name] = [i for i in range(len(written)) if i not in entries.get(name, ())]
        left = []
        for i in range(len(written)):
            entry = written[i]
            if (name, i) in values and isinstance(entry, dict) and isinstance(entry.get(values[name, i][0]), list):
                inner, dropped = values[name, i]
                kept_inside[name, i] = (inner, [j for j in range(len(entry[inner])) if j not in dropped])
                entry = {**entry, inner: [entry[inner][j] for j in kept_inside[name, i][1]]}
            if i in entries.get(name, ()):
                alone.append((name, i, entry))
            else:
                left.append(entry)
        data[name] = left

    def remap(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
        if len(loc) >= 2 and loc[0] in kept and isinstance(loc[1], int) and loc[1] < len(kept[str(loc[0])]):
            return _alone_path((0,) + loc[2:], str(loc[0]), kept[str(loc[0])][loc[1]], kept_inside)
        return loc

    found: list[Diagnostic] = []
    try:
        entity_type.model_validate(data)
    except PydanticError as exc:
        found += pydantic_diagnostics(exc, doc, base, remap)
    for name, index, entry in alone:  # its own errors (what it repeats is said already)
        try:
            _field_adapter(entity_type, _field_name(entity_type, name)).validate_python([entry])
        except PydanticError as exc:
            found += pydantic_diagnostics(exc, doc, base, partial(_alone_path, name=name, index=index,
                                                                  kept_inside=kept_inside))
    return found


def _alone_path(loc: tuple[str | int, ...], name: str, index: int,
                kept_inside: dict[tuple[str, int], tuple[str, list[int]]]) -> tuple[str | int, ...]:
    """The path in the item of ``loc``, a path in ``[entry]`` (the entry at ``name[index]``)."""
    rest = loc[1:]
    inside = kept_inside.get((name, index))
    if inside and len(rest) >= 2 and rest[0] == inside[0] and isinstance(rest[1], int) and rest[1] < len(inside[1]):
        rest = (rest[0], inside[1][rest[1]]) + rest[2:]
    return (name, index) + rest


def _all_differ(entries: list[Any], key: str | None) -> bool:
    """Whether no two entries can be the same (the quick test of the many lists that have
    none: equal in a set whenever :func:`_entry_key` would tell them equal)."""
    if key is None:
        values = entries
    elif key == "type offering":
        values = [(e.get("type"), e.get("offering")) if isinstance(e, dict) else None for e in entries]
    else:
        values = [e.get(key) if isinstance(e, dict) else None for e in entries]
    values = [_stripped(v) for v in values]  # ("speed " is "speed": the model strips texts)
    try:
        return len(set(values)) == len(values)
    except TypeError:  # a mapping or a list among them: looked at one by one
        return False


def _stripped(value: Any) -> Any:
    """A text without the spaces around it (as the model reads texts), and a pair of them likewise."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, tuple):
        return tuple(v.strip() if isinstance(v, str) else v for v in value)
    return value


def _entry_key(entry: Any, key: str | None) -> tuple[str, Any] | None:
    """What tells an entry apart (None: it cannot be told, nothing is said of it)."""
    if key is None:
        value = entry
    elif key == "type offering":
        value = (entry.get("type"), entry.get("offering")) if isinstance(entry, dict) else None
        return ("relationship", _stripped(value)) if value is not None and all(isinstance(v, str) for v in value) \
            else None
    else:
        value = entry.get(key) if isinstance(entry, dict) else None
    if isinstance(value, str):
        return ("text", value.strip())  # (as the model reads it)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, Decimal)):  # 1, 1.0 and 1.00 are one number (as the model counts them)
        return ("number", Decimal(value).normalize())
    return None


def _repeats(doc: SourceDocument, entries: list[Any], where: Path_, key: str | None, noun: str, within: str = ""
             ) -> list[Diagnostic]:
    first: dict[tuple[str, Any], int] = {}
    found: list[Diagnostic] = []
    for index, entry in enumerate(entries):
        told = _entry_key(entry, key)
        if told is None:
            continue
        if told not in first:
            first[told] = index
            continue
        at: Path_ = (key,) if key is not None and key != "type offering" else ()
        path = where + (index,) + at
        value = entry if key is None else entry.get(key)
        shown = " ".join(told[1]) if isinstance(told[1], tuple) else show_value(value) if isinstance(value, bool) \
            else value.strip() if isinstance(value, str) else str(value)
        line, column = doc.position(where + (first[told],) + at)
        # (the first is in the same file: its line and column only — the check's cache keeps a
        # file's findings by its content, which a copy or a move of the file keeps too)
        found.append(doc.diagnostic(path, f"{noun}{within} listed more than once: {shown} (first at "
                                          f"line {line}, column {column})", code="duplicateId"))
    return found


def _entity(entity_type: type[Entity], item: Any, doc: SourceDocument, base: Path_, problems: list[Diagnostic]
            ) -> tuple[Entity | None, list[Diagnostic], Links | None]:
    """The model of a valid entity, the model's errors besides ``problems`` (the schema's),
    and its links — for an invalid entity those of what is left once its invalid fields are
    set aside, so that its references are still checked."""
    read = lenient_model(entity_type, item, doc, base, problems, _PLACEHOLDERS, _BY_ITEM, field_by_field=True)
    if read.valid is not None:
        return read.valid, [], links_of(read.valid)
    raw_id = item.get("id") if isinstance(item, dict) else None
    if read.partial is None or not isinstance(raw_id, str):
        raw = _raw_allowances(item, base, problems + read.more, ()) if isinstance(raw_id, str) else ()
        if raw and isinstance(raw_id, str):
            return read.valid, read.more, Links(entity_type.kind, raw_id, (), allowances=raw)
        return read.valid, read.more, None
    # What an offering uses of a specification is checked against all its characteristics:
    # with one of them set aside, against none.
    # A misspelt field (charactxristics) is the field it looks like, set aside.
    fields = {info.alias or name for name, info in entity_type.model_fields.items()}
    aside = read.set_aside | {did_you_mean(f, fields) for f in read.set_aside if f is not None and f not in fields}
    characteristics_known = not aside & {"characteristics", None} and "characteristics" not in read.kept
    links = links_of(read.partial, "characteristicUses" not in aside, characteristics_known)
    if not characteristics_known and entity_type.kind == "productSpecification" and None not in aside:
        links = links._replace(characteristic_names=_characteristic_names(item))
    # Paths of what is left are paths of the item again (an item set aside shifts the others).
    refs = tuple((read.path(path), kind, id) for path, kind, id in links.refs) + _aside_refs(entity_type, item,
                                                                                             read)
    allowances = tuple((read.path(path), unit, types) for path, unit, types in links.allowances)
    allowances += _raw_allowances(item, base, problems + read.more, {path for path, _, _ in allowances})
    if links.uses and "characteristicUses" in read.kept:
        links = links._replace(uses=_uses_in_place(item, base, problems + read.more, links.uses,
                                                    read.kept["characteristicUses"]))
    return read.valid, read.more, links._replace(id=raw_id, refs=refs, allowances=allowances)


def _characteristic_names(item: dict[str, Any]) -> tuple[str, ...] | None:
    """The names of a specification's characteristics as written, whatever else is wrong in
    them (None: one has no name that can be read, or the list cannot be)."""
    written = item.get("characteristics")
    if not isinstance(written, list):
        return None
    names = [c.get("name") if isinstance(c, dict) else None for c in written]
    return tuple(n for n in names if isinstance(n, str)) if all(isinstance(n, str) for n in names) else None


def _uses_in_place(item: dict[str, Any], base: Path_, problems: list[Diagnostic],
                   uses: tuple[tuple[str, tuple[Any, ...]], ...], kept: list[int]
                   ) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """An offering's characteristic uses by their place in the item (they are checked by their
    index): those read, and those set aside only for repeating an earlier one, as written (its
    values are still checked against the characteristic: 64GB of a memorySize). From the first
    use set aside for an error of its own, none (its place cannot be kept)."""
    written = item.get("characteristicUses")
    if not isinstance(written, list):
        return ()
    read = dict(zip(kept, uses))
    said = {d.path[len(base):len(base) + 2] for d in problems if d.code != "duplicateId"}
    found: list[tuple[str, tuple[Any, ...]]] = []
    for index, use in enumerate(written):
        if index in read:
            found.append(read[index])
            continue
        values = use.get("values", []) if isinstance(use, dict) else None
        if ("characteristicUses", index) in said or not isinstance(use.get("name") if isinstance(use, dict) else None,
                                                                     str) \
                or not isinstance(values, list) or any(scalar_problem(v) for v in values):
            break
        assert isinstance(use, dict)
        found.append((use["name"], tuple(values)))
    return tuple(found)


def _raw_allowances(item: Any, base: Path_, problems: list[Diagnostic], read: set[Path_] | tuple[()]
                    ) -> tuple[tuple[Path_, str, tuple[str, ...]], ...]:
    """The allowances of a price in error not read with it (set aside, or the price too broken
    to read), as written, so that their units and usage types are still checked against the
    catalog's (a wrong currency does not hide an unknown unit): each whose unit and usage
    types have no error of their own."""
    allowances = item.get("allowances") if isinstance(item, dict) else None
    if not isinstance(allowances, list):
        return ()
    said = {d.path for d in problems}
    found: list[tuple[Path_, str, tuple[str, ...]]] = []
    for index, allowance in enumerate(allowances):
        path: Path_ = ("allowances", index)
        if path in read or not isinstance(allowance, dict):
            continue
        unit, types = allowance.get("unit"), allowance.get("usageTypes", [])
        at = base + path
        if not isinstance(unit, str) or not isinstance(types, list) or not all(isinstance(t, str) for t in types) \
                or any(p[:len(at) + 1] in (at + ("unit",), at + ("usageTypes",)) for p in said):
            continue
        found.append((path, unit, tuple(types)))
    return tuple(found)


def _aside_refs(entity_type: type[Entity], item: Any, read: Lenient[Entity]) -> tuple[Ref, ...]:
    """The references made by the valid fields of the list items set aside (a relationship of
    an unknown type still names an offering, which must exist)."""
    assert read.partial is not None
    refs: list[Ref] = []
    for name, items in items_set_aside(entity_type, item, read).items():
        for index, alone in items.items():
            probe = read.partial.model_copy(update={_field_name(entity_type, name): [alone]})
            try:
                made = probe.refs()
            except AttributeError:  # the field it refers by is one in error
                continue
            refs += [((name, index) + path[2:], kind, id) for path, kind, id in made if path[:2] == (name, 0)]
    return tuple(refs)


def _field_name(model_type: type[Entity], key: str) -> str:
    return next(name for name, info in model_type.model_fields.items() if (info.alias or name) == key)


# ------------------------------------------------------------- the files together


def known_ids(checks: Sequence[CatalogFileCheck], also: set[str] | frozenset[str] = frozenset()) -> KnownIds:
    """Ids known by kind: of every entity with an id (valid or not), and ``also`` (the ids a
    file that could not be parsed seems to declare) of any kind."""
    by_kind: dict[str, set[str]] = {entity_type.kind: set(also) for entity_type in COLLECTIONS.values()}
    for check in checks:
        for found in check.entities:
            if found.id is not None:
                by_kind[found.kind].add(found.id)
    return lambda kind: by_kind.get(kind, set())


def price_lookup(checks: Sequence[CatalogFileCheck], document: Callable[[int], SourceDocument]) -> PriceOf:
    """The valid prices of the catalog files by id (the first of an id), with their positions
    (the file of ``checks[i]`` is ``document(i)``, asked for only when a price is looked up)."""
    found: dict[str, tuple[int, FoundEntity]] = {}
    for number, check in enumerate(checks):
        for entity in check.entities:
            if entity.kind == "productOfferingPrice" and entity.id is not None and entity.id not in found:
                found[entity.id] = (number, entity)

    def price_of(id: str) -> CatalogPrice | None:
        if id not in found:
            return None
        number, entity = found[id]
        if not entity.valid or entity.links is None or entity.links.price is None:
            return None  # its own errors are reported; nothing is checked against it
        price_type, amount, currency, unit, quantity = entity.links.price
        doc = document(number)
        line, column = doc.position(entity.base)
        return CatalogPrice(id, price_type, amount, currency, unit, quantity, f"{doc.file}:{line}:{column}")

    return price_of


def compound_children(checks: Sequence[CatalogFileCheck]) -> dict[str, list[str]]:
    """The children of every valid compound resource specification (the first of an id)."""
    children: dict[str, list[str]] = {}
    for check in checks:
        for found in check.entities:
            if found.valid and found.links and found.kind == "resourceSpecification" and found.id not in children:
                kids = [target for path, _, target in found.links.refs if path[0] == "children"]
                if kids and found.id is not None:
                    children[found.id] = kids
    return children


def cross_file_diagnostics(checks: Sequence[CatalogFileCheck], document: Callable[[int], SourceDocument],
                           also_known: set[str] | frozenset[str] = frozenset()) -> list[Diagnostic]:
    """Duplicate ids, references, characteristic uses and cycles across files (the file of
    ``checks[i]`` is ``document(i)``, asked for only where a problem is)."""
    diagnostics: list[Diagnostic] = []
    first: dict[tuple[str, str], tuple[int, Path_]] = {}
    located: list[tuple[int, Path_]] = []
    links: list[Links] = []
    valid: list[bool] = []  # only valid entities make cycles (an invalid one says why it is refused)
    for number, check in enumerate(checks):
        for found in check.entities:
            if found.id is not None:
                key = (found.kind, found.id)
                if key in first:
                    first_number, first_base = first[key]
                    first_doc, doc = document(first_number), document(number)
                    diagnostics.append(doc.diagnostic(
                        found.base + ("id",), f"duplicate {found.kind} id '{found.id}' (first defined at "
                                              f"{first_doc.file}:{first_doc.position(first_base)[0]})",
                        code="duplicateId"))
                else:
                    first[key] = (number, found.base)
            if found.links is not None:
                located.append((number, found.base))
                links.append(found.links)
                valid.append(found.valid)
    for index, problem in link_problems(links, known_ids(checks, also_known), valid):
        number, base = located[index]
        diagnostics.append(document(number).diagnostic(base + problem.path, problem.message,
                                                        suggestion=problem.suggestion, code=problem.code))
    return diagnostics


def _display(path: Path) -> str:
    """Paths relative to the working directory when possible, as editors expect them."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
