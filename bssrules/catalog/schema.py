"""The JSON Schema of catalog YAML files.

It is generated from the pydantic model (so the two cannot drift: a test compares the
shipped file with a fresh generation) and shipped in ``bssrules/schemas`` for editors.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from bssrules.catalog.model import CatalogFile

SCHEMA_ID = "https://bssrules.dev/schemas/catalog.schema.json"
SCHEMA_FILE = "catalog.schema.json"


def generate_catalog_schema() -> dict[str, Any]:
    """Build the schema from the model (used to write the shipped file)."""
    schema = CatalogFile.model_json_schema(by_alias=True, mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    schema["title"] = "bssrules catalog file"
    schema["description"] = ("One file of a bssrules catalog folder: lists of catalogs, categories, "
                             "resource and product specifications, offerings and prices.")
    return schema


@lru_cache(maxsize=1)
def catalog_schema() -> dict[str, Any]:
    """The shipped schema, as published by ``bssrules schema catalog``."""
    text = resources.files("bssrules.schemas").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def write_catalog_schema() -> str:
    """Regenerate the shipped schema file; returns its path."""
    path = resources.files("bssrules.schemas").joinpath(SCHEMA_FILE)
    text = json.dumps(generate_catalog_schema(), indent=2, sort_keys=True) + "\n"
    with open(str(path), "w", encoding="utf-8") as handle:
        handle.write(text)
    return str(path)
