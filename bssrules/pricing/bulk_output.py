"""Stage 6 of a chunk: from the scan's arrays to the rated frame and the new state.

The billed part of each charge shared between payers (largest remainder, ties to the
earliest part, as :func:`bssrules.money.allocate`), the reasons of every rejected record in
the reference's words, the columns of :data:`~bssrules.pricing.bulk_frames.RATED_SCHEMA`, and
the balances and totals after the scan as a :class:`~bssrules.pricing.bulk_frames.BulkState`.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray

from bssrules.pricing.bulk_chunk import _ChunkBase
from bssrules.pricing.bulk_ids import DUPLICATE_ID, DUPLICATE_MARK
from bssrules.pricing.bulk_frames import (
    _MAX, _POW10, BUCKET_SCHEMA, EVENT, RATED_SCHEMA, REASON, RECORD_SCHEMA, SCAN_DIGITS, TAKE, VOLUME, BulkState,
    _decimal_digits, _decimals, _list_column, _list_of, _pick, decimal_column, money_schema, take_strings,
)
from bssrules.pricing.bulk_kernels import (
    _BLOCKED, _INSUFFICIENT, _MALFORMED, _MISMATCH, _NO_RATE, _NOT_SCANNED, _RATED, _TOO_LARGE, _UNASSIGNED, _UNKNOWN,
)
from bssrules.pricing.rating import MAX_AMOUNT
from bssrules.pricing.vectorized import SUBSCRIBER_DEFAULT


class _Assembling(_ChunkBase):
    """6. charges per payer, the rated frame, the new state."""

    def _charges(self, billed: NDArray[np.bool_], payable: NDArray[np.int64], minor: NDArray[np.int64]) -> pl.Series:
        """The billed part of each record per payer (largest remainder, ties to the earliest
        part, as ``money.allocate``), as the ``charges`` list column."""
        subs, n_subs = self.subs, self.n_subs
        n = self.frame.height
        # each record's parts go at offsets[record] + j, j in its plan's order: no sort
        counts = np.zeros(n, np.int64)
        default_rows = np.nonzero(billed & (self.plan == SUBSCRIBER_DEFAULT))[0]
        counts[default_rows] = 1
        plan_rows = []
        for p, payer_plan in enumerate(self.tables.split.plans):
            rows = np.nonzero(billed & (self.plan == p))[0]
            plan_rows.append(rows)
            counts[rows] = len(payer_plan.parts)
        offsets = np.cumsum(counts) - counts
        total = int(counts.sum())
        # strings by index, gathered once: roles from the subscribers' default roles then the plans'
        # roles; accounts from the default accounts then one column of accounts per role
        plan_roles = sorted(self.role_index, key=lambda role: self.role_index[role])
        roles = pl.concat([subs["default_role"], pl.Series(plan_roles, dtype=pl.Utf8)])
        accounts = pl.concat([subs["default_account"]] + [subs[f"account_{i}"] for i in range(len(plan_roles))])
        record = np.empty(total, np.int64)
        role_at = np.empty(total, np.int64)
        account_at = np.empty(total, np.int64)
        minor_units = np.empty(total, np.int64)
        at = offsets[default_rows]
        record[at], role_at[at], account_at[at] = default_rows, self.sub[default_rows], self.sub[default_rows]
        minor_units[at] = payable[default_rows]
        for p, payer_plan in enumerate(self.tables.split.plans):
            rows = plan_rows[p]
            if rows.shape[0] == 0:
                continue
            shares = _allocate(payable[rows], [w for _, w in payer_plan.parts])
            for j, (role, _) in enumerate(payer_plan.parts):
                at = offsets[rows] + j
                index = self.role_index[role]
                record[at], role_at[at] = rows, n_subs + index
                account_at[at] = (1 + index) * n_subs + self.sub[rows]
                minor_units[at] = shares[:, j]
        rows = record
        digits = self.tables.money_digits
        charges = money_schema(digits)["charges"]
        assert isinstance(charges, pl.List) and isinstance(charges.inner, pl.Struct)
        values = pl.DataFrame({"payer": take_strings(roles, role_at),
                               "billing_account": take_strings(accounts, account_at),
                               "amount": decimal_column("amount", minor_units * _to_scale(digits, minor, rows), digits,
                                                        pl.Decimal(38, digits))})
        return _list_column("charges", n, rows, values, charges.inner)

    def _reasons(self, category: NDArray[np.int8], blocked_by: NDArray[np.int64], amount: NDArray[np.int64],
                 minor: NDArray[np.int64], final: NDArray[np.int32]) -> tuple[pl.Series, pl.Series, pl.Series]:
        """``reason_code``, ``reason_label`` (the first reason) and ``reasons`` of every
        record, worked out for the rejected ones only."""
        tables, n = self.tables, category.shape[0]
        rows = np.nonzero(category != _RATED)[0]
        kind = category[rows]
        # a record no rule set rates: the reasons the rule sets give, per distinct combination
        no_rate = kind == _NO_RATE
        signature = np.zeros(rows.shape[0], np.int64)
        signature_lists: list[list[dict[str, str]]] = [[]]
        if no_rate.any():
            distinct, inverse = np.unique(self.reason_words[rows[no_rate]], axis=0, return_inverse=True)
            signature_lists = [tables.usage.reasons([int(w) for w in row]) for row in distinct]
            signature[no_rate] = inverse.reshape(-1)
        first = [r[0] if r else {} for r in signature_lists]
        blocked = kind == _BLOCKED
        thresholds = tables.thresholds
        currency = _pick(tables.currencies, tables.rate_arrays[9][final[rows]] if len(tables.rates) else final[rows],
                         (kind == _INSUFFICIENT) | (kind == _TOO_LARGE))
        parts = pl.DataFrame({
            "category": kind,
            "malformed": self.frame["malformed"].gather(rows),
            "subscriber": self.frame["subscriber"].gather(rows),
            "unassigned_code": self.unassigned_code.gather(rows),
            "unassigned_label": self.unassigned_label.gather(rows),
            "signature_code": _pick([f.get("code") for f in first], signature, no_rate),
            "signature_label": _pick([f.get("label") for f in first], signature, no_rate),
            "prerequisite": _pick([f.get("prerequisite") for f in first], signature, no_rate),
            "signature_list": _pick(signature_lists, signature, no_rate, pl.List(REASON)),
            "several": _pick([len(r) > 1 for r in signature_lists], signature, no_rate, pl.Boolean),
            "blocked_code": _pick([t.reason.code if t.reason else None for _, t in thresholds], blocked_by[rows],
                                  blocked),
            "blocked_label": _pick([t.reason.label if t.reason else None for _, t in thresholds], blocked_by[rows],
                                   blocked),
            "threshold": _pick([f"{tables.defs[d].name}/{t.id}" for d, t in thresholds], blocked_by[rows], blocked),
            "mismatch_label": self._mismatch_labels(rows[kind == _MISMATCH], final, rows),
            "insufficient_label": _amount_labels("the prepaid balance cannot cover {} {}", kind == _INSUFFICIENT,
                                                 amount[rows], minor[rows], currency),
            "too_large_label": _amount_labels(f"the charge {{}} {{}} is beyond what one record may cost "
                                              f"({MAX_AMOUNT:,})", kind == _TOO_LARGE, amount[rows], minor[rows],
                                              currency),
        })
        is_ = {c: pl.col("category") == c for c in (_MALFORMED, _UNKNOWN, _NO_RATE, _BLOCKED, _INSUFFICIENT,
                                                     _UNASSIGNED, _MISMATCH, _TOO_LARGE)}
        duplicate = is_[_MALFORMED] & pl.col("malformed").str.starts_with(DUPLICATE_MARK)
        code = pl.when(duplicate).then(pl.lit(DUPLICATE_ID)) \
            .when(is_[_MALFORMED]).then(pl.lit("malformed")) \
            .when(is_[_UNKNOWN]).then(pl.lit("unknownSubscriber")) \
            .when(is_[_NO_RATE]).then(pl.col("signature_code")) \
            .when(is_[_BLOCKED]).then(pl.col("blocked_code")) \
            .when(is_[_INSUFFICIENT]).then(pl.lit("insufficientBalance")) \
            .when(is_[_MISMATCH]).then(pl.lit("unitMismatch")) \
            .when(is_[_TOO_LARGE]).then(pl.lit("amountTooLarge")) \
            .when(is_[_UNASSIGNED]).then(pl.col("unassigned_code"))
        label = pl.when(duplicate).then(pl.col("malformed").str.strip_prefix(DUPLICATE_MARK)) \
            .when(is_[_MALFORMED]).then(pl.col("malformed")) \
            .when(is_[_UNKNOWN]).then(pl.format("no subscription '{}' is known to rating", pl.col("subscriber"))) \
            .when(is_[_NO_RATE]).then(pl.col("signature_label")) \
            .when(is_[_BLOCKED]).then(pl.col("blocked_label")) \
            .when(is_[_INSUFFICIENT]).then(pl.col("insufficient_label")) \
            .when(is_[_MISMATCH]).then(pl.col("mismatch_label")) \
            .when(is_[_TOO_LARGE]).then(pl.col("too_large_label")) \
            .when(is_[_UNASSIGNED]).then(pl.col("unassigned_label"))
        one = pl.concat_list(pl.struct(code=pl.col("code"), label=pl.col("label"), prerequisite=pl.col("prerequisite"),
                                       threshold=pl.col("threshold")))
        decided = parts.with_columns(code=code, label=label).select(
            "code", "label", reasons=pl.when(pl.col("several")).then(pl.col("signature_list")).otherwise(one))
        long = decided.select(pl.Series("row", rows), "reasons").explode("reasons")
        at = np.zeros(n, np.int64)  # each rejected record's place among them
        at[rows] = np.arange(rows.shape[0])
        rejected = category != _RATED
        return (take_strings(decided["code"], at, rejected).alias("reason_code"),
                take_strings(decided["label"], at, rejected).alias("reason_label"),
                _list_column("reasons", n, long["row"].to_numpy(), long["reasons"].struct.unnest(), REASON))

    def _assemble(self) -> pl.DataFrame:
        """The rated frame (:data:`RATED_SCHEMA`) from the scan's arrays."""
        (status, final_rate, blocked_by, rated_volume, rated_digits, amount, prepaid, refused, take_row, take_bucket,
         take_qty, event_row, event_slot, event_threshold, event_value) = self.out
        tables, frame, n = self.tables, self.frame, self.frame.height
        has_rates = len(tables.rates) > 0
        final = np.where(final_rate >= 0, final_rate, 0)
        minor = tables.rate_arrays[4][final] if has_rates else np.zeros(n, np.int64)
        scanned = status != _NOT_SCANNED  # blocked, insufficient, unassigned and rated records name their rule
        rated = status == _RATED
        category = np.full(n, _NO_RATE, np.int8)
        category[scanned] = status[scanned]
        category[self.malformed] = _MALFORMED
        category[self.unknown] = _UNKNOWN
        # a record a cap cut is rated, and gives the cap's reason for the part refused as a blocked one would
        partly = rated & (refused > 0)
        reason_code, reason_label, reasons = self._reasons(np.where(partly, _BLOCKED, category).astype(np.int8),
                                                           blocked_by, amount, minor, final)
        thresholds = tables.thresholds
        # what was taken from balances, and the thresholds reached
        takes = pl.DataFrame({"bucket": self.chunk_buckets["id"].gather(take_bucket),
                              "taken": _decimals("taken", take_qty, np.where(self.b_money[take_bucket], SCAN_DIGITS,
                                                                             self.vd))})
        events = pl.DataFrame({
            "kind": pl.Series(["thresholdReached"], dtype=pl.Utf8).gather(np.zeros(event_row.shape[0], np.int64)),
            "accumulator": pl.Series([tables.defs[d].name for d, _ in thresholds], dtype=pl.Utf8)
            .gather(event_threshold),
            "threshold": pl.Series([t.id for _, t in thresholds], dtype=pl.Utf8).gather(event_threshold),
            "action": pl.Series([t.action for _, t in thresholds], dtype=pl.Utf8).gather(event_threshold),
            "subscriber": frame["subscriber"].gather(event_row),
            "period": self.slots["period"].gather(event_slot),
            "value": _decimals("value", event_value, np.array(
                [self.vd if tables.defs[d].measure == "volume" else SCAN_DIGITS for d, _ in thresholds],
                dtype=np.int64)[event_threshold] if event_threshold.shape[0] else np.zeros(0, np.int64)),
            "record": frame["id"].gather(event_row),
        })
        rules = tables.usage.rules
        rule_at = np.where(scanned, self.rule, -1)
        digits = self.tables.money_digits  # amounts at the book's minor unit: 2.50 EUR
        money = _to_scale(digits, minor)
        billed = rated & (amount - prepaid > 0) & ~self.fallback[np.where(self.sub < 0, self.n_subs, self.sub)]
        return frame.select([c for c in RATED_SCHEMA if c in RECORD_SCHEMA]).with_columns(
            _pick(["rated", "rejected"], np.where(rated, 0, 1), np.ones(n, bool)).alias("status"),
            _pick([tables.usage.versions[r.version].id for r in rules], rule_at, scanned).alias("rule_set"),
            _pick([r.compiled.source.id for r in rules], rule_at, scanned).alias("rule"),
            _pick([r.compiled.source.provisioning_id for r in rules], rule_at, scanned).alias("provisioning_id"),
            _pick(tables.currencies, tables.rate_arrays[9][final] if has_rates else final, scanned).alias("currency"),
            _decimals("rated_volume", np.where(rated, rated_volume, 0), rated_digits),
            decimal_column("refused_volume", np.where(partly, refused, 0), self.vd, VOLUME),
            decimal_column("amount", np.where(rated, amount, 0) * money, digits, pl.Decimal(38, digits)),
            decimal_column("prepaid", np.where(rated, prepaid, 0) * money, digits, pl.Decimal(38, digits)),
            self._charges(billed, amount - prepaid, minor),
            _list_column("buckets", n, take_row, takes, TAKE),
            _list_column("events", n, event_row, events, EVENT),
            reasons, reason_code, reason_label,
            pl.repeat("bulk", n, dtype=pl.Utf8, eager=True).alias("rated_by"),
        )

    def _mismatch_labels(self, rows: NDArray[np.int64], final: NDArray[np.int32], within: NDArray[np.int64]
                         ) -> pl.Series:
        """"the usage is in GB and the rate is per event" for the record ``rows``, placed
        among the records ``within`` (null for the others)."""
        labels = pl.repeat(None, within.shape[0], dtype=pl.Utf8, eager=True)
        if rows.shape[0]:
            per = [self.tables.pers[r] for r in final[rows]]
            units = [self.unit_names[u] if u >= 0 else p for u, p in zip(self.unit[rows], per)]
            labels = labels.scatter(np.searchsorted(within, rows), pl.Series(
                [f"the usage is in {u} and the rate is per {p}" for u, p in zip(units, per)], dtype=pl.Utf8))
        return labels

    def _new_state(self) -> BulkState:
        """The balances and totals after the scan, of the subscribers it rated (those of the
        reference come back from it; the others go through untouched)."""
        buckets = self.chunk_buckets
        kept = ~self.fallback[buckets["rank"].to_numpy()]
        remaining = _decimals("remaining", self.b_remaining, np.where(self.b_money, SCAN_DIGITS, self.vd))
        new_buckets = buckets.with_columns(remaining) \
            .filter(pl.Series(kept)).select(list(BUCKET_SCHEMA))
        n_slots = self.slots.height
        # a total only rejected records counted for is not created: nothing was added to it
        counted = np.zeros(n_slots, bool)
        counted[self.acc_slot[self.out[0][self.pair_row] == _RATED]] = True
        kept_slots = ~self.fallback[self.slot_sub] & (counted | self.slots["volume"].is_not_null().to_numpy())
        slots, columns = np.nonzero(self.s_rank >= 0)
        order = np.lexsort((self.s_rank[slots, columns], slots))
        slots, columns = slots[order], columns[order]
        flat = [t for mine in self.threshold_ids for t in mine]
        start = np.concatenate([[0], np.cumsum([len(m) for m in self.threshold_ids])]).astype(np.int64)
        reached_ids = pl.Series(flat, dtype=pl.Utf8).gather(start[self.slot_name[slots]] + columns)
        totals = self.slots.select("accumulator", "subscriber", "period").with_columns(
            decimal_column("volume", self.s_volume, self.vd, VOLUME),
            decimal_column("amount", self.s_amount, SCAN_DIGITS, VOLUME),
            _list_of("reached", n_slots, slots, reached_ids)).filter(pl.Series(kept_slots))
        return BulkState(new_buckets, totals)


