"""Catalog persistence: entities as JSON documents plus an attribute index for filters."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bssrules import jsontext
from bssrules.jsontext import normalized_number
from bssrules.catalog.model import KINDS, Entity
from bssrules.catalog.tmf import Meta
from bssrules.errors import InvalidInput
from bssrules.store.tables import catalog_attribute, catalog_entity, counter
from bssrules.services.records import (
    MAX_INDEXED_VALUE, KeyTaken, Stored, attribute_text, content_hash, entity_document, flatten,
)

def _utc(instant: dt.datetime) -> dt.datetime:
    # SQLite keeps no zone: store UTC everywhere so reading back as UTC is right.
    return instant.astimezone(dt.timezone.utc)


def _check_lengths(entity: Entity, source: str) -> None:
    """Refuse what a column cannot hold before the database sees it (PostgreSQL would fail the
    statement; SQLite would keep it whole): the use cases check first, with the field's own
    name, so this is the net under them."""
    for column, value, field in (("id", entity.id, "id"), ("name", entity.name, "name"),
                                 ("lifecycle_status", entity.lifecycle_status, "lifecycleStatus"),
                                 ("source", source, "source")):
        limit = getattr(catalog_entity.c[column].type, "length", None)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            raise InvalidInput(f"{field} has at most {limit} characters; this one has {len(value)}", path=(field,))


def _insert_ignoring_conflicts(connection: Connection) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect (the transaction stays usable)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(catalog_entity).on_conflict_do_nothing()
    return sqlite.insert(catalog_entity).on_conflict_do_nothing()


class RevisionSeen:
    """The catalog revision as a read of this transaction brought it along.

    A worker's runtime (the compiled catalog and rules) is keyed by the revision, read in the
    transaction that uses it. A check reads its party anyway: that read carries the revision
    as a column of its own (:data:`REVISION_COLUMN`), which saves the round trip of asking
    for it alone. The repositories of one unit of work share one."""

    def __init__(self) -> None:
        self.value: int | None = None


class CatalogRepository:
    """Reads and writes catalog entities on one connection (inside the caller's transaction)."""

    def __init__(self, connection: Connection, seen: RevisionSeen | None = None):
        self.connection = connection
        self.seen = seen

    def _row_to_stored(self, row: Any) -> Stored:
        entity = KINDS[row.kind].model_validate(jsontext.loads(row.document))
        last_update = row.last_update if row.last_update.tzinfo else row.last_update.replace(tzinfo=dt.timezone.utc)
        return Stored(entity, Meta(row.version, last_update), row.source)

    def get(self, kind: str, id: str, *, for_update: bool = False) -> Stored | None:
        query = select(catalog_entity).where(catalog_entity.c.kind == kind, catalog_entity.c.id == id)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return self._row_to_stored(row) if row else None

    def hashes(self, kind: str | None = None) -> dict[tuple[str, str], tuple[str, str, int]]:
        """(kind, id) -> (content hash, source, version) of every stored entity."""
        query = select(catalog_entity.c.kind, catalog_entity.c.id, catalog_entity.c.content_hash,
                       catalog_entity.c.source, catalog_entity.c.version)
        if kind:
            query = query.where(catalog_entity.c.kind == kind)
        return {(r.kind, r.id): (r.content_hash, r.source, r.version) for r in self.connection.execute(query)}

    def existing(self, kind: str, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` exist for ``kind``."""
        wanted = sorted(set(ids))
        if not wanted:
            return set()
        query = select(catalog_entity.c.id).where(catalog_entity.c.kind == kind, catalog_entity.c.id.in_(wanted))
        return set(self.connection.execute(query).scalars())

    def ids(self, kind: str) -> set[str]:
        query = select(catalog_entity.c.id).where(catalog_entity.c.kind == kind)
        return set(self.connection.execute(query).scalars())

    def all(self, kind: str | None = None) -> list[Stored]:
        query = select(catalog_entity).order_by(catalog_entity.c.kind, catalog_entity.c.id)
        if kind:
            query = query.where(catalog_entity.c.kind == kind)
        return [self._row_to_stored(r) for r in self.connection.execute(query)]

    def ids_with(self, kind: str, path: str, value: str) -> list[str]:
        """Ids of entities of ``kind`` whose indexed attribute ``path`` equals ``value``."""
        query = (select(catalog_attribute.c.entity_id).distinct()
                 .where(catalog_attribute.c.kind == kind, catalog_attribute.c.path == path,
                        catalog_attribute.c.value == value)
                 .order_by(catalog_attribute.c.entity_id))
        return list(self.connection.execute(query).scalars())

    def visible_offerings(self, partner: str, channels: Sequence[str]) -> Any:
        """The condition a partner's view of the offerings adds: partner-eligible ones, its
        own, and those sold through its channels."""
        def having(path: str, values: Sequence[str]) -> Any:
            return catalog_entity.c.id.in_(select(catalog_attribute.c.entity_id).where(
                catalog_attribute.c.kind == "productOffering", catalog_attribute.c.path == path,
                catalog_attribute.c.value.in_(list(values))))
        return or_(catalog_entity.c.source == f"partner:{partner}", having("partnerEligible", ["true"]),
                   *([having("channel.id", channels)] if channels else []))

    def is_visible(self, kind: str, id: str, partner: str, channels: Sequence[str]) -> bool:
        if kind != "productOffering":
            return True
        query = select(func.count()).select_from(catalog_entity).where(
            catalog_entity.c.kind == kind, catalog_entity.c.id == id, self.visible_offerings(partner, channels))
        return self.connection.execute(query).scalar_one() > 0

    def page(self, kind: str, filters: Mapping[str, Sequence[str]], offset: int, limit: int,
             visible_to: tuple[str, Sequence[str]] | None = None) -> tuple[list[Stored], int]:
        """One page of entities matching every filter (values of one filter are alternatives),
        ordered by id, and the total number matching (of a partner's view, ``visible_to``)."""
        conditions = [catalog_entity.c.kind == kind]
        if visible_to is not None and kind == "productOffering":
            conditions.append(self.visible_offerings(*visible_to))
        for path, values in filters.items():
            matching = select(catalog_attribute.c.entity_id).where(
                catalog_attribute.c.kind == kind, catalog_attribute.c.path == path,
                or_(*[catalog_attribute.c.value == v for v in values]))
            conditions.append(catalog_entity.c.id.in_(matching))
        where = and_(*conditions)
        total = self.connection.execute(select(func.count()).select_from(catalog_entity).where(where)).scalar_one()
        rows = self.connection.execute(select(catalog_entity).where(where).order_by(catalog_entity.c.id)
                                       .offset(offset).limit(limit))
        return [self._row_to_stored(r) for r in rows], total

    def insert(self, entity: Entity, meta: Meta, source: str, attributes: Iterable[tuple[str, str]]) -> None:
        self.insert_many([(entity, meta, source, attributes)])

    def insert_many(self, items: Sequence[tuple[Entity, Meta, str, Iterable[tuple[str, str]]]]) -> None:
        """Insert many entities with two bulk statements (loads of whole catalogs)."""
        if not items:
            return
        rows, attribute_rows = [], []
        for entity, meta, source, attributes in items:
            _check_lengths(entity, source)
            document = entity_document(entity)
            rows.append({"kind": entity.kind, "id": entity.id, "name": entity.name,
                         "lifecycle_status": entity.lifecycle_status, "version": meta.version,
                         "last_update": _utc(meta.last_update), "source": source,
                         "content_hash": content_hash(document), "document": document})
            attribute_rows += [{"kind": entity.kind, "entity_id": entity.id, "path": p, "value": v}
                               for p, v in sorted(set(attributes))]
        if len(rows) == 1:  # one made by the API: a concurrent create of the same id is told apart
            statement = _insert_ignoring_conflicts(self.connection).values(**rows[0]).returning(catalog_entity.c.id)
            if self.connection.execute(statement).first() is None:  # nothing inserted
                raise KeyTaken(f"a {rows[0]['kind']} with id '{rows[0]['id']}' already exists")
        else:
            self.connection.execute(insert(catalog_entity), rows)
        for start in range(0, len(attribute_rows), 10_000):
            self.connection.execute(insert(catalog_attribute), attribute_rows[start:start + 10_000])

    def replace(self, entity: Entity, meta: Meta, source: str, attributes: Iterable[tuple[str, str]]) -> None:
        _check_lengths(entity, source)
        document = entity_document(entity)
        self.connection.execute(update(catalog_entity).where(
            catalog_entity.c.kind == entity.kind, catalog_entity.c.id == entity.id).values(
            name=entity.name, lifecycle_status=entity.lifecycle_status, version=meta.version,
            last_update=_utc(meta.last_update), source=source, content_hash=content_hash(document), document=document))
        self._unindex(entity.kind, entity.id)
        self._index(entity, attributes)

    def set_source(self, kind: str, id: str, source: str) -> None:
        """Hand an unchanged entity over to another owner (no new version)."""
        self.connection.execute(update(catalog_entity).where(
            catalog_entity.c.kind == kind, catalog_entity.c.id == id).values(source=source))

    def delete(self, kind: str, id: str) -> None:
        self._unindex(kind, id)
        self.connection.execute(delete(catalog_entity).where(catalog_entity.c.kind == kind, catalog_entity.c.id == id))

    def _unindex(self, kind: str, id: str) -> None:
        self.connection.execute(delete(catalog_attribute).where(
            catalog_attribute.c.kind == kind, catalog_attribute.c.entity_id == id))

    def _index(self, entity: Entity, attributes: Iterable[tuple[str, str]]) -> None:
        rows = [{"kind": entity.kind, "entity_id": entity.id, "path": p, "value": v}
                for p, v in sorted(set(attributes))]
        if rows:
            self.connection.execute(insert(catalog_attribute), rows)

    def next_revision(self) -> int:
        """Increment and return the catalog revision shared by every worker."""
        changed = self.connection.execute(update(counter).where(counter.c.name == "catalog_revision")
                                          .values(value=counter.c.value + 1))
        if changed.rowcount == 0:
            self.connection.execute(insert(counter).values(name="catalog_revision", value=1))
            revision = 1
        else:
            revision = self.connection.execute(_REVISION).scalar_one()
        if self.seen is not None:
            self.seen.value = revision
        return revision

    def revision(self) -> int:
        """The catalog revision in this transaction (read along with an earlier read of it, or now)."""
        if self.seen is not None and self.seen.value is not None:
            return self.seen.value
        value = self.connection.execute(_REVISION).scalar_one_or_none() or 0
        if self.seen is not None:
            self.seen.value = value
        return value


# Read on every check and decision (the workers' runtime is keyed by it): built once, so that
# SQLAlchemy compiles it and computes its cache key once.
_REVISION = select(counter.c.value).where(counter.c.name == "catalog_revision")
# The same as a column another read carries along (see RevisionSeen); 0 before any load.
REVISION_COLUMN = func.coalesce(_REVISION.scalar_subquery(), 0).label("catalog_revision")
