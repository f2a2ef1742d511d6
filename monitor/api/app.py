"""The FastAPI application: ``create_app(settings)``; ``driftline serve`` runs it with uvicorn.

Routes (CONTRACT section 5), all under ``/api/v1`` except operations:

- ``POST /models``, ``GET /models``, ``GET|PUT|DELETE /models/{model_id}`` (write to change)
- ``PUT /models/{model_id}/reference``, ``GET /models/{model_id}/reference``
- ``GET /models/{model_id}/metrics``, ``GET /models/{model_id}/windows``, ``GET /dead-letters``
- ``GET /models/{model_id}/slices`` (worst slices per window), ``GET /models/{model_id}/kpis``
- ``GET /models/{model_id}/report?window_start=`` (Evidently's HTML drift report of a window)
- ``GET /alerts``, ``GET /alerts/{alert_id}``, ``POST /alerts/{alert_id}/ack``
- ``GET|POST /silences``, ``DELETE /silences/{silence_id}``
- ``GET|POST /channels``, ``DELETE /channels/{channel_id}``,
  ``POST /channels/{channel_id}/rotate-secret``, ``GET /deliveries``
- ``GET /triggers``, ``GET /triggers/{trigger_id}``, ``POST /models/{model_id}/triggers``,
  ``POST /triggers/{trigger_id}/ack|approve|reject``, ``GET|PUT /triggers/kill-switch``
- ``GET|PUT /models/{model_id}/rules``, ``GET /audit`` (admin)
- ``POST /callbacks/training``: no key, a Standard Webhooks signature instead
- ``GET /healthz``, ``GET /readyz``, ``GET /metrics`` at the root, without a key

Nothing touches the database at import or at ``create_app()``: the engine is made from the
settings on first use (or passed in, as the embedded demo does) and disposed at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from monitor.api import errors
from monitor.api.deps import EngineHolder
from monitor.api.middleware import BodySizeLimitMiddleware
from monitor.api.routes import (
    alerts,
    callbacks,
    channels,
    dead_letters,
    health,
    kpis,
    metrics,
    models,
    reference,
    reports,
    rules,
    silences,
    slices,
    triggers,
    windows,
)
from monitor.settings import Settings, get_settings

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The API over ``settings.database_url`` (or over ``engine``, which the caller owns)."""
    settings = settings or get_settings()
    holder = EngineHolder(settings.database_url, engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        holder.dispose()

    app = FastAPI(title="Driftline", version="0.1.0", lifespan=lifespan,
                  description="Streaming monitoring for ML models in production.")
    app.state.settings = settings
    app.state.engine_holder = holder
    errors.install(app)
    app.add_middleware(BodySizeLimitMiddleware, body_limit=settings.api_max_body_bytes,
                       upload_limit=settings.api_max_upload_bytes)
    app.include_router(health.router)
    api = APIRouter(prefix=API_PREFIX)
    for module in (models, reference, metrics, windows, slices, kpis, reports, dead_letters,
                   alerts, silences, channels, triggers, rules, callbacks):
        api.include_router(module.router)
    app.include_router(api)
    return app
