"""The station's API over HTTP and WebSocket: a twin patrol started, watched, commanded, reviewed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import WebSocketDisconnect
from fastapi.testclient import TestClient

from riverpatrol.station.server import create_app
from riverpatrol.station.store import Store

# Patrols in the twin and reports exercise the API, not the database: SQLite is enough for them
# (the store and ingest tests, and the rest here, run on PostgreSQL too).
SQLITE_ONLY = pytest.mark.parametrize("store", ["sqlite"], indirect=True)


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as c:
        yield c


def _start(client: TestClient, scenario: dict[str, Any], speedup: float) -> int:
    reply = client.post("/api/patrols/upload", files={"file": ("short.json", json.dumps(scenario))},
                        data={"speedup": str(speedup)})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def _wait_status(client: TestClient, patrol_id: int, wanted: set[str], timeout_s: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        patrol = client.get(f"/api/patrols/{patrol_id}").json()
        if patrol["status"] in wanted:
            return patrol
        time.sleep(0.2)
    raise AssertionError(f"patrol {patrol_id} still {patrol['status']}, expected {wanted}")


@SQLITE_ONLY
def test_a_patrol_started_from_an_upload_runs_is_stored_and_analysed(client: TestClient, short_scenario: dict) -> None:
    patrol_id = _start(client, short_scenario, speedup=400.0)
    patrol = _wait_status(client, patrol_id, {"finished", "failed"})
    assert patrol["status"] == "finished", patrol["error"]
    assert patrol["counts"]["positions"] > 100 and patrol["counts"]["samples"] > 10
    track = client.get(f"/api/patrols/{patrol_id}/track").json()
    assert [p[0] for p in track] == sorted(p[0] for p in track)
    samples = client.get(f"/api/patrols/{patrol_id}/samples").json()
    assert samples and all(s["class_en"] and s["class_zh"] and "nh3n" in s["values"] for s in samples)
    findings = client.get(f"/api/patrols/{patrol_id}/findings").json()
    assert any(f["bank"] == "left" and abs(f["chainage_m"] - 150.0) <= 20 for f in findings)
    river = client.get(f"/api/patrols/{patrol_id}/river").json()
    assert len(river["ticks"]) == 5 and river["route"] and river["left_bank"]
    frame = client.get(f"/api/patrols/{patrol_id}/frame.jpg", params={"t": 30.0})
    assert frame.status_code == 200 and frame.content[:2] == b"\xff\xd8"


def test_review_is_stored_with_its_audit_trail(client: TestClient, store: Store, patrol_log: Path) -> None:
    from riverpatrol.station.ingest import import_log

    patrol_id = import_log(store, patrol_log, maps=())
    finding = client.get(f"/api/patrols/{patrol_id}/findings").json()[0]
    assert finding["status"] == "open"
    reply = client.post(f"/api/findings/{finding['id']}/review", json={"action": "confirm", "operator": "li"})
    assert reply.status_code == 200 and reply.json()["status"] == "confirmed"
    client.post(f"/api/findings/{finding['id']}/review", json={"action": "dismiss", "operator": "wang", "note": "a drain"})
    assert client.get(f"/api/patrols/{patrol_id}/findings").json()[0]["status"] == "dismissed"
    trail = client.get(f"/api/findings/{finding['id']}/reviews").json()
    assert [(r["action"], r["operator"]) for r in trail] == [("confirm", "li"), ("dismiss", "wang")]
    assert client.post(f"/api/findings/{finding['id']}/review", json={"action": "approve", "operator": "x"}).status_code == 422
    assert client.post("/api/findings/99999/review", json={"action": "confirm", "operator": "x"}).status_code == 404


def test_a_malformed_scenario_is_refused_with_its_problems_and_nothing_stored(client: TestClient,
                                                                               short_scenario: dict) -> None:
    bad = {**short_scenario, "river": {**short_scenario["river"], "width_m": -3.0}}
    reply = client.post("/api/patrols/upload", files={"file": ("bad.json", json.dumps(bad))})
    assert reply.status_code == 422
    assert any("river.width_m" in p for p in reply.json()["detail"]["problems"])
    reply = client.post("/api/patrols/upload", files={"file": ("junk.json", b"{not json")})
    assert reply.status_code == 422 and "not JSON" in reply.text
    reply = client.post("/api/patrols/import", files={"file": ("log.sqlite", b"garbage" * 50)})
    assert reply.status_code == 422 and "log.sqlite" in reply.text
    assert client.get("/api/patrols").json() == []


@SQLITE_ONLY
def test_pause_holds_the_boat_and_abort_brings_it_home(client: TestClient, short_scenario: dict) -> None:
    patrol_id = _start(client, short_scenario, speedup=20.0)
    with client.websocket_connect(f"/api/patrols/{patrol_id}/live") as ws:
        first = ws.receive_json()
        assert first["replay"] is True and first["type"] == "batch"
        assert client.post(f"/api/patrols/{patrol_id}/command", json={"command": "pause"}).json()["status"] == "paused"
        modes, live_samples = [], 0
        while "HOLD" not in modes:
            message = ws.receive_json()
            modes += [e["detail"]["mode"] for e in message.get("events", []) if e["kind"] == "mode"]
            live_samples += len(message.get("samples", []))
        assert client.post(f"/api/patrols/{patrol_id}/command", json={"command": "abort"}).json()["status"] == "returning"
        while True:
            message = ws.receive_json()
            if message.get("type") == "status" and message["status"] in ("aborted", "finished", "failed"):
                break
            modes += [e["detail"]["mode"] for e in message.get("events", []) if e["kind"] == "mode"]
    assert modes[-1] == "RTL" and message["status"] == "aborted"
    assert client.post(f"/api/patrols/{patrol_id}/command", json={"command": "resume"}).status_code == 409


def test_a_client_that_reconnects_gets_everything_after_what_it_had(client: TestClient, store: Store,
                                                                    patrol_log: Path) -> None:
    from riverpatrol.station.ingest import import_log

    patrol_id = import_log(store, patrol_log, maps=())
    everything = client.get(f"/api/patrols/{patrol_id}/track").json()
    cut = everything[len(everything) // 2][0]
    with client.websocket_connect(f"/api/patrols/{patrol_id}/live?after_t={cut}") as ws:
        replay = ws.receive_json()
    assert [p[0] for p in replay["positions"]] == [p[0] for p in everything if p[0] > cut]
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/api/patrols/424242/live") as ws:
        ws.receive_json()
    assert closed.value.code == 4404


@SQLITE_ONLY
def test_report_evidence_and_snapshot_of_a_stored_patrol(client: TestClient, store: Store, patrol_log: Path) -> None:
    from riverpatrol.station.ingest import import_log

    patrol_id = import_log(store, patrol_log, maps=())
    finding = client.get(f"/api/patrols/{patrol_id}/findings").json()[0]
    evidence = client.get(f"/api/findings/{finding['id']}/evidence.png")
    assert evidence.status_code == 200 and evidence.content[:4] == b"\x89PNG"
    sonar = client.get(f"/api/findings/{finding['id']}/sonar.png")
    assert sonar.status_code == 200 and sonar.content[:4] == b"\x89PNG"
    snapshot = client.get(f"/api/findings/{finding['id']}/snapshot.jpg")
    assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"
    report = client.get(f"/api/patrols/{patrol_id}/report.html", params={"lang": "en"})
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert "Suspected outfalls and their evidence" in report.text
    assert client.get("/api/patrols/999/report.pdf").status_code == 404


def test_the_dashboard_link_to_a_patrol_keeps_its_query(client: TestClient) -> None:
    """``/?patrol=ID`` is how a patrol is shared: the redirect to the page must not drop it."""
    plain = client.get("/", follow_redirects=False)
    linked = client.get("/?patrol=7&lang=zh", follow_redirects=False)
    assert plain.headers["location"] == "/static/index.html"
    assert linked.headers["location"] == "/static/index.html?patrol=7&lang=zh"
