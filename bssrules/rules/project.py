"""A project folder: its catalog files and its rule files, checked together.

Every error is found in one run, each once::

    each file ──bytes──► cache entry of that content? ──yes──────────────┐
                              │ no (in worker processes when there is much to do)
                              ▼                                          ▼
                 parse ─► the file alone: schema, models, ────► FileCheck (diagnostics, and
                          compilation, lint of each rule set        what the files together need)
                                                                         │
       the files together: duplicate ids, references (to what could be ◄─┘
       read, even of an entity in error), versions, rule tests ──► every diagnostic

A file that cannot be parsed still declares the ids written in it (``id: x``), so that
references to them are not reported as unknown while it is broken.
"""
from __future__ import annotations

import gc
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple, Sequence

from bssrules.catalog.catalog import Catalog, Origin
from bssrules.catalog.checks import CharacteristicFacts, Links, Span
from bssrules.catalog.loader import (
    RULES_SECTIONS, CatalogFileCheck, FoundEntity, _display, build_catalog, check_catalog_file, compound_children,
    is_rules_document, known_ids, price_lookup, require_folder,
)
from bssrules.catalog.loader import cross_file_diagnostics as catalog_cross_diagnostics
from bssrules.catalog.model import COLLECTIONS, Entity
from bssrules.errors import Diagnostic, InvalidSource
from bssrules.rules.book import RuleBook
from bssrules.rules.check_cache import CheckCache, content_key
from bssrules.rules.compiled import CompiledRuleSet
from bssrules.rules.loader import (
    TEST_CANNOT_PASS, Children, FoundRuleSet, FoundTest, RulesFileCheck, build_book, check_rules_file,
    offering_price_lookup,
)
from bssrules.rules.loader import cross_file_diagnostics as rules_cross_diagnostics
from bssrules.rules.model import RuleTest
from bssrules.rules.prices import price_book
from bssrules.yaml_source import Path_, SourceDocument, ids_in_text, not_utf8, parse_text, said_once, yaml_files

# Checking files in several processes pays from about this much YAML to read.
PARALLEL_FROM_BYTES = 1_000_000


class BrokenTest(NamedTuple):
    """A rule test that cannot be run: ``check`` finds errors in it (a misspelt field, an
    unknown rule set). The project loads without it; ``bssrules test`` reports it failed."""

    name: str
    origin: Origin
    errors: tuple[Diagnostic, ...]


@dataclass
class Project:
    """A valid catalog and rule book, and the warnings found on the way (and the errors of
    rule tests: they fail ``check``; a test that cannot pass fails when run, one that cannot
    be run is among ``broken_tests``)."""

    catalog: Catalog
    rules: RuleBook
    warnings: list[Diagnostic] = field(default_factory=list)
    test_errors: list[Diagnostic] = field(default_factory=list)
    broken_tests: list[BrokenTest] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # as diagnostics name them, in the order read

    def test_order(self, origin: Origin) -> tuple[int, int]:
        """Where a test authored at ``origin`` comes in file order."""
        return (self.files.index(origin.file) if origin.file in self.files else len(self.files), origin.line)


class FileCheck(NamedTuple):
    """What one file says on its own (what the check cache keeps)."""

    diagnostics: tuple[Diagnostic, ...]  # reading it: syntax, encoding, repeated keys
    catalog: CatalogFileCheck | None
    rules: RulesFileCheck | None
    declared: frozenset[str]  # when it could not be parsed: the ids it seems to declare


# Every type a FileCheck is made of (the cache builds these, and nothing else).
RESULT_TYPES = (FileCheck, CatalogFileCheck, FoundEntity, Links, CharacteristicFacts, Span, RulesFileCheck,
                FoundRuleSet, FoundTest, Diagnostic)


@dataclass
class ProjectCheck:
    """The outcome of checking a project: every diagnostic, and what it holds."""

    diagnostics: list[Diagnostic]
    entities: dict[str, int]  # valid catalog entities by kind
    rule_sets: int
    tests: int
    files: int
    from_cache: int  # files whose own result came from the cache

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity != "warning"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def shown_and_held_back(self) -> tuple[list[Diagnostic], list[Diagnostic]]:
        """See :func:`shown_and_held_back`."""
        return shown_and_held_back(self.diagnostics)


