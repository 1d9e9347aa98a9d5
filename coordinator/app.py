"""The application factory: routers, error handlers, and the lifespan that owns engine and scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

import coordinator.models  # noqa: F401  (every table mapped before first use)
from coordinator.auth.api import router as auth_router
from coordinator.clock import Clock, SystemClock
from coordinator.db import create_engine, create_sessionmaker
from coordinator.errors import install_error_handlers
from coordinator.people.api import router as people_router
from coordinator.settings import Settings
from coordinator.stations.api import router as stations_router

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = create_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="coordinator",
        summary="社工和志愿服务站的活动、志愿者与服务台账 — "
        "volunteer coordination for community social-work stations",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    install_error_handlers(app)

    api = APIRouter(prefix=API_PREFIX)
    for router in (auth_router, stations_router, people_router):
        api.include_router(router)
    app.include_router(api)
    return app
