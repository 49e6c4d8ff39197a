"""An item's characteristic values are checked once per offering and values given (issue 13,
item 1), and what is kept is exact: each item gets its own paths, other values their own
problems, equal-looking values of other types are told apart, and a new catalog revision
(new offering objects) is checked again."""
from __future__ import annotations

from typing import Any

from bssrules.rules.project import load_project_texts

from basket_catalogs import HOME_CATALOG


def _problems(result: Any) -> list[tuple[str, str, str]]:
    return [(v.code, v.message, v.to_dict()["path"]) for v in result.violations]


def test_the_same_values_twice_give_each_item_its_own_paths(home: Any, validate: Any) -> None:
    item = {"offering": "router", "characteristics": {"ports": 4, "colour": "pink"}}
    result = validate(home, {"items": [{"id": "a", **item}, {"id": "b", **item}]})
    assert [(code, path) for code, _, path in _problems(result)] == [
        ("invalidCharacteristicValue", "$.items[0].characteristics.colour"),
        ("invalidCharacteristicValue", "$.items[1].characteristics.colour")]


def test_other_values_of_the_same_offering_get_their_own_problems(home: Any, validate: Any) -> None:
    pink = validate(home, {"items": [{"id": "a", "offering": "router", "characteristics": {"ports": 4,
                                                                                            "colour": "pink"}}]})
    red = validate(home, {"items": [{"id": "a", "offering": "router", "characteristics": {"ports": 4,
                                                                                           "colour": "red"}}]})
    again = validate(home, {"items": [{"id": "a", "offering": "router", "characteristics": {"ports": 4,
                                                                                             "colour": "pink"}}]})
    assert red.valid and not pink.valid
    assert _problems(again) == _problems(pink)


def test_a_text_is_not_taken_for_the_number_it_spells(home: Any, validate: Any) -> None:
    number = validate(home, {"items": [{"id": "a", "offering": "router", "characteristics": {"ports": 4}}]})
    text = validate(home, {"items": [{"id": "a", "offering": "router", "characteristics": {"ports": "4"}}]})
    assert number.valid
    assert [code for code, _, _ in _problems(text)] == ["invalidCharacteristicValue"]


def test_a_new_catalog_revision_is_checked_again(validate: Any) -> None:
    item = {"items": [{"id": "a", "offering": "router", "characteristics": {"ports": 4, "colour": "red"}}]}
    before = load_project_texts({"catalog.yaml": HOME_CATALOG})
    assert validate(before, item).valid
    narrowed = HOME_CATALOG.replace("'red'", "'green'").replace(" red]", " green]").replace(", red", ", green")
    assert narrowed != HOME_CATALOG
    after = load_project_texts({"catalog.yaml": narrowed})
    assert "invalidCharacteristicValue" in [code for code, _, _ in _problems(validate(after, item))]


def test_a_flag_is_not_taken_for_the_number_it_equals(home: Any, validate: Any) -> None:
    # True == 1 in Python: checked after the number, the flag still gets its own problem
    number = validate(home, {"items": [{"id": "a", "offering": "router", "characteristics": {"ports": 1}}]})
    flag = validate(home, {"items": [{"id": "a", "offering": "router", "characteristics": {"ports": True}}]})
    assert number.valid
    assert [code for code, _, _ in _problems(flag)] == ["invalidCharacteristicValue"]
