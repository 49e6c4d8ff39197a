"""What a partner sees: the one rule every read of the store applies, as SQL conditions.

A partner sees

* what it **owns** (it made it, or it was made for it: ``partner_id``) and what is **shared**
  with it (``sharedWith``: a ticket it opened or is assigned, an SLA it is a party to, a
  settlement note it pays or is paid, the product of an offering it created);
* **its parties**: the individuals and organizations it owns, and the party it acts for
  (a partner registered for a customer names it: ``party.id``, e.g. a driver reading her
  own bill);
* **its accounts**: the billing accounts it owns, and those whose ``relatedParty`` names
  one of its parties;
* **its products**: those it owns or that are shared with it, those of its parties (the
  order's customer, or any ``relatedParty``), and those it pays for — a product whose
  ``billingAccount`` or a price's ``billingAccount`` is one of its accounts, or whose rated
  usage was charged to one of them — whoever placed the order;
* the **usages, buckets and running totals** of its products (and those it owns);
* the **bills and bill items** of its accounts (and those it owns or that are shared with it).

What it only sees — it pays for it, or it is its customer's, but another owns it — it may
read and use (name it in a filter, query its consumption, aggregate its usage) but not
change: :func:`may_change` tells, and the repositories refuse the change (403).

Everything else is another partner's: it is simply not there (a 404 that does not leak).
The operator (no scope) sees everything. Read the other way, the same rule says who sees a
resource (:func:`viewers`): the partners its events are sent to.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence, Union

from sqlalchemy import ColumnElement, CompoundSelect, Select, Table, and_, false, or_, select, union, union_all

from bssrules.store.tables import rated_charge, resource, resource_attribute

PARTY_KINDS = ("individual", "organization")
BILL_KINDS = ("customerBill", "appliedCustomerBillingRate")
# where a product names the accounts that pay it
# (a price shared between payers names each one's account in payerShares: services.orders)
PAYING_PATHS = ("billingAccount.id", "productPrice.billingAccount.id",
                "productPrice.payerShares.billingAccount.id")
# A partner's id, or a column of partner ids (the rule read the other way: :func:`viewers`).
Partner = Union[str, ColumnElement[Any]]


def owns(partner: str, partner_id: str | None, document: Mapping[str, Any]) -> bool:
    """Whether a row seen by ``partner`` is its own or shared with it (it may change it)."""
    shared = document.get("sharedWith")
    return partner_id == partner or (isinstance(shared, list) and partner in shared)


def _owned(table: Any, attributes: Any, partner: Partner) -> ColumnElement[bool]:
    """Owned by ``partner`` or shared with it, on ``table`` (the resource table or an alias)."""
    shared = select(attributes.c.resource_id).where(attributes.c.kind == table.c.kind,
                                                    attributes.c.path == "sharedWith",
                                                    attributes.c.value == partner).correlate_except(attributes)
    return or_(table.c.partner_id == partner, table.c.id.in_(shared))


def parties(partner: Partner) -> CompoundSelect[Any]:
    """The ids of the partner's parties: those it owns, and the one it acts for."""
    party = resource.alias("its_party")
    acting = resource_attribute.alias("acting_for")
    # (correlated explicitly: a column of partners, read the other way, is the enclosing query's)
    return union(
        select(party.c.id).where(party.c.kind.in_(PARTY_KINDS), party.c.partner_id == partner)
        .correlate_except(party),
        select(acting.c.value).where(acting.c.kind == "partner", acting.c.resource_id == partner,
                                     acting.c.path == "party.id").correlate_except(acting))


def accounts(partner: Partner) -> CompoundSelect[Any]:
    """The ids of the partner's billing accounts: those it owns or that are shared with it,
    and those whose related party is one of its parties."""
    account = resource.alias("its_account")
    shared = resource_attribute.alias("shared_account")
    named = resource_attribute.alias("account_party")
    # each part an indexed lookup (the attribute index: kind, path, value), none a scan of
    # every account but the first (no index on the owner)
    return union_all(
        select(account.c.id).where(account.c.kind == "billingAccount", account.c.partner_id == partner)
        .correlate_except(account),
        select(shared.c.resource_id).where(shared.c.kind == "billingAccount", shared.c.path == "sharedWith",
                                           shared.c.value == partner).correlate_except(shared),
        select(named.c.resource_id).where(named.c.kind == "billingAccount", named.c.path == "relatedParty.id",
                                          named.c.value.in_(parties(partner))).correlate_except(named))


