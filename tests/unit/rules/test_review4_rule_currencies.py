"""A currency in the rules is an ISO 4217 code, as a catalog price's is: a rate, a discount's
amount or a settlement amount in ``GPB`` (GBP meant) or ``XAU`` (gold, no currency) passed
``check`` and was rated and settled in it, while the same code in a catalog price is refused
(a review found it). Refused at the currency, with the code meant."""
from __future__ import annotations

from bssrules.errors import Diagnostic


def errors(found: list[Diagnostic]) -> list[tuple[int, int, str]]:
    return [(d.line, d.column, d.message) for d in found if d.severity == "error"]


RULES = """\
ruleSets:
  - id: a
    kind: usage
    rules:
      - {id: r1, when: {usage.service: ppv-movie}, rate: {amount: 1.005, currency: GPB, per: movie}}
      - {id: r2, when: {usage.service: ppv-series}, rate: {amount: 0.5, currency: XAU, per: episode}}
      - {id: r3, when: {usage.service: ppv-live}, rate: {amount: 0.5, currency: GBP, per: event}}
  - id: s
    kind: settlement
    rules:
      - {id: fee, basis: ticket, payer: csp, payee: car-maker, amount: 4, currency: XTS}
"""


def test_a_currency_that_is_no_iso_4217_code_is_refused_at_it(rule_diagnostics) -> None:
    found = errors(rule_diagnostics(RULES))
    assert (5, 84, "'GPB' is not an ISO 4217 currency code (did you mean 'GBP'?)") in found
    assert any(line == 6 and "'XAU' is not an ISO 4217 currency code" in message for line, _, message in found)
    assert any(line == 11 and "'XTS' is not an ISO 4217 currency code" in message for line, _, message in found)
    assert not any(line == 7 for line, _, _ in found)  # GBP is one
