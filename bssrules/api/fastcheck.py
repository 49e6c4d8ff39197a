"""A quick proof that a JSON value conforms to a TMF definition, for the busiest bodies.

``jsonschema`` walks a schema generically: for a usage (TMF635 ``Usage_Create``) that is
about a tenth of a millisecond per record, as much as rating it. :func:`compile_check` turns
a definition into nested Python closures that answer **True only when the value certainly
conforms** (the Draft 4 keywords ``type``, ``properties``, ``required``, ``items``, ``enum``
and ``$ref``; ``format`` is not checked there either, and annotations are ignored). Anything
else — a keyword it does not know, an ``integer`` that is not a plain int, a value that does
not conform — answers False, and the caller asks ``jsonschema``, which then says what is
wrong in its own words. So the check can make a request faster, never accept one the full
validation refuses (``tests/api/test_fast_check.py`` compares them).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"description", "example", "format", "title", "default", "readOnly", "writeOnly"})
_KNOWN = _ANNOTATIONS | {"type", "properties", "required", "items", "enum", "$ref"}


def _never(_: Any) -> bool:
    return False


def _always(_: Any) -> bool:
    return True


def _type_check(kind: Any) -> Check | None:
    if kind == "string":
        return lambda v: isinstance(v, str)
    if kind == "boolean":
        return lambda v: isinstance(v, bool)
    if kind == "object":
        return lambda v: isinstance(v, dict)
    if kind == "array":
        return lambda v: isinstance(v, list)
    if kind == "integer":  # a plain int only: whether 1.0 is one is left to jsonschema
        return lambda v: type(v) is int
    if kind == "number":
        return lambda v: type(v) in (int, float, Decimal)
    return None


def _all_of(checks: list[Check]) -> Check:
    """A check that every one of ``checks`` passes, in order (up to three called directly: a
    generator over them cost as much as the checks of a usage's small members)."""
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    if len(checks) == 3:
        first, second, third = checks
        return lambda v: first(v) and second(v) and third(v)
    every = tuple(checks)

    def all_pass(v: Any) -> bool:
        for check in every:
            if not check(v):
                return False
        return True

    return all_pass


def compile_check(definitions: Mapping[str, Any], name: str) -> Check:
    """A check of ``definitions[name]`` (``#/definitions/…`` references resolved)."""
    compiled: dict[str, Check] = {}

    def reference(ref: Any) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#/definitions/"):
            return _never
        target = ref[len("#/definitions/"):]
        if target not in definitions:
            return _never
        if target not in compiled:
            compiled[target] = _never  # a cycle answers "not proven" while it is being built
            built = schema(definitions[target])
            compiled[target] = built
        return lambda v: compiled[target](v)

    def schema(node: Any) -> Check:
        if not isinstance(node, dict) or set(node) - _KNOWN:
            return _never
        if "$ref" in node:  # Draft 4: a reference replaces its siblings
            return reference(node["$ref"])
        checks: list[Check] = []
        if "type" in node:
            kind = _type_check(node["type"])
            if kind is None:
                return _never
            checks.append(kind)
        if "enum" in node:
            options = node["enum"]
            if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
                return _never
            allowed = frozenset(options)
            checks.append(lambda v: isinstance(v, str) and v in allowed)
        if "required" in node:
            required = tuple(node["required"]) if isinstance(node["required"], list) else None
            if required is None or not all(isinstance(r, str) for r in required):
                return _never

            def present(v: Any) -> bool:
                if isinstance(v, dict):
                    for r in required:
                        if r not in v:
                            return False
                return True

            checks.append(present)
        if "properties" in node:
            if not isinstance(node["properties"], dict):
                return _never
            properties = {key: schema(sub) for key, sub in node["properties"].items()}

            def members(v: Any) -> bool:
                if not isinstance(v, dict):
                    return True
                for key, value in v.items():
                    check = properties.get(key)
                    if check is not None and not check(value):
                        return False
                return True

            checks.append(members)
        if "items" in node:
            item = schema(node["items"]) if isinstance(node["items"], dict) else _never

            def each(v: Any) -> bool:
                if not isinstance(v, list):
                    return True
                for i in v:
                    if not item(i):
                        return False
                return True

            checks.append(each)
        return _all_of(checks)

    return reference(f"#/definitions/{name}")


__all__ = ["compile_check", "Check"]
