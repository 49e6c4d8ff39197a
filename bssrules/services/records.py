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
from bssrules.catalog.model import Entity
from bssrules.catalog.tmf import Meta
from bssrules.errors import Conflict
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
