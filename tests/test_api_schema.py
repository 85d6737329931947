"""Schemathesis against the service's own OpenAPI: no server errors, responses match their
schemas, for generated valid and invalid input."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from search.server.app import create_app
from tests.conftest import three_case_library


def _app():
    # schemathesis needs the app when the module is collected, before any fixture runs
    root = Path(tempfile.mkdtemp(prefix="caselib-schema-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    settings, enc = three_case_library(root)
    return create_app(settings, encoder=enc)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    case.call_and_validate()
