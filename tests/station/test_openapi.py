"""Generated requests against the station's OpenAPI schema (schemathesis): never a 500.

Starting patrols is left out (each valid request would run a patrol in the twin), and attaching
to a boat (each would open a link and wait for a heartbeat: tests/station/test_attach.py); everything else,
reviews and uploads included, gets generated input against a store holding one imported patrol.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from riverpatrol.station.ingest import import_log
from riverpatrol.station.server import create_app
from riverpatrol.station.store import Store


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, patrol_log: Path):
    root = tmp_path_factory.mktemp("station")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RIVERPATROL_DATA_DIR", str(root))
        store = Store(f"sqlite:///{root / 'station.sqlite'}")
        import_log(store, patrol_log, maps=())
        yield create_app(store)
        store.close()


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
        method="POST", path_regex=r"^/api/patrols(/upload|/attach)?$")


def test_no_server_errors_on_generated_input(api_schema) -> None:
    checked = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case) -> None:
            response = case.call()
            assert response.status_code < 500, \
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"

        call()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /api/findings/{finding_id}/review" in checked and len(checked) >= 15
