"""The check cache of a project: what each file says on its own, kept beside the project.

``bssrules check`` keeps, for every file it checked, that file's own result — its
diagnostics, and what the checks across files need of it — in ``<project>/.bssrules-cache/``,
one entry per content. A file whose bytes did not change is neither parsed, validated nor
compiled again; the checks across files (references, duplicates, versions, rule tests) are
always made again, from these results, so a change in one file is seen in all the others.

Correctness first: an entry is named by the SHA-256 of the file's content and records the
fingerprint of this bssrules (its version, its schemas and the code of the checks) and an
HMAC of its payload under a key of this machine's user (``~/.cache/bssrules/``, made on
first use): an entry of another fingerprint, unreadable, truncated, altered, or written
anywhere else (copied with a project) is ignored and rewritten. Its payload is read by an
unpickler that builds only the result types it is given, numbers and dates: it can run no
code. The folder holds a ``.gitignore`` of ``*``, and can be deleted at any time.
"""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import io
import os
import pickle
import secrets
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import bssrules

CACHE_FOLDER = ".bssrules-cache"
_MAGIC = b"bssrules check cache 1\n"
_SUFFIX = ".check"
# What a result may be made of besides the types it is given (builtins need no look-up).
_SAFE = {("decimal", "Decimal"): decimal.Decimal, ("datetime", "datetime"): dt.datetime,
         ("datetime", "date"): dt.date, ("datetime", "timezone"): dt.timezone,
         ("datetime", "timedelta"): dt.timedelta}
# The code whose results are kept: a change to any of it makes every entry stale.
_CHECK_CODE = ("catalog", "rules", "schemas", "yaml_source.py", "schema_errors.py", "errors.py", "money.py")


@lru_cache(maxsize=1)
def _key() -> bytes | None:
    """This user's key for the entries (None: there is no place for it; then nothing is cached)."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bssrules"
    path = folder / "check-cache.key"
    try:
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".key")  # readable by this user only
            with os.fdopen(handle, "wb") as stream:
                stream.write(secrets.token_bytes(32))
            os.replace(temporary, path)
        key = path.read_bytes()
    except (OSError, RuntimeError):  # no home, or one that cannot be written
        return None
    return key if len(key) == 32 else None


def _seal(payload: bytes) -> bytes | None:
    key = _key()
    return None if key is None else hmac.new(key, payload, hashlib.sha256).hexdigest().encode()


@lru_cache(maxsize=1)
def fingerprint() -> bytes:
    """SHA-256 of this bssrules' version, Python's, and the code and schemas of the checks."""
    digest = hashlib.sha256(f"{bssrules.__version__} {sys.version_info[:2]}".encode())
    package = Path(bssrules.__file__).parent
    for name in _CHECK_CODE:
        top = package / name
        for path in sorted(top.rglob("*")) if top.is_dir() else [top]:
            if path.suffix in (".py", ".json") and path.is_file():
                digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest().encode()


def content_key(data: bytes) -> str:
    """The name of the entry of a file of these bytes."""
    return hashlib.sha256(data).hexdigest()


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, allowed: dict[tuple[str, str], type]):
        super().__init__(io.BytesIO(data))
        self.allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not a type of a check result") from None


class CheckCache:
    """The cache folder of one project; ``types`` are those a result may be made of."""

    def __init__(self, project: Path, types: Iterable[type]):
        self.folder = Path(project) / CACHE_FOLDER
        self.allowed = {**_SAFE, **{(t.__module__, t.__qualname__): t for t in types}}
        self.read = self.written = 0  # entries used, entries written (for the figures)

    def get(self, key: str) -> Any | None:
        """The result kept under ``key``, or None when there is none to trust."""
        try:
            raw = (self.folder / (key + _SUFFIX)).read_bytes()
        except OSError:
            return None
        head = _MAGIC + fingerprint() + b"\n"
        if not raw.startswith(head) or len(raw) < len(head) + 65:
            return None
        seal, payload = raw[len(head):len(head) + 64], raw[len(head) + 65:]
        expected = _seal(payload)
        if expected is None or not hmac.compare_digest(expected, seal):
            return None
        try:
            value = _Unpickler(payload, self.allowed).load()
        except Exception:  # noqa: BLE001 - anything wrong with an entry makes it a miss, never an error
            return None
        self.read += 1
        return value

    def put(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` (atomically; a folder that cannot be written is no error)."""
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        seal = _seal(payload)
        if seal is None:
            return
        entry = _MAGIC + fingerprint() + b"\n" + seal + b"\n" + payload
        try:
            self._ensure_folder()
            temporary = self.folder / f".{key}.{secrets.token_hex(4)}.tmp"  # replaced at once: never half-written
            try:
                with open(temporary, "xb") as stream:
                    stream.write(entry)
                os.replace(temporary, self.folder / (key + _SUFFIX))
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
        except OSError:
            return
        self.written += 1

    def keep_only(self, keys: Iterable[str]) -> None:
        """Remove the entries of contents no longer in the project."""
        wanted = {key + _SUFFIX for key in keys}
        try:
            for path in self.folder.iterdir():
                if path.suffix == _SUFFIX and path.name not in wanted:
                    path.unlink(missing_ok=True)
        except OSError:
            return

    def _ensure_folder(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(exist_ok=True)
            (self.folder / ".gitignore").write_text("# bssrules check cache: safe to delete\n*\n", encoding="utf-8")