def _to_scale(digits: int, minor: NDArray[np.int64], rows: NDArray[np.int64] | None = None
              ) -> NDArray[np.int64] | np.int64:
    """``10**(digits - minor)`` of each record (of ``rows`` if given): what brings an amount at
    its currency's minor unit to ``digits`` decimals — one number when all the chunk's rates
    have one currency's (the rule, and no gather of every record)."""
    if minor.shape[0] and int(minor.min()) == int(minor.max()):
        one: np.int64 = _POW10[digits - int(minor[0])]
        return one
    each: NDArray[np.int64] = _POW10[digits - (minor if rows is None else minor[rows])]
    return each


def _amount_labels(text: str, where: NDArray[np.bool_], amount: NDArray[np.int64], minor: NDArray[np.int64],
                   currency: pl.Series) -> pl.Series:
    """``text`` with the amount (as the reference prints it: to the currency's quantum) and
    the currency, where ``where`` holds: "the prepaid balance cannot cover 2.50 EUR"."""
    rows = np.nonzero(where)[0]
    labels = pl.repeat(None, where.shape[0], dtype=pl.Utf8, eager=True)
    if rows.shape[0] == 0:
        return labels
    if int(minor[rows].min()) < 0 or int(minor[rows].max()) > 6:  # never for ISO 4217's minor units (0-4)
        texts = pl.Series([text.format(Decimal(int(a)).scaleb(-int(m)), c) for a, m, c in
                           zip(amount[rows], minor[rows], currency.gather(rows).to_list())], dtype=pl.Utf8)
    else:
        # str(Decimal(a).scaleb(-m)) made by polars for all the rows at once (a Python format per
        # record cost a tenth of assembling on the benchmark, whose prepaid balances run out)
        before, between, after = text.split("{}")
        texts = pl.DataFrame({"amount": amount[rows], "digits": minor[rows], "currency": currency.gather(rows)}).select(
            pl.concat_str(pl.lit(before), _decimal_text(pl.col("amount"), pl.col("digits")), pl.lit(between),
                          pl.col("currency").fill_null("None"), pl.lit(after))).to_series()
    return labels.scatter(rows, texts)


