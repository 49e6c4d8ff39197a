"""What the use cases and the store hand each other: stored records and their canonical text.

The records are plain frozen dataclasses; the store builds them from rows and the use cases
build them to write. The helpers say how a document is hashed and how its scalar leaves are
indexed for filters, so that the use cases (which compute attributes) and the store (which
matches filters against them) agree on one definition.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import quote

from bssrules import jsontext
from bssrules.frozen import quick_init
from bssrules.catalog.model import Entity
from bssrules.catalog.tmf import Meta
from bssrules.errors import BssRulesError, Conflict
from bssrules.jsontext import normalized_number

# longer values are not indexed (a filter on them finds nothing; the index stays small)
MAX_INDEXED_VALUE = 512
# nor are attributes of longer dotted paths (no filter names one: filters name the attributes
# of the TMF definitions)
MAX_INDEXED_PATH = 200
# what the store keeps of an id and of a status (the widths of its columns; a test keeps them so)
MAX_ID = 128
MAX_STATE = 40

# The characters a path segment keeps as they are (RFC 3986 pchar without "%"): an id with
# others (non-ASCII, "/", "?", "#", spaces) is percent-encoded in an href.
_SEGMENT_SAFE = "!$&'()*+,;=:@"


class KeyTaken(Conflict):
    """An insert found its key taken by another transaction: one that committed after this
    one looked, or one inserting the same key at the same time. The use case is best run
    again on a fresh transaction: its own checks then find the row."""


class PartlyStored(BssRulesError):
    """A batch written in parts failed after a part was committed: the usages of ``stored``
    ((position in the batch, usage id)) are stored and rated, the others are not. The caller
    sends the batch again with these ids (each is answered as stored, never rated twice)."""

    code = "partlyStored"

    def __init__(self, message: str, stored: list[tuple[int, str]]):
        super().__init__(message)
        self.stored = stored


def href(base: str, id: str) -> str:
    """The link of a resource: ``base`` and the id as a percent-encoded path segment, so an
    href (and a Location header) is always an ASCII URI (RFC 3986), whatever the id holds."""
    return f"{base}/{quote(id, safe=_SEGMENT_SAFE)}"


@dataclass(frozen=True)
class Stored:
    """A catalog entity with the facts the store keeps about it."""

    entity: Entity
    meta: Meta
    source: str


@dataclass(frozen=True)
class StoredResource:
    """Any TMF resource that is not the catalog: its document and the columns queries need."""

    kind: str
    id: str
    version: int
    created: dt.datetime
    last_update: dt.datetime
    document: dict[str, Any]
    state: str | None = None
    party_id: str | None = None
    partner_id: str | None = None
    external_id: str | None = None

    @property
    def shown(self) -> dict[str, Any]:
        """The document as callers see it: without ``sharedWith`` (who else may see it is internal)."""
        return {k: v for k, v in self.document.items() if k != "sharedWith"}

    def bumped(self, document: dict[str, Any], now: dt.datetime, **columns: Any) -> "StoredResource":
        return replace(self, version=self.version + 1, last_update=now, document=document, **columns)


@dataclass(frozen=True)
class StoredRuleSet:
    """The authored document of one rule set (id, version)."""

    id: str
    version: int
    kind: str
    source: str
    content_hash: str
    last_update: dt.datetime
    document: dict[str, Any]


@quick_init
@dataclass(frozen=True)
class ChargeRow:
    """One rated charge: a usage's share for one payer (``part`` numbers the shares)."""

    usage_id: str
    part: int
    subscriber: str
    billing_account: str
    payer_role: str
    service: str
    offering: str | None
    start: dt.datetime
    amount: Decimal
    currency: str
    bill_id: str | None = None
    volume: Decimal | None = None  # what its usage rated, in ``unit`` (the same on every part of one usage)
    unit: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One event's delivery to one hub, as the outbox tracks it."""

    event_id: str
    hub_id: str
    callback: str
    status: str
    attempts: int
    next_attempt: dt.datetime
    last_error: str | None
    delivered: dt.datetime | None
    document: dict[str, Any] | None = None


def entity_document(entity: Entity) -> str:
    """The canonical JSON text of an entity (stable: its hash says whether it changed)."""
    return jsontext.dumps(entity.model_dump(mode="python", by_alias=True, exclude_defaults=True), sort_keys=True)


