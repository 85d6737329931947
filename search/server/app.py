"""FastAPI service: the search API under /api and the built site at /, one process.

`create_app(settings, encoder=None)` builds everything; nothing happens at import time.
The model and index load once, at start-up (lifespan), and shutdown stops the service's
threads (the inference worker and the watcher), so an app leaves no thread behind. Routes
are plain `def`, one router per resource (server/routes/), so FastAPI runs them in its
worker threads; the model itself runs only on the inference worker (server/inference.py).
Every error is one JSON shape: {"error": {"code", "field", "message"}} (server/errors.py).
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from search.server.auth import Authoring, install_login_gate
from search.server.deps import Services
from search.server.errors import install_error_handlers
from search.server.routes import auth, cases, drafts, explain, feedback, health, history, quiz, replies, search, users
from search.server.schemas import ErrorResponse
from search.server.static import install_security_headers, mount_docs, mount_site
from search.settings import Settings

ROUTERS = (health, search, explain, cases, history, feedback, replies, auth, drafts, users, quiz)


def create_app(settings: Settings, encoder=None, clause_encoder=None) -> FastAPI:
    """``encoder``/``clause_encoder``: already loaded encoders (tests share one per
    session); by default both are loaded from the settings."""
    services = Services(settings, encoder=encoder, clause_encoder=clause_encoder)
    authoring = Authoring(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        authoring.open()  # opens the database and runs its migrations, before the first request
        services.get()  # the model loads once, here, before the first request
        try:
            yield
        finally:
            services.close()
            authoring.close()

    app = FastAPI(
        title="物业客服案例库 API",
        version="1",
        description="检索相似投诉案例。查询超过 500 字会被截断（模型最多读取 512 个词元）。",
        lifespan=lifespan,
        responses={400: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
        docs_url=None,  # served by mount_docs from local assets: no CDN on an intranet
        redoc_url=None,
    )
    app.state.services = services
    app.state.authoring = authoring
    mount_docs(app)
    install_error_handlers(app, settings.site_path)
    install_security_headers(app)
    if settings.require_login:
        install_login_gate(app, authoring)
    api_routes = []
    for module in ROUTERS:
        router = module.router(settings)
        api_routes += router.routes
        app.include_router(router)
    mount_site(app, settings.site_path, api_routes)
    return app
