"""Turning jsonschema and pydantic errors into positioned, readable diagnostics.

Shared by every YAML format of bssrules (catalogs, rule files): a message says what was
expected, an unknown key or enum value gets a "did you mean". :class:`SchemaCheck` first
asks a validator compiled from the schema whether a value is valid at all (most are): only
an invalid value is walked by jsonschema for its errors.
"""
from __future__ import annotations

import numbers
import re
from decimal import Decimal
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Mapping, TypeVar, get_args

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticError

from bssrules.errors import Diagnostic, did_you_mean
from bssrules.money import ISO_4217
from bssrules.yaml_source import SourceDocument

if TYPE_CHECKING:  # jsonschema is imported when a value is invalid (or a validator is asked for)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._:-]*$"
_TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
               "object": "a mapping", "array": "a list", "null": "nothing"}


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "nothing"
    return repr(value) if isinstance(value, str) else str(value)


def _expected_types(schema_type: Any) -> str:
    types: list[str] = schema_type if isinstance(schema_type, list) else [schema_type]
    return " or ".join(_TYPE_NAMES.get(t, t) for t in types)


def _keyword_value(error: ValidationError) -> Any:
    """The value in the schema of the keyword that failed (JSON; set on every error a
    validator yields)."""
    return error.validator_value


def _schema(error: ValidationError) -> Mapping[str, Any]:
    """The schema object holding the keyword that failed (an empty one for a boolean schema)."""
    return error.schema if isinstance(error.schema, Mapping) else {}


