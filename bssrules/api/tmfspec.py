"""The official TMF620 definition shipped with the package, put to work: request bodies are
validated against its ``*_Create`` / ``*_Update`` schemas, filters and ``fields=`` are
checked against its attributes, and its schemas are published in our OpenAPI document."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator

from jsonschema import Draft4Validator

TMF620_FILE = "TMF620-ProductCatalog-v4.1.0.swagger.json"
EXTENSION_ATTRIBUTES = {"ProductOffering": {"partnerEligible"}}


@lru_cache(maxsize=1)
def tmf620() -> dict[str, Any]:
    """The TMF620 v4.1.0 Swagger document."""
    return json.loads(resources.files("bssrules.api.specs").joinpath(TMF620_FILE).read_text(encoding="utf-8"))


def definitions() -> dict[str, Any]:
    return tmf620()["definitions"]


@lru_cache(maxsize=None)
def validator(definition: str) -> Draft4Validator:
    """A validator for one definition, resolving ``#/definitions/…`` references."""
    return Draft4Validator({"definitions": definitions(), "$ref": f"#/definitions/{definition}"})


def _paths(schema: dict[str, Any], prefix: str, depth: int) -> Iterator[str]:
    if "$ref" in schema:
        schema = definitions()[schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("type") == "array":
        yield from _paths(schema.get("items", {}), prefix, depth)
        return
    properties = schema.get("properties")
    if not properties:
        yield prefix
        return
    if prefix:
        yield prefix
    if depth == 0:
        return
    for name, sub in properties.items():
        yield from _paths(sub, f"{prefix}.{name}" if prefix else name, depth - 1)


@lru_cache(maxsize=None)
def attribute_paths(definition: str, depth: int = 3) -> frozenset[str]:
    """Every dotted attribute path of a definition (arrays flattened), for filters."""
    paths = set(_paths(definitions()[definition], "", depth))
    paths |= EXTENSION_ATTRIBUTES.get(definition, set())
    return frozenset(p for p in paths if p)


@lru_cache(maxsize=None)
def top_level_attributes(definition: str) -> frozenset[str]:
    """The attributes ``fields=`` may name."""
    return frozenset(definitions()[definition]["properties"]) | EXTENSION_ATTRIBUTES.get(definition, set())


def openapi_components() -> dict[str, Any]:
    """The TMF620 definitions as OpenAPI 3 components (references rewritten)."""
    text = json.dumps(definitions()).replace('"#/definitions/', '"#/components/schemas/')
    return json.loads(text)
