"""Loading a broken catalog folder: every problem is reported at once, at its exact
``file:line:column``, with a message a catalog manager can act on and a "did you mean"
when something close exists.

Each test copies an example catalog into a temporary folder, breaks a known line, and
runs the loader from the temporary folder so that files show as ``catalog/<name>.yaml``.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

from bssrules.catalog import load_catalog, load_catalog_text
from bssrules.cli import app
from bssrules.errors import Diagnostic, InvalidSource

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BSSRULES = Path(sys.executable).with_name("bssrules")

Edit = tuple[str, str, str]  # (file name, exact old text, new text)


Broken = Callable[..., Path]


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Broken:
    """``broken(example, *edits)``: a copy of the example's catalog folder with each edit applied once."""
    monkeypatch.chdir(tmp_path)

    def make(example: str, *edits: Edit) -> Path:
        folder = tmp_path / "catalog"
        shutil.copytree(EXAMPLES / example / "catalog", folder)
        for name, old, new in edits:
            path = folder / name
            text = path.read_text(encoding="utf-8")
            assert text.count(old) == 1, f"the example changed: {old!r} is not exactly once in {name}"
            path.write_text(text.replace(old, new), encoding="utf-8")
        return Path("catalog")

    return make


def diagnostics(folder: Path) -> list[Diagnostic]:
    with pytest.raises(InvalidSource) as caught:
        load_catalog(folder)
    return caught.value.diagnostics


def described(diagnostic: Diagnostic) -> tuple[Any, ...]:
    """Every field of a diagnostic, for exact comparison."""
    return (diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.message, diagnostic.suggestion,
            diagnostic.path, diagnostic.code)


def described_in(found: list[Diagnostic], file: str) -> list[tuple[Any, ...]]:
    return [described(d) for d in found if d.file == file]


LIFECYCLE = "In Study, In Design, In Test, Active, Launched, Retired, Obsolete, Rejected"
# the first of the two `resourceSpecifications: [embedded-sim]` lines of connected_car/specifications.yaml
SIM_LINE = "    resourceSpecifications: [embedded-sim]\n    characteristics:\n      - name: vin"
CATALOG_FIELDS = "catalogType, categories, description, id, lifecycleStatus, name, relatedParties, validFor"


# --- the examples themselves -----------------------------------------------------------


@pytest.mark.parametrize("example", ["connected_car", "devices"])
def test_the_example_catalogs_load_without_a_diagnostic(example: str) -> None:
    catalog = load_catalog(EXAMPLES / example / "catalog")
    assert len(catalog) > 0 and catalog.offerings
    assert set(catalog.origins) == {(e.kind, e.id) for e in catalog}  # every entity knows where it came from


def test_a_loaded_entity_remembers_the_file_and_line_it_was_authored_at(broken: Broken) -> None:
    catalog = load_catalog(broken("devices"))
    assert str(catalog.origins[("productOffering", "classic-phone")]) == "catalog/offerings.yaml:40"
    assert str(catalog.origins[("category", "devices")]) == "catalog/products.yaml:36"


# --- one problem at a time -------------------------------------------------------------


def test_a_misspelt_field_is_reported_at_its_key_with_the_field_it_was_meant_to_be(broken: Broken) -> None:
    folder = broken("connected_car", ("catalogs.yaml", "    description: What the CSP sells",
                                      "    desciption: What the CSP sells"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/catalogs.yaml", 6, 5, f"unknown field 'desciption'; expected one of: {CATALOG_FIELDS}",
        "description", ("catalogs", 0, "desciption"), "unknownField")]


def test_a_misspelt_field_in_a_flow_mapping_also_reports_the_required_field_it_hides(broken: Broken) -> None:
    folder = broken("connected_car", ("catalogs.yaml", "      - {id: csp, name: The CSP, role: owner}",
                                      "      - {id: csp, name: The CSP, rol: owner}"))
    assert [described(d) for d in diagnostics(folder)] == [
        ("catalog/catalogs.yaml", 9, 9, "missing required field 'role'", None, ("catalogs", 0, "relatedParties", 0),
         "missingField"),
        ("catalog/catalogs.yaml", 9, 34, "unknown field 'rol'; expected one of: id, name, referredType, role", "role",
         ("catalogs", 0, "relatedParties", 0, "rol"), "unknownField"),
    ]


