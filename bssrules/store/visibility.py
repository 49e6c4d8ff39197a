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

from sqlalchemy import ColumnElement, Select, Table, and_, false, or_, select, union

from bssrules.store.tables import rated_charge, resource, resource_attribute

PARTY_KINDS = ("individual", "organization")
BILL_KINDS = ("customerBill", "appliedCustomerBillingRate")
# where a product names the accounts that pay it
PAYING_PATHS = ("billingAccount.id", "productPrice.billingAccount.id")
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


def parties(partner: Partner) -> Select[Any]:
    """The ids of the partner's parties: those it owns, and the one it acts for."""
    party = resource.alias("its_party")
    acting = resource_attribute.alias("acting_for")
    # (correlated explicitly: a column of partners, read the other way, is the enclosing query's)
    return union(
        select(party.c.id).where(party.c.kind.in_(PARTY_KINDS), party.c.partner_id == partner)
        .correlate_except(party),
        select(acting.c.value).where(acting.c.kind == "partner", acting.c.resource_id == partner,
                                     acting.c.path == "party.id").correlate_except(acting))  # type: ignore[return-value]


def accounts(partner: Partner) -> Select[Any]:
    """The ids of the partner's billing accounts: those it owns or that are shared with it,
    and those whose related party is one of its parties."""
    account = resource.alias("its_account")
    attributes = resource_attribute.alias("its_account_attribute")
    named = resource_attribute.alias("account_party")
    of_its_parties = select(named.c.resource_id).where(named.c.kind == "billingAccount",
                                                       named.c.path == "relatedParty.id",
                                                       named.c.value.in_(parties(partner))).correlate_except(named)
    return select(account.c.id).where(account.c.kind == "billingAccount",
                                      or_(_owned(account, attributes, partner), account.c.id.in_(of_its_parties))
                                      ).correlate_except(account)


def products(partner: Partner) -> Select[Any]:
    """The ids of the partner's products: owned or shared, of its parties, or paid by its
    accounts (a price's account, or a rated usage charged to it)."""
    product = resource.alias("its_product")
    attribute = resource_attribute.alias("its_product_attribute")
    its_parties, its_accounts = parties(partner), accounts(partner)
    named = select(attribute.c.resource_id).where(attribute.c.kind == "product", or_(
        and_(attribute.c.path == "sharedWith", attribute.c.value == partner),
        and_(attribute.c.path == "relatedParty.id", attribute.c.value.in_(its_parties)),
        and_(attribute.c.path.in_(PAYING_PATHS), attribute.c.value.in_(its_accounts)))).correlate_except(attribute)
    charged = select(rated_charge.c.subscriber).where(rated_charge.c.billing_account.in_(its_accounts)
                                                      ).correlate_except(rated_charge)
    return select(product.c.id).where(product.c.kind == "product", or_(
        product.c.partner_id == partner, product.c.party_id.in_(its_parties), product.c.id.in_(named),
        product.c.id.in_(charged))).correlate_except(product)


def resources_seen(partner: Partner, kinds: Sequence[str] | None = None) -> ColumnElement[bool]:
    """The condition on the resource table of what ``partner`` sees (of ``kinds``: the
    branches of other kinds are left out, the query asks for these only)."""
    wanted = set(kinds) if kinds is not None else {"product", "billingAccount", *BILL_KINDS, *PARTY_KINDS}
    branches = [_owned(resource, resource_attribute, partner)]
    if "product" in wanted:
        branches.append(and_(resource.c.kind == "product", resource.c.id.in_(products(partner))))
    if "billingAccount" in wanted:
        branches.append(and_(resource.c.kind == "billingAccount", resource.c.id.in_(accounts(partner))))
    if wanted & set(BILL_KINDS):  # a bill and its items name their account in party_id
        branches.append(and_(resource.c.kind.in_(BILL_KINDS), resource.c.party_id.in_(accounts(partner))))
    if wanted & set(PARTY_KINDS):
        branches.append(and_(resource.c.kind.in_(PARTY_KINDS), resource.c.id.in_(parties(partner))))
    return or_(*branches)


def hot_rows_seen(table: Table, partner: Partner) -> ColumnElement[bool]:
    """The condition on a hot table (usages, buckets, running totals: keyed by the product,
    ``subscription``) of what ``partner`` sees: its own rows and those of its products."""
    if "subscription" not in table.c:
        return false()
    return or_(table.c.partner_id == partner, table.c.subscription.in_(products(partner)))


def viewers(kind: str, id: str) -> Select[Any]:
    """The ids of the partners that see the resource (``kind``, ``id``): the same rule, read
    the other way (every registered partner is tried; the operator sees everything anyway)."""
    partner = resource.alias("viewer")
    seen = select(resource.c.id).where(resource.c.kind == kind, resource.c.id == id,
                                       resources_seen(partner.c.id, (kind,)))
    return select(partner.c.id).where(partner.c.kind == "partner", seen.exists()).order_by(partner.c.id)
