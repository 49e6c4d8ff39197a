"""Generated valid catalog files survive YAML → model → YAML without loss, and a typo in
a field name is reported where it was made.

The strategies build only valid :class:`CatalogFile` objects: every reference names an
id that exists, bundles and compound resources and category parents only point at
entities generated before them (so there is no cycle), and characteristic uses only
restrict characteristics that the offering's specification has, to values it allows.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
import string
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from bssrules.catalog import load_catalog, load_catalog_text
from bssrules.catalog.catalog import Catalog
from bssrules.catalog.dump import dump_catalog, dump_catalog_file
from bssrules.catalog.model import (
    BundledOffering, CatalogFile, Category, Characteristic, CharacteristicUse, OfferingRelationship, ProductCatalog,
    ProductOffering, ProductOfferingPrice, ProductSpecification, Range, RelatedParty, ResourceSpecification,
)
from bssrules.catalog.types import LIFECYCLE_STATUSES, ValidFor
from bssrules.errors import InvalidSource
from bssrules.money import minor_unit_exponent
from bssrules.yaml_source import parse_text

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- scalar strategies -------------------------------------------------------------------

# No blanks at the ends, since the model strips them; line-break lookalikes (NEL, U+2028)
# are included on purpose: the dump must double-quote them.
_CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"))
WORD = st.one_of(st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=8),
                 st.text(_CHARS, min_size=1, max_size=6), st.sampled_from(["a\x85b", "x\u2028y", "p\u2029q"]))
TEXT = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
IDS = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,12}\Z")
DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31))
ZONES = st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=2)),
                         dt.timezone(dt.timedelta(hours=-5, minutes=-30))])
INSTANTS = st.one_of(
    DATES.map(lambda d: dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc)),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 12, 31), timezones=ZONES),
)
INTEGERS = st.integers(min_value=-10**6, max_value=10**6)


def decimals(low: int | Decimal, high: int | Decimal, max_places: int = 8) -> st.SearchStrategy[Decimal]:
    """Exact decimals with at most ``max_places`` decimals (the model allows 8)."""
    return st.integers(0, max_places).flatmap(lambda places: st.decimals(
        min_value=low, max_value=high, places=places, allow_nan=False, allow_infinity=False))


DECIMALS = decimals(-10**6, 10**6)
# Currencies with 2, 3 and no decimals.
CURRENCIES = st.sampled_from(["EUR", "USD", "GBP", "CHF", "SEK", "KWD", "BHD", "TND", "JPY", "KRW"])
SCALARS = {
    "string": st.one_of(st.just(""), TEXT, st.sampled_from(["yes", "null", "1.5", "007", "2026-01-01",
                                                            "2026-01-01T10:00:00", "true", "~", "a: b", "#x"])),
    "integer": INTEGERS,
    "number": st.one_of(INTEGERS, DECIMALS),
    "boolean": st.booleans(),
    "date": DATES.map(dt.date.isoformat),
}


def _same_value(v: Any) -> Any:
    """Values are distinct when their numeric value is (2.5 and 2.50 are one value)."""
    return (type(v) is bool, Decimal(v) if isinstance(v, (int, Decimal)) and not isinstance(v, bool) else v)


@st.composite
def valid_fors(draw: st.DrawFn) -> ValidFor:
    start, end = draw(st.one_of(st.none(), INSTANTS)), draw(st.one_of(st.none(), INSTANTS))
    if start and end:
        if start == end:
            end = None
        elif end < start:
            start, end = end, start
    return ValidFor(start=start, end=end)


@st.composite
def common(draw: st.DrawFn, id: str) -> dict[str, Any]:
    """Fields every entity has; each is left at its default half of the time."""
    fields: dict[str, Any] = {"id": id, "name": draw(TEXT)}
    if draw(st.booleans()):
        fields["description"] = draw(st.one_of(st.just(""), TEXT))
    if draw(st.booleans()):
        fields["lifecycle_status"] = draw(st.sampled_from(LIFECYCLE_STATUSES))
    if draw(st.booleans()):
        fields["valid_for"] = draw(valid_fors())
    return fields


def subset(draw: st.DrawFn, items: list[Any], max_size: int = 3) -> list[Any]:
    if not items:
        return []
    chosen = draw(st.lists(st.integers(0, len(items) - 1), unique=True, max_size=max_size))
    return [items[i] for i in chosen]


# --- characteristics ---------------------------------------------------------------------


@st.composite
def characteristics(draw: st.DrawFn, name: str) -> Characteristic:
    value_type = draw(st.sampled_from(list(SCALARS)))
    scalar = SCALARS[value_type]
    shapes = ["free", "values", "range"] if value_type in ("integer", "number") else ["free", "values"]
    shape = draw(st.sampled_from(shapes))
    fields: dict[str, Any] = {"name": name, "value_type": value_type}
    if shape == "values":
        fields["values"] = draw(st.lists(scalar, min_size=1, max_size=4, unique_by=_same_value))
        if draw(st.booleans()):
            fields["default"] = draw(st.sampled_from(fields["values"]))
    elif shape == "range":
        low, high = sorted(draw(st.lists(st.integers(-1000, 1000), min_size=2, max_size=2)))
        fields["range"] = Range(min=low, max=high)
        if draw(st.booleans()):
            fields["default"] = draw(st.integers(low, high) if value_type == "integer" else
                                     decimals(low, high))
    elif draw(st.booleans()):
        fields["default"] = draw(scalar)
    if draw(st.booleans()):
        fields["description"] = draw(TEXT)
    if draw(st.booleans()):
        fields["unit"] = draw(TEXT)
    if draw(st.booleans()):
        low, high = sorted(draw(st.lists(st.integers(0, 5), min_size=2, max_size=2)))
        fields["min_cardinality"], fields["max_cardinality"] = low, max(high, 1)
    if draw(st.booleans()):
        fields["configurable"] = draw(st.booleans())
    return Characteristic(**fields)


@st.composite
def characteristic_lists(draw: st.DrawFn) -> list[Characteristic]:
    names = draw(st.lists(st.one_of(IDS, TEXT), unique=True, max_size=3))
    return [draw(characteristics(name)) for name in names]


@st.composite
def allowed_values(draw: st.DrawFn, characteristic: Characteristic) -> list[Any]:
    """A non-empty selection of values the characteristic allows."""
    if characteristic.values:
        return draw(st.lists(st.sampled_from(characteristic.values), min_size=1, max_size=3, unique_by=_same_value))
    if characteristic.range:
        low, high = characteristic.range.min, characteristic.range.max
        inside = st.integers(low, high) if characteristic.value_type == "integer" else st.one_of(
            st.integers(low, high), decimals(low, high))
        return draw(st.lists(inside, min_size=1, max_size=3, unique_by=_same_value))
    return draw(st.lists(SCALARS[characteristic.value_type], min_size=1, max_size=3, unique_by=_same_value))


# --- entities ----------------------------------------------------------------------------


@st.composite
def prices(draw: st.DrawFn, id: str) -> ProductOfferingPrice:
    price_type = draw(st.sampled_from(["oneTime", "recurring", "usage"]))
    currency = draw(CURRENCIES)
    places = 8 if price_type == "usage" else minor_unit_exponent(currency)
    amount = draw(st.one_of(st.integers(0, 10**7).map(Decimal), decimals(0, 10**7, places)))
    fields = {**draw(common(id)), "price_type": price_type, "amount": amount, "currency": currency}
    if price_type == "recurring":
        fields["recurring_period"] = draw(st.sampled_from(["day", "week", "month", "year"]))
        if draw(st.booleans()):
            fields["period_length"] = draw(st.integers(1, 24))
    if price_type == "usage":
        fields["unit"] = draw(TEXT)
        if draw(st.booleans()):
            fields["unit_quantity"] = draw(decimals(Decimal("0.001"), 1000, 3))
    return ProductOfferingPrice(**fields)


@st.composite
def bundled(draw: st.DrawFn, offering: str) -> BundledOffering:
    low = draw(st.integers(0, 3))
    high = draw(st.integers(max(low, 1), 5))
    default = draw(st.one_of(st.none(), st.integers(low, high)))
    return BundledOffering(offering=offering, min=low, max=high, default=default)


@st.composite
def catalog_files(draw: st.DrawFn) -> CatalogFile:
    def ids(min_size: int = 0, max_size: int = 3) -> list[str]:
        return draw(st.lists(IDS, unique=True, min_size=min_size, max_size=max_size))

    resources = []
    resource_ids = ids()
    for i, id in enumerate(resource_ids):
        fields = draw(common(id))
        if draw(st.booleans()):
            fields["part_number"] = draw(TEXT)
        resources.append(ResourceSpecification(**fields, characteristics=draw(characteristic_lists()),
                                               children=subset(draw, resource_ids[:i])))

    specs = []
    for id in ids(min_size=1, max_size=2):
        fields = draw(common(id))
        if draw(st.booleans()):
            fields["brand"] = draw(TEXT)
        if draw(st.booleans()):
            fields["product_number"] = draw(IDS)
        specs.append(ProductSpecification(**fields, characteristics=draw(characteristic_lists()),
                                          resource_specifications=subset(draw, resource_ids)))

    price_list = [draw(prices(id)) for id in ids()]
    price_ids = [p.id for p in price_list]

    categories = []
    category_ids = ids()
    for i, id in enumerate(category_ids):
        parent = draw(st.one_of(st.none(), st.sampled_from(category_ids[:i]))) if i else None
        categories.append(Category(**draw(common(id)), parent=parent))

    offerings = []
    offering_ids = ids(max_size=4)
    for i, id in enumerate(offering_ids):
        fields = draw(common(id))
        earlier = offering_ids[:i]
        if earlier and draw(st.booleans()):
            fields["bundle"] = [draw(bundled(o)) for o in subset(draw, earlier)] or [draw(bundled(earlier[0]))]
        if "bundle" not in fields or draw(st.booleans()):
            spec = draw(st.sampled_from(specs))
            fields["product_specification"] = spec.id
            chosen = subset(draw, spec.characteristics, max_size=2)
            fields["characteristic_uses"] = [CharacteristicUse(name=c.name, values=draw(allowed_values(c)))
                                             for c in chosen]
        others = [o for o in offering_ids if o != id]
        if others:
            pairs = draw(st.lists(st.tuples(st.sampled_from(["option", "addOn", "requires", "excludes"]),
                                            st.sampled_from(others)), unique=True, max_size=3))
            fields["relationships"] = [
                OfferingRelationship(type=t, offering=o, valid_for=draw(valid_fors()) if draw(st.booleans())
                                     else ValidFor()) for t, o in pairs]
        if draw(st.booleans()):
            fields["sellable"] = draw(st.booleans())
        if draw(st.booleans()):
            fields["partner_eligible"] = draw(st.booleans())
        offerings.append(ProductOffering(**fields, channels=ids(max_size=3), categories=subset(draw, category_ids),
                                         prices=subset(draw, price_ids)))

    catalogs = []
    for id in ids(max_size=2):
        parties = [RelatedParty(id=party, name=draw(st.one_of(st.none(), TEXT)), role=draw(TEXT),
                                referred_type=draw(st.sampled_from(["Organization", "Individual", "PartyRole"])))
                   for party in ids(max_size=2)]
        catalogs.append(ProductCatalog(**draw(common(id)), categories=subset(draw, category_ids),
                                       related_parties=parties))

    return CatalogFile(catalogs=catalogs, categories=categories, resource_specifications=resources,
                       product_specifications=specs, product_offering_prices=price_list, product_offerings=offerings)


# --- YAML → model → YAML -------------------------------------------------------------------


@SETTINGS
@given(catalog_files())
def test_a_dumped_catalog_file_loads_back_into_an_equal_catalog(catalog_file: CatalogFile) -> None:
    expected = Catalog.from_file(catalog_file)
    loaded = load_catalog_text(dump_catalog_file(catalog_file))
    assert loaded.entities == expected.entities
    assert loaded.to_file() == expected.to_file()


@SETTINGS
@given(catalog_files())
def test_dumping_what_was_loaded_gives_the_same_text_again(catalog_file: CatalogFile) -> None:
    text = dump_catalog(load_catalog_text(dump_catalog_file(catalog_file)))
    assert dump_catalog(load_catalog_text(text)) == text
    assert dump_catalog_file(catalog_file) == dump_catalog_file(catalog_file.model_copy(deep=True))


def test_equal_catalog_files_dump_to_the_same_text_without_yaml_aliases() -> None:
    fee = Decimal("9.99")
    shared = CatalogFile(product_offering_prices=[
        ProductOfferingPrice(id=f"fee-{i}", name="Fee", price_type="oneTime", amount=fee, currency="EUR")
        for i in range(2)])
    distinct = CatalogFile(product_offering_prices=[
        ProductOfferingPrice(id=f"fee-{i}", name="Fee", price_type="oneTime", amount=Decimal("9.99"), currency="EUR")
        for i in range(2)])
    assert shared == distinct
    assert "&" not in dump_catalog_file(shared) and "*" not in dump_catalog_file(shared)
    assert dump_catalog_file(shared) == dump_catalog_file(distinct)


@pytest.mark.parametrize("example", ["connected_car", "devices"])
def test_an_example_catalog_dumps_to_one_file_that_loads_back_equal(example: str) -> None:
    catalog = load_catalog(ROOT / "examples" / example / "catalog")
    text = dump_catalog(catalog)
    again = load_catalog_text(text)
    assert again.entities == catalog.entities
    assert dump_catalog(again) == text


def test_decimals_dates_and_lookalike_strings_keep_their_type_in_the_dump() -> None:
    spec = ProductSpecification(id="s", name="S", characteristics=[
        Characteristic(name="speed", value_type="number", values=[Decimal("2.50"), 3, Decimal("1E+2")]),
        Characteristic(name="code", values=["007", "yes", "2026-01-01", "1.5", "null"]),
        Characteristic(name="since", value_type="date", values=["2026-02-01"])])
    price = ProductOfferingPrice(id="p", name="P", price_type="oneTime", amount=Decimal("19.90"), currency="EUR",
                                 valid_for=ValidFor(start="2026-01-01T10:00:00.5+02:00"))
    text = dump_catalog_file(CatalogFile(product_specifications=[spec], product_offering_prices=[price]))
    assert "amount: 19.90\n" in text
    assert re.search(r"\n +start: '?2026-01-01T08:00:00\.500000Z'?\n", text)  # always written in UTC
    loaded = load_catalog_text(text)
    chars = loaded.product_specifications["s"].characteristics
    assert [str(v) for v in chars[0].values] == ["2.50", "3", "100"]  # 1E+2 is written as its digits
    assert chars[0].values == spec.characteristics[0].values
    assert chars[1].values == ["007", "yes", "2026-01-01", "1.5", "null"]
    assert loaded.prices["p"].amount == Decimal("19.90")
    assert loaded.prices["p"].valid_for.start == dt.datetime(2026, 1, 1, 8, 0, 0, 500000, tzinfo=dt.timezone.utc)


def test_a_name_with_a_next_line_character_survives_the_round_trip() -> None:
    catalog_file = CatalogFile(categories=[Category(id="c", name="a\x85b")])
    loaded = load_catalog_text(dump_catalog_file(catalog_file))
    assert loaded.categories["c"].name == "a\x85b"


def test_a_price_in_a_currency_without_minor_unit_survives_the_round_trip() -> None:
    catalog = load_catalog_text("productOfferingPrices:\n"
                                "  - {id: p, name: Phone, priceType: oneTime, amount: 1000, currency: JPY}\n")
    again = load_catalog_text(dump_catalog(catalog))
    assert again.prices["p"].amount == Decimal(1000)


# --- a typo in a field name ----------------------------------------------------------------

YAML_WORDS = {"null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"}


def _model_of(annotation: Any) -> type[BaseModel]:
    """The model inside ``list[X]``, ``X | None`` or ``X``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    raise AssertionError(f"no model in {annotation!r}")