def test_an_unknown_top_level_section_is_reported_as_a_section(broken: Broken) -> None:
    folder = broken("connected_car", ("catalogs.yaml", "catalogs:\n", "catalogues:\n"))
    found = diagnostics(folder)
    assert described_in(found, "catalog/catalogs.yaml") == [(
        "catalog/catalogs.yaml", 3, 1,
        "unknown section 'catalogues'; expected one of: catalogs, categories, formatVersion, productOfferingPrices, "
        "productOfferings, productSpecifications, resourceSpecifications",
        "catalogs", ("catalogues",), "unknownField")]
    assert len(found) == 1  # nothing refers to a catalog


@pytest.mark.parametrize(("written", "suggestion"), [("Retird", "Retired"), ("retired", "Retired"), ("Gone", None)])
def test_a_misspelt_lifecycle_status_lists_the_statuses_and_suggests_the_closest(
        broken: Broken, written: str, suggestion: str | None) -> None:
    folder = broken("devices", ("offerings.yaml", "    lifecycleStatus: Retired", f"    lifecycleStatus: {written}"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/offerings.yaml", 45, 22, f"'{written}' is not allowed here; expected one of: {LIFECYCLE}",
        suggestion, ("productOfferings", 4, "lifecycleStatus"), "notAllowed")]


def test_an_unknown_reference_suggests_the_closest_id(broken: Broken) -> None:
    folder = broken("connected_car", ("offerings.yaml", "productSpecification: split-billing",
                                      "productSpecification: split-biling"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/offerings.yaml", 13, 27, "unknown productSpecification 'split-biling'", "split-billing",
        ("productOfferings", 1, "productSpecification"), "unknownReference")]


def test_an_unknown_reference_with_nothing_close_has_no_suggestion(broken: Broken) -> None:
    folder = broken("connected_car", ("offerings.yaml", "productSpecification: split-billing",
                                      "productSpecification: roaming-pass"))
    [only] = diagnostics(folder)
    assert (only.line, only.column, only.message, only.suggestion) == (
        13, 27, "unknown productSpecification 'roaming-pass'", None)


def test_an_unknown_reference_inside_a_flow_list_points_at_the_item(broken: Broken) -> None:
    folder = broken("connected_car", ("specifications.yaml",
                                      SIM_LINE, SIM_LINE.replace("embedded-sim]", "embedded-simm]")))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/specifications.yaml", 15, 30, "unknown resourceSpecification 'embedded-simm'", "embedded-sim",
        ("productSpecifications", 0, "resourceSpecifications", 0), "unknownReference")]


def test_a_duplicate_id_across_two_files_names_where_it_was_first_defined(broken: Broken) -> None:
    folder = broken("devices", ("resources.yaml", "    partNumber: TERM-IPM-300\n",
                                "    partNumber: TERM-IPM-300\n\ncategories:\n  - {id: mobile, name: Mobile again}\n"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/resources.yaml", 28, 10, "duplicate category id 'mobile' (first defined at catalog/products.yaml:35)",
        None, ("categories", 0, "id"), "duplicateId")]


def test_the_same_id_for_two_kinds_of_entity_is_not_a_duplicate(broken: Broken) -> None:
    folder = broken("devices", ("products.yaml", "  - {id: devices, name: Devices}\n",
                                "  - {id: devices, name: Devices}\n  - {id: handset, name: Handsets}\n"))
    catalog = load_catalog(folder)
    assert catalog.get("category", "handset") is not None
    assert catalog.get("productSpecification", "handset") is not None


