"""A boat attached by MAVLink URL: ``riverpatrol twin serve`` in a child process, the station's API
attaching to it, recording what it sends, commanding it and letting it go."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from riverpatrol.scenario import PARAMETERS
from riverpatrol.simulate_mavlink import free_udp_port
from riverpatrol.station.server import SCENARIOS, create_app
from riverpatrol.station.store import Store

pytestmark = pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the API, not the database


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as c:
        yield c


@pytest.fixture
def twin_boat() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The demo scenario's twin as an ArduPilot boat sending to a free UDP port, at 20x."""
    port = free_udp_port()
    boat = subprocess.Popen([sys.executable, "-m", "riverpatrol", "twin", "serve", str(SCENARIOS / "dongmen-demo.json"),
                             "--mavlink", f"udpout:127.0.0.1:{port}", "--speedup", "20"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield port, boat
    boat.terminate()
    boat.wait(30)


def _patrol_dirs(store_dir: Path) -> list[Path]:
    return list((store_dir / "patrols").glob("*")) if (store_dir / "patrols").is_dir() else []


def test_a_bad_url_or_a_silent_boat_is_refused_and_nothing_is_stored(client: TestClient, tmp_path: Path) -> None:
    bad = client.post("/api/patrols/attach", json={"url": "carrier-pigeon:14550"})
    assert bad.status_code == 422 and "unknown link" in bad.json()["detail"]
    for url in ("udpin:", "udpin:127.0.0.1:99999", "udpin:\x00:1", "tcp:127.0.0.1:1", "/dev/nonexistent,57600"):
        assert client.post("/api/patrols/attach", json={"url": url}).status_code == 422, url
    silent = client.post("/api/patrols/attach", json={"url": f"udpin:127.0.0.1:{free_udp_port()}", "timeout_s": 0.5})
    assert silent.status_code == 422 and "no heartbeat" in silent.json()["detail"]
    unknown = client.post("/api/patrols/attach", json={"url": "udpin:127.0.0.1:14550", "scenario": "atlantis"})
    assert unknown.status_code == 404
    assert client.get("/api/patrols").json() == [] and _patrol_dirs(tmp_path / "station") == []


def _until(ws: WebSocketTestSession, seen: dict[str, list[Any]], done: Any, timeout_s: float = 60.0) -> None:
    """Read the feed into ``seen`` (positions, samples, modes, statuses) until ``done(seen)``."""
    deadline = time.monotonic() + timeout_s
    while not done(seen):
        assert time.monotonic() < deadline, {k: v[-3:] for k, v in seen.items()}
        message = ws.receive_json()
        if message["type"] == "batch":
            seen["positions"] += message["positions"]
            seen["samples"] += message["samples"]
            seen["modes"] += [e["detail"]["mode"] for e in message["events"] if e["kind"] == "mode"]
        seen["statuses"].append(message.get("status"))


@pytest.mark.slow
def test_an_attached_twin_is_recorded_commanded_and_let_go(client: TestClient, twin_boat: tuple[int, Any]) -> None:
    port, boat = twin_boat
    reply = client.post("/api/patrols/attach", json={"url": f"udpin:127.0.0.1:{port}", "name": "boat 1",
                                                     "scenario": "dongmen-demo", "start": True, "timeout_s": 60})
    assert reply.status_code == 201, reply.text
    patrol_id = reply.json()["id"]
    seen: dict[str, list[Any]] = {"positions": [], "samples": [], "modes": [], "statuses": []}
    with client.websocket_connect(f"/api/patrols/{patrol_id}/live") as ws:
        _until(ws, seen, lambda s: len(s["samples"]) >= 20 and s["positions"] and s["positions"][-1][3] > 0.5)
        assert "AUTO" in seen["modes"]  # the route uploaded, armed, started
        assert client.post(f"/api/patrols/{patrol_id}/command", json={"command": "pause"}).json()["status"] == "paused"
        _until(ws, seen, lambda s: s["modes"][-1] == "HOLD")  # the boat's heartbeat says HOLD
        assert client.post(f"/api/patrols/{patrol_id}/command", json={"command": "abort"}).json()["status"] == "returning"
        _until(ws, seen, lambda s: s["modes"][-1] == "RTL")
    boat.terminate()  # the radio goes quiet: 5 s later the link is lost
    boat.wait(30)
    time.sleep(6.0)
    ended = client.post(f"/api/patrols/{patrol_id}/detach")
    assert ended.status_code == 200 and ended.json()["status"] == "detached"
    patrol = client.get(f"/api/patrols/{patrol_id}").json()
    assert patrol["source"] == "mavlink" and patrol["counts"]["positions"] >= len(seen["positions"])
    samples = client.get(f"/api/patrols/{patrol_id}/samples").json()
    assert len(samples) >= 20 and all(set(s["values"]) == set(PARAMETERS) for s in samples)
    assert all(b["t"] - a["t"] == pytest.approx(1.0) for a, b in zip(samples, samples[1:]))  # the sonde's 1 Hz
    assert all(s["s"] is not None and s["lon"] is not None for s in samples)  # placed on the demo's river
    with client.websocket_connect(f"/api/patrols/{patrol_id}/live") as ws:
        events = [e["kind"] for e in ws.receive_json()["events"]]
    assert "link_lost" in events
    assert client.post(f"/api/patrols/{patrol_id}/command", json={"command": "resume"}).status_code == 409


def test_a_boat_attached_without_a_scenario_is_a_track_with_samples(client: TestClient, serve_twin: Any) -> None:
    served = serve_twin(speedup=20.0)
    reply = client.post("/api/patrols/attach", json={"url": f"udpin:127.0.0.1:{served.port}", "timeout_s": 30})
    assert reply.status_code == 201, reply.text
    patrol_id = reply.json()["id"]
    seen: dict[str, list[Any]] = {"positions": [], "samples": [], "modes": [], "statuses": []}
    with client.websocket_connect(f"/api/patrols/{patrol_id}/live") as ws:
        _until(ws, seen, lambda s: len(s["samples"]) >= 5)
    assert client.post(f"/api/patrols/{patrol_id}/command", json={"command": "resume"}).status_code == 409  # no mission
    assert client.post(f"/api/patrols/{patrol_id}/detach").json()["status"] == "detached"
    patrol = client.get(f"/api/patrols/{patrol_id}").json()
    assert patrol["name"] == f"udpin:127.0.0.1:{served.port}" and patrol["error"] is None
    river = client.get(f"/api/patrols/{patrol_id}/river").json()
    assert river["left_bank"] == [] and river["route"] is None
    assert all(s["s"] is None and s["lon"] is not None for s in seen["samples"])  # on the track, no chainage
