"""The product catalog: specifications, offerings, prices, categories and catalogs.

- :mod:`~bssrules.catalog.types`: value types of the model (instants, validity periods,
  lifecycle statuses, amounts);
- :mod:`~bssrules.catalog.model`: the entities (pydantic, camelCase, TM Forum vocabulary);
- :mod:`~bssrules.catalog.catalog`: a whole catalog in memory, by kind and id, with where
  each entity was authored;
- :mod:`~bssrules.catalog.checks`: checks across entities (references, nesting,
  characteristic uses);
- :mod:`~bssrules.catalog.schema`: the JSON Schema of catalog files, generated from the model;
- :mod:`~bssrules.catalog.loader`: a catalog folder loaded from YAML, every problem positioned;
- :mod:`~bssrules.catalog.dump`: a catalog written back to YAML;
- :mod:`~bssrules.catalog.tmf`: entities in TMF620 shape, both ways.
"""
from bssrules.catalog.catalog import Catalog, Origin
from bssrules.catalog.loader import load_catalog, load_catalog_text
from bssrules.catalog.model import (
    KINDS, Category, Characteristic, Entity, ProductCatalog, ProductOffering, ProductOfferingPrice,
    ProductSpecification, ResourceSpecification,
)

__all__ = [
    "Catalog", "Origin", "load_catalog", "load_catalog_text", "KINDS", "Category", "Characteristic", "Entity",
    "ProductCatalog", "ProductOffering", "ProductOfferingPrice", "ProductSpecification", "ResourceSpecification",
]
