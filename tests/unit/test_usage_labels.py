"""A rejected usage's label writes the values the client sent as JSON writes them (``true``,
``null``, ``-1E+400``, a list), a text in quotes — never a Python repr (True, None,
Decimal('-1E+400')), which a partner's system never sent (a review found them)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bssrules.services.usage import record_of


def _label(volume: Any, *more: dict[str, Any]) -> str | None:
    body = {"usageDate": "2026-06-01T00:00:00Z", "usageType": "data", "usageCharacteristic": [
        {"name": "productId", "value": "line-1"}, {"name": "volume", "value": volume}, *more]}
    record, problem = record_of("u-1", body)
    assert record is None
    return problem


@pytest.mark.parametrize(("volume", "label"), [
    (True, "volume true is not a number"),
    (None, "volume null is not a number"),
    ([1], "volume [1] is not a number"),
    ({"a": 1}, 'volume {"a": 1} is not a number'),
    ("lots", "volume 'lots' is not a number"),
    (Decimal("-1E+400"), "volume -1E+400 must be a number of at least 0"),
    (Decimal("1E-13"), "volume 1E-13 has more than 12 decimals"),
])
def test_a_volume_is_named_as_the_client_wrote_it(volume: Any, label: str) -> None:
    assert _label(volume) == label


def test_a_characteristic_given_twice_names_both_values_as_json() -> None:
    assert _label(True, {"name": "volume", "value": False}) == \
        "usageCharacteristic 'volume' is given twice, with different values (true and false): a usage has one"


def test_roaming_and_texts_are_named_as_json() -> None:
    assert _label(1, {"name": "roaming", "value": 1}) == "roaming 1 must be true or false"
    assert _label(1, {"name": "unit", "value": False}) == "unit false must be text"