def related_products(partner: Partner) -> CompoundSelect[Any]:
    """The ids of the products the partner sees without owning them or being shared them:
    of its parties (the order's customer, or any related party) or paid by its accounts (a
    price's account, or a rated usage charged to one). Each part an indexed lookup: the
    cost follows the partner's products, not the inventory."""
    customer = resource.alias("its_customers_product")
    named = resource_attribute.alias("its_party_product")
    paying = resource_attribute.alias("its_paid_product")
    return union_all(
        select(customer.c.id).where(customer.c.kind == "product", customer.c.party_id.in_(parties(partner)))
        .correlate_except(customer),
        select(named.c.resource_id).where(named.c.kind == "product", named.c.path == "relatedParty.id",
                                          named.c.value.in_(parties(partner))).correlate_except(named),
        select(paying.c.resource_id).where(paying.c.kind == "product", paying.c.path.in_(PAYING_PATHS),
                                           paying.c.value.in_(accounts(partner))).correlate_except(paying),
        select(rated_charge.c.subscriber).where(rated_charge.c.billing_account.in_(accounts(partner)))
        .correlate_except(rated_charge))


def resources_seen(partner: Partner, kinds: Sequence[str] | None = None) -> ColumnElement[bool]:
    """The condition on the resource table of what ``partner`` sees (of ``kinds``: the
    branches of other kinds are left out, the query asks for these only)."""
    wanted = set(kinds) if kinds is not None else {"product", "billingAccount", *BILL_KINDS, *PARTY_KINDS}
    branches = [_owned(resource, resource_attribute, partner)]
    if "product" in wanted:
        branches.append(and_(resource.c.kind == "product", resource.c.id.in_(related_products(partner))))
    if "billingAccount" in wanted:
        branches.append(and_(resource.c.kind == "billingAccount", resource.c.id.in_(accounts(partner))))
    if wanted & set(BILL_KINDS):  # a bill and its items name their account in party_id
        branches.append(and_(resource.c.kind.in_(BILL_KINDS), resource.c.party_id.in_(accounts(partner))))
    if wanted & set(PARTY_KINDS):
        branches.append(and_(resource.c.kind.in_(PARTY_KINDS), resource.c.id.in_(parties(partner))))
    return or_(*branches)


def hot_rows_seen(table: Table, partner: Partner) -> ColumnElement[bool]:
    """The condition on a hot table (usages, buckets, running totals: keyed by the product,
    ``subscription``) of what ``partner`` sees: its own rows (a row is its product's owner's)
    and those of the products it sees otherwise (a product shared with it, of its parties, or
    paid by its accounts)."""
    if "subscription" not in table.c:
        return false()
    shared = resource_attribute.alias("shared_product")
    shared_with = select(shared.c.resource_id).where(shared.c.kind == "product", shared.c.path == "sharedWith",
                                                     shared.c.value == partner).correlate_except(shared)
    return or_(table.c.partner_id == partner, table.c.subscription.in_(related_products(partner)),
               table.c.subscription.in_(shared_with))


# ------------------------------------------------------- the same rule, for one row at a time
#
# Retrieving one resource (or a product's usages, buckets and totals) asks the rule of one
# row: each test below is an indexed probe keyed by the row (its id, its party, its
# accounts), so the cost does not follow how much the partner sees — where the sets above,
# built from the partner's side, suit the lists. Both say the same:
# tests/api/test_partner_visibility.py holds every partner's lists to its one-by-one reads.


