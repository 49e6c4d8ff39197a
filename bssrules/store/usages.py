"""The hot tables as the TMF APIs read and write them outside rating: usages listed and read
(TMF635), buckets created, listed and deleted (TMF654), a product's buckets (TMF677) and its
running totals. Scoped to the caller's partner like every resource: another partner's row
is simply not there."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Sequence

from sqlalchemy import ColumnElement, Connection, Table, and_, delete, false, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from bssrules.errors import Forbidden, InvalidInput
from bssrules.services.records import KeyTaken, StoredAccumulator, StoredBucket, StoredUsage
from bssrules.store import visibility
from bssrules.store.hot_rows import accumulator_of, bucket_of, bucket_values, filters_condition, usage_of
from bssrules.store.tables import accumulator, bucket, usage_record


class UsageRepository:
    """Usages, buckets and accumulators on one connection (inside the caller's transaction)."""

    def __init__(self, connection: Connection, scope: str | None = None):
        self.connection = connection
        self.scope = scope
        self.dialect = connection.dialect.name

    def _scoped(self, table: Table, *conditions: ColumnElement[bool], few: bool = False) -> list[ColumnElement[bool]]:
        # what the partner sees: the one rule of store/visibility.py (its rows and its products'),
        # asked row by row when the query names one usage, one bucket or one product
        if self.scope is None:
            return list(conditions)
        seen = visibility.hot_row_seen if few else visibility.hot_rows_seen
        return [*conditions, seen(table, self.scope)]

    def _page(self, table: Table, where: list[ColumnElement[bool]], offset: int, limit: int) -> tuple[list[Any], int]:
        total = self.connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        rows = self.connection.execute(select(table).where(*where).order_by(table.c.id, table.c.subscription)
                                       .offset(offset).limit(limit)).fetchall()
        return list(rows), int(total)

    # ------------------------------------------------------------------------- usages

    def usage(self, id: str) -> StoredUsage | None:
        if not isinstance(id, str) or len(id) > 128:
            return None
        row = self.connection.execute(select(usage_record).where(*self._scoped(usage_record, usage_record.c.id == id, few=True))
                                      .order_by(usage_record.c.subscription).limit(1)).first()
        return usage_of(row) if row else None

    def usages(self, filters: Mapping[str, Sequence[str]], offset: int, limit: int) -> tuple[list[StoredUsage], int]:
        condition = filters_condition(self.dialect, usage_record.c.document, filters,
                                      {"id": usage_record.c.id, "status": usage_record.c.status})
        rows, total = self._page(usage_record, self._scoped(usage_record, condition), offset, limit)
        return [usage_of(r) for r in rows], total

    # ------------------------------------------------------------------------- buckets

    def bucket(self, id: str, *, for_update: bool = False) -> StoredBucket | None:
        if not isinstance(id, str) or len(id) > 128:
            return None
        query = select(bucket).where(*self._scoped(bucket, bucket.c.id == id, few=True)).order_by(bucket.c.subscription).limit(1)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is not None and for_update and self.scope is not None and row.partner_id != self.scope:
            raise Forbidden(f"bucket '{id}' is yours to read, not to change: another party owns it")
        return bucket_of(row) if row else None

    def bucket_taken(self, id: str) -> bool:
        """Whether any partner holds a bucket with this id."""
        return self.connection.execute(select(func.count()).select_from(bucket).where(bucket.c.id == id)
                                       ).scalar_one() > 0

    def buckets(self, filters: Mapping[str, Sequence[str]], offset: int, limit: int) -> tuple[list[StoredBucket], int]:
        # the id and the balance are columns, not in the stored document (the balance as a scaled
        # integer: a number given is compared as a number, 5 = 5.00)
        plain = {path: values for path, values in filters.items() if path != "remainingValue.amount"}
        condition = filters_condition(self.dialect, bucket.c.document, plain,
                                      {"product.id": bucket.c.subscription, "status": bucket.c.status, "id": bucket.c.id})
        if "remainingValue.amount" in filters:
            condition = and_(condition, _balance_is(filters["remainingValue.amount"]))
        rows, total = self._page(bucket, self._scoped(bucket, condition), offset, limit)
        return [bucket_of(r) for r in rows], total

    def add_bucket(self, stored: StoredBucket) -> None:
        if stored.partner_id is None and self.scope is not None:
            stored = replace(stored, partner_id=self.scope)
        try:  # (the use case looked first: a clash is a concurrent create, and the transaction is rolled back)
            self.connection.execute(insert(bucket).values(**bucket_values(stored)))
        except IntegrityError:
            raise KeyTaken(f"a Bucket with id '{stored.id}' already exists") from None

    def delete_bucket(self, subscription: str, id: str) -> None:
        self.connection.execute(delete(bucket).where(bucket.c.subscription == subscription, bucket.c.id == id))

    # ------------------------------------------------------------------------- accumulators

    def accumulators(self, subscription: str) -> list[StoredAccumulator]:
        """A subscription's running totals, every period (ordered as their ids)."""
        rows = self.connection.execute(select(accumulator).where(
            *self._scoped(accumulator, accumulator.c.subscription == subscription, few=True))
            .order_by(accumulator.c.accumulator, accumulator.c.period))
        return sorted((accumulator_of(r) for r in rows), key=lambda a: a.id)


_SCALES = range(0, 31)  # the scales a balance is kept at (money at its minor unit; units to their decimals)


def _balance_is(values: Sequence[str]) -> ColumnElement[bool]:
    """A bucket's balance equal to one of ``values`` (numbers as text), as a number: the row
    keeps it as ``remaining`` at ``scale`` decimals, so 5 matches 5 at scale 0 and 500 at 2."""
    alternatives: list[ColumnElement[bool]] = []
    for text in values:
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):
            number = Decimal("NaN")
        if not number.is_finite():
            raise InvalidInput(f"remainingValue.amount={text!r}: give a number (remainingValue.amount=5)",
                               path=("remainingValue.amount",))
        for scale in _SCALES:
            integer = number.scaleb(scale)
            if integer == integer.to_integral_value() and abs(integer) < 2**63:
                alternatives.append(and_(bucket.c.scale == scale, bucket.c.remaining == int(integer)))
    return or_(*alternatives) if alternatives else false()
