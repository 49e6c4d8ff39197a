"""The shipped catalog JSON Schema: generated from the model, published by the CLI, and
accepting the example catalogs."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from bssrules.catalog.schema import SCHEMA_ID, generate_catalog_schema
from bssrules.cli import app
from bssrules.yaml_source import parse_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = sorted(ROOT.glob("examples/*/catalog/*.yaml"))
SHIPPED = resources.files("bssrules.schemas").joinpath("catalog.schema.json")


@pytest.fixture(scope="module")
def printed_schema() -> dict[str, Any]:
    result = CliRunner().invoke(app, ["schema", "catalog"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_shipped_schema_file_matches_the_model() -> None:
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert shipped == generate_catalog_schema(), (
        "bssrules/schemas/catalog.schema.json is out of date with the catalog model: run `make schema`")


def test_the_shipped_schema_file_is_written_in_the_canonical_layout() -> None:
    expected = json.dumps(generate_catalog_schema(), indent=2, sort_keys=True) + "\n"
    assert SHIPPED.read_text(encoding="utf-8") == expected, (
        "bssrules/schemas/catalog.schema.json was not written by the generator: run `make schema`")


def test_bssrules_schema_catalog_prints_the_shipped_schema(printed_schema: dict[str, Any]) -> None:
    assert printed_schema == json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert printed_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert printed_schema["$id"] == SCHEMA_ID


def test_the_printed_schema_is_a_valid_draft_2020_12_schema(printed_schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(printed_schema)


def test_an_unknown_schema_name_exits_2_and_lists_the_available_ones() -> None:
    result = CliRunner().invoke(app, ["schema", "prices"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown schema 'prices'; available: catalog, rules" in result.stderr


def test_there_are_example_files_to_validate() -> None:
    assert {p.parent.parent.name for p in EXAMPLE_FILES} >= {"connected_car", "devices"}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_the_printed_schema_accepts_every_example_file(printed_schema: dict[str, Any], path: Path) -> None:
    doc, problems = parse_file(path)
    assert problems == [] and doc is not None
    validator = Draft202012Validator(printed_schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc.data)]
    assert errors == []


def test_the_printed_schema_rejects_what_the_loader_rejects(printed_schema: dict[str, Any]) -> None:
    validator = Draft202012Validator(printed_schema)
    good = {"productOfferingPrices": [{"id": "p", "name": "P", "priceType": "oneTime", "amount": 1,
                                       "currency": "EUR"}]}
    assert list(validator.iter_errors(good)) == []
    misspelt = {"productOfferingPrices": [{**good["productOfferingPrices"][0], "ammount": 1}]}
    bad_enum = {"productOfferingPrices": [{**good["productOfferingPrices"][0], "priceType": "monthly"}]}
    bad_id = {"categories": [{"id": "-x", "name": "X"}]}
    unknown_section = {"offerings": []}
    for data, validator_kind in ((misspelt, "additionalProperties"), (bad_enum, "enum"), (bad_id, "pattern"),
                                 (unknown_section, "additionalProperties")):
        assert [e.validator for e in validator.iter_errors(data)] == [validator_kind], data