def _mapping_model(path: tuple[str | int, ...]) -> type[BaseModel]:
    """The model of the YAML mapping at ``path`` of a catalog file."""
    model: type[BaseModel] = CatalogFile
    for part in path:
        if isinstance(part, int):
            continue
        field = next(f for name, f in model.model_fields.items() if (f.alias or name) == part)
        model = _model_of(field.annotation)
    return model


def _fields(model: type[BaseModel]) -> dict[str, bool]:
    """Field name as written in YAML → whether it is required."""
    return {(f.alias or name): f.is_required() for name, f in model.model_fields.items()}


def _typo(draw: st.DrawFn, word: str) -> str:
    letter = st.sampled_from(string.ascii_letters)
    kind = draw(st.sampled_from(["substitute", "insert", "delete"] if len(word) > 1 else ["substitute", "insert"]))
    if kind == "insert":
        i = draw(st.integers(0, len(word)))
        return word[:i] + draw(letter) + word[i:]
    i = draw(st.integers(0, len(word) - 1))
    return word[:i] + (draw(letter) if kind == "substitute" else "") + word[i + 1:]


def _ratio(candidate: str, word: str) -> float:
    return difflib.SequenceMatcher(None, candidate, word).ratio()  # as difflib.get_close_matches scores


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog_files(), st.data())
def test_a_one_letter_typo_in_a_field_name_is_reported_at_that_key(catalog_file: CatalogFile,
                                                                   data: st.DataObject) -> None:
    text = dump_catalog_file(catalog_file)
    doc, problems = parse_text(text, "typo.yaml")
    assert doc is not None and not problems
    keys = sorted(doc.key_positions, key=repr)
    assume(keys)
    path = data.draw(st.sampled_from(keys), label="key")
    original = path[-1]
    assert isinstance(original, str)
    fields = _fields(_mapping_model(path[:-1]))
    typo = _typo(data.draw, original)
    assume(typo not in fields and typo not in YAML_WORDS)

    line, column = doc.key_positions[path]
    lines = text.split("\n")
    assert lines[line - 1][column - 1:column - 1 + len(original)] == original
    lines[line - 1] = lines[line - 1][:column - 1] + typo + lines[line - 1][column - 1 + len(original):]
    with pytest.raises(InvalidSource) as caught:
        load_catalog_text("\n".join(lines), "typo.yaml")
    found = caught.value.diagnostics

    # exactly one unknown-field diagnostic, at the key, naming the typo
    [unknown] = [d for d in found if d.code == "unknownField"]
    what = "section" if len(path) == 1 else "field"
    assert (unknown.file, unknown.line, unknown.column) == ("typo.yaml", line, column)
    assert unknown.message.startswith(f"unknown {what} '{typo}'; expected one of: ")
    assert unknown.path == path[:-1] + (typo,)

    # the suggestion: the original name whenever it is difflib's unambiguous best match
    scores = {name: _ratio(name, typo) for name in fields}
    best_others = max((s for name, s in scores.items() if name != original), default=0.0)
    if scores[original] >= 0.6 and scores[original] > best_others:
        assert unknown.suggestion == original
    elif unknown.suggestion is not None:
        assert unknown.suggestion in fields and scores[unknown.suggestion] >= scores[original]

    # anything else is the field the typo hid (when required), or a reference to the entities the
    # typo made invalid (they are left out of the catalog)
    missing = [d for d in found if d.code == "missingField"]
    assert len(missing) <= (1 if fields[original] else 0)
    assert all(d.message == f"missing required field '{original}'" and d.path == path[:-1] for d in missing)
    section = doc.data[path[0]]
    hidden = {item["id"] for item in section} if len(path) == 1 else {section[path[1]]["id"]}
    for other in found:
        if other.code in ("unknownField", "missingField"):
            continue
        assert other.code == "unknownReference", str(other)
        named = re.fullmatch(r"unknown \w+ '(.*)'", other.message)
        assert named is not None and named.group(1) in hidden, str(other)
