"""What the routes depend on (FastAPI ``Depends``): the running SearchService and the
settings, both kept on ``app.state`` by create_app."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from search.server.service import SearchService
from search.settings import Settings


class Services:
    """Holds the app's one SearchService: created at start-up by the lifespan, or lazily
    (once, under a lock) for a host that calls the app without running the lifespan."""

    def __init__(self, settings: Settings, encoder=None, clause_encoder=None):
        self.settings = settings
        self.encoder = encoder
        self.clause_encoder = clause_encoder
        self._lock = threading.Lock()
        self._service: SearchService | None = None

    def get(self) -> SearchService:
        svc = self._service
        if svc is None:
            with self._lock:
                svc = self._service
                if svc is None:
                    svc = SearchService(self.settings, encoder=self.encoder, clause_encoder=self.clause_encoder)
                    svc.watch()  # pick up a rebuilt index or a saved case without a restart
                    self._service = svc
        return svc

    def close(self) -> None:
        with self._lock:
            svc, self._service = self._service, None
        if svc is not None:
            svc.close()


def get_service(request: Request) -> SearchService:
    return request.app.state.services.get()


def get_settings(request: Request) -> Settings:
    return request.app.state.services.settings


ServiceDep = Annotated[SearchService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
