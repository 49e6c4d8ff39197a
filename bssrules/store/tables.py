"""The database schema (SQLAlchemy Core). Alembic migrations create it; keep them in step."""
from __future__ import annotations

from sqlalchemy import (
    Column, DateTime, ForeignKeyConstraint, Index, Integer, MetaData, String, Table, Text,
)

metadata = MetaData()

catalog_entity = Table(
    "catalog_entity", metadata,
    Column("kind", String(40), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("name", String(400), nullable=False),
    Column("lifecycle_status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_update", DateTime(timezone=True), nullable=False),
    # Who owns the row: "api" or "load:<source name>"; a re-load prunes only its own rows.
    Column("source", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("document", Text, nullable=False),
)

# One row per scalar leaf of the TMF representation, so any attribute filter
# (lifecycleStatus=Active, category.id=…, isBundle=true) is an indexed lookup on any database.
catalog_attribute = Table(
    "catalog_attribute", metadata,
    Column("kind", String(40), nullable=False),
    Column("entity_id", String(128), nullable=False),
    Column("path", String(200), nullable=False),
    Column("value", String(512), nullable=False),
    ForeignKeyConstraint(["kind", "entity_id"], ["catalog_entity.kind", "catalog_entity.id"], ondelete="CASCADE"),
    # entity_id last: a filter is answered from the index alone.
    Index("ix_catalog_attribute_lookup", "kind", "path", "value", "entity_id"),
    Index("ix_catalog_attribute_entity", "kind", "entity_id"),
)

# Counters shared by all API workers, e.g. the catalog revision that caches key on.
counter = Table(
    "counter", metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Integer, nullable=False),
)