def test_a_yaml_syntax_error_is_reported_where_the_parser_stopped(broken: Broken) -> None:
    folder = broken("connected_car", ("catalogs.yaml", "    categories: [connectivity, infotainment]\n",
                                      "    categories: [connectivity, infotainment\n"))
    # the ids written in the broken file are still known: what the other files refer to in
    # it is not reported as unknown on top of the one real error
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/catalogs.yaml", 7, 17,
        "YAML syntax error: the '[' here opens a flow list that is not closed: expected ',' or ']', found ':' at "
        "line 8, column 19 (its ']' is missing, or a , between its entries)",
        None, (), "yamlSyntax")]


def test_a_duplicate_mapping_key_is_reported_at_the_second_key(broken: Broken) -> None:
    folder = broken("connected_car", ("catalogs.yaml", "    categories: [converged]\n",
                                      "    categories: [converged]\n    name: Central again\n"))
    # reported once; the rest of the file is still read, so nothing refers to an unknown id
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/catalogs.yaml", 14, 5, "duplicate key 'name' (first at line 11)", None, (), "yamlSyntax")]


def test_a_string_where_an_integer_is_expected_is_reported_at_the_value(broken: Broken) -> None:
    folder = broken("devices", ("offerings.yaml", "{offering: ipad-mini-deluxe, min: 0, max: 1, default: 0}",
                                "{offering: ipad-mini-deluxe, min: 0, max: \"1\", default: 0}"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/offerings.yaml", 65, 51, "expected an integer, got '1'", None,
        ("productOfferings", 6, "bundle", 2, "max"), "wrongType")]


def test_a_missing_required_field_is_reported_at_the_entity(broken: Broken) -> None:
    folder = broken("connected_car", ("catalogs.yaml", "    name: Central catalog for converged offers\n", ""))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/catalogs.yaml", 10, 5, "missing required field 'name'", None, ("catalogs", 1), "missingField")]


def test_an_invalid_id_is_explained(broken: Broken) -> None:
    folder = broken("connected_car", ("catalogs.yaml", "  - id: central-catalog\n", "  - id: central catalog\n"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/catalogs.yaml", 10, 9,
        "expected an id: a letter or digit, then letters, digits, '.', '_', ':' or '-'; got 'central catalog'",
        None, ("catalogs", 1, "id"), "badFormat")]


def test_a_bundle_cycle_is_reported_once_with_the_whole_cycle(broken: Broken) -> None:
    folder = broken("devices", ("offerings.yaml",
                                "    productSpecification: mobile-telephony\n    channels: [shop, web]\n",
                                "    productSpecification: mobile-telephony\n"
                                "    bundle: [{offering: mobile-with-tablet}]\n    channels: [shop, web]\n"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/offerings.yaml", 8, 5,
        "bundle cycle: mobile-telephony-plan -> mobile-with-tablet -> mobile-telephony-plan", None,
        ("productOfferings", 0, "bundle"), "cycle")]