def _narrow(error: ValidationError) -> list[ValidationError]:
    """For anyOf/oneOf over "X or null", every error of the X branch (not only the best one)."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return [error]
    branches: dict[str | int, list[ValidationError]] = {}  # by index of the branch
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    options = _keyword_value(error)
    non_null = [i for i in branches if options[i].get("type") != "null"]
    if len(non_null) == 1:
        return [leaf for sub in branches[non_null[0]] for leaf in _narrow(sub)]
    from jsonschema.exceptions import best_match

    return _narrow(best_match(error.context))


_NOTHING = object()


def schema_diagnostics(validator: Draft202012Validator, doc: SourceDocument, data: Any = _NOTHING,
                       base: tuple[str | int, ...] = ()) -> list[Diagnostic]:
    """Every schema violation of ``doc`` (or of ``data``, the node at ``base`` in it),
    positioned and phrased for a catalog manager."""
    found: list[Diagnostic] = []
    for raw in validator.iter_errors(doc.data if data is _NOTHING else data):
        for error in _narrow(raw):
            found.extend(d for d in _convert(error, doc, base) if d not in found)
    # A value that is not one of those allowed is said once: not also as of the wrong type.
    listed = {d.path for d in found if d.code == "notAllowed"}
    return [d for d in found if not (d.code == "wrongType" and d.path in listed)]


class SchemaCheck:
    """A JSON Schema with its fast validity test: the errors of a valid value are not looked for."""

    def __init__(self, schema: Mapping[str, Any]):
        self.schema = schema
        self._validator: Draft202012Validator | None = None
        try:
            self.is_valid: Callable[[Any], bool] = compile_schema(schema)
        except NotCompilable:  # a keyword the compiler does not know: jsonschema decides alone
            self.is_valid = lambda value: self.validator.is_valid(value)

    @property
    def validator(self) -> Draft202012Validator:
        """The jsonschema validator of the schema (what says what is wrong)."""
        if self._validator is None:
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(self.schema)
        return self._validator

    def diagnostics(self, doc: SourceDocument, data: Any = _NOTHING,
                    base: tuple[str | int, ...] = ()) -> list[Diagnostic]:
        """:func:`schema_diagnostics`, at once when the value is valid."""
        value = doc.data if data is _NOTHING else data
        return [] if self.is_valid(value) else schema_diagnostics(self.validator, doc, value, base)


def _convert(error: ValidationError, doc: SourceDocument, base: tuple[str | int, ...] = ()) -> Iterable[Diagnostic]:
    path = base + tuple(error.absolute_path)
    kind, schema, value = error.validator, _schema(error), error.instance
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = list(schema.get("properties", {}))
        for key in sorted(set(value) - set(allowed)):
            what = "section" if not path else "field"
            yield doc.diagnostic(path + (key,), f"unknown {what} '{key}'; expected one of: {', '.join(allowed)}",
                                 suggestion=did_you_mean(key, allowed) or _decimal_comma(doc, path, value, key),
                                 code="unknownField", at_key=True)
        return
    if kind == "required":
        missing = _keyword_value(error)
        for key in missing:
            if isinstance(value, dict) and key not in value:
                yield doc.diagnostic(path, f"missing required field '{key}'", code="missingField")
        return
    if kind in ("enum", "const"):
        options = [str(o) for o in (_keyword_value(error) if kind == "enum" else [_keyword_value(error)])]
        yield doc.diagnostic(path, f"{_describe(value)} is not allowed here; expected one of: {', '.join(options)}",
                             suggestion=did_you_mean(str(value), options), code="notAllowed")
        return
    if kind == "type":
        yield doc.diagnostic(path, f"expected {_expected_types(_keyword_value(error))}, got {_describe(value)}",
                             suggestion=_quoted(doc, path, value, schema), code="wrongType")
        return
    if kind == "pattern":
        pattern = str(_keyword_value(error))
        if pattern == _ID_PATTERN:
            message = (f"expected an id: a letter or digit, then letters, digits, '.', '_', ':' or '-'; "
                       f"got {_describe(value)}")
        else:
            message = f"expected {_pattern_meaning(pattern, schema)}, got {_describe(value)}"
        yield doc.diagnostic(path, message, suggestion=_pattern_suggestion(value, pattern), code="badFormat")
        return
    bound = _bound_message(str(kind), _keyword_value(error), schema, value)
    yield doc.diagnostic(path, bound or error.message, code="invalid")


# What the patterns of the schemas ask for, said for a catalog manager.
_PATTERNS = {
    r"^-?\d+(\.\d+)?$": "an exact decimal amount such as 12.50",
    r"^[A-Z]{3}$": "a currency code of three capital letters such as EUR",
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$":
        "a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ)",
    r"^\d{4}-\d{2}(-\d{2})?$": "a month (YYYY-MM) or a day (YYYY-MM-DD)",
    r"^[A-Za-z][A-Za-z0-9_.-]*$": "a code: a letter, then letters, digits, '_', '.' or '-'",
}


def _quoted(doc: SourceDocument, path: tuple[str | int, ...], value: Any, schema: Mapping[str, Any]) -> str | None:
    """A number written where a text is expected (``id: 123``, ``partNumber: 0042``), quoted
    as written: YAML reads it as a number unless it is quoted (None: not a number, or the
    text would not do either, such as a code that must start with a letter)."""
    if schema.get("type") != "string" or not isinstance(value, (int, float, Decimal)) or isinstance(value, bool):
        return None
    written = doc.written_at(*doc.position(path))
    pattern = schema.get("pattern")
    if written is None or isinstance(pattern, str) and re.search(pattern, written) is None:
        return None
    return f'"{written}"'


def _decimal_comma(doc: SourceDocument, path: tuple[str | int, ...], mapping: Mapping[str, Any], key: str
                   ) -> str | None:
    """What was meant by a key of digits without a value that follows a whole number in a
    flow mapping: a decimal comma (``{amount: 1,50}`` is ``amount: 1`` and a key ``50``),
    with the digits as written (``05`` is read as the key 5)."""
    if not key.isdigit() or mapping.get(key) is not None:
        return None
    at = doc.key_positions.get(path + (key,))
    written = doc.written_at(*at) if at else None
    if written is None or not written.isdigit() or int(written) != int(key):
        return None
    keys = list(mapping)
    before = keys[keys.index(key) - 1] if keys.index(key) > 0 else None
    whole = mapping.get(before) if before is not None else None
    if not isinstance(whole, int) or isinstance(whole, bool):
        return None
    return f"{before}: {whole}.{written}"


def _pattern_meaning(pattern: str, schema: Mapping[str, Any]) -> str:
    if pattern in _PATTERNS:
        return _PATTERNS[pattern]
    description = str(schema.get("description") or "").strip().rstrip(".")
    if description:
        return description[:1].lower() + description[1:]
    return f"text matching {pattern}"


_CURRENCY_PATTERN = r"^[A-Z]{3}$"


def _pattern_suggestion(value: Any, pattern: str) -> str | None:
    """What was probably meant by a value that does not match ``pattern``: for a currency
    code, the closest ISO 4217 code (EURO, euro, eur: EUR); otherwise the value in the case
    the pattern wants."""
    if pattern == _CURRENCY_PATTERN and isinstance(value, str):
        return did_you_mean(value.strip().upper(), ISO_4217)
    return _other_case(value, pattern)


def _other_case(value: Any, pattern: str) -> str | None:
    """The value in capitals or small letters when that is what the pattern wants (eur: EUR)."""
    if not isinstance(value, str):
        return None
    for other in (value.upper(), value.lower()):
        if other != value and re.search(pattern, other):
            return other
    return None


_COMPARISONS = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<",
                "ge": "≥", "le": "≤", "gt": ">", "lt": "<"}


def _bound_message(kind: str, limit: Any, schema: Mapping[str, Any], value: Any) -> str | None:
    """"expected …, got …" for a value out of the bounds a schema keyword sets (None: no bound)."""
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        number = "an integer" if schema.get("type") == "integer" else "a number"
        return f"expected {number} {_COMPARISONS[kind]} {limit}, got {_describe(value)}"
    if kind in ("minLength", "maxLength") and isinstance(value, str):
        if kind == "minLength" and limit == 1:
            return "expected a non-empty text, got ''"
        most = "at least" if kind == "minLength" else "at most"
        return f"expected a text of {most} {_count(limit, 'character')}, got {_count(len(value), 'character')}"
    if kind in ("minItems", "maxItems") and isinstance(value, list):
        if kind == "minItems" and limit == 1:
            return "expected a non-empty list, got []"
        most = "at least" if kind == "minItems" else "at most"
        return f"expected {most} {_count(limit, 'item')}, got {len(value)}"
    return None


def _count(number: Any, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


_PYDANTIC_TYPES = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number", "decimal_type": "a number", "decimal_parsing": "a number",
    "string_type": "a string", "bool_type": "true or false", "bool_parsing": "true or false",
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping", "list_type": "a list",
}


def _literals(item: Mapping[str, Any]) -> list[str]:
    """The values a Literal allows, from the error's context (``'a', 'b' or 'c'``)."""
    expected = str((item.get("ctx") or {}).get("expected", ""))
    return re.findall(r"'((?:[^'\\]|\\.)*)'", expected) or [expected]