def shown_and_held_back(diagnostics: Sequence[Diagnostic]) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """The diagnostics to show, and the warnings held back: those of a rule set (or rule test)
    that has errors, which speak of what fixing the errors may change — they are shown once
    it has none. Every error is shown, and the warnings of the rest."""
    in_error = {(d.file, tuple(d.path[:2])) for d in diagnostics if d.severity != "warning" and _of_an_item(d)}
    held = [d for d in diagnostics if d.severity == "warning" and _of_an_item(d)
            and (d.file, tuple(d.path[:2])) in in_error]
    held_ids = {id(d) for d in held}
    return [d for d in diagnostics if id(d) not in held_ids], held


def _of_an_item(diagnostic: Diagnostic) -> bool:
    """Whether a diagnostic is of a rule set or a rule test (by its path: ruleSets[i], tests[i])."""
    path = diagnostic.path or ()
    return len(path) >= 2 and path[0] in RULES_SECTIONS and isinstance(path[1], int)


@dataclass
class _Source:
    name: str  # as shown in diagnostics
    data: bytes


@dataclass
class _Loaded:
    """The models of a file checked in this process (what a Project is built of)."""

    document: SourceDocument
    entities: list[Entity | None] = field(default_factory=list)
    rule_sets: list[CompiledRuleSet | None] = field(default_factory=list)
    tests: list[RuleTest | None] = field(default_factory=list)


