"""Live anomaly signals in the station: raised as records are ingested, stored, replayed."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from riverpatrol.analysis.track import river_frame
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import log_metadata
from riverpatrol.station.anomalies import AnomalyWatch
from riverpatrol.station.server import SCENARIOS, create_app
from riverpatrol.station.store import Store


def test_a_log_without_river_map_or_sonde_noise_gets_no_watch(short_scenario: dict) -> None:
    meta = log_metadata(parse_scenario(short_scenario))
    assert AnomalyWatch.for_log(meta, river_frame(meta)) is not None
    assert AnomalyWatch.for_log(meta, None) is None
    assert AnomalyWatch.for_log({**meta, "sensors": {}}, river_frame(meta)) is None


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_demo_patrol_in_the_twin_sends_signals_that_a_reload_replays(store: Store) -> None:
    with TestClient(create_app(store)) as client:
        patrol_id = client.post("/api/patrols", json={"scenario": "dongmen-demo", "speedup": 200}).json()["id"]
        live: list[dict] = []
        with client.websocket_connect(f"/api/patrols/{patrol_id}/live") as ws:
            while not live:
                message = ws.receive_json()
                assert message.get("status") in ("running", None), message
                live += message.get("anomalies", [])
        with client.websocket_connect(f"/api/patrols/{patrol_id}/live") as ws:
            replayed = ws.receive_json()["anomalies"]
        client.post(f"/api/patrols/{patrol_id}/command", json={"command": "abort"})
    assert replayed[:len(live)] == live
    first = live[0]
    # where a plume is met: at its outfall or down its tail, on its bank (tests/analysis/test_live.py)
    outfalls = json.loads((SCENARIOS / "dongmen-demo.json").read_text())["outfalls"]
    assert any(o["bank"] == first["bank"] and o["chainage_m"] - 10 <= first["s"] <= o["chainage_m"] + 300
               for o in outfalls), first
    assert first["score"] >= 8.0 and first["z"]["conductivity"] > 3.0