# Pydantic's error types whose text is said again in the words of the schema errors.
_PYDANTIC_BOUNDS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def _amount_bounds(value: Any, max_digits: Any) -> str | None:
    """The bound an amount exceeds as the docs say them (15 digits before the point, 8 after),
    for pydantic's first error of one (of its 23 digits in all, which no author is told about)."""
    from bssrules.catalog.types import DECIMAL_PLACES, WHOLE_DIGITS, digits_problem  # the catalog imports this module

    if max_digits != WHOLE_DIGITS + DECIMAL_PLACES or isinstance(value, bool):
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (ArithmeticError, TypeError, ValueError):
        return None
    return digits_problem(number) if number.is_finite() else None


def _pydantic_message(item: Mapping[str, Any]) -> str:
    kind, context, value = item["type"], item.get("ctx") or {}, item.get("input")
    if kind in _PYDANTIC_BOUNDS:
        key = _PYDANTIC_BOUNDS[kind]
        return f"expected a number {_COMPARISONS[key]} {context.get(key)}, got {_describe(value)}"
    if kind in ("too_short", "too_long") and isinstance(value, list):
        limit = context.get("min_length" if kind == "too_short" else "max_length")
        if kind == "too_short" and limit == 1:
            return "expected a non-empty list, got []"
        most = "at least" if kind == "too_short" else "at most"
        return f"expected {most} {_count(limit, 'item')}, got {len(value)}"
    if kind == "string_too_short" and context.get("min_length") == 1:
        return f"expected a non-empty text, got {_describe(value)}"
    if kind == "decimal_max_digits":
        bounds = _amount_bounds(value, context.get("max_digits"))
        if bounds:
            return bounds
    if kind in ("decimal_max_places", "decimal_max_digits", "decimal_whole_digits"):
        what = {"decimal_max_places": f"at most {_count(context.get('decimal_places'), 'decimal place')}",
                "decimal_max_digits": f"at most {_count(context.get('max_digits'), 'digit')}",
                "decimal_whole_digits": f"at most {_count(context.get('whole_digits'), 'digit')} before the point"}
        return f"expected a number of {what[kind]}, got {_describe(value)}"
    if kind == "string_unicode" and isinstance(value, str):
        return unstorable_message(value)
    if kind == "finite_number":
        return f"expected a finite number, got {_describe(value)}"
    if kind == "string_pattern_mismatch":
        return f"expected {_pattern_meaning(str(context.get('pattern')), {})}, got {_describe(value)}"
    if kind in _PYDANTIC_TYPES:
        return f"expected {_PYDANTIC_TYPES[kind]}, got {_describe(value)}"
    if kind == "literal_error":
        return f"{_describe(value)} is not allowed here; expected one of: {', '.join(_literals(item))}"
    if kind == "missing" and item["loc"]:
        return f"missing required field '{item['loc'][-1]}'"
    if kind == "extra_forbidden" and item["loc"]:
        return f"unknown field '{item['loc'][-1]}'"
    message: str = item["msg"]
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def unstorable_message(text: str) -> str:
    """Why a text of a YAML file cannot be kept (it holds NUL or a lone surrogate), quoting it
    with those characters spelt as escapes."""
    from bssrules import jsontext  # here: jsontext imports the catalog, whose loader imports this module

    return f"the text '{jsontext.escaped(text)}' {jsontext.text_problem(text) or 'is not valid Unicode'}"


