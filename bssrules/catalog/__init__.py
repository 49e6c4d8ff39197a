"""The product catalog: model, YAML loading with positioned errors, checks, TMF620 shape."""
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