def _is_party_of(partner: Partner, party_id: ColumnElement[Any]) -> ColumnElement[bool]:
    party = resource.alias("is_its_party")
    acting = resource_attribute.alias("is_acting_for")
    return or_(
        select(party.c.id).where(party.c.kind.in_(PARTY_KINDS), party.c.id == party_id,
                                 party.c.partner_id == partner).correlate_except(party).exists(),
        select(acting.c.value).where(acting.c.kind == "partner", acting.c.resource_id == partner,
                                     acting.c.path == "party.id", acting.c.value == party_id)
        .correlate_except(acting).exists())


def _shared(table: Any, kind: str, partner: Partner) -> ColumnElement[bool]:
    shared = resource_attribute.alias(f"is_shared_{kind}")
    return select(shared.c.resource_id).where(shared.c.kind == kind, shared.c.resource_id == table.c.id,
                                              shared.c.path == "sharedWith", shared.c.value == partner
                                              ).correlate_except(shared).exists()


def _account_row(account: Any, partner: Partner) -> ColumnElement[bool]:
    named = resource_attribute.alias("is_account_party")
    return or_(account.c.partner_id == partner, _shared(account, "billingAccount", partner),
               select(named.c.resource_id).where(named.c.kind == "billingAccount",
                                                 named.c.resource_id == account.c.id,
                                                 named.c.path == "relatedParty.id",
                                                 _is_party_of(partner, named.c.value)).correlate_except(named).exists())


def _is_account_of(partner: Partner, account_id: ColumnElement[Any]) -> ColumnElement[bool]:
    account = resource.alias("is_its_account")
    return select(account.c.id).where(account.c.kind == "billingAccount", account.c.id == account_id,
                                      _account_row(account, partner)).correlate_except(account).exists()


def _product_row(product: Any, partner: Partner) -> ColumnElement[bool]:
    attribute = resource_attribute.alias("is_product_attribute")
    charge = rated_charge.alias("is_product_charge")
    return or_(
        product.c.partner_id == partner, _shared(product, "product", partner), _is_party_of(partner, product.c.party_id),
        select(attribute.c.resource_id).where(attribute.c.kind == "product", attribute.c.resource_id == product.c.id,
                                              or_(and_(attribute.c.path == "relatedParty.id",
                                                       _is_party_of(partner, attribute.c.value)),
                                                  and_(attribute.c.path.in_(PAYING_PATHS),
                                                       _is_account_of(partner, attribute.c.value))))
        .correlate_except(attribute).exists(),
        select(charge.c.billing_account).where(charge.c.subscriber == product.c.id,
                                               _is_account_of(partner, charge.c.billing_account))
        .correlate_except(charge).exists())


def resource_row_seen(partner: Partner, kind: str) -> ColumnElement[bool]:
    """The condition, on one row of the resource table of ``kind``, that ``partner`` sees it."""
    if kind == "product":
        return _product_row(resource, partner)
    if kind == "billingAccount":
        return _account_row(resource, partner)
    owned = _owned(resource, resource_attribute, partner)
    if kind in BILL_KINDS:
        return or_(owned, _is_account_of(partner, resource.c.party_id))
    if kind in PARTY_KINDS:
        return or_(owned, _is_party_of(partner, resource.c.id))
    return owned


def hot_row_seen(table: Table, partner: Partner) -> ColumnElement[bool]:
    """The condition, on a few rows of a hot table (one usage, one bucket, one product's
    totals), that ``partner`` sees them: its own, or of a product it sees."""
    product = resource.alias("is_its_product")
    return or_(table.c.partner_id == partner,
               select(product.c.id).where(product.c.kind == "product", product.c.id == table.c.subscription,
                                          _product_row(product, partner)).correlate_except(product).exists())


def viewers(kind: str, id: str) -> Select[Any]:
    """The ids of the partners that see the resource (``kind``, ``id``): the same rule, read
    the other way (every registered partner is tried; the operator sees everything anyway)."""
    partner = resource.alias("viewer")
    seen = select(resource.c.id).where(resource.c.kind == kind, resource.c.id == id,
                                       resources_seen(partner.c.id, (kind,)))
    return select(partner.c.id).where(partner.c.kind == "partner", seen.exists()).order_by(partner.c.id)