def holds_unstorable_text(data: Any) -> bool:
    """Whether any text (a key too) in ``data`` holds NUL or a lone surrogate: one search of
    all of them joined, so that a valid file (nearly every one) is not walked path by path."""
    from bssrules import jsontext  # here: jsontext imports the catalog, whose loader imports this module

    texts: list[str] = []
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            texts.extend(key for key in value if isinstance(key, str))
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return jsontext.text_problem("".join(texts)) is not None


def unstorable_diagnostics(doc: SourceDocument, data: Any, base: tuple[str | int, ...] = ()) -> list[Diagnostic]:
    """A diagnostic for every text (a key too) in ``data``, the node at ``base`` of ``doc``,
    that no store keeps: NUL (PostgreSQL refuses it) or a lone surrogate (no character, which
    no encoding writes) — written in YAML as an escape, ``"\\0"`` or ``"\\ud800"``."""
    from bssrules import jsontext  # here: jsontext imports the catalog, whose loader imports this module

    found: list[Diagnostic] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, base)]
    while stack:  # iterative: no nesting exhausts the stack
        value, path = stack.pop()
        if isinstance(value, str):
            if jsontext.text_problem(value):
                found.append(doc.diagnostic(path, unstorable_message(value)))
        elif isinstance(value, dict):
            for key, child in value.items():
                if isinstance(key, str) and jsontext.text_problem(key):
                    found.append(doc.diagnostic(path + (key,), unstorable_message(key),
                                                at_key=True))
                stack.append((child, path + (key,)))
        elif isinstance(value, list):
            stack.extend((child, path + (index,)) for index, child in enumerate(value))
    return sorted(found, key=lambda d: (d.line, d.column))


