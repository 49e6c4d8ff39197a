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
                        r"(Z|[+-](0[0-9]|1[0-9]|2[0-3]):[0-5][0-9])?")  # (an offset of 00:00 to 23:59)
DATE_TIME_EXPECTED = "a date-time (e.g. 2026-06-01T10:00:00Z) or a date (2026-06-01)"
DATE_EXPECTED = "a date (e.g. 2026-06-01)"


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


def shown(value: object) -> str:
    """A value as the date messages quote it: its text, cut at 60 characters."""
    text = str(value)
    return repr(text if len(text) <= 60 else text[:60] + "…")


__all__ = ["DATE_EXPECTED", "DATE_TIME_EXPECTED", "NotInCalendar", "date_time_problem", "is_date", "is_date_time",
           "shown"]
