"""A twin patrol in the station, watched live: every record arrives once, in order, with its time,
as the patrol log has it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from riverpatrol.patrollog import PatrolLog
from riverpatrol.station import models
from riverpatrol.station.server import create_app
from riverpatrol.station.store import Store


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as c:
        yield c


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_live_feed_carries_every_record_once_in_order_with_its_time(client: TestClient, store: Store,
                                                                         short_scenario: dict[str, Any]) -> None:
    reply = client.post("/api/patrols/upload", files={"file": ("short.json", json.dumps(short_scenario))},
                        data={"speedup": "100"})
    patrol_id = reply.json()["id"]
    batches: list[dict[str, Any]] = []
    with client.websocket_connect(f"/api/patrols/{patrol_id}/live") as ws:
        while True:
            message = ws.receive_json()
            if message["type"] == "status" and message["status"] in ("finished", "aborted", "failed"):
                break
            if message["type"] == "batch":
                batches.append(message)
    assert message["status"] == "finished"
    live = [b for b in batches if not b.get("replay")]
    assert len(live) > 10
    for batch in live:  # each batch holds what the boat side had committed up to its time
        times = [p[0] for p in batch["positions"]] + [s["t"] for s in batch["samples"]]
        assert batch["t"] is None or all(t <= batch["t"] for t in times)
    fixes = [p for b in batches for p in b["positions"]]
    samples = [s["t"] for b in batches for s in b["samples"]]
    events = [(e["t"], e["kind"]) for b in batches for e in b["events"]]
    with store.session() as session:
        log_path = session.get_one(models.Patrol, patrol_id).log_path
    with PatrolLog(log_path) as log:
        logged = log.columns("position")
        assert [p[0] for p in fixes] == logged["t"].tolist()  # all of them, in order, none twice
        assert [p[1] for p in fixes] == pytest.approx(logged["lon"].tolist())
        assert samples == log.columns("sonde")["t"].tolist()
        assert sorted(events) == sorted((e.t, e.kind) for e in log.records("event"))
    assert np.allclose(np.diff([p[0] for p in fixes]), 0.1)  # the station's twin patrols fix at 10 Hz