def test_a_bundle_that_contains_itself_is_refused(broken: Broken) -> None:
    folder = broken("devices", ("offerings.yaml", "      - {offering: ipad-mini-deluxe, min: 0, max: 1, default: 0}\n",
                                "      - {offering: ipad-mini-deluxe, min: 0, max: 1, default: 0}\n"
                                "      - {offering: mobile-with-tablet}\n"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/offerings.yaml", 58, 5, "a bundle cannot contain itself", None, ("productOfferings", 6), "invalid")]


def test_a_category_parent_cycle_is_reported(broken: Broken) -> None:
    folder = broken("connected_car", ("catalogs.yaml", "    name: Converged offers\n",
                                      "    name: Converged offers\n    parent: partner-building-blocks\n"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/catalogs.yaml", 28, 13, "category parent cycle: converged -> partner-building-blocks -> converged",
        None, ("categories", 2, "parent"), "cycle")]


def test_a_characteristic_use_of_a_characteristic_the_spec_lacks_suggests_the_closest(broken: Broken) -> None:
    folder = broken("devices", ("offerings.yaml", "{name: memorySize, values: [16GB]}",
                                "{name: memorySise, values: [16GB]}"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/offerings.yaml", 28, 16, "productSpecification 'ipad-mini' has no characteristic 'memorySise'",
        "memorySize", ("productOfferings", 2, "characteristicUses", 0, "name"), "unknownReference")]


@pytest.mark.parametrize(("example", "old", "new", "line", "column", "message", "path"), [
    ("devices", "{name: memorySize, values: [16GB]}", "{name: memorySize, values: [64GB]}", 28, 37,
     "value '64GB' is not one of the values of 'memorySize': 16GB, 32GB",
     ("productOfferings", 2, "characteristicUses", 0, "values", 0)),
    ("devices", "{name: freeMinutes, values: [500]}", "{name: freeMinutes, values: [100, many]}", 20, 43,
     "value 'many' is not of valueType integer", ("productOfferings", 1, "characteristicUses", 0, "values", 1)),
    ("connected_car", "{name: volume, values: [5]}", "{name: volume, values: [500]}", 43, 33,
     "value 500 is outside the range 1..100", ("productOfferings", 3, "characteristicUses", 0, "values", 0)),
], ids=["not-one-of-the-values", "wrong-type", "outside-the-range"])
def test_a_characteristic_use_value_the_spec_does_not_allow_is_reported_at_the_value(
        broken: Broken, example: str, old: str, new: str, line: int, column: int, message: str,
        path: tuple[Any, ...]) -> None:
    folder = broken(example, ("offerings.yaml", old, new))
    assert [described(d) for d in diagnostics(folder)] == [
        ("catalog/offerings.yaml", line, column, message, None, path, "invalid")]


def test_a_recurring_price_without_a_period_is_reported_at_the_price(broken: Broken) -> None:
    folder = broken("connected_car", ("prices.yaml",
                                      "    priceType: recurring\n    recurringPeriod: month\n    amount: 2.50\n",
                                      "    priceType: recurring\n    amount: 2.50\n"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/prices.yaml", 7, 5, "a recurring price needs recurringPeriod (day, week, month or year)", None,
        ("productOfferingPrices", 1), "invalid")]


def test_a_period_that_ends_before_it_starts_is_reported_at_the_period(broken: Broken) -> None:
    folder = broken("devices", ("offerings.yaml", "validFor: {start: 2024-01-01, end: 2026-07-01}",
                                "validFor: {start: 2026-07-01, end: 2024-01-01}"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/offerings.yaml", 46, 5, "validFor.end must be after validFor.start", None,
        ("productOfferings", 4, "validFor"), "invalid")]


def test_an_impossible_unquoted_date_is_a_positioned_diagnostic_not_a_crash(broken: Broken) -> None:
    folder = broken("devices", ("offerings.yaml", "validFor: {start: 2024-01-01, end: 2026-07-01}",
                                "validFor: {start: 2024-02-30, end: 2026-07-01}"))
    assert [described(d) for d in diagnostics(folder)] == [(
        "catalog/offerings.yaml", 46, 23,
        "'2024-02-30' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ): February 2024 has 29 days", None,
        ("productOfferings", 4, "validFor", "start"), "invalid")]


def test_check_reports_an_impossible_date_instead_of_crashing(broken: Broken) -> None:
    folder = broken("devices", ("offerings.yaml", "validFor: {start: 2024-01-01, end: 2026-07-01}",
                                "validFor: {start: 2024-01-01, end: 2026-07-01T24:30:00Z}"))
    result = CliRunner().invoke(app, ["check", str(folder)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines()[0].startswith(
        "catalog/offerings.yaml:46:40: '2026-07-01T24:30:00Z' is not a date (YYYY-MM-DD) or date-time")


# --- many problems at once ---------------------------------------------------------------


def test_several_errors_in_several_files_are_all_reported_at_once_in_file_order(broken: Broken) -> None:
    folder = broken(
        "connected_car",
        ("catalogs.yaml", "    description: What the CSP sells", "    desciption: What the CSP sells"),
        ("catalogs.yaml", "    name: Central catalog for converged offers\n", ""),
        ("offerings.yaml", "productSpecification: split-billing", "productSpecification: split-biling"),
        ("offerings.yaml", "{name: volume, values: [5]}", "{name: volume, values: [500]}"),
        ("specifications.yaml", SIM_LINE, SIM_LINE.replace("embedded-sim]", "embedded-simm]")),
    )
    found = diagnostics(folder)
    assert len(found) == 5
    assert [f"{d.file}:{d.line}:{d.column}" for d in found] == [
        "catalog/catalogs.yaml:6:5", "catalog/catalogs.yaml:10:5", "catalog/offerings.yaml:13:27",
        "catalog/offerings.yaml:43:33", "catalog/specifications.yaml:15:30"]
    assert [d.code for d in found] == ["unknownField", "missingField", "unknownReference", "invalid",
                                       "unknownReference"]
    with pytest.raises(InvalidSource, match=r"^5 errors found:\ncatalog/catalogs.yaml:6:5: unknown field 'desciption'"):
        load_catalog(folder)


def test_the_error_text_lists_each_diagnostic_with_suggestion_and_path(broken: Broken) -> None:
    folder = broken("connected_car", ("offerings.yaml", "productSpecification: split-billing",
                                      "productSpecification: split-biling"))
    with pytest.raises(InvalidSource) as caught:
        load_catalog(folder)
    assert str(caught.value) == (
        "1 error found:\ncatalog/offerings.yaml:13:27: unknown productSpecification 'split-biling' "
        "(did you mean 'split-billing'?) [at $.productOfferings[1].productSpecification]")


def test_an_entity_that_fails_validation_is_not_also_reported_as_an_unknown_reference(broken: Broken) -> None:
    folder = broken("connected_car", ("prices.yaml",
                                      "    recurringPeriod: month\n    amount: 2.50\n    currency: EUR\n",
                                      "    recurringPeriod: month\n    amount: 2.50\n    curency: EUR\n"))
    assert [(d.file, d.line, d.column, d.code) for d in diagnostics(folder)] == [
        ("catalog/prices.yaml", 7, 5, "missingField"), ("catalog/prices.yaml", 12, 5, "unknownField")]


def test_every_error_inside_an_optional_nested_mapping_is_reported(broken: Broken) -> None:
    folder = broken("connected_car", ("specifications.yaml", "        range: {min: 2, max: 5}",
                                      "        range: {min: two, max: five}"))
    found = described_in(diagnostics(folder), "catalog/specifications.yaml")
    assert [(line, column, message) for _, line, column, message, *_ in found] == [
        (31, 22, "expected an integer, got 'two'"), (31, 32, "expected an integer, got 'five'")]


# --- folders and files -------------------------------------------------------------------


def test_an_empty_folder_is_reported_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "README.txt").write_text("not a catalog file\n")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "offerings.yaml").write_text("productOfferings: []\n")
    assert [described(d) for d in diagnostics(folder)] == [
        (str(folder), 1, 1, "no .yaml or .yml file in this folder", None, (), "empty")]


def test_a_missing_folder_is_reported_as_such(tmp_path: Path) -> None:
    assert [described(d) for d in diagnostics(tmp_path / "nowhere")] == [
        (str(tmp_path / "nowhere"), 1, 1, "no such folder", None, (), "notFound")]


def test_a_file_given_for_the_folder_is_reported_as_such(tmp_path: Path) -> None:
    """It said "not a folder" for both a missing folder and a file: which of the two is wrong?"""
    (tmp_path / "offerings.yaml").write_text("productOfferings: []\n")
    assert [described(d) for d in diagnostics(tmp_path / "offerings.yaml")] == [
        (str(tmp_path / "offerings.yaml"), 1, 1,
         "is a file, not a folder: give the folder that holds the project's YAML files", None, (), "notFound")]


def test_a_file_that_only_has_comments_is_allowed_and_yml_files_are_read(broken: Broken) -> None:
    folder = broken("devices")
    (folder / "notes.yaml").write_text("# nothing here yet\n")
    (folder / "more.yml").write_text("categories:\n  - {id: tablets, name: Tablets}\n")
    catalog = load_catalog(folder)
    assert catalog.get("category", "tablets") is not None
    assert str(catalog.origins[("category", "tablets")]) == "catalog/more.yml:2"


def test_a_file_that_is_not_utf8_is_reported_and_the_rest_still_checked(broken: Broken) -> None:
    folder = broken("connected_car", ("offerings.yaml", "productSpecification: split-billing",
                                      "productSpecification: split-biling"))
    path = folder / "catalogs.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").replace("name: Connectivity\n", "name: Connectivité\n")
                     .encode("latin-1"))
    found = diagnostics(folder)
    # at the bad byte: line 21 is "    name: Connectivit\xe9", the 'é' its 22nd character
    assert described_in(found, "catalog/catalogs.yaml") == [
        ("catalog/catalogs.yaml", 21, 22, "not UTF-8 text: byte 0xe9 (invalid continuation byte); save the file as "
                                          "UTF-8", None, (), "encoding")]
    assert ("catalog/offerings.yaml", 13, 27, "unknown productSpecification 'split-biling'") in [
        (d.file, d.line, d.column, d.message) for d in found]


