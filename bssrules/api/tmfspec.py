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


def _paths(schema: dict[str, Any], prefix: str, depth: int) -> Iterator[tuple[str, str]]:
    if "$ref" in schema:
        schema = definitions()[schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("type") == "array":
        yield from _paths(schema.get("items", {}), prefix, depth)
        return
    properties = schema.get("properties")
    if not properties:
        yield prefix, schema.get("type", "string")
        return
    if depth == 0:
        return
    for name, sub in properties.items():
        yield from _paths(sub, f"{prefix}.{name}" if prefix else name, depth - 1)


# Links and derived lists are not stored as attributes: filtering on them could never match.
_NOT_FILTERABLE = {"Category": ("productOffering", "subCategory")}


@lru_cache(maxsize=None)
def attribute_types(definition: str, depth: int = 3) -> dict[str, str]:
    """Every filterable dotted attribute path of a definition (arrays flattened) and its JSON type."""
    types = {path: kind for path, kind in _paths(definitions()[definition], "", depth)
             if path and not path.endswith(("href", "@referredType"))
             and not path.startswith(_NOT_FILTERABLE.get(definition, ("\0",)))}
    types.update({name: "boolean" for name in EXTENSION_ATTRIBUTES.get(definition, set())})
    return types


def attribute_paths(definition: str) -> frozenset[str]:
    """The attribute paths filters may use."""
    return frozenset(attribute_types(definition))


@lru_cache(maxsize=None)
def top_level_attributes(definition: str) -> frozenset[str]:
    """The attributes ``fields=`` may name."""
    return frozenset(definitions()[definition]["properties"]) | EXTENSION_ATTRIBUTES.get(definition, set())


def openapi_components() -> dict[str, Any]:
    """The TMF620 definitions as OpenAPI 3 components (references rewritten)."""
    text = json.dumps(definitions()).replace('"#/definitions/', '"#/components/schemas/')
    return json.loads(text)