def _decimal_text(integer: pl.Expr, digits: pl.Expr) -> pl.Expr:
    """``str(Decimal(integer).scaleb(-digits))`` for 0 <= digits <= 6 (no exponent then):
    "2.50", "-0.05", "7"."""
    magnitude = integer.abs()
    power = pl.lit(10, pl.Int64).pow(digits)
    whole = (magnitude // power).cast(pl.Utf8)
    fraction = (magnitude % power).cast(pl.Utf8).str.zfill(digits)
    sign = pl.when(integer < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.when(digits == 0).then(pl.concat_str(sign, whole)) \
        .otherwise(pl.concat_str(sign, whole, pl.lit("."), fraction))


def _allocate(payable: NDArray[np.int64], weights: Sequence[Decimal]) -> NDArray[np.int64]:
    """Minor units per part (rows x parts): each part rounded down, the leftover units to the
    largest remainders, ties to the earliest part — ``money.allocate`` in integers."""
    digits = max(_decimal_digits(w) for w in weights)
    integers = [int(w.scaleb(digits)) for w in weights]
    common = math.gcd(*integers)
    integers = [w // common for w in integers]
    total = sum(integers)
    exact = payable.shape[0] == 0 or int(payable.max()) * max(integers) < _MAX
    pay = payable if exact else payable.astype(object)  # Python integers rather than an overflow
    shares = pay[:, None] * np.array(integers, dtype=pay.dtype)[None, :]
    floors = shares // total
    remainders = shares - floors * total
    leftover = (pay - floors.sum(axis=1)).astype(np.int64)
    parts = len(integers)
    if parts <= 8:  # each part's place by comparisons with the others: a twentieth of a sort of the rows
        place = np.zeros(remainders.shape, np.int64)
        for j in range(parts):
            for i in range(parts):
                if i != j:  # an earlier part with the same remainder comes first
                    place[:, j] += (remainders[:, i] >= remainders[:, j]) if i < j else \
                        (remainders[:, i] > remainders[:, j])
    else:
        if exact:
            order = np.argsort(-remainders, axis=1, kind="stable")
        else:
            order = np.array([_largest_first(r) for r in remainders])
        place = np.empty_like(order)
        np.put_along_axis(place, order, np.broadcast_to(np.arange(parts), order.shape).copy(), axis=1)
    allocated: NDArray[np.int64] = (floors + (place < leftover[:, None])).astype(np.int64)
    return allocated


def _largest_first(remainders: Sequence[int]) -> list[int]:
    """The parts by remainder, the largest first, ties to the earliest part."""
    return sorted(range(len(remainders)), key=lambda j: (-remainders[j], j))