def pydantic_diagnostics(error: PydanticError, doc: SourceDocument, base: tuple[str | int, ...],
                         remap: Callable[[tuple[str | int, ...]], tuple[str | int, ...]] | None = None
                         ) -> list[Diagnostic]:
    """The errors of a model built from the node at ``base`` of ``doc``, positioned (``remap``
    turns a path inside the model's input into the path inside the node)."""
    found = []
    for item in error.errors(include_url=False):
        message = _pydantic_message(item)
        suggestion = did_you_mean(str(item.get("input")), _literals(item)) if item["type"] == "literal_error" else \
            _pattern_suggestion(item.get("input"), str((item.get("ctx") or {}).get("pattern"))) \
            if item["type"] == "string_pattern_mismatch" else None
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and "[" in part))
        found.append(doc.diagnostic(base + (remap(loc) if remap else loc), message, suggestion=suggestion,
                                    code="invalid"))
    return found


M = TypeVar("M", bound=BaseModel)
NodePath = tuple[str | int, ...]


@dataclass
class Lenient(Generic[M]):
    """A model read leniently: ``valid`` when the item is; otherwise ``partial``, what is
    left of it once the fields (or the items of ``by_item`` lists) in error are set aside."""

    valid: M | None
    partial: M | None
    more: list[Diagnostic]  # the model's errors, besides the schema's
    set_aside: set[str | None] = field(default_factory=set)  # fields (None: the item as a whole)
    kept: dict[str, list[int]] = field(default_factory=dict)  # by_item list -> indexes of the items kept

    def path(self, path: NodePath) -> NodePath:
        """A path inside ``partial`` as a path inside the item."""
        if len(path) >= 2 and path[0] in self.kept and isinstance(path[1], int):
            return (path[0], self.kept[str(path[0])][path[1]]) + path[2:]
        return path


def lenient_model(model_type: type[M], item: Any, doc: SourceDocument, base: NodePath, problems: list[Diagnostic],
                  placeholders: Mapping[str, Any] = {}, by_item: tuple[str, ...] = (),
                  field_by_field: bool = False) -> Lenient[M]:
    """Validate the node at ``base`` of ``doc`` whose schema errors are ``problems``.

    An invalid item is read again without what is in error, so that the rest of it is still
    checked: the model's errors of other fields are new and reported (in ``more``); those
    that may follow from what was set aside are not — an error of the item as a whole is
    reported only when nothing the model knows was set aside. Missing or invalid fields
    named in ``placeholders`` take their placeholder values. With ``field_by_field``, an
    item refused as a whole still has a ``partial``: its valid fields, each validated alone
    (the checks across its fields not made) — enough to see what it refers to."""
    if not isinstance(item, dict):
        return Lenient(None, None, [], {None})
    more: list[Diagnostic] = []
    if not problems:
        try:
            model = model_type.model_validate(item)
            return Lenient(model, model, [])
        except PydanticError as exc:
            more = pydantic_diagnostics(exc, doc, base)
    fields: set[str | None] = set()
    items: dict[str, set[int]] = {}

    def set_aside(found: list[Diagnostic]) -> None:
        for d in found:
            name, index = _part(d.path, base, 0), _part(d.path, base, 1)
            if name in by_item and isinstance(index, int):
                items.setdefault(str(name), set()).add(index)
            else:
                fields.add(None if name is None else str(name))

    set_aside(problems or more)
    known = {f.alias or name for name, f in model_type.model_fields.items()}
    new = bool(problems)  # after the schema's errors, the model has not spoken yet
    filled = {k for k in placeholders if k in fields or k not in item}
    # A field the model knows, set aside (or misspelt: an unknown key close to one), may be
    # what an error of the item as a whole speaks of.
    misspelt = {f for f in fields if f is not None and f not in known and did_you_mean(f, known)}
    whole = not items and not filled and not fields & known and not misspelt
    for _ in range(4):  # each round sets aside what the model still refuses
        kept = {name: [i for i in range(len(item[name])) if i not in items[name]] for name in items
                if isinstance(item.get(name), list)}
        data = {k: v for k, v in item.items() if k not in fields}
        data.update({name: [item[name][i] for i in indexes] for name, indexes in kept.items()})
        data.update({k: v for k, v in placeholders.items() if k in fields or k not in data})
        lenient: Lenient[M] = Lenient(None, None, more, fields, kept)
        try:
            lenient.partial = model_type.model_validate(data)
            return lenient
        except PydanticError as exc:
            again = pydantic_diagnostics(exc, doc, base, lenient.path)
        if new:
            more += [d for d in again if _new(d, base, item, fields, items, whole)]
            new = False
        if any(_part(d.path, base, 0) is None for d in again):
            partial = fields_alone(model_type, data) if field_by_field else None
            return Lenient(None, partial, more, fields | {None}, kept)
        set_aside(again)
    return Lenient(None, None, more, fields | {None}, kept)


