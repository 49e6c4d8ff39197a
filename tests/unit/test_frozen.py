"""quick_init: the same frozen dataclass, made faster — same fields, defaults, signature."""
from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from bssrules.frozen import quick_init
from bssrules.pricing import usage as pricing_usage
from bssrules.services import records


@dataclasses.dataclass(frozen=True)
class _Plain:
    a: int
    b: str = "b"
    c: dict[str, int] = dataclasses.field(default_factory=dict)
    d: int | None = dataclasses.field(default=None, init=False, compare=False)
    e: list[int] = dataclasses.field(default_factory=list, init=False)


@quick_init
@dataclasses.dataclass(frozen=True)
class _Quick:
    a: int
    b: str = "b"
    c: dict[str, int] = dataclasses.field(default_factory=dict)
    d: int | None = dataclasses.field(default=None, init=False, compare=False)
    e: list[int] = dataclasses.field(default_factory=list, init=False)


def test_it_makes_what_the_dataclass_init_makes() -> None:
    for args, kwargs in (((1,), {}), ((1, "x"), {}), ((1,), {"c": {"k": 2}}), ((), {"a": 3, "b": "y"})):
        plain, quick = _Plain(*args, **kwargs), _Quick(*args, **kwargs)
        assert vars(plain) == vars(quick)
    assert _Quick(1).c is not _Quick(1).c and _Quick(1).e is not _Quick(1).e  # a factory per instance
    with pytest.raises(TypeError):
        _Quick()  # a = required, as before
    with pytest.raises(TypeError):
        _Quick(1, d=2)  # not an init field
    with pytest.raises(dataclasses.FrozenInstanceError):
        _Quick(1).a = 2  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(_Quick(1, "z"))) == _Quick(1, "z")
    assert dataclasses.replace(_Quick(1), b="w") == _Quick(1, "w")


def test_it_refuses_what_it_cannot_make() -> None:
    with pytest.raises(TypeError):
        quick_init(dataclasses.make_dataclass("Open", [("a", int)]))  # not frozen
    with pytest.raises(TypeError):
        quick_init(dataclasses.make_dataclass("Slotted", [("a", int)], frozen=True, slots=True))

    @dataclasses.dataclass(frozen=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            raise AssertionError

    with pytest.raises(TypeError):
        quick_init(Checked)


QUICK = [c for m in (pricing_usage, records) for c in vars(m).values()  # (the classes given quick_init)
         if isinstance(c, type) and dataclasses.is_dataclass(c) and "_fields_" in c.__init__.__code__.co_varnames]


def test_the_hot_records_are_made_by_quick_init() -> None:
    assert {c.__name__ for c in QUICK} >= {"UsageRecord", "RatedUsage", "Bucket", "StoredBucket", "StoredUsage",
                                           "UsageWrite"}


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: c.__name__)
def test_the_hot_records_keep_their_signature(cls: type) -> None:
    """Each class given quick_init takes the parameters its dataclass __init__ took."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    parameters = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in parameters] == [f.name for f in fields]
    for p, f in zip(parameters, fields):
        if f.default is not dataclasses.MISSING:
            assert p.default is f.default or p.default == f.default
        elif f.default_factory is dataclasses.MISSING:
            assert p.default is inspect.Parameter.empty
