"""The app with authentication on, as the API suites with keys use it: the session's own
(conftest's ``app_for``: built once per worker and database), with one administrator's key.

A key of its own per test would build an app per test (a second or more each) and no test
needs one: each starts on an empty database, where the app's start makes :data:`ADMIN_KEY`
the administrator's again."""
from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import Engine

from bssrules.services.known_keys import KnownKeys
from bssrules.services.partners import make_key

AppFor = Callable[..., AbstractContextManager[Any]]  # conftest's ``app_for``

ADMIN_KEY = make_key()


@contextmanager
def keyed_app(app_for: AppFor, engine: Engine) -> Iterator[Any]:
    """The session's app on ``engine``, authentication on, :data:`ADMIN_KEY` its administrator's.

    The keys the worker keeps (those the usage route has checked) are made with the app, not by
    its start, and ``app_for`` puts the same store back after each test: each test gets an empty
    one here, as an app of its own would have."""
    with app_for(engine, auth=True, admin_key=ADMIN_KEY) as app:
        app.state.known_keys = KnownKeys()
        yield app


@pytest.fixture
def keyed_app_on_engine(engine: Engine, app_for: AppFor) -> Iterator[Any]:
    """:func:`keyed_app` on the test's ``engine`` (a fixture: import it into the test module)."""
    with keyed_app(app_for, engine) as app:
        yield app