def check_file(name: str, data: bytes, children: Children | None = None, located: bool = False
               ) -> tuple[FileCheck, _Loaded | None]:
    """Check one file on its own (``children``: of the catalog's compound resource
    specifications; ``located``: read the positions at once, the models will need them)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        declared = frozenset(ids_in_text(data.decode("utf-8", errors="replace")))
        return FileCheck((not_utf8(name, data, exc),), None, None, declared), None
    doc, problems = parse_text(text, name, located)
    if doc is None:
        return FileCheck(tuple(problems), None, None, frozenset(ids_in_text(text))), None
    if is_rules_document(doc):
        rules, rule_sets, tests = check_rules_file(doc, children)
        return (FileCheck(tuple(problems), None, rules, _declared_aside(doc, RULES_SECTIONS)),
                _Loaded(doc, rule_sets=rule_sets, tests=tests))
    catalog, entities = check_catalog_file(doc)
    return FileCheck(tuple(problems), catalog, None, _declared_aside(doc, COLLECTIONS)), _Loaded(doc, entities=entities)


def _declared_aside(doc: SourceDocument, sections: Iterable[str]) -> frozenset[str]:
    """The ids in the unknown sections of a file (a misspelt ``ruleSets:``): reported once,
    what they define is not reported as unknown where it is used."""
    if not isinstance(doc.data, dict):
        return frozenset()
    known = {*sections, "formatVersion"}
    return frozenset(id for key, value in doc.data.items() if key not in known for id in _ids(value))


def _ids(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("id"), str):
            yield value["id"]
        for item in value.values():
            yield from _ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ids(item)


def _check_alone(source: _Source) -> FileCheck:
    """:func:`check_file` in a worker process: only the result comes back."""
    with _collector_paused():
        return check_file(source.name, source.data)[0]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A check builds large trees of objects that live until it ends and hold no cycle to
    collect: the cyclic collector's passes over them would be a third of its time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Run:
    """One check of a set of files: their own results, then the checks across them."""

    def __init__(self, sources: Sequence[_Source], cache: CheckCache | None, keep_models: bool):
        self.sources, self.cache, self.keep_models = sources, cache, keep_models
        self.loaded: dict[int, _Loaded] = {}
        self.checked: set[int] = set()  # files checked in this run (not from the cache)
        self.results: list[FileCheck | None] = [None] * len(sources)
        keys = [content_key(s.data) for s in sources] if cache is not None else []
        if cache is not None:
            for number, key in enumerate(keys):
                self.results[number] = _named(cache.get(key), sources[number].name)
        todo = [n for n, r in enumerate(self.results) if r is None]
        self.from_cache = len(sources) - len(todo)
        if not keep_models and _worth_processes(sources, todo):
            self._check_in_processes(todo)
        for number in todo:
            if self.results[number] is None:
                self._check_here(number)
        self._agree_on_children()
        if cache is not None:
            for number in sorted(self.checked):
                result = self.results[number]
                if result is not None:
                    cache.put(keys[number], result)
            cache.keep_only(keys)

    def _check_here(self, number: int, children: Children | None = None) -> None:
        source = self.sources[number]
        self.checked.add(number)
        self.results[number], loaded = check_file(source.name, source.data, children, located=self.keep_models)
        if loaded is not None:
            self.loaded[number] = loaded

    def _check_in_processes(self, todo: list[int]) -> None:
        from concurrent.futures import ProcessPoolExecutor  # only for a large check: it takes time to import

        largest_first = sorted(todo, key=lambda n: -len(self.sources[n].data))
        try:
            with ProcessPoolExecutor(max_workers=min(len(todo), _cores(), 8)) as pool:
                for number, result in zip(largest_first, pool.map(_check_alone, [self.sources[n]
                                                                                for n in largest_first])):
                    self.results[number] = result
                    self.checked.add(number)
        except (OSError, RuntimeError):  # no processes here: the files are checked in this one
            return

    def _agree_on_children(self) -> None:
        """A rules file compiled with other compound children than the catalog has is
        compiled again with the catalog's."""
        children = compound_children(self.catalog_checks)
        for number, result in enumerate(self.results):
            if result is None or result.rules is None:
                continue
            asked = [pair for found in result.rules.rule_sets for pair in found.asked]
            if any((tuple(children.get(id, ())) or None) != answer for id, answer in asked):
                self._check_here(number, children.get)

    @property
    def checks(self) -> list[FileCheck]:
        return [r for r in self.results if r is not None]

    @property
    def catalog_checks(self) -> list[CatalogFileCheck]:
        return [r.catalog for r in self.checks if r.catalog is not None]

    def _numbers(self, part: str) -> list[int]:
        return [n for n, r in enumerate(self.results) if r is not None and getattr(r, part) is not None]

    def document(self, number: int) -> SourceDocument:
        """The parsed file (parsed again if its result came from elsewhere: for positions)."""
        if number not in self.loaded:
            doc, _ = parse_text(self.sources[number].data.decode("utf-8"), self.sources[number].name)
            assert doc is not None  # it was parsed once, with a result
            self.loaded[number] = _Loaded(doc)
        return self.loaded[number].document

    def diagnostics(self) -> list[Diagnostic]:
        """Every diagnostic: of each file, then across files."""
        found = [d for r in self.checks for part in (r, r.catalog, r.rules) if part is not None
                 for d in part.diagnostics]
        declared: frozenset[str] = frozenset().union(*(r.declared for r in self.checks))
        catalog_numbers, rules_numbers = self._numbers("catalog"), self._numbers("rules")
        catalog_checks = self.catalog_checks
        found += catalog_cross_diagnostics(catalog_checks, lambda i: self.document(catalog_numbers[i]), declared)
        # Rules are checked against what the catalog files hold as far as they could be read.
        known = known_ids(catalog_checks, declared) if catalog_checks else None
        rules_checks = [r.rules for r in self.checks if r.rules is not None]
        prices = price_lookup(catalog_checks, lambda i: self.document(catalog_numbers[i])) if catalog_checks else None
        found += rules_cross_diagnostics(rules_checks, lambda i: self.document(rules_numbers[i]), known, declared,
                                         price_of=prices,
                                         prices_of=offering_price_lookup(catalog_checks, prices) if prices is not None
                                         else None)
        return said_once(found, self._with_aliases)  # each once, in the order found

    def _with_aliases(self, file: str) -> SourceDocument | None:
        """The parsed file of that name when it may use aliases (an error in an anchor is
        found once per alias: said once); None otherwise (it is not parsed again for that)."""
        number = next((n for n, source in enumerate(self.sources) if source.name == file), None)
        if number is None or b"*" not in self.sources[number].data:
            return None
        result = self.results[number]
        parsed = result is not None and (result.catalog is not None or result.rules is not None)
        return self.document(number) if parsed else None

    def project(self, broken_tests: bool = False) -> Project:
        """The catalog and rule book of a project checked with its models, or InvalidSource.
        A test that cannot pass stays in the book (it fails when run); with ``broken_tests``,
        errors in rule tests alone do not stop it either: a test that cannot be run is left
        out of the book, as a broken test."""
        diagnostics = self.diagnostics()
        broken = self._test_errors(diagnostics) if broken_tests else {}
        in_tests = {id(d) for errors in broken.values() for d in errors}
        errors = [d for d in diagnostics if d.severity != "warning" and d.code != TEST_CANNOT_PASS
                  and id(d) not in in_tests]
        if errors:
            raise InvalidSource(diagnostics)
        catalog_numbers, rules_numbers = self._numbers("catalog"), self._numbers("rules")
        catalog = build_catalog(self.catalog_checks, [self.loaded[n].entities for n in catalog_numbers],
                                lambda i: self.document(catalog_numbers[i]))
        rules = [r.rules for r in self.checks if r.rules is not None]
        book = build_book(rules, [self.loaded[n].rule_sets for n in rules_numbers],
                          [self.loaded[n].tests for n in rules_numbers], lambda i: self.document(rules_numbers[i]))
        price_book(book, catalog)  # rates that name a catalog price take what they leave out from it
        left_out = {id(model) for n in rules_numbers for found, model in zip(self._rules(n).tests, self.loaded[n].tests)
                    if (n, found.base[1]) in broken}
        book.tests = [(test, origin) for test, origin in book.tests if id(test) not in left_out]
        return Project(catalog, book, self.by_rule_set([d for d in diagnostics if d.severity == "warning"]),
                       sorted(d for d in diagnostics if d.severity != "warning"),
                       [self._broken_test(n, i, tuple(sorted(errors))) for (n, i), errors in sorted(broken.items())],
                       [source.name for source in self.sources])

    def _rules(self, number: int) -> RulesFileCheck:
        result = self.results[number]
        assert result is not None and result.rules is not None
        return result.rules

    def _test_errors(self, diagnostics: list[Diagnostic]) -> dict[tuple[int, int], list[Diagnostic]]:
        """The errors inside rule tests, by (file number, test index), of the tests that have an
        error other than one that the test cannot pass (those are run: their run says why)."""
        rules_files = {self.sources[n].name: n for n in self._numbers("rules")}
        found: dict[tuple[int, int], list[Diagnostic]] = {}
        for d in diagnostics:
            path = d.path or ()
            if (d.severity != "warning" and d.file in rules_files and len(path) >= 2 and path[0] == "tests"
                    and isinstance(path[1], int)):
                found.setdefault((rules_files[d.file], path[1]), []).append(d)
        return {key: errors for key, errors in found.items() if any(d.code != TEST_CANNOT_PASS for d in errors)}

    def _broken_test(self, number: int, index: int, errors: tuple[Diagnostic, ...]) -> BrokenTest:
        doc = self.document(number)
        tests = doc.data.get("tests") if isinstance(doc.data, dict) else None
        entry = tests[index] if isinstance(tests, list) and index < len(tests) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        shown = str(name) if name is not None and not isinstance(name, (dict, list)) else f"test {index + 1} (no name)"
        return BrokenTest(shown, Origin(doc.file, doc.position(("tests", index))[0]), errors)

    def by_rule_set(self, warnings: list[Diagnostic]) -> list[Diagnostic]:
        """Warnings rule set by rule set (in the order of their first versions), each version's
        after the findings across versions, as the rule book lists them."""
        rank: dict[str, int] = {}
        of_base: dict[tuple[str, Path_], tuple[int, int]] = {}
        for number, result in enumerate(self.results):
            for found in result.rules.rule_sets if result is not None and result.rules is not None else ():
                if found.valid and found.id is not None and found.version is not None:
                    rank.setdefault(found.id, len(rank))
                    of_base[(self.sources[number].name, found.base)] = (rank[found.id], found.version)
        across = ("versionOverlap", "ended")

        def key(item: tuple[int, Diagnostic]) -> tuple[int, int, int, int]:
            position, d = item
            set_rank, version = of_base.get((d.file, tuple(d.path[:2])), (len(rank), 0))
            if d.code == across[0]:  # before the versions' own findings
                version = -1
            return set_rank, version, 0 if d.code in across else 1, position

        return [d for _, d in sorted(enumerate(warnings), key=key)]

    def summary(self) -> ProjectCheck:
        every = self.diagnostics()
        diagnostics = sorted(d for d in every if d.severity != "warning") + self.by_rule_set(
            [d for d in every if d.severity == "warning"])
        entities: dict[str, int] = {}
        for check in self.catalog_checks:
            for entity in check.entities:
                if entity.valid:
                    entities[entity.kind] = entities.get(entity.kind, 0) + 1
        rules = [r.rules for r in self.checks if r.rules is not None]
        valid_sets = {(f.id, f.version) for r in rules for f in r.rule_sets if f.valid}
        valid_ids = {id for id, _ in valid_sets}
        tests = sum(1 for r in rules for t in r.tests if t.valid and t.rule_set in valid_ids)
        return ProjectCheck(diagnostics, entities, len(valid_sets), tests, len(self.sources), self.from_cache)


