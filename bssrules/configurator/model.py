"""What the configurator is asked about: a basket (or order) in its context."""
from __future__ import annotations

from typing import Literal, Union

from pydantic import Field, StrictBool, StrictInt

from bssrules.catalog.model import Id, Scalar
from bssrules.catalog.types import Instant, Model

Value = Union[Scalar, list[Scalar]]
Path = tuple[Union[str, int], ...]  # a JSON path in the basket: ("items", 0, "items", 1)
ProductStatus = Literal["created", "pendingActive", "active", "pendingTerminate", "suspended", "terminated",
                        "cancelled", "aborted"]


# The most of one offering one basket item buys: a bound on what a price is multiplied by
# (a quantity of 10**30 made no price at all — a 500 — and 10**19 an absurd order total).
MAX_QUANTITY = 1_000_000


class BasketItem(Model):
    """One line of a basket: an offering, how many, the characteristic values chosen, the
    resources picked (e.g. which SIM form factor), and for a bundle its components."""

    id: str = Field(min_length=1)
    offering: Id
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    characteristics: dict[str, Value] = {}
    resources: list[Id] = []
    items: list["BasketItem"] = []


class InventoryProduct(Model):
    """A product the party already has (TMF637), as far as the rules care."""

    id: str = Field(min_length=1)
    offering: Id
    status: ProductStatus = "active"
    resources: list[Id] = []
    # the item of the request being checked that deletes the product (its path in the request:
    # ("productOrderItem", 0)): the request is judged on the inventory it leaves, without it
    deleted_by: Path | None = None


class Party(Model):
    """Facts about the buyer that rules may test."""

    id: str | None = None
    type: Literal["individual", "organization"] | None = None
    classification: str | None = None
    segment: str | None = None
    is_customer: StrictBool | None = None
    country: str | None = None
    age: StrictInt | None = None


class Caller(Model):
    """Who is asking: the CSP itself, a partner, or a customer."""

    id: str | None = None
    type: str | None = None


class Basket(Model):
    """A basket with its context: who buys, through which channel, as of when, what they
    already own, and which billing account pays each payer role."""

    items: list[BasketItem] = []
    party: Party = Party()
    channel: str | None = None
    caller: Caller = Caller()
    as_of: Instant | None = None
    inventory: list[InventoryProduct] = []
    payers: dict[str, str] = {}

    def all_items(self) -> list[tuple[Path, BasketItem, "BasketItem | None"]]:
        """(path, item, parent) of every item, bundle components included."""
        found: list[tuple[Path, BasketItem, BasketItem | None]] = []

        def walk(items: list[BasketItem], base: Path, parent: BasketItem | None) -> None:
            for i, item in enumerate(items):
                path = base + ("items", i)
                found.append((path, item, parent))
                walk(item.items, path, item)

        walk(self.items, (), None)
        return found


BasketItem.model_rebuild()
