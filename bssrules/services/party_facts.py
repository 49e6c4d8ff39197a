"""What the rules read of a stored party (TMF632 Individual or Organization).

The rules name ``party.classification``, ``party.segment``, ``party.country`` and
``party.age`` (docs/rules-format.md "Facts"); this is where each comes from:

- ``classification`` and ``segment``: the ``partyCharacteristic`` of that name (text);
- ``country``: the ``partyCharacteristic`` named ``country`` when there is one, else the
  country of the party's postal address (``contactMedium`` of ``mediumType``
  ``postalAddress``: the preferred one first, then in order), as written;
- ``age``: whole years from the individual's ``birthDate`` to the day the decision is taken
  for (its *as of* date, in UTC), so a party turning 18 qualifies from that day on, and a
  basket checked as of a past date sees the age the party had then. An organization, a
  party without a readable ``birthDate``, or one born after that day has no age.

A value of the wrong type is left out (the fact is then absent) rather than refused: TMF632
lets partners store any text, and a party should not make every basket a 400.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from bssrules.catalog.types import parse_instant


def characteristics(document: Mapping[str, Any]) -> dict[str, Any]:
    """``partyCharacteristic`` as name -> value (the first of a repeated name wins)."""
    found: dict[str, Any] = {}
    for item in document.get("partyCharacteristic") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"] not in found:
            found[item["name"]] = item.get("value")
    return found


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def classification_of(document: Mapping[str, Any]) -> str | None:
    """The party's ``partyCharacteristic`` named ``classification``, if it is text."""
    return _text(characteristics(document).get("classification"))


def postal_country(document: Mapping[str, Any]) -> str | None:
    """The country of the party's postal address: the preferred one first, then in order."""
    media = [m for m in document.get("contactMedium") or []
             if isinstance(m, dict) and m.get("mediumType") == "postalAddress"
             and isinstance(m.get("characteristic"), dict)]
    media.sort(key=lambda m: m.get("preferred") is not True)  # stable: the preferred first
    for medium in media:
        country = _text(medium["characteristic"].get("country"))
        if country is not None:
            return country
    return None


def birth_date(document: Mapping[str, Any]) -> dt.date | None:
    """The individual's ``birthDate`` as a calendar date, or None. A date-time's date is the
    one written (``1980-01-01T23:30:00-05:00`` is 1 January: the day of birth where it was
    recorded, not the UTC day)."""
    value = document.get("birthDate")
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_instant(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if isinstance(parsed, dt.datetime):
        return parsed.date()
    return parsed if isinstance(parsed, dt.date) else None


def age_on(born: dt.date, day: dt.date) -> int | None:
    """Whole years from ``born`` to ``day`` (a 29 February birthday counts on 1 March in a
    common year); None when ``day`` is before ``born``."""
    if day < born:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def as_of_day(as_of: Any) -> dt.date:
    """The UTC calendar day of a decision's *as of* instant (a date is taken as it is)."""
    if isinstance(as_of, dt.datetime):
        return as_of.astimezone(dt.timezone.utc).date() if as_of.tzinfo else as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    return dt.datetime.now(dt.timezone.utc).date()


def party_facts(document: Mapping[str, Any], individual: bool, as_of: Any) -> dict[str, Any]:
    """classification, segment, country and age of a stored party as of a decision date
    (None where the party does not say)."""
    named = characteristics(document)
    born = birth_date(document) if individual else None
    return {"classification": classification_of(document),
            "segment": _text(named.get("segment")),
            "country": _text(named.get("country")) or postal_country(document),
            "age": age_on(born, as_of_day(as_of)) if born is not None else None}


__all__ = ["party_facts", "characteristics", "classification_of", "postal_country", "birth_date", "age_on", "as_of_day"]
