"""A price shared between payers is billed to each as its part of every line (a billing
analyst's review: recurring and one-time fees went whole to the first payer). Each line —
the fee pro-rated and rounded, each discount, a one-time fee — is made as it is unsplit and
split by the weights with :func:`bssrules.money.allocate`, the largest remainder rating uses
for a usage charge: the parts add up to the unsplit line exactly, whatever the amounts,
dates, currencies and weights (a property of :func:`bssrules.pricing.billing.bill`)."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.money import Money, allocate
from bssrules.pricing.billing import (
    Bill, BillingPeriod, Discount, OneTimeFee, PayerShare, RecurringFee, bill,
)

UTC = dt.timezone.utc
JUNE = BillingPeriod.month("2026-06")
CURRENCIES = ("EUR", "JPY", "KWD")
amounts = st.decimals(min_value=Decimal(0), max_value=Decimal("99999.99999999"), places=8)
instants = st.datetimes(min_value=dt.datetime(2026, 4, 1), max_value=dt.datetime(2026, 8, 1)).map(
    lambda d: d.replace(tzinfo=UTC))
weights = st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2), min_size=1, max_size=4)


def _shared(fee: RecurringFee | OneTimeFee, parts: list[Decimal]) -> list[RecurringFee | OneTimeFee]:
    """The fee as each payer of ``parts`` (weights, in order) pays it."""
    return [replace(fee, share=PayerShare(f"role{i}", tuple(parts), i)) for i in range(len(parts))]


def _lines(bills: list[Bill]) -> dict[tuple[str, str, str, str], Money]:
    """The lines of an account's bills by (kind, product, price, name)."""
    return {(i.kind, i.product, str(i.detail.get("price")), i.name): i.amount for b in bills for i in b.items}


@st.composite
def fees(draw: st.DrawFn) -> list[RecurringFee | OneTimeFee]:
    made: list[RecurringFee | OneTimeFee] = []
    for i in range(draw(st.integers(1, 3))):
        currency = draw(st.sampled_from(CURRENCIES))
        off = tuple(Discount(f"d{j}", Money(draw(amounts), currency), draw(st.none() | st.integers(0, 3)))
                    for j in range(draw(st.integers(0, 2))))
        if draw(st.booleans()):
            start = draw(instants)
            end = draw(st.none() | instants.filter(lambda e, s=start: e > s))
            made.append(RecurringFee(f"p{i}", "fee", "fee", Money(draw(amounts), currency),
                                     draw(st.sampled_from(["day", "week", "month", "year"])), draw(st.integers(1, 3)),
                                     start, end, off))
        else:
            made.append(OneTimeFee(f"p{i}", "once", "once", Money(draw(amounts), currency), draw(instants), off))
    return made


@settings(max_examples=300, deadline=None)
@given(fees(), weights)
def test_the_parts_of_every_line_add_up_to_the_line_billed_unsplit(
        drawn: list[RecurringFee | OneTimeFee], parts: list[Decimal]) -> None:
    recurring = [f for f in drawn if isinstance(f, RecurringFee)]
    once = [f for f in drawn if isinstance(f, OneTimeFee)]
    whole = _lines(bill("ba", JUNE, recurring, [], once))
    payers = []
    for i in range(len(parts)):  # each payer's bills: its part of every fee
        mine = [_shared(f, parts)[i] for f in drawn]
        payers.append(_lines(bill(f"ba-{i}", JUNE, [f for f in mine if isinstance(f, RecurringFee)], [],
                                  [f for f in mine if isinstance(f, OneTimeFee)])))
    assert {key for lines in payers for key in lines} <= set(whole)
    for key, line in whole.items():
        got = [lines.get(key, Money(Decimal(0), line.currency)) for lines in payers]
        assert sum((g.amount for g in got), Decimal(0)) == line.amount, (key, line, got)
        # each part is the largest remainder's: as rating splits a usage charge
        assert [g.amount for g in got] == [m.amount for m in allocate(line, parts)], (key, line, got)


def test_a_part_names_its_role_its_weight_all_the_weights_and_the_line_unsplit() -> None:
    # 20.00 a month from 10 June 08:00: 13.78; 5.00 off for a month from then, pro-rated: 3.44
    fee = RecurringFee("p", "plan", "plan", Money(Decimal(20), "EUR"), "month", 1,
                       dt.datetime(2026, 6, 10, 8, tzinfo=UTC), None, (Discount("promo", Money(Decimal(5), "EUR")),))
    [holder, employer] = _shared(fee, [Decimal(70), Decimal(30)])
    [unsplit] = bill("ba", JUNE, [fee], [])
    assert [(i.kind, i.amount.amount) for i in unsplit.items] == [("recurringCharge", Decimal("13.78")),
                                                                  ("discount", Decimal("-3.44"))]
    [mine] = bill("ba-h", JUNE, [holder], [])
    [theirs] = bill("ba-e", JUNE, [employer], [])
    # 13.78: 9.646 + 4.134 -> 9.65 + 4.13; 3.44: 2.408 + 1.032 -> 2.41 + 1.03
    assert [i.amount.amount for i in mine.items] == [Decimal("9.65"), Decimal("-2.41")]
    assert [i.amount.amount for i in theirs.items] == [Decimal("4.13"), Decimal("-1.03")]
    assert mine.total.amount + theirs.total.amount == unsplit.total.amount
    charge = theirs.items[0]
    assert charge.detail == {"price": "plan", "share": Decimal("0.688889"), "payerRole": "role1",
                             "payerWeight": Decimal(30), "payersWeight": Decimal(100),
                             "unsplitAmount": Decimal("13.78")}
    assert theirs.items[1].detail["unsplitAmount"] == Decimal("-3.44")


def test_a_cent_shared_in_three_goes_to_the_first_of_the_largest_remainders() -> None:
    # 0.01 by 33.33 / 33.33 / 33.34: the cent to the third (its remainder is the largest);
    # a payer's part of nothing is still its line of the fee, not of a discount
    fee = OneTimeFee("p", "sim", "sim", Money(Decimal("0.01"), "EUR"), dt.datetime(2026, 6, 2, tzinfo=UTC))
    parts = [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    billed = [bill(f"ba-{i}", JUNE, [], [], [f]) for i, f in enumerate(_shared(fee, parts))]
    assert [[i.amount.amount for b in bills for i in b.items] for bills in billed] == \
        [[Decimal("0.00")], [Decimal("0.00")], [Decimal("0.01")]]


def test_a_fee_of_no_share_is_billed_whole_as_before() -> None:
    fee = RecurringFee("p", "plan", "plan", Money(Decimal(20), "EUR"), "month", 1, dt.datetime(2026, 5, 1, tzinfo=UTC))
    [made] = bill("ba", JUNE, [fee], [])
    assert [(i.amount.amount, i.detail) for i in made.items] == [
        (Decimal("20.00"), {"price": "plan", "share": Decimal("1.000000")})]
