"""Online rating's hot state in typed tables keyed by subscription: buckets, accumulators and
usages move out of the generic document table (and its attribute index) into ``bucket``,
``accumulator`` and ``usage_record``; ``subscription`` holds each inventory product's
rating-context revision (1 for every existing product); ``rated_charge`` is keyed by
subscription first and keeps the volume its usage rated and its unit (none for the charges
written before).

Balances and totals become exact scaled integers (value = integer x 10^-scale). The
downgrade writes them back as documents of the generic table, with their attribute rows.

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable

import sqlalchemy as sa
from alembic import op

from bssrules import jsontext
from bssrules.services.records import document_attributes, scaled, unscaled

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BATCH = 2_000
_WHEN = sa.DateTime(timezone=True)
_resource = sa.table("resource", sa.column("kind"), sa.column("id"), sa.column("version"),
                     sa.column("created", _WHEN), sa.column("last_update", _WHEN), sa.column("state"), sa.column("party_id"), sa.column("partner_id"),
                     sa.column("external_id"), sa.column("document"))
_attribute = sa.table("resource_attribute", sa.column("kind"), sa.column("resource_id"), sa.column("path"),
                      sa.column("value"))
_CHARGE_COLUMNS = ("subscriber", "usage_id", "part", "billing_account", "payer_role", "service", "offering", "start",
                   "amount_minor", "currency", "bill_id")


def _VOLUME_COLUMNS() -> list[sa.Column[Any]]:
    return [sa.Column("volume", sa.BigInteger, nullable=True), sa.Column("volume_scale", sa.SmallInteger, nullable=True),
            sa.Column("unit", sa.String(40), nullable=True)]


def _charge_table(name: str, subscriber_first: bool) -> None:
    key = ["subscriber", "usage_id", "part"] if subscriber_first else ["usage_id", "part"]
    op.create_table(
        name,
        sa.Column("subscriber", sa.String(128), nullable=False),
        sa.Column("usage_id", sa.String(128), nullable=False),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("billing_account", sa.String(128), nullable=False),
        sa.Column("payer_role", sa.String(128), nullable=False),
        sa.Column("service", sa.String(128), nullable=False),
        sa.Column("offering", sa.String(128), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("bill_id", sa.String(200), nullable=True),
        *(_VOLUME_COLUMNS() if subscriber_first else []),
        sa.PrimaryKeyConstraint(*key, name=f"pk_{name}"),
    )


def _rekey_charges(subscriber_first: bool) -> None:
    """rated_charge rebuilt with the other primary key (copy, drop, rename: both databases)."""
    _charge_table("rated_charge_rekeyed", subscriber_first)
    columns = ", ".join(_CHARGE_COLUMNS)
    op.execute(sa.text(f"INSERT INTO rated_charge_rekeyed ({columns}) SELECT {columns} FROM rated_charge"))
    op.drop_table("rated_charge")
    op.rename_table("rated_charge_rekeyed", "rated_charge")
    if op.get_bind().dialect.name == "postgresql":  # the constraint keeps its name across a rename
        op.execute(sa.text("ALTER TABLE rated_charge RENAME CONSTRAINT pk_rated_charge_rekeyed TO rated_charge_pkey"))
    op.create_index("ix_rated_charge_account", "rated_charge", ["billing_account", "start"])
    op.create_index("ix_rated_charge_subscriber", "rated_charge", ["subscriber", "start"])
    if subscriber_first:
        op.create_index("ix_rated_charge_usage", "rated_charge", ["usage_id"])


def _instant(value: Any) -> dt.datetime | None:
    from bssrules.catalog.types import parse_instant

    if not value:
        return None
    parsed = parse_instant(value)
    if not isinstance(parsed, dt.datetime):
        raise ValueError(f"{value!r} is not a date-time")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    return value


def _rows(connection: sa.Connection, kind: str) -> Iterable[Any]:
    last = ""
    while True:
        batch = connection.execute(sa.select(_resource).where(_resource.c.kind == kind, _resource.c.id > last)
                                   .order_by(_resource.c.id).limit(_BATCH)).fetchall()
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def _bucket_row(row: Any) -> dict[str, Any]:
    document = jsontext.loads(row.document)
    remaining = dict(document.get("remainingValue") or {})
    amount, scale = scaled(Decimal(str(remaining.pop("amount", 0))))
    document["remainingValue"] = remaining
    floor = document.get("floor", 0)
    floor_value, floor_scale = scaled(Decimal(str(floor))) if floor is not None else (None, 0)
    products = [p.get("id") for p in document.get("product") or [] if isinstance(p, dict)]
    usage_type = document.get("usageType")
    valid = document.get("validFor") or {}
    return {"subscription": products[0] if products else (row.party_id or ""), "id": row.id,
            "unit": str(remaining.get("units")), "remaining": amount, "scale": scale, "floor": floor_value,
            "floor_scale": floor_scale, "precedence": int(document.get("precedence", 100)),
            "usage_type": None if usage_type in (None, "any") else str(usage_type),
            "valid_from": _instant(valid.get("startDateTime")), "valid_to": _instant(valid.get("endDateTime")),
            "status": document.get("status", row.state or "active"), "version": row.version,
            "created": _utc(row.created), "last_update": _utc(row.last_update), "partner_id": row.partner_id,
            "document": jsontext.dumps(document, sort_keys=True)}


def _accumulator_row(row: Any) -> dict[str, Any]:
    document = jsontext.loads(row.document)
    volume, volume_scale = scaled(Decimal(str(document["volume"])))
    amount, amount_scale = scaled(Decimal(str(document["amount"])))
    return {"subscription": document["subscriber"], "accumulator": document["accumulator"],
            "period": document["period"], "volume": volume, "volume_scale": volume_scale, "amount": amount,
            "amount_scale": amount_scale, "reached": jsontext.dumps(list(document.get("reached") or [])),
            "created": _utc(row.created), "last_update": _utc(row.last_update), "partner_id": row.partner_id}


def _usage_row(row: Any) -> dict[str, Any]:
    document = jsontext.loads(row.document)
    return {"subscription": row.party_id or "", "id": row.id, "status": row.state or document.get("status", "rated"),
            "created": _utc(row.created), "partner_id": row.partner_id, "document": row.document}


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("revision", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "bucket",
        sa.Column("subscription", sa.String(128), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("remaining", sa.BigInteger, nullable=False),
        sa.Column("scale", sa.SmallInteger, nullable=False),
        sa.Column("floor", sa.BigInteger, nullable=True),
        sa.Column("floor_scale", sa.SmallInteger, nullable=False),
        sa.Column("precedence", sa.Integer, nullable=False),
        sa.Column("usage_type", sa.String(128), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.String(128), nullable=True),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_index("ix_bucket_id", "bucket", ["id"])
    op.create_table(
        "accumulator",
        sa.Column("subscription", sa.String(128), primary_key=True),
        sa.Column("accumulator", sa.String(300), primary_key=True),
        sa.Column("period", sa.String(20), primary_key=True),
        sa.Column("volume", sa.BigInteger, nullable=False),
        sa.Column("volume_scale", sa.SmallInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("amount_scale", sa.SmallInteger, nullable=False),
        sa.Column("reached", sa.Text, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.String(128), nullable=True),
    )
    op.create_table(
        "usage_record",
        sa.Column("subscription", sa.String(128), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.String(128), nullable=True),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_index("ix_usage_record_id", "usage_record", ["id"])
    _rekey_charges(subscriber_first=True)

    connection = op.get_bind()
    def typed(name: str) -> sa.ColumnClause[Any]:
        return sa.column(name, _WHEN) if name in ("valid_from", "valid_to", "created", "last_update") else sa.column(name)

    tables = {"bucket": (_bucket_row, sa.table("bucket", *[typed(c) for c in (
                  "subscription", "id", "unit", "remaining", "scale", "floor", "floor_scale", "precedence",
                  "usage_type", "valid_from", "valid_to", "status", "version", "created", "last_update",
                  "partner_id", "document")])),
              "accumulator": (_accumulator_row, sa.table("accumulator", *[typed(c) for c in (
                  "subscription", "accumulator", "period", "volume", "volume_scale", "amount", "amount_scale",
                  "reached", "created", "last_update", "partner_id")])),
              "usage": (_usage_row, sa.table("usage_record", *[typed(c) for c in (
                  "subscription", "id", "status", "created", "partner_id", "document")]))}
    for kind, (convert, table) in tables.items():
        batch: list[dict[str, Any]] = []
        for row in _rows(connection, kind):
            batch.append(convert(row))
            if len(batch) == _BATCH:
                connection.execute(sa.insert(table), batch)
                batch = []
        if batch:
            connection.execute(sa.insert(table), batch)
        connection.execute(sa.delete(_attribute).where(_attribute.c.kind == kind))
        connection.execute(sa.delete(_resource).where(_resource.c.kind == kind))
    op.execute(sa.text("INSERT INTO subscription (id, revision) SELECT id, 1 FROM resource WHERE kind = 'product'"))


def _resource_rows(kind: str, id: str, version: int, created: Any, last_update: Any, state: str | None,
                   party_id: str | None, partner_id: str | None, document: dict[str, Any]
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    row = {"kind": kind, "id": id, "version": version, "created": _utc(created), "last_update": _utc(last_update),
           "state": state, "party_id": party_id, "partner_id": partner_id, "external_id": None,
           "document": jsontext.dumps(document, sort_keys=True)}
    return row, [{"kind": kind, "resource_id": id, "path": p, "value": v}
                 for p, v in sorted(set(document_attributes(document)))]


def downgrade() -> None:
    connection = op.get_bind()
    rows: list[dict[str, Any]] = []
    attributes: list[dict[str, Any]] = []

    def flush(force: bool = False) -> None:
        if rows and (force or len(rows) >= _BATCH):
            connection.execute(sa.insert(_resource), rows)
            if attributes:
                connection.execute(sa.insert(_attribute), attributes)
            rows.clear()
            attributes.clear()

    def read(sql: str, *instants: str) -> Any:
        return connection.execute(sa.text(sql).columns(**{name: _WHEN for name in instants})).mappings()

    for b in read("SELECT * FROM bucket ORDER BY id", "created", "last_update"):
        document = jsontext.loads(b["document"])
        document["remainingValue"] = {**(document.get("remainingValue") or {}),
                                      "amount": unscaled(b["remaining"], b["scale"])}
        row, indexed = _resource_rows("bucket", b["id"], b["version"], b["created"], b["last_update"], b["status"],
                                      b["subscription"], b["partner_id"], document)
        rows.append(row)
        attributes.extend(indexed)
        flush()
    for a in read("SELECT * FROM accumulator ORDER BY subscription, accumulator, period", "created", "last_update"):
        document = {"accumulator": a["accumulator"], "subscriber": a["subscription"], "period": a["period"],
                    "volume": unscaled(a["volume"], a["volume_scale"]),
                    "amount": unscaled(a["amount"], a["amount_scale"]), "reached": jsontext.loads(a["reached"])}
        row, indexed = _resource_rows("accumulator", f"{a['accumulator']}|{a['subscription']}|{a['period']}", 1,
                                      a["created"], a["last_update"], None, a["subscription"], a["partner_id"],
                                      document)
        rows.append(row)
        attributes.extend(indexed)
        flush()
    for u in read("SELECT * FROM usage_record ORDER BY id", "created"):
        row, indexed = _resource_rows("usage", u["id"], 1, u["created"], u["created"], u["status"],
                                      u["subscription"] or None, u["partner_id"], jsontext.loads(u["document"]))
        rows.append(row)
        attributes.extend(indexed)
        flush()
    flush(force=True)
    _rekey_charges(subscriber_first=False)
    op.drop_index("ix_usage_record_id", table_name="usage_record")
    op.drop_table("usage_record")
    op.drop_table("accumulator")
    op.drop_index("ix_bucket_id", table_name="bucket")
    op.drop_table("bucket")
    op.drop_table("subscription")
