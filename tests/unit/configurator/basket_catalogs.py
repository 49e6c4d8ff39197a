"""The inline home-broadband catalog and rules of the configurator tests, where the examples
are, and ``basket`` (a basket from plain data): a plain module, so that the test modules can
import it as well as conftest.py (a test module cannot import ``conftest``: collected with
other folders, that name is the conftest loaded last, maybe tests/api's).

The catalog exists so that each violation code has one entity that provokes it and nothing
else: a line whose speed is mandatory, a router with one characteristic of every value
type, a TV box that requires a line and excludes a retired box, a promotion with a
validity period, a bundle with min/max/default counts, and prices for split billing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bssrules.configurator.model import Basket

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


def basket(data: dict[str, Any]) -> Basket:
    """A basket from JSON-like data; as of 2026-09-01 unless the data says otherwise."""
    return Basket.model_validate({"asOf": "2026-09-01", **data})


HOME_CATALOG = """
productSpecifications:
  - id: line
    name: Broadband line
    characteristics:
      - {name: speed, valueType: integer, unit: Mbit/s, values: [100, 500, 1000], minCardinality: 1}
      - {name: ipv6, valueType: boolean, default: true}
  - id: router
    name: Router
    characteristics:
      - {name: ports, valueType: integer, range: {min: 1, max: 8}, minCardinality: 1}
      - {name: firmware, valueType: string, values: [stable, beta], default: stable, minCardinality: 1}
      - {name: colour, valueType: string, values: [black, white, red], default: black, maxCardinality: 2}
      - {name: weight, valueType: number}
      - {name: wifi6, valueType: boolean}
      - {name: installDate, valueType: date}
      - {name: serial, valueType: string, default: SN-0, configurable: false}
  - id: tv
    name: Television
  - id: accessory
    name: Accessory

productOfferingPrices:
  - {id: line-monthly, name: Line per month, priceType: recurring, recurringPeriod: month, amount: 30.00, currency: EUR}
  - {id: tv-per-film, name: Film on demand, priceType: usage, unit: film, amount: 3.00, currency: EUR}

productOfferings:
  - id: line-any
    name: Broadband line, any speed
    productSpecification: line
    channels: [shop, web]
    prices: [line-monthly]
    relationships:
      - {type: option, offering: router-white}
      - {type: addOn, offering: tv-sports}
      - {type: option, offering: wifi-extender, validFor: {end: 2026-01-01}}
      - {type: addOn, offering: static-ip}
  - id: line-1g
    name: Broadband line, 1 Gbit/s
    productSpecification: line
    characteristicUses:
      - {name: speed, values: [1000]}
  - id: line-dual
    name: Broadband line, 100 or 500 Mbit/s
    productSpecification: line
    characteristicUses:
      - {name: speed, values: [100, 500]}
  - id: router
    name: Router
    productSpecification: router
    channels: [shop]
  - id: router-white
    name: White router
    productSpecification: router
    characteristicUses:
      - {name: colour, values: [white]}
  - {id: wifi-extender, name: WiFi extender, productSpecification: accessory}
  - {id: static-ip, name: Static IP address, productSpecification: accessory}
  - id: tv-box
    name: TV box
    productSpecification: tv
    prices: [tv-per-film]
    relationships:
      - {type: requires, offering: line-any}
      - {type: excludes, offering: tv-legacy}
  - id: tv-legacy
    name: Legacy TV box
    productSpecification: tv
    lifecycleStatus: Retired
  - id: tv-sports
    name: Sports channels
    productSpecification: tv
    sellable: false
  - id: tv-old-rule
    name: TV with a prerequisite that has ended
    productSpecification: tv
    relationships:
      - {type: requires, offering: line-1g, validFor: {end: 2026-01-01}}
  - id: promo
    name: Summer promotion
    productSpecification: tv
    validFor: {start: 2026-01-01, end: 2026-07-01}
  - id: home-bundle
    name: Home bundle
    channels: [shop, web]
    bundle:
      - {offering: line-any, min: 1, max: 1}
      - {offering: router, min: 0, max: 2, default: 1}
      - {offering: tv-sports, min: 0, max: 1}
"""

HOME_RULES = """
ruleSets:
  - id: home-eligibility
    kind: eligibility
    rules:
      - id: tv-for-adults
        offerings: [tv-box]
        when: {party.age: {gte: 18}}
        reason: {code: minor, label: The TV box is sold to adults}
        alternate: tv-sports
  - id: home-compatibility
    kind: compatibility
    rules:
      - id: no-legacy-box-on-gigabit
        type: forbidden
        subject: {productOffering: tv-legacy}
        target: {productOffering: line-1g}
        message: The legacy TV box does not work on a gigabit line.
      - id: router-needs-line
        type: required
        subject: {productSpecification: router}
        target: {productSpecification: line}
        validFor: {end: 2026-07-01}
  - id: home-billing
    kind: splitBilling
    default: holder
    rules:
      - id: films-to-viewer
        when: {charge.type: usage}
        payer: viewer
"""
