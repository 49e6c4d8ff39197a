"""When ordered products start, and how far ahead a usage may be dated: limits the operator sets.

An order's products start when the order says — its ``requestedStartDate``, an item's own
``requestedStartDate``, or the ``startDate`` the operator gives a product when completing
the order — within these limits (environment variables read when they are used, durations
such as ``90s``, ``15m``, ``72h``, ``400d``; ``none`` for no limit):

- ``BSSRULES_ORDER_MAX_BACKDATE`` (default ``none``): how long before now the operator's own
  orders may start their products (a migration brings customers with their real start
  dates); a request further back is refused;
- ``BSSRULES_PARTNER_MAX_BACKDATE`` (default ``0s``): the same for a partner's orders, which
  are never refused for it: their products start no earlier than the order's completion
  less this (a partner cannot backdate);
- ``BSSRULES_USAGE_FUTURE_TOLERANCE`` (default ``15m``): how long after it arrives a usage may
  be dated; a later one is rejected (``usageInFuture``), kept with its reason. Mediation
  sends what has happened, so a usage dated ahead is a clock running fast or a date written
  wrong; 15 minutes is far more than the skew of clocks kept by NTP (milliseconds) and than
  a record stamped a little late, and less than the smallest time-zone error (a local time
  sent as UTC is at least an hour ahead), which it therefore catches. Usage of a scenario
  in the past is dated in its products' period: order them with a ``requestedStartDate``.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from bssrules.catalog.types import format_instant
from bssrules.services.notifications import parse_duration

ORDER_MAX_BACKDATE = "BSSRULES_ORDER_MAX_BACKDATE"
PARTNER_MAX_BACKDATE = "BSSRULES_PARTNER_MAX_BACKDATE"
USAGE_FUTURE_TOLERANCE = "BSSRULES_USAGE_FUTURE_TOLERANCE"
USAGE_FUTURE_DEFAULT = "15m"  # clock skew and a late stamp, not a time-zone error (see the module)
_NO_LIMIT = ("none", "off", "unlimited")


def _limit(variable: str, default: str) -> dt.timedelta | None:
    """The duration an environment variable sets (None: no limit); a value that is no
    duration is an error of the deployment, said with the variable's name."""
    text = (os.environ.get(variable) or default).strip()
    if text.lower() in _NO_LIMIT:
        return None
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"{variable}: {exc}, or none") from None
    if value < dt.timedelta(0):
        raise ValueError(f"{variable}: '{text}' is negative")
    return value if value <= _LONGEST else None  # further than any date: no limit


_LONGEST = dt.timedelta(days=365 * 1000)


# the policies of the environment's texts (a value that is no duration raises, and is not kept)
_PARSED: dict[tuple[str | None, ...], "DatingPolicy"] = {}


def _shown(limit: dt.timedelta) -> str:
    seconds = int(limit.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class DatingPolicy:
    """The operator's limits on dates (None: no limit)."""

    order_backdate: dt.timedelta | None = None
    partner_backdate: dt.timedelta | None = dt.timedelta(0)
    usage_future: dt.timedelta | None = dt.timedelta(minutes=15)  # USAGE_FUTURE_DEFAULT

    @classmethod
    def from_env(cls) -> "DatingPolicy":
        """The limits of the environment (see the module), the defaults otherwise. Read on
        every call (a change of the environment is seen at once), parsed once per value:
        each usage request asks."""
        texts = (os.environ.get(ORDER_MAX_BACKDATE), os.environ.get(PARTNER_MAX_BACKDATE),
                 os.environ.get(USAGE_FUTURE_TOLERANCE))
        found = _PARSED.get(texts)
        if found is None or type(found) is not cls:
            found = cls(_limit(ORDER_MAX_BACKDATE, "none"), _limit(PARTNER_MAX_BACKDATE, "0s"),
                        _limit(USAGE_FUTURE_TOLERANCE, USAGE_FUTURE_DEFAULT))
            if len(_PARSED) >= 64:  # (environments that change all the time: tests)
                _PARSED.clear()
            _PARSED[texts] = found
        return found

    def operator_backdate_problem(self, start: dt.datetime, now: dt.datetime) -> str | None:
        """Why the operator may not start a product at ``start`` (None: it may)."""
        if self.order_backdate is None or start >= now - self.order_backdate:
            return None
        return (f"{format_instant(start)} is more than {_shown(self.order_backdate)} before now "
                f"({format_instant(now)}): products start at most that far back ({ORDER_MAX_BACKDATE})")

    def partner_start(self, requested: dt.datetime, completed: dt.datetime) -> dt.datetime:
        """When a product a partner ordered to start at ``requested`` starts, its order
        completed at ``completed``: never before the completion less the partner's allowance."""
        if self.partner_backdate is None:
            return requested
        return max(requested, completed - self.partner_backdate)

    def usage_future_problem(self, start: dt.datetime, now: dt.datetime) -> str | None:
        """Why a usage dated ``start`` that arrives at ``now`` is refused (None: it is not)."""
        if self.usage_future is None or start <= now + self.usage_future:
            return None
        return (f"the usage is dated {format_instant(start)}, more than {_shown(self.usage_future)} after it "
                f"arrived ({format_instant(now)}); the operator accepts usage up to that far ahead "
                f"({USAGE_FUTURE_TOLERANCE})")


__all__ = ["DatingPolicy", "ORDER_MAX_BACKDATE", "PARTNER_MAX_BACKDATE", "USAGE_FUTURE_DEFAULT", "USAGE_FUTURE_TOLERANCE"]
