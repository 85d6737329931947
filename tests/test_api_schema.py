"""Schemathesis against the service's own OpenAPI: no server errors, responses match their
schemas, for generated valid and invalid input."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from search import pipeline
from search.api import create_app
from search.encoder import HashingEncoder
from search.settings import load_settings
from tests.conftest import make_case, write_case
from tests.test_retrieval import PARKING, RADIATOR


def _app():
    root = Path(tempfile.mkdtemp(prefix="caselib-schema-"))
    (root / "cases").mkdir()
    write_case(root, "lift-stopped", make_case())
    write_case(root, "radiator-cold", RADIATOR)
    write_case(root, "card-jam", PARKING)
    s = load_settings(root, env={})
    enc = HashingEncoder()
    pipeline.index(s, encoder=enc, progress=False)
    return create_app(s, encoder=enc)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    case.call_and_validate()
