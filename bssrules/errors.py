"""The exception tree of bssrules.

One root, :class:`BssRulesError`. Errors carry structured fields (file, line, column,
JSON path, suggestion) so that the CLI prints ``file:line:column: message`` and the API
maps them onto the TMF error body without parsing text.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Sequence

__all__ = [
    "BssRulesError",
    "Diagnostic",
    "InvalidSource",
    "InvalidInput",
    "NotFound",
    "Conflict",
    "UnknownReference",
    "did_you_mean",
    "format_path",
]


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest known name to a misspelt one, or None when nothing is close.

    Same letters in another case or order (``GPB`` for ``GBP``) come first; then difflib's
    close names, those the word begins (a name cut short: ``US`` for ``USD``, not ``UZS``) first."""
    known = sorted(set(candidates))
    for same in (lambda c: c.lower() == word.lower(), lambda c: sorted(c.lower()) == sorted(word.lower())):
        found = [c for c in known if same(c)]
        if found:
            return found[0]
    matches = difflib.get_close_matches(word, known, n=10, cutoff=0.6)
    cut_short = sorted((c for c in matches if c.lower().startswith(word.lower())), key=lambda c: (len(c), c))
    return cut_short[0] if cut_short else matches[0] if matches else None


def format_path(path: Sequence[str | int]) -> str:
    """A JSON path in the ``$.a[0].b`` notation used throughout the messages."""
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in an authored source, with where it is and how to fix it."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    message: str
    path: tuple[str | int, ...] = field(default=(), compare=False)
    suggestion: str | None = field(default=None, compare=False)
    code: str = field(default="invalid", compare=False)
    severity: str = field(default="error", compare=False)  # "error" or "warning"

    def __str__(self) -> str:
        level = "warning: " if self.severity == "warning" else ""
        text = f"{self.file}:{self.line}:{self.column}: {level}{self.message}"
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        if self.path:
            text += f" [at {format_path(self.path)}]"
        return text


class BssRulesError(Exception):
    """Root of every error bssrules raises on purpose."""

    code = "error"


class InvalidSource(BssRulesError):
    """Authored YAML that cannot be accepted; carries every diagnostic found at once."""

    code = "invalidSource"

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        count = sum(1 for d in self.diagnostics if d.severity != "warning")
        super().__init__(f"{count} error{'s' if count != 1 else ''} found:\n" + "\n".join(map(str, self.diagnostics)))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity != "warning"]


class InvalidInput(BssRulesError):
    """A request or value that is malformed (maps to HTTP 400)."""

    code = "invalidInput"

    def __init__(self, message: str, *, path: Sequence[str | int] = (), suggestion: str | None = None,
                 details: Sequence[str] = ()):
        self.path = tuple(path)
        self.suggestion = suggestion
        self.details = list(details)
        text = message + (f" (did you mean '{suggestion}'?)" if suggestion else "")
        super().__init__(text)


class UnknownReference(BssRulesError):
    """A well-formed value that names something that does not exist (maps to HTTP 422)."""

    code = "unknownReference"

    def __init__(self, message: str, *, details: Sequence[str] = ()):
        self.details = list(details)
        super().__init__(message)


class NotFound(BssRulesError):
    """No resource of that kind with that id (maps to HTTP 404)."""

    code = "notFound"

    def __init__(self, kind: str, id: str, suggestion: str | None = None):
        self.kind, self.id, self.suggestion = kind, id, suggestion
        super().__init__(f"no {kind} with id '{id}'" + (f" (did you mean '{suggestion}'?)" if suggestion else ""))


class Conflict(BssRulesError):
    """The request contradicts the current state: a duplicate id, a resource still referenced."""

    code = "conflict"


class Forbidden(BssRulesError):
    """The caller may see the resource but not change it (another partner's offering)."""

    code = "forbidden"
