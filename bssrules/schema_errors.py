"""Turning jsonschema and pydantic errors into positioned, readable diagnostics.

Shared by every YAML format of bssrules (catalog now, rule sets later): a message says
what was expected, an unknown key or enum value gets a "did you mean".
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from pydantic import ValidationError as PydanticError

from bssrules.errors import Diagnostic, did_you_mean
from bssrules.yaml_source import SourceDocument

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
    return _narrow(best_match(error.context))


def schema_diagnostics(validator: Draft202012Validator, doc: SourceDocument) -> list[Diagnostic]:
    """Every schema violation of ``doc``, positioned and phrased for a catalog manager."""
    found: list[Diagnostic] = []
    for raw in validator.iter_errors(doc.data):
        for error in _narrow(raw):
            found.extend(d for d in _convert(error, doc) if d not in found)
    return found


def _convert(error: ValidationError, doc: SourceDocument) -> Iterable[Diagnostic]:
    path = tuple(error.absolute_path)
    kind, schema, value = error.validator, _schema(error), error.instance
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = list(schema.get("properties", {}))
        for key in sorted(set(value) - set(allowed)):
            what = "section" if not path else "field"
            yield doc.diagnostic(path + (key,), f"unknown {what} '{key}'; expected one of: {', '.join(allowed)}",
                                 suggestion=did_you_mean(key, allowed), code="unknownField", at_key=True)
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
                             code="wrongType")
        return
    if kind == "pattern":
        if _keyword_value(error) == _ID_PATTERN:
            message = (f"{_describe(value)} is not a valid id: start with a letter or digit, then use "
                       "letters, digits, '.', '_', ':' or '-'")
        else:
            message = schema.get("description") or f"{_describe(value)} does not match {_keyword_value(error)}"
            message = f"{_describe(value)} is not valid: {message}"
        yield doc.diagnostic(path, message, code="badFormat")
        return
    yield doc.diagnostic(path, error.message, code="invalid")


def pydantic_diagnostics(error: PydanticError, doc: SourceDocument, base: tuple[str | int, ...]) -> list[Diagnostic]:
    """The errors of a model built from the node at ``base`` of ``doc``, positioned."""
    found = []
    for item in error.errors(include_url=False):
        message = item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and "[" in part))
        found.append(doc.diagnostic(base + loc, message, code="invalid"))
    return found