def _named(result: Any, name: str) -> FileCheck | None:
    """A cached result as the result of the file of that name (its diagnostics say so)."""
    if not isinstance(result, FileCheck):
        return None

    def renamed(diagnostics: tuple[Diagnostic, ...]) -> tuple[Diagnostic, ...]:
        if all(d.file == name for d in diagnostics):
            return diagnostics
        return tuple(Diagnostic(name, d.line, d.column, d.message, d.path, d.suggestion, d.code, d.severity)
                     for d in diagnostics)

    return FileCheck(renamed(result.diagnostics),
                     result.catalog._replace(diagnostics=renamed(result.catalog.diagnostics)) if result.catalog else None,
                     result.rules._replace(diagnostics=renamed(result.rules.diagnostics)) if result.rules else None,
                     result.declared)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _worth_processes(sources: Sequence[_Source], todo: list[int]) -> bool:
    # Worker processes are forked (cheap, nothing to import again): only where forking is
    # safe, from a process with no other thread.
    return (len(todo) > 1 and _cores() > 1 and sum(len(sources[n].data) for n in todo) >= PARALLEL_FROM_BYTES
            and os.name == "posix" and threading.active_count() == 1)


def _folder_sources(folder: Path) -> list[_Source]:
    require_folder(folder)
    files = list(yaml_files(folder))
    if not files:
        raise InvalidSource([Diagnostic(str(folder), 1, 1, "no .yaml or .yml file in this folder", code="empty")])
    return [_Source(_display(path), path.read_bytes()) for path in files]


