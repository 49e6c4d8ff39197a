"""Loading catalog folders into the store, on SQLite and (when enabled) PostgreSQL: creation,
idempotent reloads, versions, pruning by source, all-or-nothing loads, exact amounts,
migrations, and the ``bssrules load`` command."""
from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, select
from typer.testing import CliRunner

from bssrules import cli
from bssrules.services import catalog as services
from bssrules.catalog.catalog import Catalog
from bssrules.catalog.loader import load_catalog, load_catalog_text
from bssrules.catalog.model import ProductOfferingPrice
from bssrules.errors import Conflict
from bssrules.store import UnitOfWork
from bssrules.store.db import alembic_config, upgrade
from bssrules.store.repository import Stored
from bssrules.store.tables import metadata

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T0 = dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.timezone.utc)
T1 = T0 + dt.timedelta(days=1, minutes=30)
API_BASE = "/tmf-api/productCatalogManagement/v4"
SPLIT_BILLING = {("productSpecification", "split-billing"), ("productOffering", "split-billing-option"),
                 ("productOfferingPrice", "split-billing-monthly")}


@pytest.fixture(scope="module")
def example() -> dict[str, Catalog]:
    """The example folders, parsed once."""
    return {name: load_catalog(EXAMPLES / name / "catalog") for name in ("connected_car", "devices")}


def load(engine: Engine, catalog: Catalog, source: str, now: dt.datetime = T0) -> services.LoadReport:
    with UnitOfWork(engine) as uow:
        return services.load_catalog(uow, catalog, source, now=now)


