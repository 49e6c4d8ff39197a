"""Partners, their API keys and API bundles (seed 000: each partner uses the "API bundle"
of the offer it subscribed to).

A partner is a stored resource: a name, its sales channels (it sees the offerings sold
through them, the partner-eligible ones and its own), a role (``admin`` manages partners and the whole
catalog and sees everything; ``partner`` sees its own part), an API bundle (the TMF APIs
and the operations on them it may call) and its API keys. A key is shown once, when it is
made: ``bss_<key id>_<secret>``, 32 random bytes of secret. Only a SHA-256 hash of the
secret is kept — a salted slow hash buys nothing for a random 256-bit secret, and a fast
one keeps authentication off the hot path — and keys are compared in constant time.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from bssrules.errors import Conflict, InvalidInput, NotFound, UnknownReference, did_you_mean
from bssrules.services.known_keys import KeptPrincipal, PartnerCheck, epoch_micros
from bssrules.services.ports import ADMIN, Principal, UnitOfWork, UnitOfWorkFactory
from bssrules.services.records import KeyTaken, StoredResource, href

KIND = "partner"
API = "/tmf-api/partnerManagement/v4"
# The TMF APIs a bundle may name, by the path prefix of their operations.
APIS: dict[str, str] = {
    "TMF620": "/tmf-api/productCatalogManagement/",
    "TMF621": "/tmf-api/troubleTicket/",
    "TMF622": "/tmf-api/productOrderingManagement/",
    "TMF623": "/tmf-api/slaManagement/",
    "TMF629": "/tmf-api/customerManagement/",
    "TMF632": "/tmf-api/party/",
    "TMF635": "/tmf-api/usageManagement/",
    "TMF637": "/tmf-api/productInventory/",
    "TMF654": "/tmf-api/prepayBalanceManagement/",
    "TMF663": "/tmf-api/shoppingCart/",
    "TMF666": "/tmf-api/accountManagement/",
    "TMF677": "/tmf-api/usageConsumption/",
    "TMF678": "/tmf-api/customerBillManagement/",
    "TMF679": "/tmf-api/productOfferingQualification/",
    "TMF760": "/tmf-api/productConfigurationManagement/",
    "partner": API + "/",
}
# ``subscribe``: registering (and removing) a hub on the API, apart from ``create`` — a
# partner may want the events of an API it only reads.
OPERATIONS = ("list", "retrieve", "create", "patch", "delete", "subscribe")
_KEY = re.compile(r"^bss_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")


def api_of(path: str) -> str | None:
    """The API a request path belongs to (None: not an API path)."""
    return next((name for name, prefix in APIS.items() if path.startswith(prefix)), None)


def operation_of(method: str, path: str) -> str:
    """list / retrieve / create / patch / delete, from the method and the path's shape;
    subscribe for a hub."""
    segments = [s for s in path.split("/") if s]
    # /tmf-api/<api>/<version>/<resource>[/<id>]
    if len(segments) > 3 and segments[3] == "hub":
        return "subscribe"
    if method == "GET":
        return "retrieve" if len(segments) > 4 else "list"
    return {"POST": "create", "PATCH": "patch", "PUT": "patch", "DELETE": "delete"}.get(method, "retrieve")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


FIRST_VERSIONS = 2**30  # a new partner's row starts at a version drawn from 1 … this (int4 keeps room to grow)


def _new_row(partner_id: str, document: dict[str, Any], role: str) -> StoredResource:
    """A new partner's row. What a worker keeps an API key with, and checks in the usage's
    own round trip (:mod:`bssrules.services.known_keys`), is the row's version and creation
    instant: a partner deleted and made again under the same id must not give that pair again,
    or a key kept for the one deleted would open the new one. So the row is made at the
    microsecond (not the second of ``_now``) and its first version is drawn at random (then
    +1 per change, as every row): the same pair again needs the same microsecond and the same
    draw, one in 2**30."""
    made = dt.datetime.now(dt.timezone.utc)
    version = 1 + secrets.randbelow(FIRST_VERSIONS)
    return StoredResource(KIND, partner_id, version, made, made, document, state=role, partner_id=partner_id)


def _bundle(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("api"), list) or not body["api"]:
        raise InvalidInput("apiBundle needs api: a list of {name, operations}", path=("apiBundle",))
    entries = []
    for i, entry in enumerate(body["api"]):
        name = entry.get("name") if isinstance(entry, dict) else None
        if name not in APIS:
            raise InvalidInput(f"apiBundle.api[{i}].name: unknown API {name!r}", path=("apiBundle", "api", i, "name"),
                               suggestion=did_you_mean(str(name), APIS))
        operations = entry.get("operations", list(OPERATIONS))
        wrong = [o for o in operations if o not in OPERATIONS] if isinstance(operations, list) else [operations]
        if wrong:
            raise InvalidInput(f"apiBundle.api[{i}].operations: unknown operation {wrong[0]!r}; use "
                               f"{', '.join(OPERATIONS)}", path=("apiBundle", "api", i, "operations"),
                               suggestion=did_you_mean(str(wrong[0]), OPERATIONS))
        entries.append({"name": name, "operations": sorted(set(operations), key=OPERATIONS.index)})
    return {"name": body.get("name") or "bundle", "api": entries}


def render(stored: StoredResource) -> dict[str, Any]:
    document = {k: v for k, v in stored.document.items() if k != "key"}
    document["key"] = [{"id": k["id"], "created": k["created"]} for k in stored.document.get("key", [])]
    return {**document, "id": stored.id, "href": href(f"{API}/partner", stored.id), "@type": "Partner"}


def _new_key() -> tuple[str, dict[str, Any]]:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"bss_{key_id}_{secret}", {"id": key_id, "hash": _hash(secret), "created": _now().isoformat().replace("+00:00", "Z")}


CREATE_FIELDS = ("id", "name", "role", "apiBundle", "catalog", "channel", "description", "party")
# What an administrator may change later: not the id, not the role (a partner does not become
# an administrator by a patch: register an administrator instead), not the keys (own routes).
PATCH_FIELDS = ("name", "apiBundle", "catalog", "channel", "description", "party")


def _check_fields(body: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(body) - set(allowed) - {"@type"})
    if unknown:
        raise InvalidInput(f"unsupported field {unknown[0]!r} {what}; use {', '.join(allowed)}",
                           path=(unknown[0],), suggestion=did_you_mean(unknown[0], allowed))


def _strings(body: dict[str, Any], name: str, meaning: str) -> list[str]:
    values = body.get(name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"{name} is a list of {meaning}", path=(name,))
    return values


def _party(uow: UnitOfWork, value: Any) -> dict[str, Any]:
    """The party a partner acts for ({id, @referredType}): an individual or organization of the
    party API. Its accounts, their bills and its products are the partner's to read (a driver
    paying her own bill reads it with a key of her own)."""
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"] \
            or set(value) - {"id", "@referredType"}:
        raise InvalidInput("party is {id, @referredType}: the individual or organization the partner acts for",
                           path=("party",))
    kinds = [k for k in ("individual", "organization") if uow.resources.get(k, value["id"]) is not None]
    if not kinds:  # (an administrator's call: naming the parties there are leaks nothing)
        hint = did_you_mean(value["id"], uow.resources.ids(("individual", "organization")))
        problem = f"party.id: no individual or organization '{value['id']}'" + (
            f" (did you mean '{hint}'?)" if hint else "")
        raise UnknownReference(problem, details=[problem])
    referred = {"individual": "Individual", "organization": "Organization"}[kinds[0]]
    if value.get("@referredType", referred) != referred:
        raise InvalidInput(f"party.@referredType: '{value['id']}' is an {referred}", path=("party", "@referredType"))
    return {"id": value["id"], "@referredType": referred}


def _described(body: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The name, description, catalogs and channels of a create or patch body, checked, onto
    ``document``."""
    if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
        raise InvalidInput("name is required: a non-empty string", path=("name",))
    if "description" in body and not isinstance(body["description"], (str, type(None))):
        raise InvalidInput("description is a string", path=("description",))
    out = dict(document)
    for name, meaning in (("catalog", "catalog ids the partner owns"),
                          ("channel", "the sales channel ids the partner sells through")):
        if name in body:
            out[name] = _strings(body, name, meaning)
    if "name" in body:
        out["name"] = body["name"]
    if body.get("description"):
        out["description"] = body["description"]
    elif "description" in body:  # a merge patch's null (or an empty text) removes it
        out.pop("description", None)
    return out