def check_project(folder: Path | str, cache: bool = True) -> ProjectCheck:
    """Check every catalog and rule file under ``folder``: every diagnostic that can be known,
    each once. With ``cache``, the result of each file on its own is kept in the project's
    cache folder (see :mod:`bssrules.rules.check_cache`) and reused while its content is the
    same. Raises :class:`InvalidSource` only when there is no project to check."""
    folder = Path(folder)
    sources = _folder_sources(folder)
    with _collector_paused():
        return _Run(sources, CheckCache(folder, RESULT_TYPES) if cache else None, keep_models=False).summary()


def load_project(folder: Path | str, broken_tests: bool = False) -> Project:
    """Load every catalog and rule file under ``folder``; raise :class:`InvalidSource` with
    every error (and the warnings) when anything is wrong — but for the errors of rule tests
    with ``broken_tests``: the tests that cannot be run are then the project's
    ``broken_tests`` (what ``bssrules test`` reports failed, running the others)."""
    return _Run(_folder_sources(Path(folder)), None, keep_models=True).project(broken_tests)


def load_project_texts(texts: dict[str, str]) -> Project:
    """A project from named YAML texts (for tests and documentation examples)."""
    sources = [_Source(name, text.encode("utf-8")) for name, text in texts.items()]
    return _Run(sources, None, keep_models=True).project()