def stored(engine: Engine) -> dict[tuple[str, str], Stored]:
    with UnitOfWork(engine) as uow:
        return {(s.entity.kind, s.entity.id): s for s in uow.catalog.all()}


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: the full stored state."""
    with engine.connect() as connection:
        return {table.name: sorted(tuple(map(repr, row)) for row in connection.execute(select(table)))
                for table in metadata.sorted_tables}


def keys(catalog: Catalog) -> list[tuple[str, str]]:
    return sorted((e.kind, e.id) for e in catalog)


def without(catalog: Catalog, dropped: set[tuple[str, str]]) -> Catalog:
    smaller = Catalog()
    for entity in catalog:
        if (entity.kind, entity.id) not in dropped:
            smaller.add(entity)
    assert len(smaller) == len(catalog) - len(dropped)
    return smaller


@pytest.mark.parametrize("name", ["connected_car", "devices"])
def test_loading_an_example_folder_creates_every_entity_it_defines(
        engine: Engine, example: dict[str, Catalog], name: str) -> None:
    catalog = example[name]
    report = load(engine, catalog, name)
    assert report.created == keys(catalog)
    assert (report.updated, report.unchanged, report.removed) == ([], [], [])
    assert report.revision == 1
    rows = stored(engine)
    assert sorted(rows) == keys(catalog)
    for entity in catalog:
        row = rows[(entity.kind, entity.id)]
        assert row.entity == entity
        assert (row.meta.version, row.meta.last_update, row.source) == (1, T0, f"load:{name}")


def test_loading_the_same_folder_again_changes_nothing(engine: Engine) -> None:
    catalog = load_catalog(EXAMPLES / "connected_car" / "catalog")
    first = load(engine, catalog, "connected_car", now=T0)
    before = contents(engine)
    again = load(engine, load_catalog(EXAMPLES / "connected_car" / "catalog"), "connected_car", now=T1)
    assert again.unchanged == keys(catalog)
    assert (again.created, again.updated, again.removed) == ([], [], [])
    assert not again.changed
    assert again.revision == first.revision
    assert contents(engine) == before
    assert {(s.meta.version, s.meta.last_update) for s in stored(engine).values()} == {(1, T0)}


def test_renaming_one_offering_gives_it_version_2_and_a_newer_last_update_and_leaves_the_rest_alone(
        engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    shutil.copytree(EXAMPLES / "connected_car" / "catalog", folder)
    original = load_catalog(folder)
    load(engine, original, "connected_car", now=T0)
    before = stored(engine)
    offerings = folder / "offerings.yaml"
    text = offerings.read_text(encoding="utf-8")
    assert text.count("name: 5 GB data download\n") == 1
    offerings.write_text(text.replace("name: 5 GB data download\n", "name: 5 GB data download for partners\n"),
                         encoding="utf-8")

    report = load(engine, load_catalog(folder), "connected_car", now=T1)

    renamed = ("productOffering", "data-5gb")
    assert report.updated == [renamed]
    assert report.unchanged == [k for k in keys(original) if k != renamed]
    assert (report.created, report.removed) == ([], [])
    assert report.revision == 2
    after = stored(engine)
    assert after[renamed].entity.name == "5 GB data download for partners"
    assert after[renamed].meta.version == 2
    assert after[renamed].meta.last_update == T1 > before[renamed].meta.last_update
    for key in before:
        if key != renamed:
            assert after[key] == before[key], key


def test_a_load_that_fails_leaves_the_previous_catalog_intact(engine: Engine, example: dict[str, Catalog]) -> None:
    load(engine, example["connected_car"], "connected_car", now=T0)
    with UnitOfWork(engine) as uow:  # an offering made through the API on a loaded specification
        services.create_resource(uow, "productOffering", {
            "id": "fleet-split-billing", "name": "Split billing for fleets",
            "productSpecification": {"id": "split-billing"}}, API_BASE)
    before = contents(engine)
    # The next version of the folder drops split billing, renames an offering and adds a price:
    # the load writes all that, then finds that pruning the specification would leave the
    # API-made offering dangling.
    changed = without(example["connected_car"], SPLIT_BILLING)
    renamed = changed.offerings["data-5gb"].model_copy(update={"name": "Renamed"})
    changed.add(renamed)
    changed.add(ProductOfferingPrice(id="new-fee", name="New fee", price_type="oneTime", amount=Decimal("1.00"),
                                     currency="EUR"))

    with pytest.raises(Conflict, match="productOffering 'fleet-split-billing' refers to productSpecification "
                                       "'split-billing'"):
        load(engine, changed, "connected_car", now=T1)

    assert contents(engine) == before
    assert stored(engine)[("productOffering", "data-5gb")].entity.name == "5 GB data download"


def test_entities_dropped_from_a_folder_are_pruned_for_that_source_only(
        engine: Engine, example: dict[str, Catalog]) -> None:
    load(engine, example["connected_car"], "cars", now=T0)
    load(engine, example["devices"], "devices", now=T0)
    with UnitOfWork(engine) as uow:
        services.create_resource(uow, "productOfferingPrice", {
            "id": "api-fee", "name": "Fee made through the API", "priceType": "oneTime",
            "price": {"unit": "EUR", "value": 3}}, API_BASE)
    everything = stored(engine)

    # Another source that lacks the cars entities removes none of them.
    other = load_catalog_text("categories:\n  - {id: wholesale, name: Wholesale}\n")
    report = load(engine, other, "wholesale", now=T1)
    assert (report.created, report.removed) == ([("category", "wholesale")], [])
    assert set(stored(engine)) == set(everything) | {("category", "wholesale")}

    # The cars source without split billing prunes exactly that, and nothing of the others.
    report = load(engine, without(example["connected_car"], SPLIT_BILLING), "cars", now=T1)
    assert report.removed == sorted(SPLIT_BILLING)
    assert (report.created, report.updated) == ([], [])
    after = stored(engine)
    assert set(after) == (set(everything) - SPLIT_BILLING) | {("category", "wholesale")}
    for key in keys(example["devices"]) + [("productOfferingPrice", "api-fee")]:
        assert after[key] == everything[key], key


def test_an_unchanged_entity_loaded_under_another_source_changes_owner_but_not_version_or_last_update(
        engine: Engine, example: dict[str, Catalog]) -> None:
    load(engine, example["devices"], "old-name", now=T0)
    report = load(engine, example["devices"], "new-name", now=T1)
    assert report.unchanged == keys(example["devices"])
    assert (report.created, report.updated, report.removed) == ([], [], [])
    rows = stored(engine)
    assert {(s.meta.version, s.meta.last_update, s.source) for s in rows.values()} == {(1, T0, "load:new-name")}
    assert load(engine, Catalog(), "old-name", now=T1).removed == []  # it owns nothing any more
    assert load(engine, Catalog(), "new-name", now=T1).removed == keys(example["devices"])
    assert stored(engine) == {}


def test_migrations_are_at_head_after_make_engine_and_upgrading_again_is_a_no_op(
        engine: Engine, example: dict[str, Catalog]) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None

    def schema_state() -> tuple[Any, ...]:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            inspector = inspect(connection)
            tables = {t: (sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(t)),
                          sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(t)))
                      for t in inspector.get_table_names()}
            drift = compare_metadata(MigrationContext.configure(connection), metadata)
        return revision, tables, drift

    revision, tables, drift = schema_state()
    assert revision == head
    assert set(tables) == {"alembic_version", *metadata.tables}
    assert drift == [], "the migrations do not build the schema of bssrules/store/tables.py"
    load(engine, example["devices"], "devices")
    data = contents(engine)

    upgrade(engine)

    assert schema_state() == (revision, tables, drift)
    assert contents(engine) == data


AMOUNTS_YAML = """\
productOfferingPrices:
  - {id: tenth, name: A tenth, priceType: oneTime, amount: 0.1, currency: EUR}
  - {id: fifth, name: A fifth, priceType: oneTime, amount: 0.2, currency: EUR}
  - {id: dinar, name: Three decimals, priceType: oneTime, amount: 12.345, currency: KWD}
  - {id: trailing-zero, name: Trailing zero, priceType: recurring, recurringPeriod: month, amount: 19.90, currency: EUR}
  - {id: large, name: Large, priceType: oneTime, amount: 123456789012345.67, currency: EUR}
  - {id: per-kb, name: Per kB, priceType: usage, unit: kB, unitQuantity: 0.5, amount: 0.000001, currency: EUR}
