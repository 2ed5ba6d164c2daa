"""Whole patrols with avoidance, judged by the twin's truth: no collisions, mission complete, the
boat always in the water; the named encounters of issue 3; survey coverage on a clear reach."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import Scenario, load_scenario, parse_scenario
from riverpatrol.simulate import simulate
from riverpatrol.twin.generator import generate_scenario

pytestmark = pytest.mark.slow
RANDOM_PATROLS = 50
REACH_M = 250.0  # short reaches keep the 50 patrols to minutes; the traffic is as dense as drawn
KEYFRAME_S = 60.0  # the camera plays no part here


def _patrol(scenario: Scenario, out: Path) -> tuple[dict[str, Any], list[str]]:
    result = simulate(scenario, out, keyframe_s=KEYFRAME_S)
    with PatrolLog(result.log_path) as log:
        kinds = [e.kind for e in log.records("event")]
    return result.truth, kinds


def _assert_safe(truth: dict[str, Any], scenario: Scenario) -> None:
    assert truth["collisions"] == [], truth["collisions"]
    assert truth["mission_complete"] is True
    track = np.array(truth["track"])
    river = scenario.river_frame()
    clearance = river.bank_clearance(*river.local.to_xy(track[:, 1], track[:, 2]))
    assert clearance.min() > scenario.boat.radius_m  # the boat's circle stayed in the water


def test_public_scenarios_patrol_without_collisions(public_scenario: Path, tmp_path: Path) -> None:
    scenario = load_scenario(public_scenario)
    truth, _ = _patrol(scenario, tmp_path)
    _assert_safe(truth, scenario)


def _straight(make_scenario: Callable[..., dict[str, Any]], width: float, static: list[dict[str, Any]] = (),
              moving: list[dict[str, Any]] = ()) -> Scenario:
    """A straight reach 300 m east with an outfall survey 3 m off each bank; obstacles in (s, n)."""
    data = make_scenario([(0.0, 0.0), (300.0, 0.0)], width=width, seed=5)
    river = parse_scenario(data).river_frame()

    def lonlat(s: Any, n: Any) -> list[list[float]]:
        lon, lat = river.local.to_lonlat(*river.from_river(np.asarray(s, float), np.asarray(n, float)))
        return [[float(a), float(b)] for a, b in zip(lon, lat)]

    obstacles: dict[str, Any] = {"static": [], "moving": []}
    for k, o in enumerate(static):
        if "radius_m" in o:
            obstacles["static"].append({"id": f"pier-{k}", "type": "circle", "center": lonlat([o["s"]], [o["n"]])[0],
                                        "radius_m": o["radius_m"]})
        else:
            (s0, s1), (n0, n1) = o["s"], o["n"]
            obstacles["static"].append({"id": f"moored-{k}", "type": "polygon",
                                        "ring": lonlat([s0, s1, s1, s0, s0], [n0, n0, n1, n1, n0])})
    for k, v in enumerate(moving):
        obstacles["moving"].append({"id": f"vessel-{k}", "path": lonlat(v["s"], [v["n"]] * len(v["s"])),
                                    "speed_mps": v["speed_mps"], "length_m": 8.0, "beam_m": 3.0,
                                    "start_s": v.get("start_s", 0.0), "loop": True})
    data.update(obstacles=obstacles, mission={"pattern": "outfall-survey", "bank_offset_m": 3.0})
    return parse_scenario(data)


def _avoided(scenario: Scenario, tmp_path: Path) -> None:
    truth, kinds = _patrol(scenario, tmp_path)
    _assert_safe(truth, scenario)
    assert "avoid_start" in kinds and "avoid_end" in kinds  # it did have to avoid, and came back


def test_head_on_vessel_in_a_narrow_reach(make_scenario: Callable[..., dict[str, Any]], tmp_path: Path) -> None:
    # 16 m wide; a vessel comes up the right-bank survey lane as the boat goes down it
    scenario = _straight(make_scenario, 16.0, moving=[{"s": [280.0, 30.0], "n": -5.0, "speed_mps": 1.5}])
    _avoided(scenario, tmp_path)


def test_overtaking_a_slow_vessel(make_scenario: Callable[..., dict[str, Any]], tmp_path: Path) -> None:
    # a vessel at 0.5 m/s ahead on the boat's lane, going the same way
    scenario = _straight(make_scenario, 24.0, moving=[{"s": [40.0, 260.0], "n": -9.0, "speed_mps": 0.5}])
    _avoided(scenario, tmp_path)


def test_moored_boat_over_the_survey_line(make_scenario: Callable[..., dict[str, Any]], tmp_path: Path) -> None:
    scenario = _straight(make_scenario, 20.0, static=[{"s": (140.0, 152.0), "n": (-10.0, -5.5)}])
    _avoided(scenario, tmp_path)


def test_bridge_with_two_piers(make_scenario: Callable[..., dict[str, Any]], tmp_path: Path) -> None:
    # piers on both survey lanes: the boat goes through the middle span and back to its lane
    scenario = _straight(make_scenario, 24.0, static=[{"s": 150.0, "n": 8.5, "radius_m": 1.0},
                                                      {"s": 150.0, "n": -8.5, "radius_m": 1.0}])
    _avoided(scenario, tmp_path)


def test_survey_keeps_its_bank_offset_on_a_clear_reach(shared_dir: Path, tmp_path: Path) -> None:
    scenario = load_scenario(shared_dir / "scenarios" / "straight-easy.json")
    assert not scenario.obstacles.static and not scenario.obstacles.moving
    truth, _ = _patrol(scenario, tmp_path)
    river = scenario.river_frame()
    track = np.array(truth["track"])
    x, y = river.local.to_xy(track[:, 1], track[:, 2])
    dense = np.arange(track[0, 0], track[-1, 0], 0.1)  # the 1 Hz truth track, every 15 cm
    s, n = river.to_river(np.interp(dense, track[:, 0], x), np.interp(dense, track[:, 0], y))
    m = scenario.mission
    offset = m.bank_offset_m
    bins = np.arange(max(m.from_chainage_m, offset), min(m.to_chainage_m, river.length - offset), 1.0)
    for side in (-1.0, 1.0):
        lane = side * (river.width_at(s) / 2.0 - offset)
        on_lane = np.abs(n - lane) <= 2.0
        covered = np.isin(bins.astype(int), np.floor(s[on_lane]).astype(int))
        assert covered.mean() >= 0.95, f"bank {side:+.0f}: {covered.mean():.3f} of its length within 2 m"


@pytest.mark.parametrize("seed", range(RANDOM_PATROLS))
def test_random_reaches_with_traffic(seed: int, tmp_path: Path) -> None:
    data = generate_scenario(seed, traffic=True, length_m=REACH_M, n_outfalls=1)
    scenario = parse_scenario(data)
    truth, _ = _patrol(scenario, tmp_path)
    (tmp_path / "scenario.json").write_text(json.dumps(data))
    _assert_safe(truth, scenario)
