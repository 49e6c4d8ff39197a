"""A bundle's product and its components (issue 15, item 2).

Completing an order of a bundle makes one product per offering; the bundle's names its
components (TMF637 ``isBundle`` and ``productRelationship`` of type ``bundled``). When the
bundle's product is terminated — by order (:mod:`bssrules.services.terminations`) or by a
merge patch of its ``status`` — each component still in force is terminated at the same
date, and each under a commitment of its own gets its own early termination charge
(:mod:`bssrules.services.commitments`), as if terminated alone: each was sold with its term,
and each charge counts only its own product's recurring prices, so nothing is counted twice.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from bssrules.catalog.types import format_instant
from bssrules.services import commitments
from bssrules.services.ports import UnitOfWork
from bssrules.services.records import StoredResource

IN_FORCE = ("active", "suspended", "pendingTerminate")
# services.resources.bump_rating_contexts, handed in (resources calls this module)
Bump = Callable[..., None]


def component_ids(document: dict[str, Any]) -> list[str]:
    """The ids a product's ``bundled`` relationships name (its components), in order, each once."""
    found: list[str] = []
    for relationship in document.get("productRelationship") or []:
        product = relationship.get("product") if isinstance(relationship, dict) \
            and relationship.get("relationshipType") == "bundled" else None
        component_id = product.get("id") if isinstance(product, dict) else None
        if isinstance(component_id, str) and component_id and component_id not in found:
            found.append(component_id)
    return found


def components(uow: UnitOfWork, document: dict[str, Any], for_update: bool = False,
               in_force: bool = True) -> list[StoredResource]:
    """The components of a bundle's product still in force (with ``in_force=False``: all of
    them, whatever their status), and theirs (a bundle of bundles), each once."""
    found: dict[str, StoredResource] = {}
    waiting = [document]
    while waiting:
        for component_id in component_ids(waiting.pop(0)):
            if component_id in found:
                continue
            stored = uow.resources.get("product", component_id, for_update=for_update)
            if stored is not None and (not in_force or stored.document.get("status") in IN_FORCE):
                found[component_id] = stored
                waiting.append(stored.document)
    return list(found.values())


def terminated(document: dict[str, Any], at: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    """The product terminated at ``at``, with its early termination charge if under commitment;
    a product that has not started by then ends as it starts (an undated termination asked
    before a future start: a product never ends before it starts, bills count from its start)."""
    ends = commitments.termination_at(document, at)
    after = dict(document, status="terminated", terminationDate=format_instant(ends))
    return commitments.on_product_change(document, after, now)


def terminate_all(uow: UnitOfWork, products: list[StoredResource], at: dt.datetime, now: dt.datetime,
                  bump: Bump) -> None:
    """Terminate each product at ``at`` (each once), with its charge."""
    for product in {p.id: p for p in products}.values():
        document = terminated(product.document, at, now)
        uow.resources.replace(product.bumped(document, now, state="terminated"))
        bump(uow, "product", product.id, product.document, document)


# services.resources' refusal to move a termination whose charge is billed (before, after), handed in
Guard = Callable[[UnitOfWork, dict[str, Any], dict[str, Any]], None]


def on_terminated(uow: UnitOfWork, before: dict[str, Any], after: dict[str, Any], now: dt.datetime,
                  bump: Bump, guard: Guard | None = None) -> None:
    """A product changed from ``before`` to ``after`` (a merge patch): if it became
    ``terminated``, its components in force are terminated at its ``terminationDate``; if its
    termination moved, or was undone, so is that of each component terminated with it (at the
    same date): each component's charge is worked out again as the bundle's is (``guard``: a
    component whose charge is billed refuses the change, as the bundle itself would)."""
    if before.get("status") == "terminated":
        _follow_correction(uow, before, after, now, bump, guard)
        return
    if after.get("status") != "terminated":
        return
    at = commitments.instant_of(after.get("terminationDate")) or now
    terminate_all(uow, components(uow, after, for_update=True), at, now, bump)


def _follow_correction(uow: UnitOfWork, before: dict[str, Any], after: dict[str, Any], now: dt.datetime,
                       bump: Bump, guard: Guard | None) -> None:
    """The components terminated with a bundle follow its corrected termination: a new date,
    or back in force with the bundle (its new status). Those terminated at another date (on
    their own) are left as they are."""
    ended = commitments.instant_of(before.get("terminationDate"))
    moved_to = commitments.instant_of(after.get("terminationDate")) if after.get("status") == "terminated" else None
    if ended is None or (after.get("status") == "terminated" and (moved_to is None or moved_to == ended)):
        return
    if after.get("status") != "terminated" and after.get("status") not in IN_FORCE:
        return
    changes: list[tuple[StoredResource, dict[str, Any]]] = []
    for component in components(uow, before, for_update=True, in_force=False):
        document = component.document
        if document.get("status") != "terminated" or commitments.instant_of(document.get("terminationDate")) != ended:
            continue
        wanted = dict(document, terminationDate=format_instant(moved_to)) if moved_to is not None \
            else dict(document, status=after["status"])
        if guard is not None:
            guard(uow, document, wanted)  # (all refused before any is written)
        changes.append((component, wanted))
    for component, wanted in changes:
        document = commitments.on_product_change(component.document, wanted, now)
        uow.resources.replace(component.bumped(document, now, state=str(document.get("status"))))
        bump(uow, "product", component.id, component.document, document)