"""


def test_decimal_amounts_survive_storage_exactly(engine: Engine) -> None:
    catalog = load_catalog_text(AMOUNTS_YAML)
    load(engine, catalog, "amounts")
    prices = {key[1]: s.entity for key, s in stored(engine).items()}
    written = {"tenth": "0.1", "fifth": "0.2", "dinar": "12.345", "trailing-zero": "19.90",
               "large": "123456789012345.67", "per-kb": "0.000001"}
    for id, text in written.items():
        amount = prices[id].amount  # type: ignore[attr-defined]
        assert isinstance(amount, Decimal) and str(amount) == text, (id, amount)
    assert prices["tenth"].amount + prices["fifth"].amount == Decimal("0.3")  # type: ignore[attr-defined]
    assert prices["per-kb"].unit_quantity == Decimal("0.5")  # type: ignore[attr-defined]
    with UnitOfWork(engine) as uow:
        served = services.get_resource(uow, "productOfferingPrice", "dinar", API_BASE)
    assert served["price"] == {"unit": "KWD", "value": Decimal("12.345")}
    assert not load(engine, load_catalog_text(AMOUNTS_YAML), "amounts", now=T1).changed


def test_last_update_keeps_the_instant_of_the_load_whatever_its_time_zone(
        engine: Engine, example: dict[str, Catalog], request: pytest.FixtureRequest) -> None:
    noon_in_athens = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    load(engine, example["devices"], "devices", now=noon_in_athens)
    last_update = stored(engine)[("productOffering", "smartphone")].meta.last_update
    assert last_update == noon_in_athens, f"{last_update.isoformat()} is not {noon_in_athens.isoformat()}"


def _bssrules(*args: str) -> Any:
    """Run the ``bssrules`` command line in-process, as the console script does."""
    result = CliRunner().invoke(cli.app, list(args), env={"BSSRULES_DATABASE_URL": None})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_the_load_command_stores_a_folder_and_a_second_run_creates_nothing(
        tmp_path: Path, example: dict[str, Catalog]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    folder = EXAMPLES / "devices" / "catalog"
    count = len(example["devices"])

    first = _bssrules("load", str(folder), "--database-url", url)
    assert first.exit_code == 0, first.output
    assert f"{count} created, 0 updated, 0 unchanged, 0 removed" in first.stdout, first.output

    second = _bssrules("load", str(folder), "--database-url", url)
    assert second.exit_code == 0, second.output
    assert f"0 created, 0 updated, {count} unchanged, 0 removed" in second.stdout, second.output

    # The other example folder is also called "catalog": by default it is a source of its own.
    other = _bssrules("load", str(EXAMPLES / "connected_car" / "catalog"), "--database-url", url)
    assert other.exit_code == 0, other.output
    assert f"{len(example['connected_car'])} created, 0 updated, 0 unchanged, 0 removed" in other.stdout, other.output

    engine = create_engine(url)
    try:
        rows = stored(engine)
    finally:
        engine.dispose()
    assert sorted(rows) == sorted(keys(example["devices"]) + keys(example["connected_car"]))
    assert {s.source for k, s in rows.items() if k in set(keys(example["devices"]))} == {f"load:{folder.resolve()}"}
