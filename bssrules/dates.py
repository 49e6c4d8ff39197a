"""The dates of request bodies as the product reads them: the checks behind ``format:
date-time`` and ``format: date`` of the TMF definitions (bssrules.api.tmfspec), and of the
dates the services read outside those definitions (an SLA's validFor, an order item's
requestedStartDate), so that one value gets one verdict and one message wherever it is sent."""
from __future__ import annotations

import datetime as dt
import re

# The instants the product reads (bssrules.catalog.types.parse_instant, as documented in
# api.md): a date (its start, UTC), or a date-time — "T" (or a space), hours and minutes,
# seconds and their fraction if given, then "Z" or an offset, or no zone (UTC). Other ISO 8601
# forms Python would read (20260601T100000Z, week dates, "z", an offset without ":") are not
# a TMF date-time; a value of this shape outside the calendar (2026-02-30, year 0, 24:00, a
# UTC instant before year 1 or after 9999) is refused too: no reader could use it.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
                        r"(?P<zone>Z|[+-](0[0-9]|1[0-9]|2[0-3]):[0-5][0-9])?")  # (an offset of 00:00 to 23:59)
DATE_TIME_EXPECTED = "a date-time (e.g. 2026-06-01T10:00:00Z) or a date (2026-06-01)"
DATE_EXPECTED = "a date (e.g. 2026-06-01)"
# what a resource that needs an instant with its zone (a bucket's validFor, as a usage's date) expects
ZONED_DATE_TIME_EXPECTED = "a date-time with a time zone (e.g. 2026-06-01T00:00:00Z)"


class NotInCalendar(ValueError):
    """A date or date-time of the right shape that names no day or instant; its text is what
    follows the value in a message ("is not in the calendar (month must be in 1..12)")."""


def _calendar_date(text: str) -> None:
    try:
        dt.date.fromisoformat(text)
    except ValueError as exc:
        raise NotInCalendar(f"is not in the calendar ({exc})") from None


def is_date(value: object) -> bool:
    """``format: date``: YYYY-MM-DD, a day of the calendar (another JSON type: the ``type`` keyword judges it)."""
    if not isinstance(value, str):
        return True
    if not _DATE.fullmatch(value):
        return False
    _calendar_date(value)
    return True


def is_date_time(value: object) -> bool:
    """``format: date-time`` as the product reads it: a date-time, or a date (see _DATE_TIME);
    NotInCalendar when it has the shape but names no instant."""
    if not isinstance(value, str):
        return True
    if _DATE.fullmatch(value):
        _calendar_date(value)
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise NotInCalendar(f"is not in the calendar ({exc})") from None
    try:  # every instant is kept and compared in UTC (parse_instant): it must have a date there
        (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)
    except OverflowError:
        raise NotInCalendar("falls outside the calendar (years 1 to 9999) in UTC") from None
    return True


def names_no_zone(value: object) -> bool:
    """Whether ``value`` is a date-time as :func:`is_date_time` spells one that names no zone
    (12:00 of which zone?); False for a date, and for what is no date-time at all."""
    match = _DATE_TIME.fullmatch(value) if isinstance(value, str) else None
    return match is not None and match.group("zone") is None


def rfc3339(value: str) -> str:
    """A date-time as :func:`is_date_time` reads it, spelt as RFC 3339 writes it (TMF's
    ``date-time`` in an answer): "T" for a space, seconds when left out; its zone (or none) and
    fraction as written. Anything else comes back as it is."""
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return value
    return f"{value[:10]}T{value[11:16]}{match.group(1) or ':00'}{match.group('zone') or ''}"


def no_zone_problem(value: object) -> str:
    """What a resource that needs a zone says of a date-time that names none (follows the value)."""
    return f"names no time zone; write the instant in UTC ({value}Z) or with its offset ({value}+02:00)"


def date_time_problem(value: object) -> str | None:
    """Why ``value`` is not a date-time (or a date) as :func:`is_date_time` reads it, in the
    words of the request checks (``is not a date-time (e.g. …) or a date (…)``; ``is not in
    the calendar (…); expected …``); None when it is one."""
    if not isinstance(value, str):
        return f"is not {DATE_TIME_EXPECTED}"
    try:
        return None if is_date_time(value) else f"is not {DATE_TIME_EXPECTED}"
    except NotInCalendar as exc:
        return f"{exc}; expected {DATE_TIME_EXPECTED}"


def zoned_date_time_problem(value: object) -> str | None:
    """Why ``value`` is not a date-time that names its zone, spelt as :func:`is_date_time`
    reads one (the same spellings, the same calendar, the same words), for the dates a service
    needs as instants with their zone (a bucket's validFor): a date, or a date-time without a
    zone, is refused there; None when it is one."""
    if not isinstance(value, str):
        return f"is not {ZONED_DATE_TIME_EXPECTED}"
    try:
        readable = is_date_time(value)
    except NotInCalendar as exc:
        return f"{exc}; expected {ZONED_DATE_TIME_EXPECTED}"
    if not readable or _DATE.fullmatch(value):
        return f"is not {ZONED_DATE_TIME_EXPECTED}"
    return no_zone_problem(value) if names_no_zone(value) else None


def shown(value: object) -> str:
    """A value as the date messages quote it: its text, cut at 60 characters."""
    text = str(value)
    return repr(text if len(text) <= 60 else text[:60] + "…")


__all__ = ["DATE_EXPECTED", "DATE_TIME_EXPECTED", "NotInCalendar", "ZONED_DATE_TIME_EXPECTED", "date_time_problem",
           "is_date", "is_date_time", "names_no_zone", "no_zone_problem", "rfc3339", "shown", "zoned_date_time_problem"]
