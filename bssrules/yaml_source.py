"""Reading authored YAML with the position of every node.

The events of ruamel.yaml's C parser give every node its line and column (the composer
takes over for anchors, aliases, merge keys, tags and errors); this module turns a file
into plain JSON-like data (dicts, lists, str, int, Decimal, bool, None; dates stay as
written) plus a map from JSON path to ``(line, column)`` so that any later check can point
at the exact spot in the file. A repeated key is reported and the rest of the file read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.events import (
    MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent, StreamEndEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import implicit_resolvers

CParser: Any
try:  # ruamel.yaml.clib's parser, installed with ruamel.yaml on CPython
    from ruamel.yaml import cyaml

    CParser = getattr(cyaml, "CParser")
except ImportError:  # pragma: no cover - the composer reads everything then
    CParser = None

from bssrules.errors import Diagnostic

Path_ = tuple[str | int, ...]

YAML_SUFFIXES = (".yaml", ".yml")
# How deep mappings and lists may nest in a file: far beyond any catalog, rule or facts file
# (a rule's condition at its deepest is some 70 levels), and well within what the checks'
# walks of the data can take.
MAX_DEPTH = 100


class SourceDocument:
    """One parsed YAML file: its plain data and where each path came from.

    Positions are looked for only when asked for (a valid file never needs them): a
    document read without them reads its text again, once, the first time."""

    # Whether the text may hold a backslash escape, the only way YAML writes NUL or a lone
    # surrogate (parse_text refuses them written as is): False lets a check skip its walk.
    may_hold_escapes: bool = True

    def __init__(self, file: str, data: Any, positions: dict[Path_, tuple[int, int]] | None = None,
                 key_positions: dict[Path_, tuple[int, int]] | None = None, text: str | None = None,
                 aliases: dict[Path_, tuple[tuple[int, int], Path_]] | None = None):
        self.file, self.data = file, data
        self._positions, self._key_positions, self._text = positions, key_positions, text
        # Where each alias (*name) is used, by the path it gives a value to (the value, and the
        # positions inside it, are the anchor's): an error inside an anchor is said once.
        self.aliases = aliases or {}

    def alias_use(self, path: Path_) -> tuple[tuple[int, int], Path_] | None:
        """Where the alias is used whose value ``path`` is in, and the same path in the
        anchor (None: not in an alias's value)."""
        if not self.aliases:
            return None
        path = tuple(path)
        for end in range(1, len(path) + 1):
            if path[:end] in self.aliases:
                used, anchor = self.aliases[path[:end]]
                return used, anchor + path[end:]
        return None

    @property
    def positions(self) -> dict[Path_, tuple[int, int]]:
        """(line, column) of every node by path (of a mapping's value: of its key, when it is
        not a scalar)."""
        if self._positions is None:
            self._locate()
        assert self._positions is not None
        return self._positions

    @property
    def key_positions(self) -> dict[Path_, tuple[int, int]]:
        """(line, column) of the key of every mapping entry, by the entry's path."""
        if self._key_positions is None:
            self._locate()
        assert self._key_positions is not None
        return self._key_positions

    def _locate(self) -> None:
        reading = _Reading(self.file)
        if self._text is not None:
            _read_events(self._text, reading, located=True)  # it was read so once already
        self._positions, self._key_positions = reading.positions, reading.key_positions

    def written_at(self, line: int, column: int) -> str | None:
        """The plain token written at (line, column), 1-based: up to a space, ``,``, ``:``,
        a bracket or the end of the line (None: the text is not kept, or no token is there)."""
        if self._text is None:
            return None
        lines = self._text.split("\n", line)
        if line < 1 or line > len(lines):
            return None
        token = re.match(r"[^\s,:\[\]{}]+", lines[line - 1][column - 1:]) if column >= 1 else None
        return token.group() if token else None

    def position(self, path: Path_) -> tuple[int, int]:
        """(line, column), 1-based, of the deepest node of ``path`` that has a position."""
        path = tuple(path)
        positions = self.positions
        while path:
            if path in positions:
                return positions[path]
            path = path[:-1]
        return positions.get((), (1, 1))

    def diagnostic(self, path: Path_, message: str, *, suggestion: str | None = None,
                   code: str = "invalid", at_key: bool = False, severity: str = "error") -> Diagnostic:
        """A diagnostic pointing at ``path`` in this document (at its key when ``at_key``)."""
        key_position = self.key_positions.get(tuple(path)) if at_key else None
        line, column = key_position or self.position(path)
        return Diagnostic(self.file, line, column, message, tuple(path), suggestion, code, severity)


_TAG = "tag:yaml.org,2002:"
_STR, _MERGE = _TAG + "str", _TAG + "merge"


def _value(tag: Any, text: str) -> Any:
    """The value of a scalar of a resolved tag (any tag but the core ones leaves the text)."""
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
    # Timestamps are kept as written: a field that wants an instant parses it (and checks
    # the calendar); free text that happens to look like a date is left alone.
    return text


def _scalar(node: Node) -> Any:
    """The value of a scalar node (any node that is neither a mapping nor a sequence)."""
    return _value(node.tag, node.value)


def _mapping_pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    """Key/value pairs with YAML merge keys (<<) expanded; explicit keys win over merged ones."""
    pairs: list[tuple[Node, Node]] = []
    merged: list[tuple[Node, Node]] = []
    for key, value in node.value:
        if key.tag == _MERGE:
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                if isinstance(source, MappingNode):
                    merged.extend(_mapping_pairs(source))
        else:
            pairs.append((key, value))
    explicit = {k.value for k, _ in pairs if isinstance(k, ScalarNode)}
    return [(k, v) for k, v in merged if k.value not in explicit] + pairs


@dataclass
class _Reading:
    """What reading one document collects besides its data."""

    file: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=lambda: {(): (1, 1)})
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[Diagnostic] = field(default_factory=list)
    text: str = ""  # the document's (a key that is a list or a mapping is named as written)
    aliases: dict[Path_, tuple[tuple[int, int], Path_]] = field(default_factory=dict)  # see SourceDocument.aliases
    seen: dict[int, Path_] = field(default_factory=dict)  # node (by id) -> its first path: an alias is seen again
    nodes: int = 0  # the nodes of the plain data so far (aliases counted each time they are used)

    def duplicate(self, key: str, line: int, column: int, first_line: int) -> None:
        # Reported once, at the repeated key; the first value is kept and the rest of the
        # file is read and checked as usual (the repeated value is not).
        self.duplicates.append(Diagnostic(self.file, line, column, f"duplicate key '{key}' (first at line "
                                          f"{first_line})", code="yamlSyntax"))

    def aside(self) -> "_Reading":
        """Where the value of a repeated key is read to: its positions are not the document's."""
        return _Reading(self.file, duplicates=self.duplicates, text=self.text)

    def written(self, node: Node) -> str:
        """A node as written in the document, on one line: ``[a, b]``."""
        start, end = node.start_mark.index, node.end_mark.index
        return " ".join(self.text[start:end].split()) if isinstance(start, int) and isinstance(end, int) else "?"


