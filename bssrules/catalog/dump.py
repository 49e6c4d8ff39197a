"""Writing a catalog back to YAML in the authoring format (the inverse of the loader)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from bssrules.catalog.catalog import Catalog
from bssrules.catalog.model import CatalogFile
from bssrules.catalog.types import format_instant
from bssrules.yaml_source import dump_yaml


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return format_instant(value)
    return value


def catalog_file_data(catalog_file: CatalogFile) -> dict[str, Any]:
    """Plain data of a catalog file: camelCase keys, defaults left out, exact decimals."""
    data = catalog_file.model_dump(mode="python", by_alias=True, exclude_defaults=True)
    plain: dict[str, Any] = _plain(data)
    return plain


def dump_catalog_file(catalog_file: CatalogFile) -> str:
    """YAML text that loads back into an equal catalog file."""
    return dump_yaml(catalog_file_data(catalog_file))


def dump_catalog(catalog: Catalog) -> str:
    """The whole catalog as one YAML file."""
    return dump_catalog_file(catalog.to_file())