def test_a_file_whose_top_level_is_not_a_mapping_is_reported() -> None:
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text("- id: x\n  name: X\n", "list.yaml")
    assert [described(d) for d in caught.value.diagnostics] == [
        ("list.yaml", 1, 1, "expected a mapping, got a list", None, (), "wrongType")]


# --- the command line ----------------------------------------------------------------------


def test_check_accepts_both_examples_and_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["check", "examples/connected_car/catalog", "examples/devices/catalog"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line, example in zip(lines, ("connected_car", "devices")):
        catalog = load_catalog(EXAMPLES / example / "catalog")
        assert line == (f"ok examples/{example}/catalog: {len(catalog)} catalog entities "
                        f"({len(catalog.offerings)} offerings, {len(catalog.prices)} prices), "
                        "0 rule sets, 0 rule tests")


def test_check_on_a_broken_copy_exits_1_and_prints_file_line_column_lines(broken: Broken) -> None:
    folder = broken("connected_car",
                    ("catalogs.yaml", "    description: What the CSP sells", "    desciption: What the CSP sells"),
                    ("offerings.yaml", "productSpecification: split-billing", "productSpecification: split-biling"))
    result = CliRunner().invoke(app, ["check", str(folder)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines == [
        f"catalog/catalogs.yaml:6:5: unknown field 'desciption'; expected one of: {CATALOG_FIELDS} "
        "(did you mean 'description'?) [at $.catalogs[0].desciption]",
        "catalog/offerings.yaml:13:27: unknown productSpecification 'split-biling' (did you mean 'split-billing'?) "
        "[at $.productOfferings[1].productSpecification]",
        "2 errors",
    ]
    assert "ok" not in result.stdout


def test_check_reports_every_folder_and_fails_if_any_is_broken(broken: Broken) -> None:
    folder = broken("devices", ("offerings.yaml", "    lifecycleStatus: Retired", "    lifecycleStatus: Retird"))
    result = CliRunner().invoke(app, ["check", str(folder), str(EXAMPLES / "connected_car" / "catalog")])
    assert result.exit_code == 1
    assert re.match(r"^catalog/offerings\.yaml:45:22: 'Retird' is not allowed here", result.stderr)
    assert result.stderr.splitlines()[-1] == "1 error"
    assert result.stdout.startswith(f"ok {EXAMPLES / 'connected_car' / 'catalog'}: ")


@pytest.mark.skipif(not BSSRULES.exists(), reason="the bssrules script is not installed next to this Python")
def test_the_installed_command_prints_diagnostics_on_stderr_only(broken: Broken) -> None:
    folder = broken("devices", ("offerings.yaml", "{name: memorySize, values: [16GB]}",
                                "{name: memorySise, values: [16GB]}"))
    done = subprocess.run([str(BSSRULES), "check", str(folder)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines()[0] == (
        "catalog/offerings.yaml:28:16: productSpecification 'ipad-mini' has no characteristic 'memorySise' "
        "(did you mean 'memorySize'?) [at $.productOfferings[2].characteristicUses[0].name]")