def fields_alone(model_type: type[M], data: dict[str, Any], require: str | None = "id") -> M | None:
    """A model of the fields of ``data`` that are valid each on its own (None without the
    field ``require``). Its other fields are missing: read them with ``getattr(m, f, None)``."""
    values: dict[str, Any] = {}
    for name, info in model_type.model_fields.items():
        key = info.alias or name
        if key in data:
            try:
                values[name] = _field_adapter(model_type, name).validate_python(data[key])
            except PydanticError:
                continue
    return model_type.model_construct(**values) if require is None or require in values else None


def errors_alone(model_type: type[BaseModel], item: Any, doc: SourceDocument, base: NodePath,
                 reported: Iterable[NodePath]) -> list[Diagnostic]:
    """The errors of the fields of ``item`` (the node at ``base``, read as ``model_type``)
    about which nothing is ``reported`` yet, each field validated on its own — what a part
    set aside for another error hides: the invalid date of a rule whose currency is wrong,
    the negative ``at`` of a threshold whose action is misspelt. A field of a model (or a list
    of models) with something reported inside is walked the same way; the checks across the
    fields of an item with an error are not made (they may follow from it)."""
    within = {path[:end] for path in reported for end in range(len(base) + 1, len(path) + 1)}
    found: list[Diagnostic] = []
    _walk(model_type, item, doc, base, within, found)
    return found


def _walk(model_type: type[BaseModel], item: Any, doc: SourceDocument, base: NodePath, within: set[NodePath],
          found: list[Diagnostic]) -> None:
    """Each field of ``item`` about which nothing is said, validated alone; each field that is
    a model, walked (an error said of a whole model — a missing field — hides none of its
    fields' own errors)."""
    if not isinstance(item, dict):
        return
    for name, info in model_type.model_fields.items():
        key = info.alias or name
        path = base + (key,)
        if key not in item:
            continue
        value = item[key]
        if path not in within:  # nothing said of it: its own errors are news
            try:
                _field_adapter(model_type, name).validate_python(value)
            except PydanticError as exc:
                found.extend(pydantic_diagnostics(exc, doc, path))
            continue
        model, many = _model_of(info.annotation, value)
        if model is None:
            continue
        if not many:
            _walk(model, value, doc, path, within, found)
            continue
        for index, one in enumerate(value if isinstance(value, list) else []):
            at = path + (index,)
            if at in within:
                _walk(model, one, doc, at, within, found)
                continue
            try:
                model.model_validate(one)
            except PydanticError as exc:
                found.extend(pydantic_diagnostics(exc, doc, at))


