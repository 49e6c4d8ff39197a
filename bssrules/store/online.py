"""The two round trips of online rating, and the rating-context revisions.

Per usage (or per batch: every statement is set-based, over arrays):

1. **read**, the subscriptions locked: ``SELECT … FOR UPDATE`` on their ``subscription``
   rows (in id order, so two batches never wait on each other in a cycle), then the usage
   ids already stored, the active buckets, the accumulators asked for and the catalog
   revision — statements that start after the lock is granted, so they read what the
   transaction that held it wrote;
2. **save**: one statement of data-modifying CTEs — a guard (the context revisions, the
   balances and the totals still as read), the allowance buckets made by this usage (the
   month's first of its product: inserted where absent, else nothing is written), the
   balances, the accumulator upserts, the usages
   and their charges, each written only when the guard holds — and the COMMIT.

On PostgreSQL each step is one pipeline of psycopg (one network round trip; BEGIN rides on
the first, COMMIT on the second), and psycopg prepares the statements after a few runs
(their text never varies: the values travel as arrays). SQLite, the embedded default, runs
the same steps as plain statements: correct, not fast.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import Connection, and_, insert, or_, select, tuple_, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from bssrules import jsontext
from bssrules.pricing.allowances import PREFIX as ALLOWANCE_PREFIX
from bssrules.services.known_keys import epoch_micros
from bssrules.services.records import (
    ContextMoved, HotState, KeyTaken, StoredAccumulator, StoredBucket, StoredUsage, UsageWrite, scaled, unscaled,
)
from bssrules.store.charges import to_minor
from bssrules.store.hot_rows import (
    accumulator_of, accumulator_values, bucket_of, bucket_values, usage_of, utc,
)
from bssrules.store.tables import (
    accumulator, bucket, counter, rated_charge, resource, resource_attribute, subscription, usage_record,
)

# round trip 1 and 2 on PostgreSQL: two functions (migration 0008) taking arrays, or one JSON text
_READ = ("SELECT bssrules_online_read(%(subs)s::text[], %(ids)s::text[], %(a_sub)s::text[], %(a_acc)s::text[], "
         "%(a_period)s::text[], %(partner)s::text, %(since)s::timestamptz[], %(skip)s::boolean)")  # (0010, 0011, 0014)
_SAVE = "SELECT bssrules_online_save(%(p)s::text, %(d)s::text)"  # (0016: the documents apart, in d)
_SEPARATOR = "\x1e"  # between the documents of d: chr(30), which a JSON text never holds unescaped
_MOVED = "BSMOV"  # the SQLSTATE bssrules_online_save raises: a revision, balance or total not as read
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _literal(value: str | None) -> str:
    """A text as an SQL string literal (standard conforming: a quote doubled, a backslash as it is)."""
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _array(values: Sequence[str | None]) -> str:
    """Texts as the literal of a PostgreSQL array: each element double-quoted, its backslashes
    and double quotes escaped (the array's own syntax), NULL for None; the whole an SQL literal."""
    return _literal("{" + ",".join("NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                                   for v in values) + "}")


def _inlined(raw: Any, template: str, params: Mapping[str, Any]) -> str:
    """``template`` with its ``%(name)s`` placeholders replaced by the literals of ``params``
    (texts, lists of texts, None, booleans; instants as their ISO text): what psycopg's mogrify makes of
    them, without setting up its adapters for every call (a tenth of a millisecond, the most
    of a single usage's CPU in the database driver). Only on a connection whose strings are
    standard conforming (PostgreSQL's default): elsewhere, mogrify."""
    if raw.info.parameter_status("standard_conforming_strings") != "on":
        import psycopg

        return psycopg.ClientCursor(raw).mogrify(template, params)

    def text(value: Any) -> str | None:
        if isinstance(value, bool):
            return "true" if value else "false"  # (a literal the ::boolean cast reads)
        return value.isoformat() if isinstance(value, dt.datetime) else value

    return template % {name: _array([text(v) for v in value]) if isinstance(value, list) else _literal(text(value))
                       for name, value in params.items()}


def _instant(micros: int) -> dt.datetime:
    """An instant the read function gives as microseconds since the epoch (exact, UTC)."""
    return _EPOCH + dt.timedelta(microseconds=micros)


def _maybe_instant(micros: int | None) -> dt.datetime | None:
    return None if micros is None else _instant(micros)


def _save_rows(writes: Sequence[UsageWrite], now: dt.datetime) -> dict[str, Any]:
    """The write as rows, in the shape ``bssrules_online_save`` takes (its JSON text:
    :func:`_save_document`; SQLite runs the same rows as statements): ``r`` the context
    revisions, ``n`` the allowance buckets made (inserted where absent), ``b`` each balance
    moved (from the first value read to the last one written), ``a`` each total likewise
    (its value read: None when there was none), ``u`` the usages, ``c`` their charges; the
    per-subscription rows in key order. ``n_rows``: the new buckets' column values."""
    revisions: dict[str, int] = {}
    new_buckets: dict[tuple[str, str], dict[str, Any]] = {}  # allowance buckets to insert where absent
    balances: dict[tuple[str, str], tuple[Any, Any]] = {}  # (sub, bucket) -> (first before, last after)
    totals: dict[tuple[str, str, str], tuple[StoredAccumulator | None, StoredAccumulator]] = {}
    usages: list[list[Any]] = []
    charges: list[list[Any]] = []
    for write in writes:
        usage = write.usage
        if write.revision is not None:
            revisions[usage.subscription] = write.revision
        for made in write.new_buckets:
            new_buckets.setdefault((made.subscription, made.id), bucket_values(made))
        for change in write.balances:
            key = (change.subscription, change.bucket)
            balances[key] = (balances[key][0] if key in balances else change.before, change.after)
        for before, after in write.accumulators:
            key3 = (after.subscription, after.accumulator, after.period)
            totals[key3] = (totals[key3][0] if key3 in totals else before, after)
        # the text the use case made once, when it did (it answers with the same text)
        text = getattr(usage.document, "json", None) or jsontext.dumps(usage.document, sort_keys=True)
        usages.append([usage.subscription, usage.id, usage.status, usage.partner_id, text])
        for charge in write.charges:
            volume, volume_scale = scaled(charge.volume) if charge.volume is not None else (None, None)
            charges.append([charge.subscriber, charge.usage_id, charge.part, charge.billing_account,
                            charge.payer_role, charge.service, charge.offering, utc(charge.start),
                            to_minor(charge.amount, charge.currency), charge.currency, volume, volume_scale,
                            charge.unit if charge.unit is None or len(charge.unit) <= 40 else None])
    moved = [[sub, bucket_id, *scaled(before), *scaled(after)]
             for (sub, bucket_id), (before, after) in sorted(balances.items())]
    counted = []
    for (sub, acc, period), (before, after) in sorted(totals.items()):
        new = accumulator_values(after, now)
        old = accumulator_values(before, now) if before is not None else {}
        counted.append([sub, acc, period, new["volume"], new["volume_scale"], new["amount"], new["amount_scale"],
                        new["reached"], new["partner_id"], old.get("volume"), old.get("volume_scale"),
                        old.get("amount"), old.get("amount_scale")])
    n_rows = [new_buckets[key] for key in sorted(new_buckets)]
    return {"now": utc(now), "r": [[sub, rev] for sub, rev in sorted(revisions.items())],
            "n": [[row["subscription"], row["id"], row["unit"], row["remaining"], row["scale"], row["floor"],
                   row["floor_scale"], row["precedence"], row["usage_type"], row["valid_from"], row["valid_to"],
                   row["status"], row["partner_id"], row["document"]] for row in n_rows],
            "b": moved, "a": counted, "u": usages, "c": charges, "n_rows": n_rows}


def _not_json(value: Any) -> Any:
    if isinstance(value, dt.datetime):  # (the instants of the rows: ISO text, as the function reads them)
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


# the standard library's C encoder, made once (the rows hold texts, integers, None and instants)
_ROWS = json.JSONEncoder(ensure_ascii=False, check_circular=False, default=_not_json)


def _save_document(rows: dict[str, Any]) -> tuple[str, str | None]:
    """The write as the two texts ``bssrules_online_save`` takes: the rows as a JSON text of
    arrays, and the usages' documents apart, joined by chr(30) (migration 0016: parsing them
    inside the write, every quote escaped, was the save's largest cost); the other texts
    stored as they are (a new bucket's document, the thresholds reached) as JSON strings,
    which the function reads back character for character (it parses the write once, as
    ``jsonb``, which would rewrite an embedded object: migration 0013). A document holding
    chr(30) (none of those the service writes does) sends every document inside the write,
    the second text None."""
    usages = rows["u"]
    documents = [row[4] for row in usages]
    if any(_SEPARATOR in document for document in documents):
        return _ROWS.encode({key: rows[key] for key in ("now", "r", "b", "a", "n", "u", "c")}), None
    write = {key: rows[key] for key in ("now", "r", "b", "a", "n", "c")}
    write["u"] = [row[:4] for row in usages]
    return _ROWS.encode(write), _SEPARATOR.join(documents)


def serving(rows: Iterable[Any], since: Mapping[str, dt.datetime | None]) -> list[Any]:
    """The bucket rows that can serve a usage of their subscription from ``since`` on (valid
    to no date, or not before it), and of each allowance's that ended before, the newest (a
    month's bucket made now carries over from it) — what ``bssrules_online_read`` gives
    (migration 0011), here for SQLite."""
    kept: list[Any] = []
    newest: dict[tuple[str, str], Any] = {}  # (subscription, allowance series) -> its newest bucket ended before
    for row in rows:
        start, valid_to = since.get(row.subscription), utc(row.valid_to)
        if start is None or valid_to is None or valid_to >= start:
            kept.append(row)
        elif row.id.startswith(ALLOWANCE_PREFIX):
            series = (row.subscription, row.id[:-len(":YYYY-MM")])
            if series not in newest or row.id > newest[series].id:
                newest[series] = row
    return kept + list(newest.values())


class OnlineRepository:
    """The hot path's reads and writes on one connection (inside the caller's transaction)."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"

    # ---------------------------------------------------------------- round trip 1: read

    def read(self, usage_ids: Sequence[str], subscriptions: Sequence[str],
             accumulators: Sequence[tuple[str, str, str]], partner: str | None = None,
             since: Mapping[str, dt.datetime] | None = None, skip_locked: bool = False) -> HotState:
        """Lock the subscriptions' rows (id order) and read what rating needs of them (and
        the version and creation time of ``partner``'s resource: a primary-key read). With
        ``since`` (a subscription's earliest usage start), only its buckets that can serve
        from then on, and each allowance's newest before (what a new month's carries over).
        ``skip_locked``: the subscriptions another transaction holds are not waited for but
        passed over (``HotState.passed``; nothing read for them) — on PostgreSQL; SQLite's
        write lock is the whole database's, and nothing is passed over there. A bucket's
        document is what rating reads of it: on PostgreSQL, that of a bucket whose
        ``usage_type`` is None and whose document names ``usageTypes`` (what an allowance
        serving several lists), an empty one for the others (migration 0016: the documents
        were most of the answer)."""
        subs = sorted(set(subscriptions))
        keys = sorted(set(accumulators))
        starts = [utc(since.get(s)) if since else None for s in subs]
        if self.postgres:
            return self._read_postgres(list(usage_ids), subs, keys, partner, starts, skip_locked)
        return self._read_sqlite(list(usage_ids), subs, keys, partner, starts)

    def _read_postgres(self, usage_ids: list[str], subs: list[str], keys: list[tuple[str, str, str]],
                       partner: str | None, starts: list[dt.datetime | None], skip_locked: bool) -> HotState:
        import psycopg

        raw = self.connection.connection.driver_connection
        assert raw is not None
        params = {"subs": subs, "ids": usage_ids, "a_sub": [k[0] for k in keys], "a_acc": [k[1] for k in keys],
                  "a_period": [k[2] for k in keys], "partner": partner, "since": starts,
                  "skip": skip_locked}
        cursor = raw.cursor()
        if raw.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            # BEGIN and the call sent as one simple query (the values inlined by psycopg): one
            # round trip, without the pipeline's machinery; psycopg is told not to send a BEGIN of
            # its own until the COMMIT of round trip 2 (or the pool's check-in) ends the transaction
            query = _inlined(raw, _READ, params)
            raw.autocommit = True
            cursor.execute(("BEGIN; " + query).encode(raw.info.encoding), prepare=False)
            cursor.nextset()
        else:  # a transaction is open already: the call alone
            cursor.execute(_READ, params, binary=True)
        found = cursor.fetchone()
        assert found is not None
        # the standard library's parser, numbers with a fraction read as Decimals (as jsontext.loads
        # reads them): twice as fast on this text, most of which is the documents of the buckets
        locked, usages, buckets, totals, catalog, seen, passed = json.loads(found[0], parse_float=Decimal)
        return HotState(
            {u[1]: StoredUsage(u[1], u[0], u[2], _instant(u[3]), u[4], u[5]) for u in usages},
            {r[0]: int(r[1]) for r in locked}, int(catalog),
            tuple(StoredBucket(b[1], b[0], b[2], unscaled(b[3], b[4]), None if b[5] is None else unscaled(b[5], b[6]),
                               b[7], b[8], _maybe_instant(b[9]), _maybe_instant(b[10]), b[11], b[12], _instant(b[13]),
                               _instant(b[14]), b[15], b[16]) for b in buckets),
            tuple(StoredAccumulator(a[0], a[1], a[2], unscaled(a[3], a[4]), unscaled(a[5], a[6]), tuple(a[7]), a[8])
                  for a in totals),
            None if seen is None else (int(seen[0]), int(seen[1])), frozenset(passed))

    def _read_sqlite(self, usage_ids: list[str], subs: list[str], keys: list[tuple[str, str, str]],
                     partner: str | None, starts: list[dt.datetime | None]) -> HotState:
        execute = self.connection.execute
        if subs:  # a write first: SQLite's write lock is taken now, not at the first write after reading
            execute(update(subscription).where(subscription.c.id.in_(subs)).values(revision=subscription.c.revision))
        revisions = {r.id: int(r.revision) for r in execute(select(subscription).where(subscription.c.id.in_(subs)))}
        usages = {u.id: usage_of(u) for u in execute(select(usage_record).where(usage_record.c.id.in_(usage_ids)))}
        buckets = tuple(bucket_of(b) for b in serving(execute(select(bucket).where(
            bucket.c.subscription.in_(subs), bucket.c.status == "active")), dict(zip(subs, starts))))
        totals = tuple(accumulator_of(a) for a in execute(select(accumulator).where(
            tuple_(accumulator.c.subscription, accumulator.c.accumulator, accumulator.c.period).in_(keys)))) \
            if keys else ()
        catalog = execute(select(counter.c.value).where(counter.c.name == "catalog_revision")).scalar_one_or_none()
        seen = execute(select(resource.c.version, resource.c.created).where(
            resource.c.kind == "partner", resource.c.id == partner)).first() if partner is not None else None
        return HotState(usages, revisions, int(catalog or 0), buckets, totals,
                        None if seen is None else (int(seen.version), epoch_micros(seen.created)))

    # ---------------------------------------------------------------- round trip 2: save

    def save(self, writes: Sequence[UsageWrite], now: dt.datetime, *, commit: bool) -> None:
        """Write the usages, their charges, balances and totals, all or nothing, and commit
        (``commit``) in the same round trip. A usage id taken: :class:`KeyTaken`; a revision,
        balance or total no longer as read: :class:`ContextMoved` (nothing written)."""
        if not writes:
            if commit:
                self.connection.commit()
            return
        if self.postgres:
            self._save_postgres(writes, now, commit)
        else:
            self._save_sqlite(writes, now)
            if commit:
                self.connection.commit()

    def _save_postgres(self, writes: Sequence[UsageWrite], now: dt.datetime, commit: bool) -> None:
        import psycopg

        raw = self.connection.connection.driver_connection
        assert raw is not None
        # the call and the COMMIT as one simple query: one round trip
        write, documents = _save_document(_save_rows(writes, now))
        query = _inlined(raw, _SAVE, {"p": write, "d": documents})
        try:
            raw.cursor().execute((query + ("; COMMIT" if commit else "")).encode(raw.info.encoding), prepare=False)
        except psycopg.errors.UniqueViolation:
            raise KeyTaken("a usage with this id was stored meanwhile") from None
        except psycopg.Error as exc:
            if exc.sqlstate == _MOVED:
                raise ContextMoved("the subscription's context, a balance or a total moved since it was read") from None
            raise
        if commit:
            if raw.autocommit:  # psycopg sends its BEGIN again (the transaction is over)
                raw.autocommit = False
            # the transaction SQLAlchemy began is over: let it know, at no cost (psycopg is idle)
            self.connection.commit()

    def _save_sqlite(self, writes: Sequence[UsageWrite], now: dt.datetime) -> None:
        execute = self.connection.execute
        rows = _save_rows(writes, now)
        if rows["r"]:
            found = {r.id: int(r.revision) for r in execute(select(subscription).where(
                subscription.c.id.in_([sub for sub, _ in rows["r"]])))}
            if any(found.get(sub) != rev for sub, rev in rows["r"]):
                raise ContextMoved("the subscription's context moved since it was read")
        for made in rows["n_rows"]:  # the subscriptions are locked: absent when read is absent now
            try:
                execute(insert(bucket).values(**made))
            except IntegrityError:
                raise ContextMoved(f"bucket {made['id']} was made since it was read") from None
        for sub, bucket_id, old, old_scale, new, new_scale in rows["b"]:
            moved = execute(update(bucket).where(bucket.c.subscription == sub, bucket.c.id == bucket_id,
                                                 bucket.c.remaining == old, bucket.c.scale == old_scale)
                            .values(remaining=new, scale=new_scale, version=bucket.c.version + 1,
                                    last_update=utc(now)))
            if moved.rowcount != 1:
                raise ContextMoved(f"bucket {bucket_id} moved since it was read")
        for (sub, acc, period, volume, volume_scale, amount, amount_scale, reached, partner,
             old_volume, old_volume_scale, old_amount, old_amount_scale) in rows["a"]:
            key = and_(accumulator.c.subscription == sub, accumulator.c.accumulator == acc,
                       accumulator.c.period == period)
            found_row = execute(select(accumulator).where(key)).first()
            if (found_row is None) != (old_volume is None) or (found_row is not None and (
                    (found_row.volume, found_row.volume_scale, found_row.amount, found_row.amount_scale)
                    != (old_volume, old_volume_scale, old_amount, old_amount_scale))):
                raise ContextMoved(f"accumulator {acc} moved since it was read")
            values = {"volume": volume, "volume_scale": volume_scale, "amount": amount,
                      "amount_scale": amount_scale, "reached": reached, "last_update": utc(now)}
            if found_row is None:
                execute(insert(accumulator).values(subscription=sub, accumulator=acc, period=period,
                                                   created=utc(now), partner_id=partner, **values))
            else:
                execute(update(accumulator).where(key).values(**values))
        usages = [{"subscription": s, "id": i, "status": st, "created": utc(now), "partner_id": pa, "document": d}
                  for s, i, st, pa, d in rows["u"]]
        try:  # (read found none of them, under the write lock when any subscription is locked)
            execute(insert(usage_record), usages)
        except IntegrityError:
            raise KeyTaken("a usage with this id was stored meanwhile") from None
        names = ("subscriber", "usage_id", "part", "billing_account", "payer_role", "service", "offering", "start",
                 "amount_minor", "currency", "volume", "volume_scale", "unit")
        charges = [dict(zip(names, values)) for values in rows["c"]]
        if charges:
            execute(insert(rated_charge), charges)

    # ---------------------------------------------------------------- context revisions

    def bump(self, *, products: Sequence[str] = (), parties: Sequence[str] = (),
             accounts: Sequence[str] = ()) -> None:
        """Move on the rating-context revision of ``products`` (a row made for a new one), of
        every product related to one of ``parties`` and of every product an account of
        ``accounts`` pays for — in the caller's transaction, with the change that moves it."""
        execute = self.connection.execute
        own = sorted({p for p in products if isinstance(p, str) and 0 < len(p) <= 128})
        if own:
            upsert = (sqlite.insert(subscription) if not self.postgres else _pg_insert(subscription))
            execute(upsert.values([{"id": p, "revision": 1} for p in own]).on_conflict_do_update(
                index_elements=["id"], set_={"revision": subscription.c.revision + 1}))
        related = [(path, sorted({v for v in values if isinstance(v, str)}))
                   for path, values in (("relatedParty.id", parties), ("billingAccount.id", accounts))]
        conditions = [and_(resource_attribute.c.path == path, resource_attribute.c.value.in_(values))
                      for path, values in related if values]
        if conditions:
            products_of = select(resource_attribute.c.resource_id).where(resource_attribute.c.kind == "product",
                                                                         or_(*conditions))
            execute(update(subscription).where(subscription.c.id.in_(products_of), subscription.c.id.not_in(own))
                    .values(revision=subscription.c.revision + 1))

    def revision(self, product: str) -> int | None:
        found = self.connection.execute(select(subscription.c.revision).where(subscription.c.id == product)
                                        ).scalar_one_or_none()
        return None if found is None else int(found)


def _pg_insert(table: Any) -> Any:
    from sqlalchemy.dialects import postgresql

    return postgresql.insert(table)


__all__ = ["OnlineRepository"]
