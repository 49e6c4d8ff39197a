"""What a use case may touch: the unit of work and its repositories, as typed ports.

Every use case takes a :class:`UnitOfWork` (one transaction and the repositories that share
it) and, when it decides or rates, the worker's :class:`~bssrules.services.runtime.Runtime`.
The store (:mod:`bssrules.store`) is the one adapter that implements these ports on
SQLAlchemy; tests and other hosts may bring their own. Nothing here knows SQL or HTTP.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ContextManager, Iterable, Mapping, Protocol, Sequence

from bssrules.catalog.model import Entity
from bssrules.catalog.tmf import Meta
from bssrules.services.records import (
    ChargeRow, Delivery, HotState, Stored, StoredAccumulator, StoredBucket, StoredResource, StoredRuleSet, StoredUsage,
    UsageWrite,
)

Attributes = Iterable[tuple[str, str]]


@dataclass(frozen=True)
class Principal:
    """Who is calling: a partner (scoped to its own data) or an admin (sees everything)."""

    id: str
    role: str
    bundle: tuple[tuple[str, frozenset[str]], ...] = ()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may(self, api: str, operation: str) -> bool:
        if self.is_admin:
            return True
        return any(name == api and operation in operations for name, operations in self.bundle)


ADMIN = Principal("admin", "admin")


@dataclass
class PartyContextRows:
    """What :meth:`ResourceStore.party_context` read of a basket's parties: the party's kind
    and document (None: no such party in the caller's view), whether a customer record
    engages it, its products as (id, document) in id order, and payer party id -> its first
    billing account."""

    party_kind: str | None
    party_document: dict[str, Any] | None
    is_customer: bool
    products: list[tuple[str, dict[str, Any]]]
    accounts: dict[str, str]


class CatalogStore(Protocol):
    """The TMF620 catalog entities, their attribute index and the catalog revision."""

    def get(self, kind: str, id: str, *, for_update: bool = False) -> Stored | None: ...
    def hashes(self, kind: str | None = None) -> dict[tuple[str, str], tuple[str, str, int]]: ...
    def existing(self, kind: str, ids: Iterable[str]) -> set[str]: ...
    def ids(self, kind: str) -> set[str]: ...
    def all(self, kind: str | None = None) -> list[Stored]: ...
    def ids_with(self, kind: str, path: str, value: str) -> list[str]: ...
    def is_visible(self, kind: str, id: str, partner: str, channels: Sequence[str]) -> bool: ...
    def page(self, kind: str, filters: Mapping[str, Sequence[str]], offset: int, limit: int,
             visible_to: tuple[str, Sequence[str]] | None = None) -> tuple[list[Stored], int]: ...
    def insert(self, entity: Entity, meta: Meta, source: str, attributes: Attributes) -> None: ...
    def insert_many(self, items: Sequence[tuple[Entity, Meta, str, Attributes]]) -> None: ...
    def replace(self, entity: Entity, meta: Meta, source: str, attributes: Attributes) -> None: ...
    def set_source(self, kind: str, id: str, source: str) -> None: ...
    def delete(self, kind: str, id: str) -> None: ...
    def next_revision(self) -> int: ...
    def revision(self) -> int: ...


class RuleSetStore(Protocol):
    """The authored rule sets, by (id, version)."""

    def all(self) -> list[StoredRuleSet]: ...
    def put(self, id: str, version: int, kind: str, source: str, data: dict[str, Any], now: dt.datetime,
            exists: bool) -> None: ...
    def set_source(self, id: str, version: int, source: str) -> None: ...
    def delete(self, id: str, version: int) -> None: ...


class ResourceStore(Protocol):
    """Every other TMF resource (parties, accounts, orders, inventory, buckets, …), scoped to
    the caller's partner unless it is the operator's view."""

    @property
    def scope(self) -> str | None:
        """The partner whose view this is (None: every partner's)."""

    def get(self, kind: str, id: str, *, for_update: bool = False) -> StoredResource | None: ...
    def get_many(self, kind: str, ids: Sequence[str]) -> list[StoredResource]: ...
    def by_external_id(self, kind: str, external_id: str) -> StoredResource | None: ...
    def exists(self, kinds: Sequence[str], id: str) -> bool: ...
    def ids(self, kinds: Sequence[str]) -> set[str]: ...
    def referring(self, kinds: Sequence[str], path: str, id: str) -> list[tuple[str, str]]: ...
    def find(self, kind: str, filters: Mapping[str, Sequence[str]], limit: int = 10_000) -> list[StoredResource]: ...
    def page(self, kind: str, filters: Mapping[str, Sequence[str]], offset: int, limit: int,
             party_id: str | None = None) -> tuple[list[StoredResource], int]: ...
    def party_context(self, party_id: str | None, payers: Sequence[str], products: int = 1000
                      ) -> PartyContextRows:
        """In one read: the party (individual, else organization), whether a customer record
        engages it, its products (``relatedParty.id``, at most ``products``, by id), and the
        first billing account (by id) naming each payer party; as get / find would read
        them. An id that is not text (or too long to be stored) names nothing."""
    def taken(self, kind: str, id: str) -> bool: ...
    def viewers(self, kind: str, id: str) -> list[str]:
        """The partners that see this resource, by the one visibility rule (whatever the scope):
        those its events go to."""
    def insert(self, stored: StoredResource) -> None: ...
    def replace(self, stored: StoredResource) -> None: ...
    def delete(self, kind: str, id: str) -> None: ...


class ChargeStore(Protocol):
    """Rated charges: added by rating, summed for reports, claimed by bill runs."""

    def add(self, rows: Iterable[ChargeRow]) -> None: ...
    def totals(self, *, billing_accounts: Sequence[str] | None = None, subscribers: Sequence[str] | None = None,
               start: dt.datetime | None = None, end: dt.datetime | None = None,
               by: Sequence[str] = ("currency",)) -> list[dict[str, Any]]: ...
    def volumes(self, *, billing_accounts: Sequence[str] | None = None, subscribers: Sequence[str] | None = None,
                start: dt.datetime | None = None, end: dt.datetime | None = None,
                by: Sequence[str] = ("currency",)) -> list[dict[str, Any]]:
        """The volume the charged usages rated per unit ({unit, volume} and the ``by`` columns),
        each usage counted once in a group."""
    def unbilled(self, billing_account: str, start: dt.datetime, end: dt.datetime) -> list[ChargeRow]: ...
    def accounts_with_unbilled(self, start: dt.datetime, end: dt.datetime) -> list[str]: ...
    def lock_bill_runs(self) -> None: ...
    def billed_accounts(self, usage_ids: Sequence[str]) -> dict[str, set[str]]: ...
    def mark_billed(self, rows: Iterable[ChargeRow], bill_id: str) -> None: ...


class UsageStore(Protocol):
    """The hot tables as the TMF APIs read and write them outside rating (usages, buckets,
    running totals), scoped to the caller's partner like the resources."""

    def usage(self, id: str) -> StoredUsage | None: ...
    def usages(self, filters: Mapping[str, Sequence[str]], offset: int, limit: int
               ) -> tuple[list[StoredUsage], int]: ...
    def bucket(self, id: str, *, for_update: bool = False) -> StoredBucket | None: ...
    def bucket_taken(self, id: str) -> bool:
        """Whether any partner holds a bucket with this id."""
    def buckets(self, filters: Mapping[str, Sequence[str]], offset: int, limit: int
                ) -> tuple[list[StoredBucket], int]: ...
    def add_bucket(self, stored: StoredBucket) -> None: ...
    def delete_bucket(self, subscription: str, id: str) -> None: ...
    def accumulators(self, subscription: str) -> list[StoredAccumulator]: ...


class OnlineStore(Protocol):
    """Online rating's two round trips, and the rating-context revisions of subscriptions."""

    def read(self, usage_ids: Sequence[str], subscriptions: Sequence[str],
             accumulators: Sequence[tuple[str, str, str]], partner: str | None = None,
             since: Mapping[str, dt.datetime] | None = None, skip_locked: bool = False) -> HotState:
        """Lock the subscriptions (their rows, in id order; ``skip_locked``: those another
        transaction holds passed over, :attr:`HotState.passed`) and read the usage ids already
        stored, their active buckets (those that can serve a usage from ``since``, per
        subscription, and each allowance's newest before), the (subscription, accumulator,
        period) totals asked for, their context revisions and the catalog revision (and
        ``partner``'s version and creation)."""
    def save(self, writes: Sequence[UsageWrite], now: dt.datetime, *, commit: bool) -> None:
        """Write all or nothing (and commit, with ``commit``); raises ``KeyTaken`` for a usage
        id stored meanwhile, ``ContextMoved`` when a revision, balance or total is not as read."""
    def bump(self, *, products: Sequence[str] = (), parties: Sequence[str] = (),
             accounts: Sequence[str] = ()) -> None:
        """Move on the context revision of these products, of every product related to these
        parties and of every product these accounts pay for (in the caller's transaction)."""
    def revision(self, product: str) -> int | None: ...


class OutboxStore(Protocol):
    """Events to notify and their deliveries to each subscribed hub, sent in order per hub."""

    def add(self, event_id: str, event_type: str, api: str, partner_id: str | None, created: dt.datetime,
            document: dict[str, Any], hubs: Sequence[tuple[str, str]]) -> None: ...
    def claim_due(self, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[tuple[Delivery, dt.datetime]]:
        """The pending deliveries due now that head their hub (no earlier event of the hub is
        pending), leased for ``lease``; each with the instant its retries count from."""
    def drop_pending(self, hub_id: str) -> None: ...
    def record(self, item: Delivery, status: str, attempts: int, next_attempt: dt.datetime, error: str | None,
               delivered: dt.datetime | None) -> None: ...
    def get(self, event_id: str, hub_id: str) -> Delivery | None: ...
    def requeue(self, hub_id: str, now: dt.datetime, *, event_id: str | None = None,
                since: dt.datetime | None = None, statuses: Sequence[str] = ("failed",)) -> list[str]:
        """Deliveries to a hub made pending again, due ``now``: their event ids, in sending order."""
    def of_hubs(self, hub_ids: Sequence[str], status: str | None, offset: int, limit: int) -> list[Delivery]: ...


class UnitOfWork(Protocol):
    """One transaction and the repositories that share it; nothing is kept unless
    :meth:`commit` is called (leaving the ``with`` block rolls back)."""

    # read-only properties: an adapter may hold any implementation of each port
    @property
    def principal(self) -> Principal | None:
        """Who is calling (None: the operator's own tools, which see everything)."""
    @property
    def catalog(self) -> CatalogStore: ...
    @property
    def rule_sets(self) -> RuleSetStore: ...
    @property
    def resources(self) -> ResourceStore:
        """The caller's view: a partner sees only its own resources (and those shared with it)."""
    @property
    def all_resources(self) -> ResourceStore:
        """Every partner's resources: for the operator's own work (deliveries, settlement),
        never to answer a partner's read."""
    @property
    def charges(self) -> ChargeStore: ...
    @property
    def outbox(self) -> OutboxStore: ...
    @property
    def usages(self) -> UsageStore:
        """Usages, buckets and accumulators: the caller's view, like :attr:`resources`."""
    @property
    def online(self) -> OnlineStore:
        """Online rating's hot path and the context revisions (not scoped: rating checks whose
        the subscription is through :attr:`resources`)."""

    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens a unit of work for a caller: ``with open_unit_of_work(principal) as uow: …``.

    The HTTP layer is handed one of these (it never builds a store itself)."""

    def __call__(self, principal: Principal | None = None) -> ContextManager[UnitOfWork]: ...