class _TooDeep(Exception):
    """A mapping or list nested deeper than :data:`MAX_DEPTH`, starting at ``mark``."""

    def __init__(self, mark: Any):
        super().__init__("too deep")
        self.mark = mark

    def diagnostic(self, file: str) -> Diagnostic:
        return Diagnostic(file, self.mark.line + 1, self.mark.column + 1,
                          f"YAML nested too deeply: mappings and lists may hold one another at most {MAX_DEPTH} "
                          "deep", code="yamlSyntax")


# What may stand between two items of a list and an alias (*name) as the next item.
_ALIAS_ITEM = re.compile(r"(?:[\s,\[-]|#[^\n]*)*(\*)[^\s,\[\]{}]+")


def _line_column(text: str, index: int) -> tuple[int, int]:
    """(line, column), 1-based, of a character of ``text``."""
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


class _TooMuch(_TooDeep):
    """Aliases that repeat values holding aliases themselves ("billion laughs"): the plain
    data would hold more than :data:`MAX_NODES_PER_CHARACTER` nodes per character of text."""

    def diagnostic(self, file: str) -> Diagnostic:
        return Diagnostic(file, self.mark.line + 1, self.mark.column + 1,
                          "YAML aliases (*name) repeat this value too many times: the file would expand to more "
                          f"than {MAX_NODES_PER_CHARACTER} values per character written; write the values out "
                          "instead of nesting aliases", code="yamlSyntax")