def create_partner(uow: UnitOfWork, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Register a partner; returns it and its first API key (shown only now)."""
    _check_fields(body, CREATE_FIELDS, "for Partner")
    partner_id = body.get("id")
    if not isinstance(partner_id, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", partner_id):
        raise InvalidInput("id is required: letters, digits, '.', '_' or '-'", path=("id",))
    if "name" not in body:
        raise InvalidInput("name is required", path=("name",))
    role = body.get("role", "partner")
    if role not in ("partner", "admin"):
        raise InvalidInput("role is partner or admin", path=("role",))
    if uow.resources.get(KIND, partner_id) is not None:
        raise Conflict(f"a partner with id '{partner_id}' already exists")
    party = _party(uow, body["party"]) if body.get("party") is not None else None
    key, stored_key = _new_key()
    document = _described(body, {"role": role, "catalog": [], "channel": [], "key": [stored_key],
                                 "apiBundle": _bundle(body.get("apiBundle")) if role == "partner" or "apiBundle" in body
                                 else {"name": "all", "api": [{"name": n, "operations": list(OPERATIONS)} for n in APIS]}})
    if party is not None:
        document["party"] = party
    stored = _new_row(partner_id, document, role)
    uow.resources.insert(stored)
    uow.commit()
    return render(stored), key


def patch_partner(uow: UnitOfWork, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Change a partner's name, description, channels, catalogs or API bundle (a new bundle
    replaces the old one whole, and holds from the partner's next request)."""
    _check_fields(body, PATCH_FIELDS, "in a Partner patch (the id and role stay; keys have their own routes)")
    stored = uow.resources.get(KIND, partner_id, for_update=True)
    if stored is None:
        raise NotFound("Partner", partner_id)
    document = _described(body, stored.document)
    if "apiBundle" in body:
        document["apiBundle"] = _bundle(body["apiBundle"])
    if body.get("party") is not None:
        document["party"] = _party(uow, body["party"])
    elif "party" in body:  # a merge patch's null: it acts for no party any more
        document.pop("party", None)
    uow.resources.replace(stored.bumped(document, _now()))
    updated = uow.resources.get(KIND, partner_id)
    assert updated is not None  # it was found (for update) and replaced just above
    answer = render(updated)  # made before the commit: nothing fails after it
    uow.commit()
    return answer


def new_key(uow: UnitOfWork, partner_id: str) -> str:
    """Add an API key to a partner (to rotate: add one, move to it, revoke the old)."""
    stored = uow.resources.get(KIND, partner_id, for_update=True)
    if stored is None:
        raise NotFound("Partner", partner_id)
    key, stored_key = _new_key()
    uow.resources.replace(stored.bumped(dict(stored.document, key=stored.document["key"] + [stored_key]), _now()))
    uow.commit()
    return key


def revoke_key(uow: UnitOfWork, partner_id: str, key_id: str) -> None:
    stored = uow.resources.get(KIND, partner_id, for_update=True)
    if stored is None:
        raise NotFound("Partner", partner_id)
    keys = [k for k in stored.document["key"] if k["id"] != key_id]
    if len(keys) == len(stored.document["key"]):
        raise NotFound("API key", key_id)
    uow.resources.replace(stored.bumped(dict(stored.document, key=keys), _now()))
    uow.commit()


def key_parts(presented: str | None) -> tuple[str, str] | None:
    """A presented key's (key id, secret), or None when it is not of a key's shape."""
    match = _KEY.match(presented or "")
    return None if match is None else (match.group(1), match.group(2))


def authenticate(uow: UnitOfWork, presented: str | None) -> Principal | None:
    """The partner a presented key belongs to, or None (unknown, revoked or malformed)."""
    kept = authenticate_kept(uow, presented)
    return None if kept is None else Principal(kept.id, kept.role, kept.bundle)


def authenticate_kept(uow: UnitOfWork, presented: str | None) -> KeptPrincipal | None:
    """As :func:`authenticate`, with the partner's version and creation time: what a worker
    keeps the key with (:mod:`bssrules.services.known_keys`)."""
    parts = key_parts(presented)
    if parts is None:
        return None
    key_id, secret = parts
    found = uow.resources.find(KIND, {"key.id": [key_id]}, 1)
    if not found:
        return None
    stored = found[0]
    entry = next((k for k in stored.document.get("key", []) if k["id"] == key_id), None)
    if entry is None or not hmac.compare_digest(entry["hash"], _hash(secret)):
        return None
    bundle = tuple((a["name"], frozenset(a["operations"])) for a in stored.document["apiBundle"]["api"])
    return KeptPrincipal(stored.id, stored.document["role"], bundle,
                         PartnerCheck(stored.id, stored.version, epoch_micros(stored.created)))


def get_partner(uow: UnitOfWork, partner_id: str) -> dict[str, Any]:
    stored = uow.resources.get(KIND, partner_id)
    if stored is None:
        raise NotFound("Partner", partner_id)
    return render(stored)


def list_partners(uow: UnitOfWork, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    page, total = uow.resources.page(KIND, {}, offset, limit)
    return [render(s) for s in page], total


# marks the admin key given at start (BSSRULES_ADMIN_KEY) among the admin's keys
_AT_START = "atStart"


def ensure_admin(uow: UnitOfWork, key: str) -> None:
    """Make sure the admin key given at start (``BSSRULES_ADMIN_KEY``) opens an admin partner,
    and that it is the only key given at start that does: a server started with a new key no
    longer opens to the one it was started with before (the administrator's key is "the one
    the server was started with", docs/api.md — a key changed because it leaked must stop
    working). Keys added through the API (``POST …/partner/admin/key``) stay until revoked."""
    match = _KEY.match(key)
    if match is None:
        raise InvalidInput("BSSRULES_ADMIN_KEY must look like bss_<12 letters or digits>_<43 url-safe characters>; "
                           "make one with `bssrules admin-key`")
    key_id, secret = match.groups()
    stored = uow.resources.get(KIND, "admin", for_update=True)
    entry = {"id": key_id, "hash": _hash(secret), "created": _now().isoformat().replace("+00:00", "Z"),
             _AT_START: True}
    now = _now()
    if stored is None:
        document = {"name": "Administrator", "role": "admin", "catalog": [], "key": [entry],
                    "apiBundle": {"name": "all", "api": [{"name": n, "operations": list(OPERATIONS)} for n in APIS]}}
        uow.resources.insert(_new_row("admin", document, "admin"))
    elif not any(k["id"] == key_id and k["hash"] == entry["hash"] for k in stored.document["key"]):
        kept = [k for k in stored.document["key"] if not k.get(_AT_START)]  # (the earlier start key goes)
        uow.resources.replace(stored.bumped(dict(stored.document, key=kept + [entry]), now))
    uow.commit()


def ensure_admin_at_start(unit_of_work: UnitOfWorkFactory, key: str, attempts: int = 3) -> None:
    """:func:`ensure_admin` as each worker runs it when it starts: the workers of one server
    start together, and those that find no admin partner all insert it (or all add the key),
    so the one that loses the race runs it again and finds what the other wrote (was: that
    worker failed to start, and took the server down with it)."""
    for attempt in range(attempts):
        try:
            with unit_of_work() as uow:
                ensure_admin(uow, key)
            return
        except (KeyTaken, Conflict):
            if attempt == attempts - 1:
                raise


def make_key() -> str:
    """A fresh key in the expected shape (for BSSRULES_ADMIN_KEY)."""
    return f"bss_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
