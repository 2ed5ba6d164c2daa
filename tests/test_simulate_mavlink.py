"""The whole patrol over MAVLink (twin serve in a child process, UDP loopback) reaches the same
outcome as the direct in-process run of the same scenario."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.spatial import cKDTree

from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import simulate
from riverpatrol.simulate_mavlink import simulate_over_mavlink

pytestmark = pytest.mark.slow


def _xy(track: np.ndarray, lat0: float) -> np.ndarray:
    return np.c_[track[:, 1] * 111_320.0 * math.cos(math.radians(lat0)), track[:, 2] * 110_574.0]


def test_mavlink_patrol_matches_the_direct_one(tmp_path: Path, make_scenario: Callable[..., dict[str, Any]]) -> None:
    scenario = parse_scenario(make_scenario(((0.0, 0.0), (400.0, 0.0))))
    direct = simulate(scenario, tmp_path / "direct")
    over = simulate_over_mavlink(scenario, tmp_path / "mavlink", speedup=40.0)
    assert direct.truth["mission_complete"] and over.truth["mission_complete"]

    lat0 = scenario.boat.home[1]
    a, b = _xy(np.array(direct.truth["track"]), lat0), _xy(np.array(over.truth["track"]), lat0)
    assert np.percentile(cKDTree(a).query(b)[0], 95) < 3.0  # the same path, metres apart at most
    assert np.percentile(cKDTree(b).query(a)[0], 95) < 3.0
    assert over.truth["track_length_m"] == pytest.approx(direct.truth["track_length_m"], rel=0.05)

    for kind in ("position", "sonde", "ranging", "sonar", "frame"):
        assert over.counts[kind] == pytest.approx(direct.counts[kind], rel=0.15), kind
    with PatrolLog(over.log_path) as log:
        kinds = [e.kind for e in log.records("event")]
    assert kinds[0] == "patrol_start" and kinds[-1] == "patrol_end" and "mission_complete" in kinds
    with PatrolLog(over.log_path) as log:
        stats = next(e.detail for e in log.records("event") if e.kind == "link_stats")
    # GLOBAL_POSITION_INT alone comes at the 5 Hz the logged GNSS fixes have; the other streams on top
    assert stats["received"] > over.counts["position"] and stats["bad"] == 0
    with PatrolLog(direct.log_path) as log:
        direct_reached = sum(e.kind == "waypoint_reached" for e in log.records("event"))
    assert kinds.count("waypoint_reached") == direct_reached
    assert json.loads((over.truth_path).read_text())["scenario"] == scenario.name