# Written out, a value takes at least a character or two: an alias repeats a value (a merge
# key a few fields) without much more; beyond this, aliases nest aliases and the data grows
# exponentially with the text (a few hundred bytes can stand for billions of values).
MAX_NODES_PER_CHARACTER = 10


def _plain(node: Node, path: Path_, reading: _Reading, depth: int = 1) -> Any:
    positions, key_positions = reading.positions, reading.key_positions
    if depth > MAX_DEPTH and isinstance(node, (MappingNode, SequenceNode)):
        raise _TooDeep(node.start_mark)
    reading.nodes += 1
    if reading.nodes > MAX_NODES_PER_CHARACTER * len(reading.text) + 10_000:
        raise _TooMuch(node.start_mark)
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        first_keys: dict[str, Node] = {}
        for key_node, value_node in _mapping_pairs(node):
            key = str(_scalar(key_node)) if isinstance(key_node, ScalarNode) else reading.written(key_node)
            key_mark = key_node.start_mark
            if key in first_keys:
                if first_keys[key] is not key_node:
                    reading.duplicate(key, key_mark.line + 1, key_mark.column + 1,
                                      first_keys[key].start_mark.line + 1)
                    _plain(value_node, path + (key,), reading.aside(), depth + 1)
                continue
            first_keys[key] = key_node
            child = path + (key,)
            key_positions[child] = (key_mark.line + 1, key_mark.column + 1)
            mark = value_node.start_mark
            anchor = reading.seen.setdefault(id(value_node), child)
            if anchor != child:  # an alias (*a): the node it names, written earlier, at the anchor
                merged = (key_mark.line, key_mark.column) < (node.start_mark.line, node.start_mark.column)
                # used where its key is written (merged in by <<: where the mapping is)
                reading.aliases[child] = (positions.get(path, (1, 1)) if merged else key_positions[child], anchor)
            # An alias's scalar is the node it names, written earlier: its position is its key's.
            if isinstance(value_node, ScalarNode) and (mark.line, mark.column) > (key_mark.line, key_mark.column):
                positions[child] = (mark.line + 1, mark.column + 1)
            else:
                positions[child] = key_positions[child]
            result[key] = _plain(value_node, child, reading, depth + 1)
        return result
    if isinstance(node, SequenceNode):
        items = []
        # Where the text after the previous item starts: an alias's node is the anchor's, its
        # marks the anchor's; the alias itself (*a) is the next token written.
        cursor = node.start_mark.index if isinstance(node.start_mark.index, int) else None
        for index, item in enumerate(node.value):
            child = path + (index,)
            mark = item.start_mark
            positions[child] = (mark.line + 1, mark.column + 1)
            anchor = reading.seen.setdefault(id(item), child)
            if anchor != child:  # an alias as an item (- *a): used where it is written, else where its list is
                written = _ALIAS_ITEM.match(reading.text, cursor) if cursor is not None else None
                cursor = written.end() if written else None
                reading.aliases[child] = (_line_column(reading.text, written.start(1)) if written
                                          else positions.get(path, (1, 1)), anchor)
            else:
                cursor = item.end_mark.index if isinstance(item.end_mark.index, int) else None
            items.append(_plain(item, child, reading, depth + 1))
        return items
    return _scalar(node)


