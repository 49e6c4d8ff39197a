"""Reading authored YAML with the position of every node.

ruamel.yaml's round-trip loader keeps line and column on mappings and sequences; this
module turns a file into plain JSON-like data (dicts, lists, str, int, Decimal, bool,
None; dates become ISO strings) plus a map from JSON path to ``(line, column)`` so that
any later check can point at the exact spot in the file.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError

from bssrules.errors import Diagnostic

Path_ = tuple[str | int, ...]

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class SourceDocument:
    """One parsed YAML file: its plain data and where each path came from."""

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path_) -> tuple[int, int]:
        """(line, column), 1-based, of the deepest node of ``path`` that has a position."""
        path = tuple(path)
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (1, 1))

    def diagnostic(self, path: Path_, message: str, *, suggestion: str | None = None,
                   code: str = "invalid", at_key: bool = False) -> Diagnostic:
        """A diagnostic pointing at ``path`` in this document (at its key when ``at_key``)."""
        key_position = self.key_positions.get(tuple(path)) if at_key else None
        line, column = key_position or self.position(path)
        return Diagnostic(self.file, line, column, message, tuple(path), suggestion, code)


def _plain(node: Any, path: Path_, positions: dict[Path_, tuple[int, int]],
           key_positions: dict[Path_, tuple[int, int]]) -> Any:
    if isinstance(node, CommentedMap):
        result = {}
        for key, value in node.items():
            child = path + (str(key),)
            try:
                line, col = node.lc.value(key)
                if value is None or not isinstance(value, (CommentedMap, CommentedSeq)):
                    positions[child] = (line + 1, col + 1)
                else:
                    kline, kcol = node.lc.key(key)
                    positions[child] = (kline + 1, kcol + 1)
                kline, kcol = node.lc.key(key)
                key_positions[child] = (kline + 1, kcol + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            result[str(key)] = _plain(value, child, positions, key_positions)
        return result
    if isinstance(node, CommentedSeq):
        result_list = []
        for index, value in enumerate(node):
            child = path + (index,)
            try:
                line, col = node.lc.item(index)
                positions[child] = (line + 1, col + 1)
            except (KeyError, TypeError, AttributeError, IndexError):
                pass
            result_list.append(_plain(value, child, positions, key_positions))
        return result_list
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, Decimal):
        return node
    if isinstance(node, float):  # .inf / .nan: kept as float so that validation rejects them
        return float(node)
    if isinstance(node, dt.datetime):
        value = node if node.tzinfo else node.replace(tzinfo=dt.timezone.utc)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(node, dt.date):
        return node.isoformat()
    return str(node)


def _construct_decimal(constructor: Any, node: Any) -> Any:
    # Floats are read from their text, never through binary floating point: money is exact.
    text = node.value.replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:
        return float(constructor.construct_yaml_float(node))


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.constructor.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
    return yaml


def parse_text(text: str, file: str) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse YAML text; on a syntax error return no document and a positioned diagnostic."""
    try:
        node = _yaml().load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        return None, [Diagnostic(file, mark.line + 1, mark.column + 1,
                                 f"duplicate key: {exc.problem.strip()}", code="yamlSyntax")]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        return None, [Diagnostic(file, line, col, f"YAML syntax error: {message}", code="yamlSyntax")]
    positions: dict[Path_, tuple[int, int]] = {(): (1, 1)}
    key_positions: dict[Path_, tuple[int, int]] = {}
    data = _plain(node, (), positions, key_positions)
    return SourceDocument(file, data, positions, key_positions), []


def parse_file(path: Path, display_name: str | None = None) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse one YAML file (UTF-8)."""
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Diagnostic(name, 1, 1, f"not UTF-8 text: {exc.reason}", code="encoding")]
    return parse_text(text, name)


def yaml_files(folder: Path) -> Iterator[Path]:
    """Every YAML file under ``folder``, in a stable order (hidden folders skipped)."""
    for path in sorted(folder.rglob("*")):
        if path.suffix in YAML_SUFFIXES and path.is_file() and not any(
                part.startswith(".") for part in path.relative_to(folder).parts):
            yield path


def dump_yaml(data: Any) -> str:
    """Serialize plain data (Decimals as numbers) to block-style YAML."""
    import io

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(Decimal, lambda r, d: r.represent_scalar(
        "tag:yaml.org,2002:float", _decimal_text(d)))
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return text if "." in text else text + ".0"
