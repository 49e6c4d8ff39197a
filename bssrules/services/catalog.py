"""Use cases over a unit of work: load a catalog folder, read and change TMF620 resources.

Services take plain values and a unit of work, raise domain errors (bssrules.errors), and
know nothing of HTTP. Every change runs in one transaction: a failure leaves no trace.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.checks import Problem, characteristic_use_problems, reference_problems, referrers
from bssrules.catalog.model import (
    KINDS, Category, Entity, ProductOffering, ProductSpecification, ResourceSpecification,
)
from bssrules.catalog.tmf import DERIVED, TMF_TYPES, Meta, from_tmf, tmf_path, to_tmf
from bssrules.errors import Conflict, Forbidden, InvalidInput, NotFound, UnknownReference, format_path
from bssrules.rules.lint import rule_set_references
from bssrules.rules.loader import RuleBook
from bssrules.rules.project import Project
from bssrules.services.ports import CatalogStore, UnitOfWork
from bssrules.services.records import Stored, content_hash, entity_document, flatten, href, rule_set_document
from bssrules.services.referrers import few, referrers_text
from bssrules.services.runtime import build_runtime

TMF620_KINDS = ("catalog", "category", "productSpecification", "productOffering", "productOfferingPrice")
# A partner's view of the catalog: (partner id, its sales channels); None is the operator's.
View = tuple[str, Sequence[str]]


# Links are derivable from ids; indexing them would only grow the attribute table.
def _indexed(path: str) -> bool:
    return not (path.endswith("href") or path.endswith("@referredType"))



def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _attributes(entity: Entity, meta: Meta) -> list[tuple[str, str]]:
    document = to_tmf(entity, meta, "")
    return [(p, v) for p, v in flatten(document) if _indexed(p)]


# --------------------------------------------------------------------------------- loading


@dataclass
class LoadReport:
    """What a load changed, by (kind, id)."""

    source: str
    created: list[tuple[str, str]] = field(default_factory=list)
    updated: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    revision: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


def load_catalog(uow: UnitOfWork, catalog: Catalog, source: str, now: dt.datetime | None = None) -> LoadReport:
    """Make the stored catalog hold ``catalog`` for ``source``, in one transaction.

    New entities get version 1, changed ones the next version and a new lastUpdate,
    unchanged ones are left alone (so re-loading is idempotent); entities this source
    loaded before and no longer has are removed — unless something else still refers to
    them, in which case nothing is written and :class:`Conflict` says what.
    """
    report = LoadReport(source)
    _sync_catalog(uow, catalog, f"load:{source}", now or _now(), report)
    return _finish_load(uow, report)


def load_project(uow: UnitOfWork, project: Project, source: str, now: dt.datetime | None = None) -> LoadReport:
    """Load a checked project folder — catalog and rule sets — in one transaction, with the
    same rules as :func:`load_catalog` (rule sets are keyed by id and version)."""
    report = LoadReport(source)
    now = now or _now()
    _sync_catalog(uow, project.catalog, f"load:{source}", now, report)
    _sync_rule_sets(uow, project.rules, f"load:{source}", now, report)
    return _finish_load(uow, report)


def _finish_load(uow: UnitOfWork, report: LoadReport) -> LoadReport:
    repo = uow.catalog
    report.revision = repo.next_revision() if report.changed else repo.revision()
    uow.commit()
    return report


def _sync_catalog(uow: UnitOfWork, catalog: Catalog, owner: str, now: dt.datetime, report: LoadReport) -> None:
    repo = uow.catalog
    existing = repo.hashes()
    incoming = {(e.kind, e.id): e for e in catalog}
    new_rows = []
    for key, entity in sorted(incoming.items()):
        digest = content_hash(entity_document(entity))
        if key not in existing:
            meta = Meta(1, now)
            new_rows.append((entity, meta, owner, _attributes(entity, meta)))
            report.created.append(key)
        elif existing[key][0] != digest:
            meta = Meta(existing[key][2] + 1, now)
            repo.replace(entity, meta, owner, _attributes(entity, meta))
            report.updated.append(key)
        else:
            if existing[key][1] != owner:
                repo.set_source(*key, owner)  # the content is the same: version and lastUpdate stay
            report.unchanged.append(key)
    repo.insert_many(new_rows)
    removed = []
    for key, (_, entity_source, _) in sorted(existing.items()):
        if entity_source == owner and key not in incoming:
            repo.delete(*key)
            removed.append(key)
    report.removed += removed
    if removed:
        remaining = [s.entity for s in repo.all()]
        dangling = sorted({(r, k) for k in removed for r in referrers(remaining, *k)})
        if dangling:
            raise Conflict("the load would remove entities that others still refer to: " + "; ".join(
                f"{r[0]} '{r[1]}' refers to {k[0]} '{k[1]}'" for r, k in dangling))


def _sync_rule_sets(uow: UnitOfWork, rules: RuleBook, owner: str, now: dt.datetime, report: LoadReport) -> None:

    repo = uow.rule_sets
    existing = {(r.id, r.version): r for r in repo.all()}
    incoming = {(c.id, c.definition.version): c for c in rules}
    for key, compiled in sorted(incoming.items()):
        data = compiled.definition.model_dump(mode="python", by_alias=True, exclude_defaults=True)
        data["kind"] = compiled.kind  # a default of no rule set: always stored
        _, digest = rule_set_document(data)
        stored = existing.get(key)
        label = ("ruleSet", f"{key[0]}@{key[1]}")
        if stored is None:
            repo.put(*key, compiled.kind, owner, data, now, exists=False)
            report.created.append(label)
        elif stored.content_hash != digest:
            repo.put(*key, compiled.kind, owner, data, now, exists=True)
            report.updated.append(label)
        else:
            if stored.source != owner:
                repo.set_source(*key, owner)
            report.unchanged.append(label)
    for key, stored in sorted(existing.items()):
        if stored.source == owner and key not in incoming:
            repo.delete(*key)
            report.removed.append(("ruleSet", f"{key[0]}@{key[1]}"))


# --------------------------------------------------------------------------------- reading


def _derived(repo: CatalogStore, entity: Entity, base: str) -> dict[str, Any]:
    if entity.kind != "category":
        return {}
    derived: dict[str, Any] = {}
    offerings = repo.ids_with("productOffering", "category.id", entity.id)
    if offerings:
        derived["productOffering"] = [{"id": i, "href": href(f"{base}/productOffering", i)} for i in offerings]
    children = repo.ids_with("category", "parentId", entity.id)
    if children:
        derived["subCategory"] = [{"id": i, "href": href(f"{base}/category", i)} for i in children]
    return derived


def _render(repo: CatalogStore, stored: Stored, base: str, view: View | None = None) -> dict[str, Any]:
    derived = _derived(repo, stored.entity, base)
    if view is not None and derived.get("productOffering"):  # a partner's view lists what it may see
        derived["productOffering"] = [r for r in derived["productOffering"]
                                      if repo.is_visible("productOffering", r["id"], *view)]
        if not derived["productOffering"]:
            del derived["productOffering"]
    return to_tmf(stored.entity, stored.meta, base, derived)


def partner_view(uow: UnitOfWork) -> tuple[str, list[str]] | None:
    """(partner, its channels) when a partner asks; None for the operator."""
    principal = getattr(uow, "principal", None)
    if principal is None or principal.is_admin:
        return None
    stored = uow.resources.get("partner", principal.id)
    return principal.id, list(stored.document.get("channel", [])) if stored else []


def _visible(uow: UnitOfWork, kind: str, id: str) -> Stored | None:
    stored = uow.catalog.get(kind, id)
    view = partner_view(uow)
    if stored is not None and view is not None and not uow.catalog.is_visible(kind, id, *view):
        return None  # another partner's offering does not exist for this one
    return stored


def _own(uow: UnitOfWork, kind: str, stored: Stored) -> None:
    view = partner_view(uow)
    if view is not None and stored.source != f"partner:{view[0]}":
        raise Forbidden(f"{TMF_TYPES[kind]} '{stored.entity.id}' is not yours to change: a partner changes only "
                        "what it created")


def get_resource(uow: UnitOfWork, kind: str, id: str, base: str) -> dict[str, Any]:
    """The TMF620 representation of one resource, or :class:`NotFound`."""
    stored = _visible(uow, kind, id)
    if stored is None:
        raise NotFound(TMF_TYPES[kind], id)
    return _render(uow.catalog, stored, base, partner_view(uow))


def list_resources(uow: UnitOfWork, kind: str, filters: Mapping[str, Sequence[str]], offset: int, limit: int,
                   base: str) -> tuple[list[dict[str, Any]], int]:
    """One page of resources matching the attribute filters, and how many match in all (a
    partner sees the offerings that are partner-eligible, its own, and its channels')."""
    view = partner_view(uow)
    stored, total = uow.catalog.page(kind, filters, offset, limit, view)
    return [_render(uow.catalog, s, base, view) for s in stored], total


# --------------------------------------------------------------------------------- changing


def _known_ids(repo: CatalogStore, entity: Entity, view: View | None = None) -> Callable[[str], set[str]]:
    """Known ids for checking ``entity``'s references: the referenced ones that exist, and
    every id of a kind only when one is missing (for the "did you mean")."""
    wanted: dict[str, set[str]] = {}
    for _, kind, id in entity.refs():
        wanted.setdefault(kind, set()).add(id)
    cache: dict[str, set[str]] = {}

    def known(kind: str) -> set[str]:
        if kind not in cache:
            found = repo.existing(kind, wanted.get(kind, ()))
            if view is not None and kind == "productOffering":  # a partner refers only to what it may see
                found = {i for i in found if repo.is_visible(kind, i, *view)}
            cache[kind] = found if found >= wanted.get(kind, set()) else (
                found if view is not None and kind == "productOffering" else repo.ids(kind))
        return cache[kind]

    return known


def _check_references(repo: CatalogStore, entity: Entity, view: View | None = None) -> None:
    problems = reference_problems(entity, _known_ids(repo, entity, view))
    if isinstance(entity, ProductOffering) and entity.characteristic_uses and entity.product_specification:
        spec = repo.get("productSpecification", entity.product_specification)
        if isinstance(spec, Stored) and isinstance(spec.entity, ProductSpecification):
            problems += characteristic_use_problems(entity, spec.entity.characteristics)
    problems += _cycle_problems(repo, entity)
    if problems:
        details = [(f"{tmf_path(p.path)}: " if p.path else "") + p.message
                   + (f" (did you mean '{p.suggestion}'?)" if p.suggestion else "") for p in problems]
        raise UnknownReference("; ".join(details), details=details)


def _children(entity: Entity) -> list[str]:
    # each kind is one entity class (its ``kind`` is a class variable)
    if isinstance(entity, ProductOffering):
        return [b.offering for b in entity.bundle]
    if isinstance(entity, ResourceSpecification):
        return list(entity.children)
    if isinstance(entity, Category):
        return [entity.parent] if entity.parent else []
    return []


def _cycle_problems(repo: CatalogStore, entity: Entity) -> list[Problem]:
    seen: set[str] = set()
    todo = list(_children(entity))
    while todo:
        current = todo.pop()
        if current == entity.id:
            return [Problem(entity.kind, entity.id, (), f"{entity.kind} '{entity.id}' would contain itself",
                            code="cycle")]
        if current in seen:
            continue
        seen.add(current)
        stored = repo.get(entity.kind, current)
        if stored:
            todo.extend(_children(stored.entity))
    return []


def create_resource(uow: UnitOfWork, kind: str, body: dict[str, Any], base: str) -> dict[str, Any]:
    """Create a resource from a TMF620 create body (an ``id`` may be given; else one is made)."""
    if isinstance(body, dict) and not body.get("id"):
        body = {**body, "id": str(uuid.uuid4())}
    entity = from_tmf(kind, body)
    repo = uow.catalog
    if repo.get(kind, entity.id) is not None:
        raise Conflict(f"a {TMF_TYPES[kind]} with id '{entity.id}' already exists")
    _check_references(repo, entity, partner_view(uow))
    meta = Meta(1, _now())
    view = partner_view(uow)
    source = f"partner:{view[0]}" if view else "api"  # what a partner creates stays its own
    repo.insert(entity, meta, source, _attributes(entity, meta))
    repo.next_revision()
    result = _render(repo, Stored(entity, meta, source), base)
    uow.commit()
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def patch_resource(uow: UnitOfWork, kind: str, id: str, patch: dict[str, Any], base: str) -> dict[str, Any]:
    """Apply a merge patch; the result is validated like a create. A no-op keeps the version."""
    repo = uow.catalog
    stored = repo.get(kind, id, for_update=True)
    if stored is None or _visible(uow, kind, id) is None:
        raise NotFound(TMF_TYPES[kind], id)
    _own(uow, kind, stored)
    if not isinstance(patch, dict):
        raise InvalidInput("a merge patch must be a JSON object")
    if "id" in patch and patch["id"] != id:
        raise InvalidInput("the id of a resource cannot be changed", path=("id",))
    shown = _render(repo, stored, base)
    changed_derived = sorted(k for k in DERIVED.get(kind, set()) & set(patch)
                             if _ids(patch[k]) != _ids(shown.get(k)))
    if changed_derived:
        raise InvalidInput(f"{', '.join(changed_derived)} cannot be patched: derived from other resources "
                           "(set membership on the offering's category, or the child category's parentId)",
                           path=(changed_derived[0],))
    patch = {k: v for k, v in patch.items() if k not in DERIVED.get(kind, set())}
    current = to_tmf(stored.entity, stored.meta, base)
    current.pop("isRoot", None)  # derived from parentId, which the patch may change
    entity = from_tmf(kind, merge_patch(current, patch))
    if entity == stored.entity:
        return _render(repo, stored, base)
    _check_references(repo, entity, partner_view(uow))
    meta = Meta(stored.meta.version + 1, _now())
    repo.replace(entity, meta, stored.source, _attributes(entity, meta))
    repo.next_revision()
    result = _render(repo, Stored(entity, meta, stored.source), base)
    uow.commit()
    return result


def _ids(references: Any) -> object:
    """The ids of a list of references (what identifies them; href and name may be left out);
    anything else as it is (only compared)."""
    if not isinstance(references, list):
        return references
    return sorted(str(r.get("id")) if isinstance(r, dict) else str(r) for r in references)


# Where the inventory names catalog items by id: a product bought from an offering (its bill
# reads the offering's prices, rating its usage prices) and of a specification.
INVENTORY_REFERENCES = {"productOffering": "productOffering.id", "productSpecification": "productSpecification.id"}


def _rule_sets_naming(rules: RuleBook, kind: str, id: str) -> list[str]:
    """Where the stored rule sets name a catalog item (a prerequisite, a discount's target …),
    as ``rule set 'x' v1 at $.rules[0].target.offering and …``: a rule set naming an item
    that is gone would be refused at load, and in the database it would test for what cannot
    exist."""
    places: dict[tuple[str, int], set[str]] = {}
    for compiled in rules:
        for path, named_kind, named_id in rule_set_references(compiled.definition, compiled):
            if named_kind == kind and named_id == id:
                places.setdefault((compiled.id, compiled.definition.version), set()).add(format_path(path))
    return [f"rule set '{rule_set}' v{version} at {' and '.join(sorted(paths))}"
            for (rule_set, version), paths in sorted(places.items())]


# Where an order's items name their offering: a bundle's components are items of its item.
_ORDER_OFFERING_PATHS = ("productOrderItem.productOffering.id", "productOrderItem.productOrderItem.productOffering.id")
# The states of an order that can still be completed (those services.orders moves on from:
# its TRANSITIONS' keys, which a test holds this to; not imported: orders imports this module's
# neighbours, and an import would close a cycle).
OPEN_ORDER_STATES = frozenset({"acknowledged", "inProgress"})


def _open_orders_naming(uow: UnitOfWork, offering: str) -> list[tuple[str, str]]:
    """(kind, id) of the orders not yet completed, failed or cancelled that order the
    offering: completing one re-validates it against the catalog of then, and would fail for
    an offering that is gone — the delete is refused instead, while they are open."""
    named = {pair for path in _ORDER_OFFERING_PATHS
             for pair in uow.resources.referring(("productOrder",), path, offering)}
    open_ = []
    for kind, order_id in sorted(named):
        stored = uow.resources.get(kind, order_id)
        if stored is not None and stored.state in OPEN_ORDER_STATES:
            open_.append((kind, order_id))
    return open_


def delete_resource(uow: UnitOfWork, kind: str, id: str, rules: RuleBook | None = None) -> None:
    """Delete a resource nothing refers to — no other catalog item, no product of the
    inventory, no open order (an offering), no stored rule set (``rules``: those of the database, read when not given);
    otherwise :class:`Conflict` names the referrers, and nothing is deleted."""
    repo = uow.catalog
    stored = repo.get(kind, id, for_update=True)
    if stored is None or _visible(uow, kind, id) is None:
        raise NotFound(TMF_TYPES[kind], id)
    _own(uow, kind, stored)
    problems = []
    users = referrers([s.entity for s in repo.all()], kind, id)
    if users:
        problems.append(", ".join(f"{TMF_TYPES[k]} '{i}'" for k, i in users))
    if kind in INVENTORY_REFERENCES:
        products = uow.resources.referring(("product",), INVENTORY_REFERENCES[kind], id)
        if products:
            problems.append(referrers_text(uow, products, {"product": "Product"}))
    if kind == "productOffering":
        orders = _open_orders_naming(uow, id)
        if orders:
            problems.append(referrers_text(uow, orders, {"productOrder": "open ProductOrder"}))
    in_rules = _rule_sets_naming(rules if rules is not None else build_runtime(uow).rules, kind, id)
    if in_rules:
        problems.append(few(in_rules))
    if problems:
        raise Conflict(f"{TMF_TYPES[kind]} '{id}' is still referred to by " + "; ".join(problems))
    repo.delete(kind, id)
    repo.next_revision()
    uow.commit()


def stored_catalog(uow: UnitOfWork) -> Catalog:
    """The whole stored catalog as one in-memory :class:`Catalog`."""
    catalog = Catalog()
    for stored in uow.catalog.all():
        catalog.add(stored.entity)
    return catalog


__all__ = [
    "LoadReport", "load_catalog", "load_project", "get_resource", "list_resources", "create_resource", "patch_resource",
    "delete_resource", "merge_patch", "stored_catalog", "TMF620_KINDS", "KINDS",
]
