"""The FastAPI application factory. Workers keep no state but the engine: all else is in the database."""
from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, AsyncIterator

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine

from bssrules import __version__
from bssrules.api import answers, bodies, tmfspec
from bssrules.api import resources as resource_api
from bssrules.api.catalog import catalog_router
from bssrules.api.configuration import configuration_fast_route, configuration_router
from bssrules.api.orders import TMF622, order_router
from bssrules.api.qualification import TMF679, qualification_router
from bssrules.api.billing import TMF678, billing_router
from bssrules.api.usage import (
    TMF635, TMF654, TMF677, bucket_router, consumption_router, usage_fast_route, usage_router,
)
from bssrules.services.dating import DatingPolicy
from bssrules.services.rating_context import ContextCache
from bssrules.services.usage_combiner import UsageCombiner
from bssrules.services.runtime import RuntimeCache
from bssrules.services import partners
from bssrules.api.auth import install_auth
from bssrules.api.collector import thresholds_of, tune_for_serving
from bssrules.api.errors import install_error_handlers
from bssrules.api.limits import BodySizeLimit, max_body_bytes, rating_leaders
from bssrules.api.text_guard import TextGuard
from bssrules.api.hubs import hub_routers
from bssrules.api.probes import probe_router
from bssrules.api.sla import sla_router
from bssrules.api.tickets import TMF621, ticket_router
from bssrules.api.partners import partner_router
from bssrules.store.uow import UnitOfWork
from bssrules.store.db import make_engine, unanswered


log = logging.getLogger("bssrules.api")


def create_app(database_url: str | None = None, *, engine: Engine | None = None, auth: bool | None = None,
               admin_key: str | None = None) -> FastAPI:
    """Build the app; the database (migrated on start) is ``engine``, else ``database_url``,
    else ``BSSRULES_DATABASE_URL``, else the default SQLite file.

    Every API call needs a partner's key unless ``auth`` is False (default: on, unless
    ``BSSRULES_AUTH=off`` — for local development only). ``admin_key`` (default
    ``BSSRULES_ADMIN_KEY``) is made an administrator's key when the app starts."""
    auth_required = auth if auth is not None else os.environ.get("BSSRULES_AUTH", "on").lower() not in ("off", "0", "no")
    admin = admin_key or os.environ.get("BSSRULES_ADMIN_KEY")
    # each worker delivers the outbox in the background unless BSSRULES_DELIVERY=off
    deliver = os.environ.get("BSSRULES_DELIVERY", "on").lower() not in ("off", "0", "no")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        DatingPolicy.from_env()  # a date limit that is no duration stops the start, naming its variable
        thresholds_of(os.environ.get("BSSRULES_GC"))  # so does a collector setting that is none
        app.state.engine = engine or make_engine(database_url)
        app.state.database_problem = lambda: unanswered(app.state.engine)  # (the readiness probe's)
        # the one place the HTTP layer meets the store: routes are handed this factory
        app.state.unit_of_work = partial(UnitOfWork, app.state.engine)
        app.state.runtime_cache = RuntimeCache()  # a cache of the database, keyed by its revision
        app.state.rating_contexts = ContextCache()  # subscriptions' rating contexts, keyed by their revisions
        # single usages arriving together are rated together (one transaction, one commit)
        app.state.usage_combiner = UsageCombiner(app.state.unit_of_work, app.state.runtime_cache,
                                                 app.state.rating_contexts,
                                                 max_leaders=rating_leaders())
        if admin:  # (the workers of a server start together: ensure_admin_at_start runs again on a lost race)
            partners.ensure_admin_at_start(app.state.unit_of_work, admin)
        if not auth_required:
            log.warning("authentication is OFF (BSSRULES_AUTH=off): every caller is an administrator")
        dispatcher = None
        if deliver:
            from bssrules.services.notifications import Dispatcher

            dispatcher = Dispatcher(app.state.unit_of_work)
            dispatcher.start()
        # what the worker loaded to serve is kept out of the collector's walks (once per process)
        tune_for_serving()
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.stop()
            if engine is None:
                app.state.engine.dispose()

    app = FastAPI(title="bssrules", version=__version__, lifespan=lifespan,
                  description="TM Forum Open API style access to the bssrules catalog and its rules.")
    app.state.auth_required = auth_required
    install_error_handlers(app)
    install_auth(app)
    app.add_middleware(BodySizeLimit, limit=max_body_bytes())  # (read now: a bad value stops the start)
    app.add_middleware(TextGuard)  # outermost: no route, nor the key lookup, sees such text
    # first: routes are matched in order, and the online charging path is the busiest
    app.router.routes.append(usage_fast_route())
    app.router.routes.append(configuration_fast_route())  # partners' basket checks
    app.include_router(usage_router())
    app.include_router(partner_router())
    for router in hub_routers():
        app.include_router(router)
    app.include_router(catalog_router())
    for router in resource_api.resource_routers():
        app.include_router(router)
    app.include_router(qualification_router())
    app.include_router(configuration_router())
    app.include_router(order_router())
    app.include_router(bucket_router())
    app.include_router(consumption_router())
    app.include_router(billing_router())
    app.include_router(ticket_router())
    app.include_router(sla_router())
    app.include_router(probe_router())

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(tmfspec.openapi_components())
            schemas.update(resource_api.components())
            schemas.update(TMF679.components())
            schemas.update(TMF622.components())
            for tmf in (TMF635, TMF654, TMF677, TMF678, TMF621):
                schemas.update(tmf.components())
            schemas.update(bodies.components())  # the bodies no TMF definition describes as we take them
            schemas.update(answers.components())  # the answers no TMF definition describes
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
