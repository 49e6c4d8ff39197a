"""Rated charges: written by rating, summed for "what will my next invoice hold", and
claimed by bill runs."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Sequence

from sqlalchemy import ColumnElement, Connection, and_, bindparam, func, insert, select, update

from bssrules.money import minor_unit_exponent
from bssrules.store.tables import counter, rated_charge
from bssrules.services.records import ChargeRow, scaled, unscaled


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount already rounded to the currency's minor unit, as an integer of minor units."""
    scaled = amount.scaleb(minor_unit_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} is not rounded to the minor unit")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_unit_exponent(currency))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class ChargeRepository:
    """Reads and writes rated charges on one connection (inside the caller's transaction)."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, rows: Iterable[ChargeRow]) -> None:
        values = [{"usage_id": r.usage_id, "part": r.part, "subscriber": r.subscriber,
                   "billing_account": r.billing_account, "payer_role": r.payer_role, "service": r.service,
                   # in UTC: SQLite keeps the wall-clock time and drops the offset
                   "offering": r.offering, "start": _utc(r.start), "amount_minor": to_minor(r.amount, r.currency),
                   "currency": r.currency, "bill_id": r.bill_id,
                   **dict(zip(("volume", "volume_scale"), scaled(r.volume) if r.volume is not None else (None, None))),
                   "unit": r.unit} for r in rows]
        if values:
            self.connection.execute(insert(rated_charge), values)

    def _where(self, billing_accounts: Sequence[str] | None, subscribers: Sequence[str] | None,
               start: dt.datetime | None, end: dt.datetime | None) -> Any:
        conditions: list[ColumnElement[bool]] = []
        if billing_accounts is not None:
            conditions.append(rated_charge.c.billing_account.in_(list(billing_accounts)))
        if subscribers is not None:
            conditions.append(rated_charge.c.subscriber.in_(list(subscribers)))
        if start is not None:
            conditions.append(rated_charge.c.start >= _utc(start))
        if end is not None:
            conditions.append(rated_charge.c.start < _utc(end))
        return and_(*conditions) if conditions else True

    def totals(self, *, billing_accounts: Sequence[str] | None = None, subscribers: Sequence[str] | None = None,
               start: dt.datetime | None = None, end: dt.datetime | None = None,
               by: Sequence[str] = ("currency",)) -> list[dict[str, Any]]:
        """Sums (and counts) of charges, grouped by ``by`` columns (currency always)."""
        columns = [getattr(rated_charge.c, name) for name in dict.fromkeys(("currency", *by))]
        query = (select(*columns, func.sum(rated_charge.c.amount_minor), func.count())
                 .where(self._where(billing_accounts, subscribers, start, end)).group_by(*columns)
                 .order_by(*columns))
        out = []
        for row in self.connection.execute(query):
            named = dict(zip([c.name for c in columns], row[:len(columns)]))
            named["amount"] = from_minor(int(row[-2]), named["currency"])
            named["count"] = int(row[-1])
            out.append(named)
        return out

    def volumes(self, *, billing_accounts: Sequence[str] | None = None, subscribers: Sequence[str] | None = None,
                start: dt.datetime | None = None, end: dt.datetime | None = None,
                by: Sequence[str] = ("currency",)) -> list[dict[str, Any]]:
        """The volume the charged usages rated, per unit, grouped like :meth:`totals` (each usage
        counted once in a group, however many payers share its charge)."""
        columns = [getattr(rated_charge.c, name) for name in dict.fromkeys(("currency", *by))]
        per_usage = (select(*columns, rated_charge.c.usage_id, rated_charge.c.unit, rated_charge.c.volume,
                            rated_charge.c.volume_scale).distinct()
                     .where(self._where(billing_accounts, subscribers, start, end), rated_charge.c.volume.is_not(None),
                            rated_charge.c.unit.is_not(None)).subquery())
        outer = [per_usage.c[c.name] for c in columns]
        query = (select(*outer, per_usage.c.unit, per_usage.c.volume_scale, func.sum(per_usage.c.volume))
                 .group_by(*outer, per_usage.c.unit, per_usage.c.volume_scale))
        sums: dict[tuple[Any, ...], Decimal] = {}
        for row in self.connection.execute(query):
            key = tuple(row[:len(columns) + 1])
            sums[key] = sums.get(key, Decimal(0)) + unscaled(int(row[-1]), int(row[-2]))
        names = [c.name for c in columns]
        return [{**dict(zip(names, key[:-1])), "unit": key[-1], "volume": volume}
                for key, volume in sorted(sums.items(), key=lambda item: tuple(str(k) for k in item[0]))]

    def unbilled(self, billing_account: str, start: dt.datetime, end: dt.datetime) -> list[ChargeRow]:
        query = (select(rated_charge).where(self._where([billing_account], None, start, end),
                                            rated_charge.c.bill_id.is_(None))
                 .order_by(rated_charge.c.start, rated_charge.c.usage_id, rated_charge.c.part))
        return [ChargeRow(r.usage_id, r.part, r.subscriber, r.billing_account, r.payer_role, r.service, r.offering,
                          _utc(r.start), from_minor(r.amount_minor, r.currency), r.currency, r.bill_id)
                for r in self.connection.execute(query)]

    def accounts_with_unbilled(self, start: dt.datetime, end: dt.datetime) -> list[str]:
        query = (select(rated_charge.c.billing_account).distinct()
                 .where(self._where(None, None, start, end), rated_charge.c.bill_id.is_(None)))
        return sorted(self.connection.execute(query).scalars())

    def lock_bill_runs(self) -> None:
        """Wait for any other bill run to finish (a row lock held until this transaction ends)."""
        bump = update(counter).where(counter.c.name == "bill-run").values(value=counter.c.value + 1)
        if self.connection.execute(bump).rowcount == 0:  # the row went missing (e.g. a wiped table)
            dialect = self.connection.dialect.name
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as upsert
            else:
                from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
            self.connection.execute(upsert(counter).values(name="bill-run", value=0).on_conflict_do_nothing())
            self.connection.execute(bump)

    def billed_accounts(self, usage_ids: Sequence[str]) -> dict[str, set[str]]:
        """usage id -> the billing accounts whose bill took a part of its charge."""
        found: dict[str, set[str]] = {}
        if usage_ids:
            query = select(rated_charge.c.usage_id, rated_charge.c.billing_account).where(
                rated_charge.c.usage_id.in_(list(usage_ids)), rated_charge.c.bill_id.is_not(None))
            for usage_id, account in self.connection.execute(query):
                found.setdefault(usage_id, set()).add(account)
        return found

    def mark_billed(self, rows: Iterable[ChargeRow], bill_id: str) -> None:
        """Claim charges for a bill (one statement, executed for every row)."""
        values = [{"s": row.subscriber, "u": row.usage_id, "p": row.part, "b": bill_id} for row in rows]
        if values:
            self.connection.execute(update(rated_charge).where(rated_charge.c.subscriber == bindparam("s"),
                                                               rated_charge.c.usage_id == bindparam("u"),
                                                               rated_charge.c.part == bindparam("p"))
                                    .values(bill_id=bindparam("b")), values)
