"""Reading authored YAML with the position of every node.

ruamel.yaml's composer (C-accelerated) gives every node its line and column; this
module turns a file into plain JSON-like data (dicts, lists, str, int, Decimal, bool,
None; dates become ISO strings) plus a map from JSON path to ``(line, column)`` so that
any later check can point at the exact spot in the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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
                   code: str = "invalid", at_key: bool = False, severity: str = "error") -> Diagnostic:
        """A diagnostic pointing at ``path`` in this document (at its key when ``at_key``)."""
        key_position = self.key_positions.get(tuple(path)) if at_key else None
        line, column = key_position or self.position(path)
        return Diagnostic(self.file, line, column, message, tuple(path), suggestion, code, severity)


_TAG = "tag:yaml.org,2002:"


class _DuplicateKey(Exception):
    def __init__(self, key: str, first: Any, again: Any):
        self.key, self.first, self.again = key, first, again


def _scalar(node: Node) -> Any:
    """The value of a scalar node (any node that is neither a mapping nor a sequence)."""
    tag, text = node.tag, node.value
    if tag == _TAG + "null":
        return None
    if tag == _TAG + "bool":
        return text.lower() == "true"
    if tag == _TAG + "int":
        digits = text.replace("_", "")
        sign = -1 if digits.startswith("-") else 1
        body = digits.lstrip("+-")
        if body.startswith(("0x", "0X")):
            return sign * int(body[2:], 16)
        if body.startswith(("0o", "0O")):
            return sign * int(body[2:], 8)
        return int(digits)
    if tag == _TAG + "float":
        # Read from the text, never through binary floating point: money is exact.
        try:
            value = Decimal(text.replace("_", ""))
        except ArithmeticError:
            value = None
        if value is None or not value.is_finite():
            return float(text.replace(".", "", 1)) if text.lower().lstrip("+-") in (".inf", ".nan") else text
        return value
    if tag == _TAG + "timestamp":
        return _timestamp(text)
    return text


def _timestamp(text: str) -> str:
    # Kept as written: a field that wants an instant parses it (and checks the calendar);
    # free text that happens to look like a date is left alone.
    return text


def _mapping_pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    """Key/value pairs with YAML merge keys (<<) expanded; explicit keys win over merged ones."""
    pairs: list[tuple[Node, Node]] = []
    merged: list[tuple[Node, Node]] = []
    for key, value in node.value:
        if key.tag == _TAG + "merge":
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                if isinstance(source, MappingNode):
                    merged.extend(_mapping_pairs(source))
        else:
            pairs.append((key, value))
    explicit = {k.value for k, _ in pairs if isinstance(k, ScalarNode)}
    return [(k, v) for k, v in merged if k.value not in explicit] + pairs


def _plain(node: Node, path: Path_, positions: dict[Path_, tuple[int, int]],
           key_positions: dict[Path_, tuple[int, int]]) -> Any:
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        first_keys: dict[str, Node] = {}
        for key_node, value_node in _mapping_pairs(node):
            key = str(_scalar(key_node)) if isinstance(key_node, ScalarNode) else str(key_node.value)
            if key in first_keys and first_keys[key] is not key_node:
                raise _DuplicateKey(key, first_keys[key], key_node)
            first_keys[key] = key_node
            child = path + (key,)
            key_mark = key_node.start_mark
            key_positions[child] = (key_mark.line + 1, key_mark.column + 1)
            if isinstance(value_node, ScalarNode):
                mark = value_node.start_mark
                positions[child] = (mark.line + 1, mark.column + 1)
            else:
                positions[child] = key_positions[child]
            result[key] = _plain(value_node, child, positions, key_positions)
        return result
    if isinstance(node, SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = path + (index,)
            mark = item.start_mark
            positions[child] = (mark.line + 1, mark.column + 1)
            items.append(_plain(item, child, positions, key_positions))
        return items
    return _scalar(node)


def _compose(text: str) -> Node | None:
    # The C-accelerated composer first: parsing is most of a catalog load, and positions
    # come with every node (start_mark). libyaml is stricter than YAML 1.2 in a few corners
    # (a ':' inside a plain scalar in a flow mapping): the pure composer decides those, and
    # its error is the one reported.
    node: Node | None
    try:
        node = YAML(typ="safe", pure=False).compose(text)
    except MarkedYAMLError:
        node = YAML(typ="safe", pure=True).compose(text)
    return node


def parse_text(text: str, file: str) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse YAML text; on a syntax error return no document and a positioned diagnostic."""
    try:
        node = _compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        return None, [Diagnostic(file, line, col, f"YAML syntax error: {message}", code="yamlSyntax")]
    positions: dict[Path_, tuple[int, int]] = {(): (1, 1)}
    key_positions: dict[Path_, tuple[int, int]] = {}
    if node is None:
        return SourceDocument(file, None, positions, key_positions), []
    try:
        data = _plain(node, (), positions, key_positions)
    except _DuplicateKey as dup:
        mark, first = dup.again.start_mark, dup.first.start_mark
        return None, [Diagnostic(file, mark.line + 1, mark.column + 1,
                                 f"duplicate key '{dup.key}' (first at line {first.line + 1})", code="yamlSyntax")]
    except RecursionError:
        return None, [Diagnostic(file, 1, 1, "YAML nested too deeply (or a recursive alias)", code="yamlSyntax")]
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
    yaml.representer.ignore_aliases = lambda *_: True  # equal values, not shared objects: no anchors
    yaml.representer.add_representer(Decimal, _represent_decimal)
    yaml.representer.add_representer(str, _represent_str)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _represent_decimal(representer: Any, value: Decimal) -> Any:
    # Written as the digits it has: 9.90 stays 9.90, 1000 stays 1000 (read back as that number).
    text = format(value, "f")
    return representer.represent_scalar("tag:yaml.org,2002:" + ("float" if "." in text else "int"), text)


_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(representer: Any, value: str) -> Any:
    # YAML reads NEL and the Unicode line separators as line breaks in plain and single-quoted
    # scalars: write such text double-quoted, where they are escaped.
    if any(ch in value for ch in _LINE_BREAKS) or any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        return representer.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return representer.represent_str(value)
