"""Every TMF resource that is not the catalog: a JSON document per (kind, id), with the
columns integrity and queries need, and an attribute index for filters."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import (
    Connection, Integer, Text, and_, bindparam, cast, delete, func, insert, literal_column, null, or_, select, union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from bssrules import jsontext

from bssrules.store import visibility
from bssrules.store.repository import REVISION_COLUMN, RevisionSeen
from bssrules.store.tables import resource, resource_attribute
from bssrules.errors import Conflict, Forbidden, InvalidInput, NotFound
from bssrules.services.ports import PartyContextRows
from bssrules.services.records import KeyTaken, StoredResource, document_attributes


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


MAX_ID = 128  # the width of resource.id
# What each bounded column holds, as the messages name it.
_FIELDS = {"id": "id", "state": "the status (or state)", "party_id": "the party reference",
           "partner_id": "the owning partner", "external_id": "externalId"}


def _check_lengths(stored: StoredResource) -> None:
    """Refuse what a column cannot hold before the database sees it (PostgreSQL would fail the
    statement; SQLite would keep it whole): the use cases check the fields they know first,
    with their own names, so this is the net under them."""
    for column, field in _FIELDS.items():
        value = getattr(stored, column)
        limit = getattr(resource.c[column].type, "length", None)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            raise InvalidInput(f"{field} has at most {limit} characters; this one has {len(value)}",
                               path=(field if " " not in field else column,))


def _insert_ignoring_conflicts(connection: Connection) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect (both keep the transaction
    usable where a plain INSERT would fail it)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(resource).on_conflict_do_nothing()
    return sqlite.insert(resource).on_conflict_do_nothing()


# The reads every check, qualification and order makes (a party, its customer record, its
# products, the payers' accounts) are built once per shape and kept: building a statement and
# generating its cache key took SQLAlchemy about as long as the rest of a configuration check
# (measured: ~2.5 ms a request for five statements). A kept statement is compiled once, its
# cache key computed once (SQLAlchemy memoizes it on the statement), and only its bound values
# change. Its shape holds what is finite (the kind, the filter paths, how many values each has,
# the partner seeing it); the values a request brings (ids) are always bound parameters.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}
_STATEMENTS_MAX = 2_048  # shapes kept (then forgotten, all at once): partners times kinds times filters


# The SQL of a kept statement as the driver takes it, per shape and dialect: (text, the names
# of its bound values in order when the driver's style is positional, the values it binds
# itself — a LIMIT, the kinds a partner sees —, the names the request must bind); None when it
# cannot be sent as is (a value SQLAlchemy converts on the way in or out).
_DriverSql = tuple[str, "tuple[str, ...] | None", dict[str, Any], frozenset[str]]
_DRIVER_SQL: dict[tuple[Any, ...], _DriverSql | None] = {}


def _driver_sql(connection: Connection, shape: tuple[Any, ...], statement: Any) -> _DriverSql | None:
    key = (connection.dialect.name, connection.dialect.driver, shape)
    if key in _DRIVER_SQL:
        return _DRIVER_SQL[key]
    dialect = connection.dialect
    required = frozenset(bind.key for bind in statement.compile(dialect=dialect).binds.values() if bind.required)
    # lists of constants (IN) rendered a parameter per value, as SQLAlchemy renders them per call
    compiled = statement.params(dict.fromkeys(required)).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True})
    values = dict(compiled.construct_params(_check=False))
    order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup is not None else None
    plain = not compiled._bind_processors and not compiled.literal_execute_params \
        and (order is None or all(name in values for name in order)) \
        and (order is not None or not compiled.positional) \
        and all(column.type._cached_result_processor(dialect, None) is None for column in statement.selected_columns)
    found = (compiled.string, order, values, required) if plain else None
    if len(_DRIVER_SQL) >= _STATEMENTS_MAX:
        _DRIVER_SQL.clear()
    _DRIVER_SQL[key] = found
    return found


def _driver_rows(connection: Connection, shape: tuple[Any, ...], statement: Any, bound: dict[str, Any]
                 ) -> list[Any] | None:
    """The rows of a kept statement, sent straight to the driver's cursor: SQLAlchemy's work
    around a statement (its compiled cache's key, the parameters built, the execution context,
    the result's rows) cost twice what SQLite takes to run a check's party read (measured:
    ~300 us against ~100 us). None — the caller then executes it through SQLAlchemy, as
    before — when something listens to the statements (tests count them), when the statement
    cannot be sent as is (see ``_DRIVER_SQL``), or when the driver fails it: SQLAlchemy then
    runs it again and raises in its own words (on PostgreSQL, the failed statement's
    transaction is aborted by then: that is what it says), or handles a dropped connection."""
    if connection._has_events or connection.engine._has_events:  # listened to, now or once: is it now?
        dispatch = connection.dispatch
        if dispatch.before_execute or dispatch.after_execute or dispatch.before_cursor_execute \
                or dispatch.after_cursor_execute:
            return None
    sql = _driver_sql(connection, shape, statement)
    if sql is None:
        return None
    text, order, defaults, required = sql
    if bound.keys() != required:  # the request binds exactly the values the statement leaves open
        return None
    values = {**defaults, **bound}
    try:
        cursor = connection.connection.cursor()
        try:
            cursor.execute(text, tuple(values[name] for name in order) if order is not None else values)
            return list(cursor.fetchall())
        finally:
            cursor.close()
    except Exception:  # noqa: BLE001 - SQLAlchemy runs it again and says what is wrong in its words
        return None


_KEPT_VALUES = 8  # a filter with more values than this (a batch's parties) is built for its query only
_PAYERS_AT_ONCE = 500  # payers per statement: well under SQLite's and PostgreSQL's bound parameters


def _kept(shape: tuple[Any, ...], build: Any) -> Any:
    statement = _STATEMENTS.get(shape)
    if statement is None:
        if len(_STATEMENTS) >= _STATEMENTS_MAX:
            _STATEMENTS.clear()
        statement = _STATEMENTS.setdefault(shape, build())
    return statement


class ResourceRepository:
    """Reads and writes resources on one connection (inside the caller's transaction).

    With a ``scope`` (a partner id), it sees only the resources that partner owns: another
    partner's resource is simply not there (a 404, so that existence does not leak), and
    what it inserts is that partner's unless the use case names another owner."""

    def __init__(self, connection: Connection, scope: str | None = None, seen: RevisionSeen | None = None):
        self.connection = connection
        self.scope = scope
        self.seen = seen  # the first reads of a transaction bring the catalog revision along

    def _bring_revision(self) -> bool:
        return self.seen is not None and self.seen.value is None

    def _note_revision(self, row: Any) -> None:
        if self.seen is not None and self.seen.value is None:
            self.seen.value = int(row.catalog_revision)

    def _scoped(self, conditions: list[Any], kinds: Sequence[str] | None = None) -> list[Any]:
        if self.scope is not None:  # what the partner sees: the one rule of store/visibility.py
            conditions.append(visibility.resources_seen(self.scope, kinds))
        return conditions

    def _scoped_row(self, conditions: list[Any], kind: str) -> list[Any]:
        """As :meth:`_scoped`, for a query of one row (by id): the rule asked of that row."""
        if self.scope is not None:
            conditions.append(visibility.resource_row_seen(self.scope, kind))
        return conditions

    @staticmethod
    def _row(row: Any) -> StoredResource:
        return StoredResource(row.kind, row.id, row.version, _utc(row.created), _utc(row.last_update),
                              jsontext.loads(row.document), row.state, row.party_id, row.partner_id, row.external_id)

    def get(self, kind: str, id: str, *, for_update: bool = False) -> StoredResource | None:
        if not isinstance(id, str) or len(id) > MAX_ID:  # cannot be stored, so it is not there
            return None
        revision = not for_update and self._bring_revision()

        def build() -> Any:
            query = select(resource, *([REVISION_COLUMN] if revision else [])).where(
                *self._scoped_row([resource.c.kind == kind, resource.c.id == bindparam("id")], kind))
            return query.with_for_update() if for_update else query

        row = self.connection.execute(_kept(("get", self.scope, kind, for_update, revision), build),
                                      {"id": id}).first()
        if row is None:
            return None
        if revision:
            self._note_revision(row)
        stored = self._row(row)
        if for_update and self.scope is not None and not visibility.owns(self.scope, stored.partner_id,
                                                                         stored.document):
            # seen (it pays for it, or it is its customer's) but another's: read it, not change it
            raise Forbidden(f"{kind} '{id}' is yours to read, not to change: another party owns it")
        return stored

    def get_many(self, kind: str, ids: Sequence[str]) -> list[StoredResource]:
        """The resources of ``kind`` among ``ids`` that the caller sees, in one query (in id
        order; an id that cannot be stored is not there)."""
        wanted = sorted({i for i in ids if isinstance(i, str) and len(i) <= MAX_ID})
        if not wanted:
            return []
        query = select(resource).where(*self._scoped([resource.c.kind == kind, resource.c.id.in_(wanted)], (kind,)))
        return [self._row(r) for r in self.connection.execute(query.order_by(resource.c.id))]

    def by_external_id(self, kind: str, external_id: str) -> StoredResource | None:
        row = self.connection.execute(select(resource).where(*self._scoped_row([resource.c.kind == kind,
                                                                                resource.c.external_id == external_id],
                                                                               kind))
                                      ).first()
        return self._row(row) if row else None

    def exists(self, kinds: Sequence[str], id: str) -> bool:
        if not isinstance(id, str) or len(id) > MAX_ID:
            return False
        query = select(func.count()).select_from(resource).where(
            *self._scoped([resource.c.kind.in_(list(kinds)), resource.c.id == id], kinds))
        return self.connection.execute(query).scalar_one() > 0

    def ids(self, kinds: Sequence[str]) -> set[str]:
        return set(self.connection.execute(select(resource.c.id).where(
            *self._scoped([resource.c.kind.in_(list(kinds))], kinds))).scalars())

    def referring(self, kinds: Sequence[str], path: str, id: str) -> list[tuple[str, str]]:
        """(kind, id) of resources of ``kinds`` whose attribute ``path`` is ``id``."""
        query = (select(resource_attribute.c.kind, resource_attribute.c.resource_id).distinct()
                 .where(resource_attribute.c.kind.in_(list(kinds)), resource_attribute.c.path == path,
                        resource_attribute.c.value == id))
        return sorted((r.kind, r.resource_id) for r in self.connection.execute(query))

    def find(self, kind: str, filters: Mapping[str, Sequence[str]], limit: int = 10_000) -> list[StoredResource]:
        """Resources matching ``filters`` (in id order), without counting them: one query."""
        paths = list(filters.items())
        revision = self._bring_revision()
        shape = ("find", self.scope, kind, tuple((path, len(values)) for path, values in paths), limit, revision)

        def build() -> Any:
            conditions = self._scoped([resource.c.kind == kind], (kind,))
            for i, (path, values) in enumerate(paths):
                matching = select(resource_attribute.c.resource_id).where(
                    resource_attribute.c.kind == kind, resource_attribute.c.path == path,
                    or_(*[resource_attribute.c.value == bindparam(f"v{i}_{j}") for j in range(len(values))]))
                conditions.append(resource.c.id.in_(matching))
            return select(resource, *([REVISION_COLUMN] if revision else [])).where(
                and_(*conditions)).order_by(resource.c.id).limit(limit)

        bound = {f"v{i}_{j}": value for i, (_, values) in enumerate(paths) for j, value in enumerate(values)}
        kept = all(len(values) <= _KEPT_VALUES for _, values in paths)
        rows = self.connection.execute(_kept(shape, build) if kept else build(), bound).all()
        if revision and rows:
            self._note_revision(rows[0])
        return [self._row(r) for r in rows]

    def party_context(self, party_id: str | None, payers: Sequence[str], products: int = 1000
                      ) -> PartyContextRows:
        """What a check, a qualification or an order reads of its parties, in ONE statement
        (it was four or five, each a round trip and SQLAlchemy's work around it): the party
        (an individual or else an organization with this id), whether a customer record
        engages it, its products (``relatedParty.id``, at most ``products``, in id order) and
        the first billing account (by id) that names each of ``payers`` as a related party —
        each part as :meth:`get` / :meth:`find` would read it, in this repository's scope —
        plus the catalog revision when this transaction has not read it yet. No statement at
        all when there is nothing to read (no party, no payer)."""
        party = party_id if isinstance(party_id, str) and len(party_id) <= MAX_ID else None
        wanted = sorted({p for p in payers if isinstance(p, str) and len(p) <= MAX_ID})
        if party is None and not wanted:
            return PartyContextRows(None, None, False, [], {})
        wanted, more = wanted[:_PAYERS_AT_ONCE], wanted[_PAYERS_AT_ONCE:]
        revision = self._bring_revision()
        shape = ("context", self.scope, party is not None, len(wanted), products, revision)
        bound: dict[str, Any] = {f"payer{i}": payer for i, payer in enumerate(wanted)}
        if party is not None:
            bound["party"] = party

        def build() -> Any:
            return self._context_query(party is not None, len(wanted), products, revision)

        # a statement per count of payers (a handful): its SQL compiled once, no list expanded per call
        kept = len(wanted) <= _KEPT_VALUES
        statement = _kept(shape, build) if kept else build()
        straight = _driver_rows(self.connection, shape, statement, bound) if kept else None
        rows = straight if straight is not None else self.connection.execute(statement, bound).all()
        found = PartyContextRows(None, None, False, [], {})
        for row in rows:  # (part, payer, kind, id, document[, catalog_revision])
            part = row[0]
            if part == "party":
                if found.party_kind is None or row[2] == "individual":  # as get(individual) or get(organization)
                    found.party_kind, found.party_document = row[2], jsontext.loads(row[4])
            elif part == "product":
                found.products.append((row[3], jsontext.loads(row[4])))
            elif part == "customer":
                found.is_customer = True
            elif part == "account":
                found.accounts[row[1]] = row[3]
            elif part == "revision":
                if self.seen is not None and self.seen.value is None:
                    self.seen.value = int(row[5])
        while more:  # thousands of payers (a body may name them): a statement per batch after the first
            batch, more = more[:_PAYERS_AT_ONCE], more[_PAYERS_AT_ONCE:]
            statement = self._context_query(False, len(batch), products, False)
            for row in self.connection.execute(statement, {f"payer{i}": p for i, p in enumerate(batch)}):
                found.accounts[row.payer] = row.id
        return found

    def _context_query(self, party: bool, payers: int, products: int, revision: bool) -> Any:
        """The one statement of :meth:`party_context`: a UNION ALL of its parts, each a row
        shape of (part, payer, kind, id, document[, catalog_revision]), ordered by part then id."""
        text = Text()

        def row(part: str, payer: Any, kind: Any, id_: Any, document: Any) -> list[Any]:
            columns = [literal_column(f"'{part}'", text).label("part"), payer.label("payer"), kind.label("kind"),
                       id_.label("id"), document.label("document")]
            if revision:
                columns.append(cast(null(), Integer).label("catalog_revision"))
            return columns

        def attribute_ids(kind: str, path: str, value: Any) -> Any:
            return resource.c.id.in_(select(resource_attribute.c.resource_id).where(
                resource_attribute.c.kind == kind, resource_attribute.c.path == path, resource_attribute.c.value == value))

        def part(inner: Any) -> Any:  # a member of a UNION may have no ORDER BY / LIMIT of its own (SQLite)
            sub = inner.subquery()
            return select(*sub.c)

        none = cast(null(), Text)
        parts = []
        if party:
            for kind in visibility.PARTY_KINDS:
                parts.append(part(select(*row("party", none, resource.c.kind, resource.c.id, resource.c.document))
                                  .where(*self._scoped_row([resource.c.kind == kind,
                                                            resource.c.id == bindparam("party")], kind))))
            parts.append(part(select(*row("customer", none, resource.c.kind, resource.c.id, none)).where(
                *self._scoped([resource.c.kind == "customer",
                               attribute_ids("customer", "engagedParty.id", bindparam("party"))], ("customer",)))
                .order_by(resource.c.id).limit(1)))
            parts.append(part(select(*row("product", none, resource.c.kind, resource.c.id, resource.c.document)).where(
                *self._scoped([resource.c.kind == "product",
                               attribute_ids("product", "relatedParty.id", bindparam("party"))], ("product",)))
                .order_by(resource.c.id).limit(products)))
        if payers:
            # the first account of each payer: MIN(id) orders as ORDER BY id does (the column's collation)
            named = resource_attribute.alias("account_of_payer")
            parts.append(part(select(*row("account", named.c.value, literal_column("'billingAccount'", text),
                                          func.min(resource.c.id), none))
                              .select_from(resource.join(named, and_(named.c.kind == resource.c.kind,
                                                                     named.c.resource_id == resource.c.id)))
                              .where(*self._scoped([resource.c.kind == "billingAccount",
                                                    named.c.path == "relatedParty.id",
                                                    named.c.value.in_([bindparam(f"payer{i}")
                                                                       for i in range(payers)])],
                                                   ("billingAccount",)))
                              .group_by(named.c.value)))
        if revision:
            columns = row("revision", none, none, none, none)[:-1] + [REVISION_COLUMN]
            parts.append(select(*columns))
        union = union_all(*parts).subquery("context")
        return select(*union.c).order_by(union.c.part, union.c.id)

    def page(self, kind: str, filters: Mapping[str, Sequence[str]], offset: int, limit: int,
             party_id: str | None = None) -> tuple[list[StoredResource], int]:
        conditions = self._scoped([resource.c.kind == kind], (kind,))
        if party_id is not None:
            conditions.append(resource.c.party_id == party_id)
        for path, values in filters.items():
            if path == "id":  # (kept in its column, not among the document's attributes)
                conditions.append(resource.c.id.in_(list(values)))
                continue
            matching = select(resource_attribute.c.resource_id).where(
                resource_attribute.c.kind == kind, resource_attribute.c.path == path,
                or_(*[resource_attribute.c.value == v for v in values]))
            conditions.append(resource.c.id.in_(matching))
        where = and_(*conditions)
        total = self.connection.execute(select(func.count()).select_from(resource).where(where)).scalar_one()
        rows = self.connection.execute(select(resource).where(where).order_by(resource.c.id)
                                       .offset(offset).limit(limit))
        return [self._row(r) for r in rows], total

    def viewers(self, kind: str, id: str) -> list[str]:
        """The partners that see this resource (whatever this repository's scope): those its
        events go to."""
        return list(self.connection.execute(visibility.viewers(kind, id)).scalars())

    def _values(self, stored: StoredResource) -> dict[str, Any]:
        return {"version": stored.version, "created": _utc(stored.created), "last_update": _utc(stored.last_update),
                "state": stored.state, "party_id": stored.party_id, "partner_id": stored.partner_id,
                "external_id": stored.external_id, "document": jsontext.dumps(stored.document, sort_keys=True)}

    def taken(self, kind: str, id: str) -> bool:
        """Whether any partner holds a resource of ``kind`` with this id (ids are one space)."""
        query = select(func.count()).select_from(resource).where(resource.c.kind == kind, resource.c.id == id)
        return isinstance(id, str) and len(id) <= MAX_ID and self.connection.execute(query).scalar_one() > 0

    def insert(self, stored: StoredResource) -> None:
        """Insert a new resource. Its id (or externalId) taken: :class:`Conflict` when this
        transaction could have seen the row (a partner's insert checks first), else
        :class:`KeyTaken` — another transaction inserted it meanwhile, or is inserting it now
        (on PostgreSQL this waits for that one to end). The transaction stays usable either way:
        the statement skips a conflicting row instead of failing."""
        _check_lengths(stored)
        if self.scope is not None and self.taken(stored.kind, stored.id):
            # said without telling whose it is: choose another id, or let the server make one
            raise Conflict(f"the id '{stored.id}' is not available; choose another or leave it out")
        if stored.kind in visibility.PARTY_KINDS and any(
                self.taken(other, stored.id) for other in visibility.PARTY_KINDS if other != stored.kind):
            # individuals and organizations are one space of ids: a product or an account names
            # its party by id alone, and whose party it is decides who sees it
            raise Conflict(f"the id '{stored.id}' is not available; choose another or leave it out"
                           if self.scope is not None else f"a party with id '{stored.id}' already exists")
        if stored.partner_id is None and self.scope is not None:
            stored = replace(stored, partner_id=self.scope)
        statement = _insert_ignoring_conflicts(self.connection).values(kind=stored.kind, id=stored.id,
                                                                      **self._values(stored))
        if self.connection.execute(statement.returning(resource.c.id)).first() is None:  # nothing inserted
            taken = (f"the id '{stored.id}' is not available; choose another or leave it out"
                     if self.scope is not None else f"a {stored.kind} with id '{stored.id}' already exists")
            if stored.external_id is not None and not self.taken(stored.kind, stored.id):
                taken = f"externalId '{stored.external_id}' is already in use"
            raise KeyTaken(taken)
        self._index(stored)

    def replace(self, stored: StoredResource) -> None:
        """Write ``stored``, the next version of the resource read (``stored.version`` - 1):
        only over that version. Another transaction that changed or deleted it since it was
        read — possible where the read took no lock (SQLite reads outside a write
        transaction) — makes this a 409 and writes nothing, never a lost update."""
        _check_lengths(stored)
        written = self.connection.execute(
            update(resource).where(resource.c.kind == stored.kind, resource.c.id == stored.id,
                                   resource.c.version == stored.version - 1).values(**self._values(stored)))
        if written.rowcount != 1:
            raise Conflict(f"{stored.kind} '{stored.id}' was changed or deleted by another request while this one "
                           "was made: read it again and send the change again")
        self.connection.execute(delete(resource_attribute).where(resource_attribute.c.kind == stored.kind,
                                                                 resource_attribute.c.resource_id == stored.id))
        self._index(stored)

    def delete(self, kind: str, id: str) -> None:
        """Delete the resource; gone already (another request deleted it since it was read): 404."""
        self.connection.execute(delete(resource_attribute).where(resource_attribute.c.kind == kind,
                                                                 resource_attribute.c.resource_id == id))
        deleted = self.connection.execute(delete(resource).where(resource.c.kind == kind, resource.c.id == id))
        if deleted.rowcount != 1:
            raise NotFound(kind, id)

    def _index(self, stored: StoredResource) -> None:
        rows = [{"kind": stored.kind, "resource_id": stored.id, "path": p, "value": v}
                for p, v in sorted(set(document_attributes(stored.document)))]
        if rows:
            self.connection.execute(insert(resource_attribute), rows)
