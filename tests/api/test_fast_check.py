"""The quick conformance check of usage bodies (bssrules.api.fastcheck) never accepts a body
the full JSON Schema validation refuses, and does accept the usual usages (else it would be
no quicker): compared with jsonschema on the documented examples and on many variations of
them (values of every JSON type put at every place)."""
from __future__ import annotations

import copy
import random
from decimal import Decimal
from typing import Any, Iterator

from bssrules.api.fastcheck import compile_check
from bssrules.api.usage import TMF635

VALID = [
    {"usageDate": "2026-06-01T20:00:00Z", "usageType": "ppv-movie",
     "usageCharacteristic": [{"name": "productId", "value": "sub-1"}]},
    {"id": "u-1", "usageDate": "2026-06-01T20:00:00+02:00", "usageType": "data", "description": "roaming",
     "status": "received", "usageSpecification": {"id": "spec", "name": "data"},
     "relatedParty": [{"id": "p", "@referredType": "Individual", "role": "customer"}],
     "usageCharacteristic": [{"name": "productId", "value": "sub-1"}, {"name": "volume", "value": Decimal("1.5")},
                             {"name": "roaming", "value": True}, {"name": "unit", "value": "GB"}],
     "ratedProductUsage": [{"productRef": {"id": "sub-1"}, "isBilled": False, "taxRate": Decimal("0.2"),
                            "taxIncludedRatingAmount": {"unit": "EUR", "value": 3}}]},
]
ODD_VALUES: list[Any] = [None, True, 0, 7, Decimal("1.5"), 2.5, "", "text", [], [1], {}, {"name": "x"},
                         {"name": "x", "value": 1}, {"id": "x", "@referredType": "Product"}, "rated", "lost"]


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _places(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _places(child, (*path, index))


def _with(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    changed = copy.deepcopy(value)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return changed


def _variations() -> Iterator[Any]:
    rng = random.Random(12)
    for body in VALID:
        for path in _places(body):
            for odd in ODD_VALUES:
                yield _with(body, path, odd)
        for path in _places(body):  # a member removed, an unknown one added
            if path:
                parent = _with(body, (), copy.deepcopy(body))
                target = parent
                for step in path[:-1]:
                    target = target[step]
                if isinstance(target, dict):
                    del target[path[-1]]
                    yield parent
        for _ in range(300):
            changed = copy.deepcopy(body)
            for _ in range(rng.randint(1, 3)):
                places = [p for p in _places(changed) if p]
                path = rng.choice(places)
                changed = _with(changed, path, rng.choice(ODD_VALUES))
            yield changed


def test_the_quick_check_accepts_the_usual_usages() -> None:
    check = compile_check(TMF635.definitions, "Usage_Create")
    validator = TMF635.validator("Usage_Create")
    for body in VALID:
        assert validator.is_valid(body)
        assert check(body)


def test_the_quick_check_never_accepts_what_the_json_schema_refuses() -> None:
    check = compile_check(TMF635.definitions, "Usage_Create")
    validator = TMF635.validator("Usage_Create")
    accepted = refused = 0
    for body in _variations():
        if check(body):
            accepted += 1
            assert validator.is_valid(body), body
        elif not validator.is_valid(body):
            refused += 1
    assert accepted > 100 and refused > 100  # both sides were exercised


def test_a_keyword_the_quick_check_does_not_know_proves_nothing() -> None:
    definitions = {"Thing": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}},
                   "Loop": {"type": "object", "properties": {"next": {"$ref": "#/definitions/Loop"}}}}
    thing = compile_check(definitions, "Thing")
    assert thing({}) and not thing({"n": 5}) and not thing({"n": 1})  # minimum: left to jsonschema
    loop = compile_check(definitions, "Loop")
    assert loop({"next": {"next": {}}}) and not loop({"next": 3})
    assert not compile_check(definitions, "Missing")({})
