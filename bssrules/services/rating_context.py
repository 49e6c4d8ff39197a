"""A subscription's rating context, and the per-worker cache of it.

What rating needs to know of a subscription besides its balances — the product (status,
dates, offering, owner), the party's class and effective offerings, the payer of each role
— lives in the generic document tables and takes several statements to gather. It changes
rarely, so each worker keeps it, keyed by the subscription's *context revision*: a counter
of the ``subscription`` row that every change of the inventory, a party or an account that
may alter the context moves on, in the transaction of that change
(:meth:`~bssrules.services.ports.OnlineStore.bump`).

A usage reads the revision with its subscription locked (round trip 1): the context used is
the one of that revision, loaded again when the worker's copy is of another one, so a stale
context is never used; the write (round trip 2) checks the revision once more. The cache is
only a cache: a worker that loses it loads again, and nothing in it is not in the database.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Sequence

from bssrules.catalog.types import parse_instant
from bssrules.pricing.rating import DEFAULT_PAYER
from bssrules.pricing.usage import Subscriber
from bssrules.services.ports import UnitOfWork
from bssrules.services.records import StoredResource
from bssrules.services.party_facts import classification_of
from bssrules.services.resources import values_at
from bssrules.services.runtime import Runtime, RuntimeCache

EFFECTIVE = ("active", "pendingTerminate")


@dataclass(frozen=True)
class RatingContext:
    """A subscription as rating sees it: its product (None: not in the caller's inventory)
    and who it belongs to and who pays (the split billing rule set is chosen per usage, by
    its date)."""

    product: StoredResource | None
    subscriber: Subscriber | None
    # the party's products that ended (terminated, with a terminationDate): (their offerings,
    # start, end) — a late usage of a time they were in force counts them as effective
    ended: tuple[tuple[tuple[str, ...], dt.datetime | None, dt.datetime], ...] = ()

    def offerings_ended_after(self, at: dt.datetime) -> frozenset[str]:
        """The offerings of the party's ended products that were in force at ``at`` and are
        not among its effective ones now: what a usage of that time counts besides them."""
        if not self.ended or self.subscriber is None:
            return frozenset()
        found = {offering for offerings, start, end in self.ended if (start is None or start <= at) and at < end
                 for offering in offerings}
        return frozenset(found.difference(self.subscriber.active_offerings))


def _instant(value: Any) -> dt.datetime | None:
    """A product's date as an instant (a date is its start of day in UTC), else None."""
    try:
        parsed = parse_instant(value) if value else None
    except (ValueError, TypeError):
        return None
    return parsed if isinstance(parsed, dt.datetime) else None


def load_context(uow: UnitOfWork, product_id: str) -> RatingContext:
    """Read a subscription's context from the document tables (the caller's view)."""
    product = uow.resources.get("product", product_id)
    if product is None:
        return RatingContext(None, None)
    party, owned = None, None
    if product.party_id:
        party = uow.resources.get("individual", product.party_id) or \
            uow.resources.get("organization", product.party_id)
        owned = uow.resources.find("product", {"relatedParty.id": [product.party_id]}, 1000)
    payers: dict[str, str] = {}
    for related in product.document.get("relatedParty") or []:
        role, party_id = (related.get("role"), related.get("id")) if isinstance(related, dict) else (None, None)
        if role and party_id and role not in payers:
            accounts = uow.resources.find("billingAccount", {"relatedParty.id": [party_id]}, 1)
            if accounts:
                payers[role] = accounts[0].id
    return _context(product, party, owned, payers)


def _context(product: StoredResource, party: StoredResource | None, owned: list[StoredResource] | None,
             payers: dict[str, str]) -> RatingContext:
    """A context from what was read: the product, its party (None: none, or not found), the
    party's products (None: the product names no party) and the payer roles' accounts."""
    # read as the configurator reads it (services.party_facts), so both see one classification
    classification = classification_of(party.document) if party is not None else None
    active: set[str] = set()
    ended = []
    for mine in owned or ():
        status = mine.document.get("status")
        if status in EFFECTIVE:
            active.update(values_at(mine.document, "productOffering.id"))
        elif status == "terminated":
            end = _instant(mine.document.get("terminationDate"))
            if end is not None:
                ended.append((tuple(values_at(mine.document, "productOffering.id")),
                              _instant(mine.document.get("startDate")), end))
    account = values_at(product.document, "billingAccount.id")
    if account and DEFAULT_PAYER not in payers:
        payers[DEFAULT_PAYER] = account[0]
    offering = values_at(product.document, "productOffering.id")
    return RatingContext(product, Subscriber(product.id, product.party_id, classification,
                                             offering[0] if offering else None, tuple(sorted(active)), payers),
                         tuple(ended))

# what one statement of load_contexts may hold before it is read party by party instead
_OWNED_PER_PARTY = 1000


def _related(product: StoredResource) -> list[tuple[str, str]] | None:
    """(role, party id) of a product's related parties, in order; None when one is not plain
    text (such a product is read alone, as :func:`load_context` reads it)."""
    found = []
    for related in product.document.get("relatedParty") or []:
        role, party_id = (related.get("role"), related.get("id")) if isinstance(related, dict) else (None, None)
        if role and party_id:
            if not isinstance(role, str) or not isinstance(party_id, str):
                return None
            found.append((role, party_id))
    return found


def load_contexts(uow: UnitOfWork, product_ids: Sequence[str]) -> dict[str, RatingContext]:
    """The contexts of several subscriptions, each the one :func:`load_context` reads, in a
    few statements whatever their number: the products, their parties, the parties'
    products (the effective offerings) and the billing accounts of the payer roles — so a
    batch reads the contexts it lacks together, once."""
    wanted = sorted({p for p in product_ids if isinstance(p, str)})
    products = {p.id: p for p in uow.resources.get_many("product", wanted)}
    alone = {p for p, product in products.items()
             if _related(product) is None or (product.party_id is not None and not isinstance(product.party_id, str))}
    party_ids = sorted({p.party_id for i, p in products.items() if p.party_id and i not in alone})
    parties = {p.id: p for p in uow.resources.get_many("individual", party_ids)}
    others = [p for p in party_ids if p not in parties]
    if others:
        parties.update({p.id: p for p in uow.resources.get_many("organization", others)})
    owned: dict[str, list[StoredResource]] = {}
    if party_ids:
        limit = _OWNED_PER_PARTY * len(party_ids)
        found = uow.resources.find("product", {"relatedParty.id": party_ids}, limit)
        if len(found) >= limit:  # (cannot tell whether each party got its first thousand): one by one
            alone.update(i for i, p in products.items() if p.party_id)
        asked = set(party_ids)
        for candidate in found:  # in id order
            for party_id in {v for v in values_at(candidate.document, "relatedParty.id") if v in asked}:
                owned.setdefault(party_id, []).append(candidate)
    related = sorted({party_id for i, p in products.items() if i not in alone for _, party_id in _related(p) or ()})
    first_account: dict[str, str] = {}
    if related:
        accounts = uow.resources.find("billingAccount", {"relatedParty.id": related}, 10_000)
        if len(accounts) >= 10_000:
            alone.update(products)
        asked = set(related)
        for account in accounts:  # in id order: the first of each party is the one load_context takes
            for party_id in values_at(account.document, "relatedParty.id"):
                if party_id in asked:
                    first_account.setdefault(party_id, account.id)
    contexts: dict[str, RatingContext] = {}
    for product_id in wanted:
        product = products.get(product_id)
        if product is None:
            contexts[product_id] = RatingContext(None, None)
        elif product_id in alone:
            contexts[product_id] = load_context(uow, product_id)
        else:
            party = parties.get(product.party_id) if product.party_id else None
            mine = owned.get(product.party_id, [])[:_OWNED_PER_PARTY] if product.party_id else None
            payers = {}
            for role, party_id in _related(product) or ():
                if role not in payers and party_id in first_account:
                    payers[role] = first_account[party_id]
            contexts[product_id] = _context(product, party, mine, payers)
    return contexts


class ContextCache:
    """Rating contexts of one worker, by (caller's scope, subscription), each with the context
    and catalog revisions it was read at; the least recently used are let go past ``size``.
    It also remembers the last decision runtime, so that a usage learns whether the catalog
    moved on from its own first round trip instead of a statement of its own."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str | None, str], tuple[int, int, RatingContext]] = OrderedDict()
        self._lock = threading.Lock()
        self.runtime: Runtime | None = None
        self.loads = 0  # contexts read from the document tables (a figure for tests and benchmarks)

    def runtime_for(self, uow: UnitOfWork, runtimes: RuntimeCache, revision: int | None = None) -> Runtime:
        """The last runtime when it is of ``revision`` (or none is asked), else a current one."""
        current = self.runtime
        if current is None or (revision is not None and current.revision != revision):
            current = self.runtime = runtimes.get(uow)
        return current

    def get(self, scope: str | None, subscription: str, revision: int, catalog_revision: int) -> RatingContext | None:
        with self._lock:
            found = self._entries.get((scope, subscription))
            if found is None or found[0] != revision or found[1] != catalog_revision:
                return None
            self._entries.move_to_end((scope, subscription))
            return found[2]

    def put(self, scope: str | None, subscription: str, revision: int, catalog_revision: int,
            context: RatingContext) -> None:
        with self._lock:
            self.loads += 1
            self._entries[(scope, subscription)] = (revision, catalog_revision, context)
            self._entries.move_to_end((scope, subscription))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.runtime = None

    def __len__(self) -> int:
        return len(self._entries)


def context_key(uow: UnitOfWork) -> Any:
    """Whose view a context is: a partner sees only its own inventory."""
    return uow.resources.scope
