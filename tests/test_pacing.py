"""Paced runs: every record reaches the log once, in time order, not before its time on the patrol
clock, and a reader following ``progress`` holds everything up to the time it is told."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from riverpatrol.pacing import RELEASE_S, PatrolClock, between, release
from riverpatrol.patrollog import PatrolLog
from riverpatrol.records import MissionEvent
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import simulate
from riverpatrol.twin.twin import RiverTwin, SensedBatch


@pytest.fixture(scope="module")
def sensed(short_scenario: dict[str, Any]) -> SensedBatch:
    """Two seconds of everything the twin's sensors report, camera at 15 frames a second."""
    twin = RiverTwin(parse_scenario(short_scenario), keyframe_s=1 / 15, gnss_hz=10.0)
    return twin.sense(twin.advance(2.0))


def _times(batch: SensedBatch) -> list[float]:
    return sorted([*batch.positions["t"].tolist(), *batch.sonde_t.tolist(), *batch.scan_t.tolist(),
                   *batch.ping_t.tolist(), *batch.frame_t])


def test_release_hands_over_every_record_once_in_time_order(sensed: SensedBatch) -> None:
    events = [MissionEvent(0.55, "mode", {"mode": "AUTO"}), MissionEvent(2.0, "waypoint", {}),
              MissionEvent(2.5, "late", {})]  # stamped after the block: goes with its last group
    past = PatrolClock(time.time() - 3600.0, 1.0)  # every record is due already: no waiting
    groups: list[tuple[SensedBatch, list[MissionEvent], float]] = []
    release(past, 2.0, sensed, events, lambda batch, logged, now: groups.append((batch, logged, now)))
    nows = [now for _, _, now in groups]
    assert nows == sorted(set(nows)) and nows[-1] == 2.0
    assert sorted({*_times(sensed), 0.55}) == nows  # at 1x every distinct time is a group of its own
    assert [t for batch, _, _ in groups for t in _times(batch)] == _times(sensed)
    before = -np.inf
    for batch, logged, now in groups:
        assert all(before < t <= now for t in _times(batch))
        before = now
    assert [(e.kind, now) for _, logged, now in groups for e in logged] == [("mode", 0.55), ("waypoint", 2.0),
                                                                              ("late", 2.0)]
    frames = [f for batch, _, _ in groups for f in batch.frames]
    assert frames == sensed.frames


def test_at_high_speedups_records_due_close_together_go_together(sensed: SensedBatch) -> None:
    speedup = 100.0
    past = PatrolClock(time.time() - 3600.0, speedup)
    groups: list[tuple[list[float], float]] = []
    release(past, 2.0, sensed, [], lambda batch, logged, now: groups.append((_times(batch), now)))
    assert groups[-1][1] == 2.0 and len(groups) < len(set(_times(sensed)))
    assert [t for times, _ in groups for t in times] == _times(sensed)
    assert all(0 <= (now - t) / speedup <= RELEASE_S for times, now in groups for t in times)


def test_records_are_not_released_before_their_time(sensed: SensedBatch) -> None:
    clock = PatrolClock(time.time(), 10.0)
    released: list[tuple[float, float]] = []
    release(clock, 2.0, sensed, [], lambda batch, logged, now: released.append((now, time.time())))
    assert all(wall >= clock.due(now) for now, wall in released)


def test_between_takes_the_records_of_a_window(sensed: SensedBatch) -> None:
    window = between(sensed, 0.5, 1.0)
    assert _times(window) == [t for t in _times(sensed) if 0.5 < t <= 1.0]
    assert len(window.scans) == len(window.scan_t) and len(window.port) == len(window.ping_t)
    assert all(len(v) == len(window.sonde_t) for v in window.sonde.values())


def test_a_paced_patrol_logs_what_progress_announces(short_scenario: dict[str, Any], tmp_path: Path) -> None:
    announced: list[tuple[float, dict[str, int]]] = []
    log_path = tmp_path / "patrol.sqlite"

    def progress(now: float, _expected: float) -> None:  # what a station reads when told
        with PatrolLog(log_path) as log:
            announced.append((now, {kind: log.count(kind) for kind in ("position", "frame")}))

    stop_at = time.monotonic() + 3.0
    simulate(parse_scenario(short_scenario), tmp_path, speedup=5.0, keyframe_s=5.0 / 15, gnss_hz=10.0,
             progress=progress, control=lambda pilot: time.monotonic() > stop_at)
    with PatrolLog(log_path) as log:
        clock = PatrolClock(**log.meta["paced"])
        positions = log.columns("position")["t"]
        frames = log.columns("frame")["t"]
        for now, counts in announced:  # everything up to ``now`` is there, nothing after it yet
            assert counts["position"] == np.count_nonzero(positions <= now)
            assert counts["frame"] == np.count_nonzero(frames <= now)
    assert clock.speedup == 5.0
    assert np.allclose(np.diff(positions), 0.1) and len(frames) > 1 and np.allclose(np.diff(frames), 1 / 3)