def _model_of(annotation: Any, value: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field's value is read as (and whether the field is a list of them), when
    the field holds one: ``M``, ``M | None``, ``list[M]``, a union of one model with literals
    (walked only when the value is a mapping)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    args = get_args(annotation)
    if getattr(annotation, "__origin__", None) is list and len(args) == 1:
        item, _ = _model_of(args[0], None)
        return item, item is not None
    models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    if len(models) == 1 and isinstance(value, dict):
        return models[0], False
    return None, False


def items_set_aside(model_type: type[BaseModel], item: Any, read: Lenient[Any]) -> dict[str, dict[int, BaseModel]]:
    """The items of the ``by_item`` lists of ``item`` that ``read`` set aside, each as a model
    of its fields that are valid on their own (by list, then index in the item): what is
    right in them is still checked (the references they make)."""
    found: dict[str, dict[int, BaseModel]] = {}
    if not isinstance(item, dict):
        return found
    for name, kept in read.kept.items():
        values = item.get(name)
        item_type = _item_type(model_type, name)
        if not isinstance(values, list) or item_type is None:
            continue
        for index in sorted(set(range(len(values))) - set(kept)):
            if isinstance(values[index], dict):
                alone = fields_alone(item_type, values[index], require=None)
                if alone is not None:
                    found.setdefault(name, {})[index] = alone
    return found


def _item_type(model_type: type[BaseModel], key: str) -> type[BaseModel] | None:
    """The model of the items of the list field written ``key`` (None: not a list of models)."""
    for name, info in model_type.model_fields.items():
        if (info.alias or name) == key:
            args = get_args(info.annotation)
            item = args[0] if len(args) == 1 else None
            return item if isinstance(item, type) and issubclass(item, BaseModel) else None
    return None


@lru_cache(maxsize=None)
def _field_adapter(model_type: type[BaseModel], name: str) -> TypeAdapter[Any]:
    return TypeAdapter(model_type.model_fields[name].rebuild_annotation())


def _part(path: NodePath, base: NodePath, depth: int) -> str | int | None:
    return path[len(base) + depth] if len(path) > len(base) + depth else None


def _new(d: Diagnostic, base: NodePath, item: dict[str, Any], fields: set[str | None], items: dict[str, set[int]],
         whole: bool) -> bool:
    """Whether a model error of an item read without what is in error is news."""
    name = _part(d.path, base, 0)
    if name is None:
        return whole
    if name not in item or name in fields:
        return False  # missing (the schema said so) or set aside
    index = _part(d.path, base, 1)
    return name not in items or isinstance(index, int) and index not in items[str(name)]


# ------------------------------------------------------------- the compiled validity test


class NotCompilable(ValueError):
    """A schema that uses what :func:`compile_schema` does not know."""


Check = Callable[[Any], bool]
# Keywords that never make a value invalid (format is an annotation: no format checker is used).
_ANNOTATIONS = {"title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated",
                "readOnly", "writeOnly", "format", "$defs", "definitions"}


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or isinstance(value, float) and value.is_integer()


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": lambda v: isinstance(v, numbers.Number) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _equal(one: Any, two: Any) -> bool:
    """Equality as JSON Schema means it: true is not 1, lists and mappings compare item by item."""
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return one is two
    return bool(one == two)


def compile_schema(schema: Mapping[str, Any]) -> Check:
    """A function telling whether a value is valid under ``schema`` (JSON Schema 2020-12,
    the keywords bssrules' schemas use; local ``$ref`` only), exactly as jsonschema would
    say, without collecting errors. :class:`NotCompilable` for any other keyword."""
    refs: dict[str, Check] = {}

    def resolve(ref: str) -> Check:
        if ref not in refs:
            if not ref.startswith("#/"):
                raise NotCompilable(ref)
            target: Any = schema
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            cell: list[Check] = []
            refs[ref] = lambda value: cell[0](value)  # a schema may refer to itself
            cell.append(build(target))
        return refs[ref]

    def build(node: Any) -> Check:
        if node is True or node == {}:
            return lambda value: True
        if node is False:
            return lambda value: False
        if not isinstance(node, Mapping):
            raise NotCompilable(repr(node))
        unknown = set(node) - _KEYWORDS - _ANNOTATIONS
        if unknown:
            raise NotCompilable(", ".join(sorted(unknown)))
        checks = [check for keyword in node if keyword in _KEYWORDS
                  for check in [_keyword(keyword, node, build, resolve)] if check is not None]
        if not checks:
            return lambda value: True
        if len(checks) == 1:
            return checks[0]

        def every(value: Any) -> bool:
            for check in checks:
                if not check(value):
                    return False
            return True

        return every

    return build(schema)


_KEYWORDS = {"type", "enum", "const", "properties", "required", "additionalProperties", "items", "minItems",
             "maxItems", "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
             "exclusiveMaximum", "anyOf", "allOf", "oneOf", "not", "if", "then", "else", "$ref"}


def _keyword(keyword: str, node: Mapping[str, Any], build: Callable[[Any], Check],
             resolve: Callable[[str], Check]) -> Check | None:
    """The check of one keyword of a schema object (None: nothing to check, or checked
    along with another keyword)."""
    value = node[keyword]
    if keyword == "type":
        types = [_TYPES[t] for t in (value if isinstance(value, list) else [value])]
        return types[0] if len(types) == 1 else lambda v: any(t(v) for t in types)
    if keyword == "enum":
        texts = frozenset(o for o in value if isinstance(o, str))
        others = [o for o in value if not isinstance(o, str)]
        return lambda v: v in texts if isinstance(v, str) else any(_equal(o, v) for o in others)
    if keyword == "const":
        return lambda v: _equal(v, value)
    if keyword == "$ref":
        return resolve(value)
    if keyword == "properties":
        return _object(node, build)
    if keyword in ("required", "additionalProperties"):  # with properties, or else once
        together = "properties" in node or keyword == "required" and "additionalProperties" in node
        return None if together else _object(node, build)
    if keyword == "items":
        item = build(value)

        def items(v: Any) -> bool:
            if isinstance(v, list):
                for i in v:
                    if not item(i):
                        return False
            return True

        return items
    if keyword in ("minItems", "maxItems"):
        low, high = (value, None) if keyword == "minItems" else (None, value)
        return lambda v: not isinstance(v, list) or _within(len(v), low, high)
    if keyword == "pattern":
        search = re.compile(value).search
        return lambda v: not isinstance(v, str) or search(v) is not None
    if keyword in ("minLength", "maxLength"):
        low, high = (value, None) if keyword == "minLength" else (None, value)
        return lambda v: not isinstance(v, str) or _within(len(v), low, high)
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        number = _TYPES["number"]
        test: Callable[[Any], bool] = {"minimum": lambda v: v >= value, "maximum": lambda v: v <= value,
                                       "exclusiveMinimum": lambda v: v > value,
                                       "exclusiveMaximum": lambda v: v < value}[keyword]
        return lambda v: not number(v) or test(v)
    if keyword in ("anyOf", "allOf", "oneOf"):
        branches = [build(b) for b in value]
        if keyword == "anyOf":
            def any_of(v: Any) -> bool:
                for branch in branches:
                    if branch(v):
                        return True
                return False

            return any_of
        if keyword == "allOf":
            return lambda v: all(b(v) for b in branches)
        return lambda v: sum(1 for b in branches if b(v)) == 1
    if keyword == "not":
        negated = build(value)
        return lambda v: not negated(v)
    if keyword == "if":
        condition = build(value)
        then = build(node.get("then", True))
        otherwise = build(node.get("else", True))
        return lambda v: then(v) if condition(v) else otherwise(v)
    return None  # then, else: with if


def _within(size: int, low: int | None, high: int | None) -> bool:
    return (low is None or size >= low) and (high is None or size <= high)


def _object(node: Mapping[str, Any], build: Callable[[Any], Check]) -> Check:
    """properties, required and additionalProperties of one schema object, as one check."""
    properties = {name: build(sub) for name, sub in node.get("properties", {}).items()}
    required = list(node.get("required", ()))
    additional_schema = node.get("additionalProperties", True)
    closed = additional_schema is False
    additional = None if additional_schema is True or closed else build(additional_schema)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for name in required:
            if name not in value:
                return False
        for key, item in value.items():
            sub = properties.get(key)
            if sub is not None:
                if not sub(item):
                    return False
            elif closed or additional is not None and not additional(item):
                return False
        return True

    return check
