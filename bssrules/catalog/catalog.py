"""A whole catalog in memory: every entity by kind and id, with where it was authored."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, TypeVar, cast

from bssrules.catalog.model import (
    KINDS, CatalogFile, Category, Entity, ProductCatalog, ProductOffering, ProductOfferingPrice,
    ProductSpecification, ResourceSpecification,
)

E = TypeVar("E", bound=Entity)


@dataclass(frozen=True)
class Origin:
    """Where an entity was authored: file and 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Catalog:
    """Every entity of a catalog, by kind then id (kinds as in :data:`KINDS`)."""

    entities: dict[str, dict[str, Entity]] = field(default_factory=lambda: {k: {} for k in KINDS})
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)

    def add(self, entity: Entity, origin: Origin | None = None) -> None:
        self.entities[entity.kind][entity.id] = entity
        if origin:
            self.origins[(entity.kind, entity.id)] = origin

    def __iter__(self) -> Iterator[Entity]:
        for kind in KINDS:
            yield from self.entities[kind].values()

    def __len__(self) -> int:
        return sum(len(v) for v in self.entities.values())

    def get(self, kind: str, id: str) -> Entity | None:
        return self.entities[kind].get(id)

    def ids(self, kind: str) -> set[str]:
        return set(self.entities[kind])

    def _of(self, entity_type: type[E]) -> dict[str, E]:
        # add() files every entity under its own kind: the entities of a kind are of its type
        return cast("dict[str, E]", self.entities[entity_type.kind])

    @property
    def offerings(self) -> dict[str, ProductOffering]:
        return self._of(ProductOffering)

    @property
    def prices(self) -> dict[str, ProductOfferingPrice]:
        return self._of(ProductOfferingPrice)

    @property
    def product_specifications(self) -> dict[str, ProductSpecification]:
        return self._of(ProductSpecification)

    @property
    def resource_specifications(self) -> dict[str, ResourceSpecification]:
        return self._of(ResourceSpecification)

    @property
    def categories(self) -> dict[str, Category]:
        return self._of(Category)

    @property
    def catalogs(self) -> dict[str, ProductCatalog]:
        return self._of(ProductCatalog)

    def to_file(self) -> CatalogFile:
        """All entities as one catalog file, sorted by id (for export and round trips)."""
        return CatalogFile.model_validate({
            t.collection: sorted(self.entities[kind].values(), key=lambda e: e.id)
            for kind, t in KINDS.items()
        })

    @classmethod
    def from_file(cls, catalog_file: CatalogFile) -> "Catalog":
        catalog = cls()
        for kind, entity_type in KINDS.items():
            for entity in getattr(catalog_file, _field_name(entity_type.collection)):
                catalog.add(entity)
        return catalog


def _field_name(collection: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in collection)
