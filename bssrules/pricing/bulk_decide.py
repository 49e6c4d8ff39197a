"""Stages 2 to 4 of a chunk: what the rules decide for every record at once.

2. which usage rule set and rule rate each record, which accumulators count it, or why no
   rule set rates it: polars evaluates the conditions compiled from the rules
   (:mod:`bssrules.pricing.vectorized`), the tests of the subscription's facts once per
   subscriber;
3. the price of each record's whole volume at its rule's rate
   (:func:`~bssrules.pricing.bulk_kernels._price_all`) — from the first tier: for tiers over
   a period's total it is only the split billing decisions' guess, the scan prices the record
   from the total and checks the guess;
4. the split billing plan of each charge (payer role or shares), and whether its roles have
   billing accounts.

None of it depends on the balances or totals: what they change is the scan's
(:mod:`bssrules.pricing.bulk_scan`), which checks the guesses made here with the whole charge.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray

from bssrules.pricing.bulk_frames import _POW10, IN_MEMORY, SCAN_DIGITS, _pick
from bssrules.pricing.bulk_kernels import _compiled, _price_all
from bssrules.pricing.bulk_order import _Ordering
from bssrules.pricing.vectorized import (
    NO_PAYER, SUBSCRIBER_DEFAULT, UNAVAILABLE, FactColumns, condition_expr, test_key,
)
from bssrules.rules.conditions import Condition, tests_of


# the facts of the subscription (not of the record) and the column of the subscribers frame holding each
_SUBSCRIPTION_FACTS = {"party.id": "party_id", "party.classification": "classification", "usage.offering": "offering",
                       "charge.offering": "offering", "inventory.activeOfferings": "active_offerings",
                       "inventory.offerings": "active_offerings"}
# which a rule set sees, as the reference gives them: a usage rule set the usage's offering, a split
# billing rule set the charge's — each is absent from the other (both held the offering before,
# so that a split rule on usage.offering billed another payer than the reference)
_USAGE_FACTS = {k: v for k, v in _SUBSCRIPTION_FACTS.items() if k != "charge.offering"}
_CHARGE_FACTS = {k: v for k, v in _SUBSCRIPTION_FACTS.items() if k != "usage.offering"}


def _non_empty(column: str) -> pl.Expr:
    """The column, null where it holds the empty text ("if value" in rating)."""
    return pl.when(pl.col(column) != "").then(pl.col(column))


class _Deciding(_Ordering):
    """2. rule decisions, 3. prices, 4. split billing (after 1., whose indexes they use)."""

    # ---- 2. rule decisions

    def _facts(self) -> tuple[pl.DataFrame, FactColumns]:
        """The records' facts as the usage rule sets see them: the usage, ``now`` = its start,
        and the tests of the subscription's facts decided once per subscriber."""
        decided, tests = self._subscriber_tests(self.tables.usage.conditions(), "__usage_", _USAGE_FACTS)
        # the start as wall-clock time in each zone whose rule sets read its time of day or weekday
        zones = sorted({v.zone.key for v in self.tables.usage.versions
                        if any(t.op in ("timeOfDay", "dayOfWeek") for r in v.rules for t in tests_of(r.fires))})
        local = {f"__local_{k}": self._local_start(zone) for k, zone in enumerate(zones)}
        frame = self.frame.with_columns(*tests.get_columns(), volume_scan=pl.Series(self.volume), **local)
        columns: dict[str, pl.Expr] = {
            "usage.service": pl.col("service"), "usage.start": pl.col("start"), "usage.volume": pl.col("volume_scan"),
            "usage.unit": pl.col("unit"), "usage.type": pl.col("type"), "usage.roaming": pl.col("roaming"),
            "usage.country": pl.col("country"), "now": pl.col("start"),
        }
        return frame, FactColumns(columns, {"usage.volume": self.vd}, decided,
                                  {(attribute, zone): pl.col(f"__local_{k}") for k, zone in enumerate(zones)
                                   for attribute in ("usage.start", "now")})

    def _decide(self) -> None:
        usage = self.tables.usage
        frame, facts = self._facts()
        masks = self.tables.usage_masks.get(self.vd)
        if masks is None:  # the facts' column names depend on the book only; the volumes' scale on the chunk
            masks = self.tables.usage_masks.setdefault(self.vd, usage.masks(facts))
        evaluated = (frame.lazy().with_columns(**masks).select(list(masks)).collect(engine=IN_MEMORY) if masks
                     else pl.DataFrame())
        outcome = usage.decide({name: evaluated[name].to_numpy() for name in masks}, frame.height)
        self.acc_flags = outcome.accumulators
        self.chosen = np.where(self.candidate, outcome.chosen_version, -1)
        self.rule = np.where(self.chosen >= 0, outcome.chosen_rule, -1)
        np.logical_or.at(self.fallback, self.sub[self.candidate & outcome.needs_reference], True)
        self.reason_words = outcome.reason_words
        self.stages.done("conditions")

    # ---- 3. prices

    def _price(self) -> None:
        active = self.chosen >= 0
        self.rate0 = np.where(active, self.rule, 0).astype(np.int32)
        (ok, kind, p, v, minor, flat, tier_ptr, tier_up, tier_amount, currency) = self.tables.rate_arrays
        if len(self.tables.rates) == 0:
            self.amount0 = np.zeros(self.frame.height, np.int64)
            self.amount0_fits = np.ones(self.frame.height, bool)
        else:
            self.amount0, self.amount0_fits = _compiled(_price_all)(active, self.rate0, self.volume, self.vd,
                                                                    self.unit, ok, self.r_per, self.conv_num,
                                                                    self.conv_den, kind, p, v, minor, flat, tier_ptr,
                                                                    tier_up, tier_amount)
        self.stages.done("tiers")

    # ---- 4. split billing

    def _payers(self) -> None:
        """The payer plan of each record's charge, and why it cannot be billed when it cannot."""
        split = self.tables.split
        roles = pl.col("payers").list.eval(pl.element().struct.field("role"))
        accounts = pl.col("payers").list.eval(pl.element().struct.field("account"))
        plan_roles = sorted(split.roles())
        split_ids = sorted(self.subs["split_billing"].drop_nulls().unique().to_list())

        def account_of(role: str) -> pl.Expr:  # the last one given, as a dict of payers keeps it
            return pl.col("payers").list.eval(pl.element().filter(pl.element().struct.field("role") == role)
                                              .struct.field("account")).list.last()

        # what only depends on the subscription, once per subscriber: the payer when it names no
        # split billing (rating.DEFAULT_PAYER, or its one billing account), and its roles' accounts
        single = accounts.list.n_unique() == 1
        self.subs = self.subs.with_columns(
            default_role=pl.when(roles.list.contains("payer")).then(pl.lit("payer"))
            .when(single).then(roles.list.first()).otherwise(pl.lit("payer")),
            default_account=pl.when(roles.list.contains("payer")).then(account_of("payer"))
            .when(single).then(accounts.list.first()),
            split_code=pl.col("split_billing").replace_strict({s: i for i, s in enumerate(split_ids)}, default=-1,
                                                              return_dtype=pl.Int32),
            **{f"has_role_{i}": roles.list.contains(r) for i, r in enumerate(plan_roles)},
            **{f"account_{i}": account_of(r) for i, r in enumerate(plan_roles)})
        self.subs = self.subs.with_columns(default_ok=pl.col("default_account").is_not_null())
        self.role_index = {r: i for i, r in enumerate(plan_roles)}
        decided, tests = self._subscriber_tests(split.conditions(), "__split_", _CHARGE_FACTS)
        per_subscriber = ["split_code", "default_ok"] + [f"has_role_{i}" for i in range(len(plan_roles))]
        active = self.chosen >= 0
        rates = len(self.tables.rates) > 0
        amount_scan = np.zeros(self.frame.height, np.int64)
        if rates:
            factor = _POW10[SCAN_DIGITS - self.tables.rate_arrays[4][self.rate0]]
            amount_scan = np.where(active & self.amount0_fits, self.amount0 * factor, 0)
        frame = self.frame.select("service", "start", "type").with_columns(
            *self._per_record(per_subscriber).get_columns(), *tests.get_columns(),
            charge_currency=_pick(self.tables.currencies, self.tables.rate_arrays[9][self.rate0] if rates
                                  else self.rate0, active),
            charge_amount=pl.Series(amount_scan))
        facts = FactColumns({
            "now": pl.col("start"), "charge.type": pl.lit("usage"), "charge.service": pl.col("service"),
            "charge.usageType": _non_empty("type"), "charge.currency": pl.col("charge_currency"),
            "charge.amount": pl.col("charge_amount")}, {"charge.amount": SCAN_DIGITS}, decided)
        plan = split.plan_expr({s: pl.col("split_code") == i for i, s in enumerate(split_ids)}, facts)
        # the first role of the plan without a billing account: -2 the default one, else its index
        missing: Any = pl.when(pl.col("plan") == SUBSCRIBER_DEFAULT).then(
            pl.when(~pl.col("default_ok")).then(pl.lit(-2, pl.Int32)))
        for p, payer_plan in enumerate(split.plans):
            first: Any = None
            for role, _ in payer_plan.parts:
                lacks, index = ~pl.col(f"has_role_{self.role_index[role]}"), pl.lit(self.role_index[role], pl.Int32)
                first = pl.when(lacks).then(index) if first is None else first.when(lacks).then(index)
            missing = missing.when(pl.col("plan") == p).then(first.otherwise(pl.lit(None, pl.Int32)))
        outcome = frame.lazy().with_columns(plan=plan.fill_null(UNAVAILABLE)).select(
            "plan", missing=missing.otherwise(pl.lit(None, pl.Int32)),
            amount_dependent=pl.col("split_code").is_in([split_ids.index(s) for s in split.amount_dependent
                                                        if s in split_ids]),
            currency_dependent=pl.col("split_code").is_in([split_ids.index(s) for s in split.currency_dependent
                                                          if s in split_ids])).collect(engine=IN_MEMORY)
        self.plan = outcome["plan"].to_numpy()
        missing_role = outcome["missing"].fill_null(-1).to_numpy()
        self.unassigned = (self.plan == NO_PAYER) | (self.plan == UNAVAILABLE) | (missing_role != -1)
        self.unassigned_code, self.unassigned_label = self._unassigned_reasons(missing_role, plan_roles)
        self.amount_dependent = outcome["amount_dependent"].fill_null(False).to_numpy()
        self.currency_dependent = outcome["currency_dependent"].fill_null(False).to_numpy()
        self.stages.done("split decisions")

    def _unassigned_reasons(self, missing_role: NDArray[np.int32], plan_roles: list[str]
                            ) -> tuple[pl.Series, pl.Series]:
        """Code and label of the records whose charge cannot be billed (null for the others)."""
        rows = np.nonzero(self.unassigned)[0]
        codes = pl.repeat(None, self.frame.height, dtype=pl.Utf8, eager=True)
        labels = codes.clone()
        if rows.shape[0]:
            subs = self.subs[self.sub[rows]]
            found = []
            for plan, missing, split, default, subscriber in zip(
                    self.plan[rows], missing_role[rows], subs["split_billing"].to_list(),
                    subs["default_role"].to_list(), subs["id"].to_list()):
                if plan == NO_PAYER:
                    found.append(("noPayer", f"split billing {split} names no payer for this charge"))
                elif plan == UNAVAILABLE:
                    found.append(("noSplitBilling", f"no version of split billing rule set '{split}' is in force "
                                                    f"at the start of this usage"))
                else:
                    role = default if missing == -2 else plan_roles[missing]
                    found.append(("noBillingAccount",
                                  f"no billing account for the payer role '{role}' of subscription {subscriber}"))
            codes = codes.scatter(rows, pl.Series([c for c, _ in found], dtype=pl.Utf8))
            labels = labels.scatter(rows, pl.Series([label for _, label in found], dtype=pl.Utf8))
        return codes, labels

    def _subscriber_tests(self, conditions: Sequence[Condition], prefix: str, facts: Mapping[str, str]
                          ) -> tuple[dict[tuple[Any, ...], pl.Expr], pl.DataFrame]:
        """The tests of these conditions that only look at the subscription (party,
        inventory, its offering), decided once per subscriber; and, per record, their columns."""
        tests = {test_key(t): t for c in conditions for t in tests_of(c) if t.attribute in facts}
        columns = {attribute: pl.col(column) if column == "active_offerings" else _non_empty(column)
                   for attribute, column in facts.items()}
        names = {key: f"{prefix}{k}" for k, key in enumerate(tests)}
        per_subscriber = self.subs.select(**{names[key]: condition_expr(test, FactColumns(columns))
                                             for key, test in tests.items()}) if tests else pl.DataFrame()
        per_record = self._per_record(list(names.values()), per_subscriber).fill_null(False) if tests \
            else pl.DataFrame()
        return {key: pl.col(name) for key, name in names.items()}, per_record
