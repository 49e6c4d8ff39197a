"""The database schema (SQLAlchemy Core). Alembic migrations create it; keep them in step."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger, Column, DateTime, ForeignKeyConstraint, Index, Integer, MetaData, SmallInteger, String, Table, Text,
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

# Rule sets as authored (plain JSON of the YAML), one row per (id, version).
rule_set = Table(
    "rule_set", metadata,
    Column("id", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("source", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("last_update", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False),
)

# Every other TMF resource (parties, accounts, inventory, carts, orders …): a JSON
# document plus the columns that queries and integrity need.
resource = Table(
    "resource", metadata,
    Column("kind", String(40), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("last_update", DateTime(timezone=True), nullable=False),
    Column("state", String(40), nullable=True),
    Column("party_id", String(128), nullable=True),
    Column("partner_id", String(128), nullable=True),
    Column("external_id", String(200), nullable=True),
    Column("document", Text, nullable=False),
    Index("ix_resource_party", "kind", "party_id"),
    Index("ix_resource_partner", "kind", "partner_id"),  # every partner-scoped list (migration 0012)
    Index("ix_resource_external", "kind", "external_id", unique=True),
)

resource_attribute = Table(
    "resource_attribute", metadata,
    Column("kind", String(40), nullable=False),
    Column("resource_id", String(128), nullable=False),
    Column("path", String(200), nullable=False),
    Column("value", String(512), nullable=False),
    ForeignKeyConstraint(["kind", "resource_id"], ["resource.kind", "resource.id"], ondelete="CASCADE"),
    Index("ix_resource_attribute_lookup", "kind", "path", "value", "resource_id"),
    Index("ix_resource_attribute_resource", "kind", "resource_id"),
)

# Every rated charge part (one per usage record and payer), in integer minor units so that
# sums are exact and fast: "what will my next invoice hold so far" is one indexed SUM.
# Keyed subscription first, like every hot table (see below): on a sharded deployment a
# usage's charges sit on the shard of its subscription.
rated_charge = Table(
    "rated_charge", metadata,
    Column("subscriber", String(128), primary_key=True),
    Column("usage_id", String(128), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("billing_account", String(128), nullable=False),
    Column("payer_role", String(128), nullable=False),
    Column("service", String(128), nullable=False),
    Column("offering", String(128), nullable=True),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("bill_id", String(200), nullable=True),
    # the volume its usage rated (the record's, less what a cap refused) and its unit: the same
    # on every part of one usage (a charge written before 0007 has none)
    Column("volume", BigInteger, nullable=True),
    Column("volume_scale", SmallInteger, nullable=True),
    Column("unit", String(40), nullable=True),
    Index("ix_rated_charge_account", "billing_account", "start"),
    Index("ix_rated_charge_subscriber", "subscriber", "start"),
    Index("ix_rated_charge_usage", "usage_id"),
)

# ---------------------------------------------------------------------------- the hot tables
#
# What online rating reads and writes for every usage, in typed columns, each table keyed by
# the subscription (the inventory product id that used the service) first: the one
# distribution column should one PostgreSQL no longer be enough (docs/online-charging.md).
# Quantities are exact scaled integers: ``value * 10**-scale`` (money at its minor unit).

# One row per subscription rated online: the revision of its rating context (party class,
# effective offerings, payers), bumped in the transaction of every change of the inventory,
# a party or an account that may change it; workers cache the context by it.
subscription = Table(
    "subscription", metadata,
    Column("id", String(128), primary_key=True),
    Column("revision", BigInteger, nullable=False),
)

# TMF654 buckets: the balance and what rating needs in columns; the rest of the TMF document
# (name, validFor as written, relatedParty …) as JSON, rendered with the balance.
bucket = Table(
    "bucket", metadata,
    Column("subscription", String(128), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("unit", String(40), nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("scale", SmallInteger, nullable=False),
    Column("floor", BigInteger, nullable=True),  # how low a money balance may go (null: no limit)
    Column("floor_scale", SmallInteger, nullable=False),
    Column("precedence", Integer, nullable=False),
    Column("usage_type", String(128), nullable=True),  # the service it serves (null: any)
    Column("valid_from", DateTime(timezone=True), nullable=True),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    Column("status", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("last_update", DateTime(timezone=True), nullable=False),
    Column("partner_id", String(128), nullable=True),
    Column("document", Text, nullable=False),
    Index("ix_bucket_id", "id"),
)

# Running totals per subscription, accumulator ("<usage rule set>/<accumulator id>") and
# period ("2026-06" or "2026-06-01" in the rule set's time zone).
accumulator = Table(
    "accumulator", metadata,
    Column("subscription", String(128), primary_key=True),
    Column("accumulator", String(300), primary_key=True),
    Column("period", String(20), primary_key=True),
    Column("volume", BigInteger, nullable=False),
    Column("volume_scale", SmallInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("amount_scale", SmallInteger, nullable=False),
    Column("reached", Text, nullable=False),  # JSON list of the threshold ids reached
    Column("created", DateTime(timezone=True), nullable=False),
    Column("last_update", DateTime(timezone=True), nullable=False),
    Column("partner_id", String(128), nullable=True),
)

# TMF635 usages as stored: rated or rejected (never dropped), the rated document as JSON.
# A usage that names no subscription is kept under the subscription "".
usage_record = Table(
    "usage_record", metadata,
    Column("subscription", String(128), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("status", String(40), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("partner_id", String(128), nullable=True),
    Column("document", Text, nullable=False),
    Index("ix_usage_record_id", "id"),
)

# Events written in the same transaction as the change they tell of (the outbox), and their
# delivery to each subscribed hub: kept until delivered, and kept when delivery keeps failing.
event = Table(
    "event", metadata,
    Column("id", String(64), primary_key=True),
    Column("event_type", String(100), nullable=False),
    Column("api", String(20), nullable=False),
    Column("partner_id", String(128), nullable=True),  # whose data it is (None: the operator's)
    Column("created", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_event_created", "created"),  # a new event is made after the latest
)

delivery = Table(
    "delivery", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("hub_id", String(128), primary_key=True),
    Column("callback", String(2000), nullable=False),
    Column("status", String(20), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt", DateTime(timezone=True), nullable=False),
    Column("last_error", String(2000), nullable=True),
    Column("delivered", DateTime(timezone=True), nullable=True),
    # The event's creation (copied from it): a hub is sent its events in this order, each
    # only once every earlier one is delivered or given up (head of line per hub).
    Column("created", DateTime(timezone=True), nullable=False),
    # Since when it has been retried (its creation, or its last redelivery): once the
    # retention has passed since then, a failed attempt gives it up (failed).
    Column("queued", DateTime(timezone=True), nullable=False),
    Index("ix_delivery_due", "status", "next_attempt"),
    Index("ix_delivery_hub", "hub_id", "status", "created"),
)
