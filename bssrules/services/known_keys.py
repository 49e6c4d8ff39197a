"""API keys a worker has checked, kept so that ``POST /usage`` need not look them up (issue 12).

Looking a key up (its partner found by the key's id among the stored documents, the secret's
hash compared) took 0.6–0.8 ms of a worker's CPU per usage, more than rating it. A worker
therefore keeps, per (key id, hash of the secret), the partner the key opened with the
**version and creation time** of the partner's resource then. A kept key is not trusted
alone: the usage's own first round trip reads the partner's row as it is now (a primary-key
read in the same call) and the usage goes on only when it is still of that version and
creation time — any change of the partner (a key revoked or added, its bundle or role
changed, the partner deleted, or deleted and made again under the same id) changes one of
them: a partner's row is made at the microsecond with a first version drawn at random
(``services.partners._new_row``), so a partner made again under the same id, even within the
same second, does not give the pair of the one deleted (only the same microsecond and the
same draw, one in 2**30, would).
Otherwise nothing is written: the transaction is rolled back (:class:`PartnerMoved`) and the
request is authenticated in full, as every other route always is.

Nothing is kept that the check does not cover: a secret that does not match is never kept
(a wrong secret under a right key id is looked up in full, and refused, every time).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from bssrules.services.ports import Principal

MAX_KEYS = 1024  # keys kept per worker; the least recently used goes first


@dataclass(frozen=True)
class PartnerCheck:
    """What a kept key's partner must still be: its resource's version and creation time
    (microseconds since the epoch)."""

    partner: str
    version: int
    created: int

    def holds(self, seen: tuple[int, int] | None) -> bool:
        """True when the partner read now (``(version, created)``; None: gone) is as kept."""
        return seen == (self.version, self.created)


@dataclass(frozen=True)
class KeptPrincipal(Principal):
    """A caller authenticated from a kept key: valid only if ``check`` holds in the
    transaction that uses it."""

    check: PartnerCheck | None = None


class PartnerMoved(Exception):
    """The partner of a kept key changed (or is gone) since the key was kept: nothing was
    written; authenticate the request in full."""


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def epoch_micros(instant: dt.datetime) -> int:
    """An instant as microseconds since the epoch (a naive one is UTC, as SQLite gives it)."""
    moment = instant.replace(tzinfo=dt.timezone.utc) if instant.tzinfo is None else instant
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def fingerprint(key_id: str, secret: str) -> tuple[str, str]:
    """What a key is kept under: its id and the SHA-256 of its secret (the secret is not kept)."""
    return key_id, hashlib.sha256(secret.encode("ascii")).hexdigest()


class KnownKeys:
    """The keys a worker has checked (at most ``limit``, least recently used dropped first)."""

    def __init__(self, limit: int = MAX_KEYS) -> None:
        self.limit = limit
        self._kept: OrderedDict[tuple[str, str], KeptPrincipal] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: tuple[str, str]) -> KeptPrincipal | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], principal: KeptPrincipal) -> None:
        with self._lock:
            self._kept[key] = principal
            self._kept.move_to_end(key)
            while len(self._kept) > self.limit:
                self._kept.popitem(last=False)

    def forget(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._kept.pop(key, None)
