"""POST /usage takes its partner from the API keys the worker has kept (issue 12), checked in
the usage's own first round trip: a key revoked, or its partner changed, between two posts →
the second post is authenticated in full (401 when the key is revoked) and writes nothing.
On SQLite and PostgreSQL; the keys kept are bounded."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, text

from bssrules.services.known_keys import KeptPrincipal, KnownKeys, PartnerCheck, fingerprint
from tests.api.test_partners_auth import (
    PARTNER, USAGE, Api, _customer, _instant, _line, _load, _roaming_usage, _unauthorized, BAD_KEY, KEY_SHAPE,
)
from bssrules.services.partners import make_key

EVERY = [{"name": n} for n in ("TMF632", "TMF666", "TMF637", "TMF635")]


class Line:
    """Partner A with one active line, and the instant its usages are dated."""

    def __init__(self, engine: Engine, api: Api):
        _load(engine, "devices", "roaming")
        self.engine, self.api = engine, api
        self.key = api.partner("partner-a", EVERY)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        start = now.replace(day=1, hour=0, minute=0, second=0)
        self.used = min(start + dt.timedelta(hours=1), now)
        _customer(api, self.key, "cust-a", "ba-a")
        _line(api, self.key, "line-a", "cust-a", "ba-a", _instant(start))

    def post(self, usage_id: str, key: str | None = None, many: bool = False) -> Any:
        body = _roaming_usage(usage_id, "line-a", 10, self.used)
        return self.api.call("POST", USAGE, key or self.key, json_body=[body] if many else body)

    def stored(self) -> tuple[int, int]:
        """Usages stored, and charges rated (what a post that is refused must leave as it was)."""
        with self.engine.connect() as connection:
            return (connection.execute(text("SELECT count(*) FROM usage_record")).scalar_one(),
                    connection.execute(text("SELECT count(*) FROM rated_charge")).scalar_one())

    def kept(self) -> KnownKeys:
        known: KnownKeys = self.api.client.app.state.known_keys  # type: ignore[attr-defined]
        return known


@pytest.fixture
def line(engine: Engine) -> Iterator[Line]:
    with Api(engine, make_key()) as api:
        yield Line(engine, api)


@pytest.mark.parametrize("many", [False, True], ids=["single", "batch"])
def test_a_key_revoked_between_two_posts_gets_401_and_nothing_is_written(line: Line, many: bool) -> None:
    first = line.post("u-1", many=many)
    assert first.status_code == 201, first.text
    key_id = KEY_SHAPE.match(line.key)[1]  # type: ignore[index]
    assert fingerprint(*KEY_SHAPE.match(line.key).groups()) in line.kept()._kept  # type: ignore[union-attr]
    line.api.ok("POST", f"{PARTNER}/partner-a/key", line.api.admin_key)  # another key, so A stays
    line.api.ok("DELETE", f"{PARTNER}/partner-a/key/{key_id}", line.api.admin_key)
    before = line.stored()
    refused = line.post("u-2", many=many)
    assert (refused.status_code, refused.json()) == (401, _unauthorized(BAD_KEY))
    assert line.stored() == before
    again = line.post("u-3", many=many)  # and it stays refused (the kept key was dropped)
    assert again.status_code == 401 and line.stored() == before


def test_a_partner_changed_between_two_posts_is_authenticated_again(line: Line) -> None:
    """A bundle that no longer has usage: 403, nothing written; a change that keeps it: the
    usage is rated (the key looked up again)."""
    assert line.post("u-1").status_code == 201
    line.api.ok("PATCH", f"{PARTNER}/partner-a", line.api.admin_key, {"name": "A, renamed"})
    assert line.post("u-2").status_code == 201  # a new version: looked up again, and still good
    line.api.ok("PATCH", f"{PARTNER}/partner-a", line.api.admin_key,
                {"apiBundle": {"name": "no-usage", "api": [{"name": "TMF637"}]}})
    before = line.stored()
    refused = line.post("u-3")
    assert refused.status_code == 403, refused.text
    assert line.stored() == before


def test_a_kept_key_whose_partner_is_gone_gets_401_and_nothing_is_written(line: Line) -> None:
    assert line.post("u-1").status_code == 201
    with line.engine.begin() as connection:  # (no route deletes a partner: the row goes)
        connection.execute(text("DELETE FROM resource WHERE kind = 'partner' AND id = 'partner-a'"))
    before = line.stored()
    refused = line.post("u-2")
    assert (refused.status_code, refused.json()) == (401, _unauthorized(BAD_KEY))
    assert line.stored() == before


def test_a_partner_deleted_and_made_again_at_the_same_instant_does_not_get_its_kept_keys(line: Line) -> None:
    """Made again under the same id, changed as often (never), and made at the same instant (forced
    here: partners were made to the second, so within the same second it was so): the key kept
    for the partner deleted is not the new partner's, and is refused; the new one's key works."""
    assert line.post("u-1").status_code == 201
    select = "SELECT version, created FROM resource WHERE kind = 'partner' AND id = 'partner-a'"
    with line.engine.connect() as connection:
        created = connection.execute(text(select)).one()[1]
    with line.engine.begin() as connection:  # (no route deletes a partner: the row goes)
        connection.execute(text("DELETE FROM resource WHERE kind = 'partner' AND id = 'partner-a'"))
    new_key = line.api.partner("partner-a", EVERY)  # not changed since made, as the first (the same version, before)
    with line.engine.begin() as connection:
        connection.execute(text("UPDATE resource SET created = :created WHERE kind = 'partner' AND id = 'partner-a'"),
                           {"created": created})
        assert connection.execute(text(select)).one()[1] == created
    before = line.stored()
    refused = line.post("u-2")
    assert (refused.status_code, refused.json()) == (401, _unauthorized(BAD_KEY))
    assert line.stored() == before
    assert line.post("u-3", key=new_key).status_code == 201


def test_a_kept_key_is_used_without_a_lookup_while_its_partner_is_unchanged(line: Line, monkeypatch: Any) -> None:
    """The second post of an unchanged partner does not look the key up (the point of keeping it)."""
    assert line.post("u-1").status_code == 201
    from bssrules.services import partners

    def no_lookup(*args: Any) -> None:
        raise AssertionError("the key was looked up")

    monkeypatch.setattr(partners, "authenticate_kept", no_lookup)
    monkeypatch.setattr(partners, "authenticate", no_lookup)
    second = line.post("u-2")
    assert second.status_code == 201 and second.json()["status"] == "rated", second.text


def test_a_wrong_secret_under_a_kept_key_id_is_refused() -> None:
    known = KnownKeys(limit=2)
    right = fingerprint("abcdefabcdef", "s" * 43)
    known.put(right, KeptPrincipal("a", "partner", (), PartnerCheck("a", 1, 0)))
    assert known.get(fingerprint("abcdefabcdef", "t" * 43)) is None
    assert known.get(right) is not None


def test_the_keys_kept_are_bounded() -> None:
    known = KnownKeys(limit=3)
    keys = [fingerprint(f"{n:012d}", "s" * 43) for n in range(5)]
    for n, key in enumerate(keys):
        known.put(key, KeptPrincipal(str(n), "partner", (), PartnerCheck(str(n), 1, 0)))
        if n == 2:
            assert known.get(keys[0]) is not None  # used just now: not the next to go
    assert len(known) == 3
    assert [known.get(k) is not None for k in keys] == [True, False, False, True, True]


def test_a_check_holds_only_for_the_same_version_and_creation() -> None:
    check = PartnerCheck("a", 3, 1_700_000_000_000_000)
    assert check.holds((3, 1_700_000_000_000_000))
    assert not check.holds((4, 1_700_000_000_000_000))
    assert not check.holds((3, 1_700_000_001_000_000))  # deleted and made again under the same id
    assert not check.holds(None)  # gone