def content_hash(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def rule_set_document(data: dict[str, Any]) -> tuple[str, str]:
    """(canonical JSON text, its hash) of an authored rule set."""
    text = jsontext.dumps(data, sort_keys=True)
    return text, content_hash(text)


def flatten(document: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, text) for each scalar leaf; list items share their list's path."""
    for key, value in document.items():
        path = f"{prefix}{key}"
        if len(path) <= MAX_INDEXED_PATH:
            yield from _leaves(path, value)


def _leaves(path: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        yield from flatten(value, path + ".")
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(path, item)
    elif value is not None:
        text = attribute_text(value)
        if len(text) <= MAX_INDEXED_VALUE:
            yield path, text


def document_attributes(document: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    """(dotted path, text) of each scalar leaf of a resource (list items share their list's
    path), links left out: they are derivable from ids and would only grow the index."""
    for key, value in document.items():
        path = f"{prefix}{key}"
        if path.endswith(("href", "@referredType")) or len(path) > MAX_INDEXED_PATH:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Mapping):
                yield from document_attributes(item, path + ".")
            elif item is not None and not isinstance(item, list):
                text = attribute_text(item)
                if len(text) <= MAX_INDEXED_VALUE:
                    yield path, text


def attribute_text(value: Any) -> str:
    """How a scalar is indexed and how a filter value must be written to match it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return normalized_number(value)
    return str(value)


# ------------------------------------------------------------------ the hot tables' records

# The largest integer a scaled column holds (a signed 64-bit integer).
MAX_SCALED = 2**63 - 1


def scaled(value: Decimal | int, at_least: int = 0) -> tuple[int, int]:
    """(integer, scale) with ``value == integer * 10**-scale`` exactly, the scale no lower than
    ``at_least`` nor than the value's own decimals: how the hot tables keep quantities."""
    exact = Decimal(value)
    exponent = exact.as_tuple().exponent
    if not isinstance(exponent, int):  # NaN or infinity: no quantity
        raise ValueError(f"{value} is not a finite quantity")
    scale = max(at_least, -exponent, 0)
    integer = int(exact.scaleb(scale))
    if abs(integer) > MAX_SCALED:
        raise ValueError(f"{value} at {scale} decimals is beyond what the store keeps exactly")
    return integer, scale


def unscaled(integer: int, scale: int) -> Decimal:
    """The exact quantity of a scaled integer."""
    return Decimal(int(integer)).scaleb(-int(scale))


@quick_init
@dataclass(frozen=True)
class StoredBucket:
    """A TMF654 bucket as the hot table keeps it: the balance exact, what rating reads in
    fields, and the rest of its TMF document."""

    id: str
    subscription: str
    unit: str
    remaining: Decimal
    floor: Decimal | None
    precedence: int
    usage_type: str | None  # None: any service
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None
    status: str
    version: int
    created: dt.datetime
    last_update: dt.datetime
    partner_id: str | None
    document: dict[str, Any]


@quick_init
@dataclass(frozen=True)
class StoredAccumulator:
    """A running total of one subscription, accumulator and period."""

    subscription: str
    accumulator: str
    period: str
    volume: Decimal
    amount: Decimal
    reached: tuple[str, ...]
    partner_id: str | None = None

    @property
    def id(self) -> str:
        return f"{self.accumulator}|{self.subscription}|{self.period}"


@quick_init
@dataclass(frozen=True)
class StoredUsage:
    """A TMF635 usage as stored, rated or rejected (``subscription`` "" when it names none)."""

    id: str
    subscription: str
    status: str
    created: dt.datetime
    partner_id: str | None
    document: dict[str, Any]


@quick_init
@dataclass(frozen=True)
class BalanceChange:
    """A bucket's balance moved by rating: from ``before`` (as read under the subscription's
    lock) to ``after``."""

    subscription: str
    bucket: str
    before: Decimal
    after: Decimal


@quick_init
@dataclass(frozen=True)
class HotState:
    """What the first round trip of a usage (or a batch) reads, its subscriptions locked: the
    usage ids already stored (any partner's), the revision of each subscription's rating
    context (a subscription without a row is absent), the catalog revision, the subscriptions'
    active buckets and the accumulators asked for."""

    usages: Mapping[str, StoredUsage]
    revisions: Mapping[str, int]
    catalog_revision: int
    buckets: tuple[StoredBucket, ...]
    accumulators: tuple[StoredAccumulator, ...]
    # the partner asked for, as it is now: (version, created in µs since the epoch); None: gone or not asked
    partner: tuple[int, int] | None = None
    # the subscriptions another transaction held, passed over by a read that does not wait
    # (nothing read for them: they are read again, waiting, once the rest is written)
    passed: frozenset[str] = frozenset()


@quick_init
@dataclass(frozen=True)
class UsageWrite:
    """What one usage writes in the second round trip: the usage, its charges, the balances
    and accumulators it moved (each with its value as read: the write is refused whole when
    one moved meanwhile), under the context revision it was rated with (None: not checked)."""

    usage: StoredUsage
    charges: tuple[ChargeRow, ...] = ()
    balances: tuple[BalanceChange, ...] = ()
    accumulators: tuple[tuple[StoredAccumulator | None, StoredAccumulator], ...] = ()  # (as read, new)
    revision: int | None = None
    new_buckets: tuple[StoredBucket, ...] = ()  # allowance buckets made now, inserted where absent (issue 15)


class ContextMoved(KeyTaken):
    """A usage's write found its subscription's context revision, a balance or a total other
    than it read: nothing was written; the use case runs again on a fresh transaction."""


def attribute_matches(document: Mapping[str, Any], filters: Mapping[str, Iterable[str]]) -> bool:
    """Whether a document meets every filter as the attribute index would answer it (a
    filter's values are alternatives; list items share their list's path)."""
    if not filters:
        return True
    found: dict[str, set[str]] = {}
    for path, text in document_attributes(document):
        found.setdefault(path, set()).add(text)
    return all(found.get(path, set()) & set(values) for path, values in filters.items())
