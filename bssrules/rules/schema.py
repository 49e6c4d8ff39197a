"""JSON Schemas of rule files: one per rule set kind (used to check each rule set by its
``kind``, so errors speak of that kind), and the published one for editors."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from bssrules.rules.model import RULE_SET_TYPES, RuleTest
from bssrules.schema_errors import SchemaCheck

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

SCHEMA_FILE = "rules.schema.json"
SCHEMA_ID = "https://bssrules.dev/schemas/rules.schema.json"
KINDS = tuple(RULE_SET_TYPES)


def generate_rules_schema() -> dict[str, Any]:
    """The schema of a rules file: ``ruleSets`` (each checked by its kind) and ``tests``."""
    defs: dict[str, Any] = {}
    branches = []
    for kind, model in RULE_SET_TYPES.items():
        schema = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
        branches.append({"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                         "then": {"$ref": f"#/$defs/{model.__name__}"}})
    test_schema = RuleTest.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    defs.update(test_schema.pop("$defs", {}))
    defs["RuleTest"] = test_schema
    rule_set = {"type": "object", "required": ["id", "kind"],
                "properties": {"kind": {"enum": list(KINDS), "description": "What the rule set decides."}},
                "allOf": branches}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
        "title": "bssrules rules file",
        "description": "Rule sets (eligibility, compatibility, usage, splitBilling, sla) and their tests.",
        "type": "object", "additionalProperties": False,
        "properties": {"formatVersion": {"const": 1}, "ruleSets": {"type": "array", "items": rule_set},
                       "tests": {"type": "array", "items": {"$ref": "#/$defs/RuleTest"}}},
        "$defs": defs,
    }


@lru_cache(maxsize=1)
def rules_schema() -> dict[str, Any]:
    """The shipped schema, as published by ``bssrules schema rules``."""
    text = resources.files("bssrules.schemas").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def write_rules_schema() -> str:
    path = resources.files("bssrules.schemas").joinpath(SCHEMA_FILE)
    with open(str(path), "w", encoding="utf-8") as handle:
        handle.write(json.dumps(generate_rules_schema(), indent=2, sort_keys=True) + "\n")
    return str(path)


@lru_cache(maxsize=1)
def file_check() -> SchemaCheck:
    """Checks the top level only: sections, each rule set's kind, tests."""
    schema = rules_schema()
    top = {**schema, "properties": {**schema["properties"],
                                    "ruleSets": {"type": "array", "items": {
                                        "type": "object", "required": ["id", "kind"],
                                        "properties": {"kind": {"enum": list(KINDS)}}}}}}
    return SchemaCheck(top)


@lru_cache(maxsize=None)
def kind_check(kind: str) -> SchemaCheck:
    """Checks one rule set of a known kind."""
    schema = rules_schema()
    name = RULE_SET_TYPES[kind].__name__
    return SchemaCheck({"$defs": schema["$defs"], "$ref": f"#/$defs/{name}"})


def file_validator() -> Draft202012Validator:
    """The jsonschema validator of :func:`file_check`."""
    return file_check().validator


def kind_validator(kind: str) -> Draft202012Validator:
    """The jsonschema validator of :func:`kind_check`."""
    return kind_check(kind).validator