def _compose(text: str) -> Node | None:
    # The C-accelerated composer first; libyaml is stricter than YAML 1.2 in a few corners
    # (a ':' inside a plain scalar in a flow mapping): the pure composer decides those, and
    # its error is the one reported.
    node: Node | None
    _within_depth(text)  # the composers recurse, the C one until it crashes the process
    try:
        node = YAML(typ="safe", pure=False).compose(text)
    except MarkedYAMLError:
        node = YAML(typ="safe", pure=True).compose(text)
    return node


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_text(text: str, file: str, located: bool = False) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse YAML text; on a syntax error return no document and a positioned diagnostic.

    A repeated key is reported (at the repetition) without losing the document: the first
    value is kept, and everything else in the file is read as usual. The positions of the
    nodes are read when first asked for, or at once when ``located`` (they will be)."""
    reading = _Reading(file)
    surrogate = _SURROGATE.search(text)
    if surrogate:  # no YAML reader takes it (the C one cannot even encode it): said as the others
        return None, [_not_allowed(file, text, surrogate.start(), ord(surrogate.group()))]
    try:
        try:
            data = _read_events(text, reading, located)
            if not located:
                return _escapes(SourceDocument(file, data, text=text), text), []
        except _Repeated:  # a repeated key is reported with the line of the first: read with positions
            data = _read_events(text, reading, located=True)
    except _TooDeep as exc:
        return None, [exc.diagnostic(file)]
    except _Unusual:
        reading = _Reading(file, text=text)
        try:
            node = _compose(text)
        except _TooDeep as exc:
            return None, [exc.diagnostic(file)]
        except MarkedYAMLError as exc:
            unclosed = _unclosed_flow(exc)
            if unclosed is not None:
                return None, [Diagnostic(file, *unclosed, code="yamlSyntax")]
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            return None, [Diagnostic(file, line, col, f"YAML syntax error: {_syntax_message(exc, text, mark)}",
                                     code="yamlSyntax")]
        except ReaderError as exc:  # a character YAML does not allow, written as is (NUL, a control)
            return None, [_unacceptable(file, text, exc)]
        except RecursionError:
            return None, [Diagnostic(file, 1, 1, "YAML nested too deeply (or a recursive alias)", code="yamlSyntax")]
        if node is not None:
            reading.positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
        try:
            data = None if node is None else _plain(node, (), reading)
        except _TooDeep as exc:
            return None, [exc.diagnostic(file)]
        except RecursionError:
            return None, [Diagnostic(file, 1, 1, "YAML nested too deeply (or a recursive alias)", code="yamlSyntax")]
    return _escapes(SourceDocument(file, data, reading.positions, reading.key_positions, text=text,
                                   aliases=reading.aliases),
                    text), reading.duplicates


def said_once(diagnostics: Iterable[Diagnostic], document: Callable[[str], "SourceDocument | None"]
              ) -> list[Diagnostic]:
    """Each diagnostic once, in the order found. An error inside an anchor (``&a``) is found
    once more for each alias (``*a``) using it: it is said once, at the anchor, with the lines
    of the aliases, and the help (a suggestion) of any of its findings. An error that only
    the use makes (the anchored value is right where it is written) stays at the alias.
    ``document``: the parsed file of a diagnostic's file name (None: not known, or no alias)."""
    groups: dict[Diagnostic, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        groups.setdefault(diagnostic, []).append(diagnostic)
    docs: dict[str, SourceDocument | None] = {}

    def doc_of(file: str) -> SourceDocument | None:
        if file not in docs:
            docs[file] = document(file)
        return docs[file]

    # Per group: its findings in place, and the uses of the aliases among its findings.
    own: dict[Diagnostic, list[Diagnostic]] = {}
    uses: dict[Diagnostic, list[tuple[tuple[int, int], Diagnostic]]] = {}
    for first, same in groups.items():
        doc = doc_of(first.file)
        if doc is None or not doc.aliases:
            continue
        for d in same:
            use = doc.alias_use(d.path)
            if use is None:
                own.setdefault(first, []).append(d)
            else:
                uses.setdefault(first, []).append((use[0], d))
    if not uses:
        return list(groups)
    # An alias's scalar is said where it is used: folded into the same error at its anchor.
    in_place = {(d.file, tuple(d.path), d.message): first for first, found in own.items() for d in found}
    folded: set[Diagnostic] = set()
    for first, found in list(uses.items()):
        if first in own:
            continue
        doc = doc_of(first.file)
        assert doc is not None
        anchors = {in_place.get((d.file, doc.alias_use(d.path)[1], d.message)) for _, d in found}  # type: ignore[index]
        target = anchors.pop() if len(anchors) == 1 else None
        if target is not None:
            uses.setdefault(target, []).extend(found)
            folded.add(first)
    said: list[Diagnostic] = []
    for first in groups:
        if first in folded:
            continue
        if first not in own and first in uses:  # made by the use alone: said where the alias is
            (line, column), _ = min(uses[first], key=lambda u: u[0])
            said.append(replace(first, line=line, column=column))
            continue
        if first not in own or first not in uses:
            said.append(first)
            continue
        kept = own[first][0]
        lines = list(dict.fromkeys(str(line) for (line, _), _ in sorted(uses[first], key=lambda u: u[0])))
        count = len({position for position, _ in uses[first]})
        where = f"line{'s' if len(lines) > 1 else ''} {', '.join(lines)}"
        helped = kept.suggestion or next((d.suggestion for _, d in uses[first] if d.suggestion), None)
        said.append(replace(kept, message=f"in an anchor used by {count} alias{'es' if count > 1 else ''} "
                                          f"({where}): {kept.message}", suggestion=helped))
    return said


# The parser's names of what it found, in the author's words.
_TOKENS = {"?": "a key", "<block mapping start>": "a mapping", "<block sequence start>": "a list",
           "-": "a list item", "<scalar>": "a value"}
_FOUND = re.compile(r"expected <block end>, but found '(.*)'$")


def _syntax_message(exc: MarkedYAMLError, text: str, mark: Any) -> str:
    """What a syntax error says, with what the author can do about the common ones."""
    message = " ".join(part for part in (exc.context, exc.problem) if part)
    problem = exc.problem or ""
    if "'\\t'" in problem and mark is not None:  # a tab where a token should start
        start = text.rfind("\n", 0, mark.index) + 1 if isinstance(mark.index, int) else 0
        if not text[start:mark.index].strip(" \t"):
            return "a tab in the indentation: indent with spaces, not tabs"
        return "a tab cannot start a value: separate with spaces"
    found = _FOUND.search(problem)
    if found and exc.context in ("while parsing a block collection", "while parsing a block mapping"):
        block = "list" if exc.context.endswith("collection") else "mapping"
        what = _TOKENS.get(found.group(1), f"'{found.group(1)}'")
        return f"this line's indentation does not match the block above it (found {what} where the {block} goes on or ends)"
    return message


_FLOWS = {"while parsing a flow mapping": ("mapping", "{", "}"), "while parsing a flow sequence": ("list", "[", "]")}
_FLOW_FOUND = re.compile(r"expected ',' or '[}\]]', but got '(.*)'$")


def _unclosed_flow(exc: MarkedYAMLError) -> tuple[int, int, str] | None:
    """(line, column, message) of a flow mapping or list that is not closed where the parser
    found something else (``{id: a, name: b`` and the next line): said at its opening '{' —
    the parser notices on a later line, the author forgot it on this one — with where the
    parser stopped; on one line, at the parser's stop (a ',' may be missing there)."""
    flow = _FLOWS.get(str(exc.context))
    found = _FLOW_FOUND.search(exc.problem or "")
    start, stop = exc.context_mark, exc.problem_mark
    if flow is None or found is None or start is None or stop is None:
        return None
    what, opening, closing = flow
    ended = found.group(1) == "<stream end>"
    got = "the end of the file" if ended else _TOKENS.get(found.group(1), f"'{found.group(1)}'")
    if stop.line > start.line or ended:
        return (start.line + 1, start.column + 1,
                f"YAML syntax error: the '{opening}' here opens a flow {what} that is not closed: expected ',' or "
                f"'{closing}', found {got} at line {stop.line + 1}, column {stop.column + 1} (its '{closing}' is "
                f"missing{'' if ended else ', or a , between its entries'})")
    return (stop.line + 1, stop.column + 1,
            f"YAML syntax error: expected ',' or '{closing}' in the flow {what} opened with '{opening}' at column "
            f"{start.column + 1}, found {got} (a ',' between its entries, or its '{closing}', is missing)")


def _escapes(doc: SourceDocument, text: str) -> SourceDocument:
    doc.may_hold_escapes = "\\" in text
    return doc


def _unacceptable(file: str, text: str, error: ReaderError) -> Diagnostic:
    """The error of a character YAML does not allow in a file (NUL, a control character, a
    lone surrogate), at its line and column."""
    position = error.position if isinstance(error.position, int) and 0 <= error.position <= len(text) else 0
    char = error.character
    return _not_allowed(file, text, position, ord(char) if isinstance(char, str) and len(char) == 1 else char)


def _not_allowed(file: str, text: str, position: int, char: object) -> Diagnostic:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = f"U+{char:04X}" if isinstance(char, int) else repr(char)
    return Diagnostic(file, line, column, f"YAML syntax error: the character {code} is not allowed in YAML text "
                      f"(write it as an escape in a double-quoted string, or remove it)", code="yamlSyntax")


# ------------------------------------------------------------- the fast reader

# Composing nodes (a Python object and two marks per node) is most of the time of reading a
# large catalog. The events of the C parser carry the same marks: the plain data and the
# positions are built from them directly. Anything out of the ordinary (anchors, aliases,
# merge keys, tags, directives, a non-scalar key, an error) is left to the composer above,
# so both readers give the same document wherever the fast one answers.


class _Unusual(Exception):
    """The fast reader leaves this document to the composer."""


class _Repeated(Exception):
    """A repeated key, found while reading without positions."""


def _core_resolvers() -> dict[str, list[tuple[str, Any]]]:
    """ruamel.yaml's implicit resolvers of YAML 1.2, by first character."""
    table: dict[str, list[tuple[str, Any]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            for char in first:
                table.setdefault(char, []).append((tag, regexp))
    return table


_RESOLVERS = _core_resolvers()


def _plain_tag(text: str) -> str:
    for tag, regexp in _RESOLVERS.get(text[:1], ()):
        if regexp.match(text):
            return str(tag)
    return _STR


def _within_depth(text: str) -> None:
    """Raise :class:`_TooDeep` where ``text`` nests deeper than :data:`MAX_DEPTH` (its events
    counted, without recursion); a syntax error is left to the composer to report."""
    if CParser is None:
        return
    parser = CParser(text)
    depth = 0
    try:
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is MappingStartEvent or kind is SequenceStartEvent:
                depth += 1
                if depth > MAX_DEPTH:
                    raise _TooDeep(event.start_mark)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                depth -= 1
            elif kind is StreamEndEvent:
                return
    except YAMLError:
        return
    finally:
        parser.dispose()


def _read_events(text: str, reading: _Reading, located: bool) -> Any:
    """The plain data of a one-document YAML text, from the C parser's events (when
    ``located``, positions and repeated keys go to ``reading``; otherwise a repeated key
    raises :class:`_Repeated`); :class:`_Unusual` when the composer must decide."""
    if CParser is None:
        raise _Unusual("no C parser")
    parser = CParser(text)
    get = parser.get_event
    Where = tuple[dict[Path_, tuple[int, int]], dict[Path_, tuple[int, int]]]  # positions, key positions

    def value(event: Any, path: Path_, where: Where | None, depth: int) -> Any:
        kind = type(event)
        if event.anchor is not None:
            raise _Unusual("anchor")
        if kind is ScalarEvent:
            if event.tag is not None:
                raise _Unusual("tag")
            text = event.value
            if not event.implicit[0] or text[:1] not in _RESOLVERS:  # quoted, or plain text
                return text
            return _value(_plain_tag(text), text)
        if event.tag is not None:
            raise _Unusual("tag")
        if depth > MAX_DEPTH and kind in (MappingStartEvent, SequenceStartEvent):
            raise _TooDeep(event.start_mark)
        child: Path_ = path
        if kind is MappingStartEvent:
            result: dict[str, Any] = {}
            while True:
                key_event = get()
                if type(key_event) is not ScalarEvent:
                    if type(key_event) is MappingEndEvent:
                        return result
                    raise _Unusual("key")
                if key_event.anchor is not None or key_event.tag is not None:
                    raise _Unusual("key")
                if key_event.implicit[0]:
                    tag = _plain_tag(key_event.value)
                    if tag == _MERGE:
                        raise _Unusual("merge")
                    key = str(_value(tag, key_event.value))
                else:
                    key = key_event.value
                value_event = get()
                if where is not None:
                    positions, key_positions = where
                    child = path + (key,)
                    mark = key_event.start_mark
                    if key in result:
                        reading.duplicate(key, mark.line + 1, mark.column + 1, key_positions[child][0])
                        value(value_event, child, ({}, {}), depth + 1)  # its positions are not the document's
                        continue
                    key_at = key_positions[child] = (mark.line + 1, mark.column + 1)
                    if type(value_event) is ScalarEvent:
                        mark = value_event.start_mark
                        positions[child] = (mark.line + 1, mark.column + 1)
                    else:
                        positions[child] = key_at
                elif key in result:
                    raise _Repeated(key)
                result[key] = value(value_event, child, where, depth + 1)
        if kind is SequenceStartEvent:
            items: list[Any] = []
            while True:
                item_event = get()
                if type(item_event) is SequenceEndEvent:
                    return items
                if where is not None:
                    mark = item_event.start_mark
                    child = path + (len(items),)
                    where[0][child] = (mark.line + 1, mark.column + 1)
                items.append(value(item_event, child, where, depth + 1))
        raise _Unusual("alias")

    try:
        get()  # the start of the stream
        start = get()
        if type(start) is StreamEndEvent:
            return None
        if start.version is not None or start.tags:
            raise _Unusual("directive")
        root = get()
        if located:  # the document starts where its first node does (after comments, ---)
            reading.positions[()] = (root.start_mark.line + 1, root.start_mark.column + 1)
        data = value(root, (), (reading.positions, reading.key_positions) if located else None, 1)
        get()  # the end of the document
        if type(get()) is not StreamEndEvent:
            raise _Unusual("several documents")
        return data
    except (YAMLError, RecursionError) as exc:
        raise _Unusual("error") from exc
    finally:
        parser.dispose()


IDS_IN_TEXT = re.compile(r"""(?:^|[\s{,])["']?id["']?\s*:\s*["']?([A-Za-z0-9][A-Za-z0-9._:-]*)""", re.M)


def ids_in_text(text: str) -> set[str]:
    """Ids a YAML text seems to declare (``id: x``), read without parsing it: what a file
    that cannot be parsed probably defines, so that references to it are not reported as
    unknown while the file itself is broken."""
    return set(IDS_IN_TEXT.findall(text))


def parse_file(path: Path, display_name: str | None = None, located: bool = False
               ) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse one YAML file (UTF-8); see :func:`parse_text`."""
    name = display_name or str(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [not_utf8(name, data, exc)]
    return parse_text(text, name, located)


def not_utf8(file: str, data: bytes, error: UnicodeDecodeError) -> Diagnostic:
    """The error of bytes that are not UTF-8, at the line and column of the first bad byte
    (the column counts the characters before it on its line, as an editor does)."""
    for bom, encoding in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                          (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            return Diagnostic(file, 1, 1, f"not UTF-8 text: the file is {encoding} (it begins with a {encoding} byte "
                              f"order mark); save it as UTF-8", code="encoding")
    start = data.rfind(b"\n", 0, error.start) + 1
    line = data.count(b"\n", 0, error.start) + 1
    column = len(data[start:error.start].decode("utf-8", errors="replace")) + 1
    return Diagnostic(file, line, column, f"not UTF-8 text: byte 0x{data[error.start]:02x} ({error.reason}); "
                      "save the file as UTF-8", code="encoding")


def yaml_files(folder: Path) -> Iterator[Path]:
    """Every YAML file under ``folder``, in a stable order (hidden folders skipped): ``.yaml``
    or ``.yml`` in any case (``usage.YAML``, as some tools save it, was passed over unsaid)."""
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in YAML_SUFFIXES and path.is_file() and not any(
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
