"""Exact money: Decimal amounts in a currency, rounded explicitly to its minor unit.

Rounding rule (documented in docs/catalog-format.md): amounts are rounded half-up to the
currency's minor unit (2 decimals for EUR, 0 for JPY, 3 for KWD …). Splitting an amount
between parties uses the largest-remainder method so the parts add back to the whole.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Sequence

# ISO 4217 exponents that differ from the default of 2.
_MINOR_UNIT_EXCEPTIONS = {
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}


# Active ISO 4217 codes (2024 list); funds and precious metals left out on purpose.
ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG
HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA
MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
USD UYU UZS VED VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG ZWL
""".split())


def minor_unit_exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit (ISO 4217)."""
    return _MINOR_UNIT_EXCEPTIONS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    """The smallest amount of the currency, e.g. Decimal('0.01') for EUR."""
    return Decimal(1).scaleb(-minor_unit_exponent(currency))


@dataclass(frozen=True)
class Money:
    """An amount in a currency. Arithmetic keeps full precision; :meth:`rounded` rounds."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", Decimal(str(self.amount)))

    def rounded(self) -> "Money":
        """Half-up to the minor unit of the currency."""
        return Money(self.amount.quantize(quantum(self.currency), rounding=ROUND_HALF_UP), self.currency)

    def _same(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> "Money":
        return Money(self.amount * Decimal(factor), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def _places(weight: Decimal | int) -> int:
    """Decimal places of a weight (0 for a whole number)."""
    exponent = Decimal(weight).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def allocate(total: Money, weights: Sequence[Decimal | int]) -> list[Money]:
    """Split ``total`` (rounded) by ``weights`` so the parts add up exactly to it.

    Largest-remainder: every part is rounded down to the minor unit, then the leftover
    minor units go to the parts with the largest remainders (ties to the earliest part).
    """
    if not weights or sum(Decimal(w) for w in weights) <= 0:
        raise ValueError("weights must be non-empty with a positive sum")
    if any(Decimal(w) < 0 for w in weights):
        raise ValueError("weights must not be negative")
    whole = total.rounded()
    if whole.amount < 0:  # a discount: split its size, then give the parts back their sign
        return [Money(-part.amount, total.currency) for part in allocate(Money(-whole.amount, total.currency), weights)]
    q = quantum(total.currency)
    # in integers (minor units x weights scaled to whole numbers), not Decimal division: a
    # quotient rounded to 28 digits can make a remainder look larger than its equal (70 fils
    # by 0.1 / 0.1 / 1.3 tie at 2/3 each; Decimal made the last one larger) and give the
    # leftover unit to the wrong part. The bulk path (bulk_output._allocate) counts the same way.
    units = int(whole.amount / q)
    digits = max(_places(w) for w in weights)
    scaled = [int(Decimal(w).scaleb(digits)) for w in weights]
    weight_sum = sum(scaled)
    shares = [units * w for w in scaled]
    floors = [share // weight_sum for share in shares]
    remainders = [share - floor * weight_sum for share, floor in zip(shares, floors)]
    leftover = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        floors[i] += 1
    return [Money(Decimal(f) * q, total.currency) for f in floors]
