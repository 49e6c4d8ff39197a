"""Readable tables of a catalog (for the demo and the CLI)."""
from __future__ import annotations

from typing import Any

from rich.table import Table

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.model import ProductOfferingPrice


def price_text(price: ProductOfferingPrice) -> str:
    text = f"{price.amount} {price.currency}"
    if price.price_type == "recurring":
        every = f"{price.period_length} {price.recurring_period}s" if price.period_length > 1 else price.recurring_period
        text += f" / {every}"
    elif price.price_type == "usage":
        per = f"{price.unit_quantity} {price.unit}" if price.unit_quantity != 1 else price.unit
        text += f" per {per}"
    else:
        text += " once"
    return text


def _validity(entity) -> str:  # type: ignore[no-untyped-def]
    start, end = entity.valid_for.start, entity.valid_for.end
    if not start and not end:
        return "always"
    return f"{start.date() if start else '…'} → {end.date() if end else '…'}"


def catalog_tables(catalog: Catalog, only: set[tuple[str, str]] | None = None) -> list[Table]:
    """Offerings, bundles and prices as rich tables (``only`` limits to these (kind, id))."""
    def keep(kind: str, id: str) -> bool:
        return only is None or (kind, id) in only

    offerings = [o for o in sorted(catalog.offerings.values(), key=lambda o: o.id) if keep(o.kind, o.id)]
    table = Table(title="Product offerings", title_justify="left")
    for column in ("id", "name", "kind", "status", "partner", "channels", "valid", "prices"):
        table.add_column(column)
    for o in offerings:
        prices = [price_text(catalog.prices[p]) for p in o.prices if p in catalog.prices]
        table.add_row(o.id, o.name, "bundle" if o.is_bundle else "simple", o.lifecycle_status,
                      "yes" if o.partner_eligible else "", ", ".join(o.channels), _validity(o),
                      "\n".join(prices) or "—")
    tables = [table]
    bundles = Table(title="Bundles", title_justify="left")
    for column in ("bundle", "contains", "min", "default", "max"):
        bundles.add_column(column)
    for o in offerings:
        for child in o.bundle:
            name = catalog.offerings[child.offering].name if child.offering in catalog.offerings else child.offering
            bundles.add_row(o.id, f"{child.offering} ({name})", str(child.min), str(child.default_count),
                            str(child.max))
    if bundles.row_count:
        tables.append(bundles)
    prices_table = Table(title="Prices", title_justify="left")
    for column in ("id", "name", "type", "price", "valid", "used by"):
        prices_table.add_column(column)
    for p in sorted(catalog.prices.values(), key=lambda p: p.id):
        if not keep(p.kind, p.id):
            continue
        users = sorted(o.id for o in catalog.offerings.values() if p.id in o.prices)
        prices_table.add_row(p.id, p.name, p.price_type, price_text(p), _validity(p), ", ".join(users))
    tables.append(prices_table)
    return tables


def rule_set_table(rules: Any) -> Table:
    """The rule sets of a rule book: kind, version, validity, rule count."""
    table = Table(title="Rule sets", title_justify="left")
    for column in ("id", "kind", "version", "valid", "rules", "description"):
        table.add_column(column)
    for compiled in sorted(rules, key=lambda c: (c.kind, c.id, c.definition.version)):
        definition = compiled.definition
        table.add_row(definition.id, definition.kind, str(definition.version), _validity(definition),
                      str(len(definition.rules)), definition.description or "")
    return table
