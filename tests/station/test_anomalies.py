"""Live anomaly signals in the station: raised as records are ingested, stored, replayed."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from riverpatrol.analysis.track import river_frame
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import log_metadata
from riverpatrol.station import models, queries
from riverpatrol.station.anomalies import AnomalyWatch
from riverpatrol.station.ingest import Window, write_window
from riverpatrol.station.server import SCENARIOS, create_app
from riverpatrol.station.store import Store


def test_a_log_without_river_map_or_sonde_noise_gets_no_watch(short_scenario: dict) -> None:
    meta = log_metadata(parse_scenario(short_scenario))
    assert AnomalyWatch.for_log(meta, river_frame(meta)) is not None
    assert AnomalyWatch.for_log(meta, None) is None
    assert AnomalyWatch.for_log({**meta, "sensors": {}}, river_frame(meta)) is None


def test_signals_are_stored_with_their_window_and_read_back(store: Store) -> None:
    signal = {"t": 745.0, "lon": 121.3838, "lat": 28.3798, "chainage_m": 1077.0, "bank": "right", "score": 8.4,
              "z": {"conductivity": 6.5, "nh3n": 2.1}}
    with store.session() as s:
        patrol = models.Patrol(name="p", source="import", status="finished", meta={})
        s.add(patrol)
        s.flush()
        write_window(s, patrol.id, Window(None, anomalies=[signal]))
    with store.session() as s:
        assert queries.since(s, patrol.id, None).anomalies == [signal]
        assert queries.since(s, patrol.id, 745.0).anomalies == []
        if store.postgis:  # a point generated from lon/lat, as for samples
            near = s.execute(text("SELECT count(*) FROM anomaly WHERE ST_DWithin(geom::geography, "
                                  "ST_SetSRID(ST_MakePoint(121.3838, 28.3799), 4326)::geography, 20)")).scalar_one()
            assert near == 1


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
