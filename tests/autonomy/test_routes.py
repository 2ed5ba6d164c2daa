"""Routes are planned in the river frame and stay inside the water, clear of banks and ends."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from riverpatrol.autonomy.routes import PATTERNS, corridor_route, mission_items, plan_route
from riverpatrol.cli import app
from riverpatrol.scenario import load_scenario
from riverpatrol.vehicle.mission import MavCmd

DEMO = Path(__file__).resolve().parents[2] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"


@pytest.fixture(scope="module")
def river():  # type: ignore[no-untyped-def]
    return load_scenario(DEMO).river_frame()


def _densify(route: np.ndarray, step: float = 0.5) -> np.ndarray:
    pieces = [np.linspace(a, b, max(2, int(np.hypot(*(b - a)) / step) + 1)) for a, b in zip(route[:-1], route[1:])]
    return np.concatenate(pieces)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_route_keeps_the_offset_from_banks_and_ends(river, pattern: str) -> None:  # type: ignore[no-untyped-def]
    route = plan_route(river, pattern, 0.0, None, 3.0)
    dense = _densify(route)
    clearance = river.bank_clearance(dense[:, 0], dense[:, 1])
    assert clearance.min() >= 3.0 - 0.05  # straight legs between waypoints cut bends by millimetres only


def test_outfall_survey_runs_down_the_right_bank_and_up_the_left(river) -> None:  # type: ignore[no-untyped-def]
    route = plan_route(river, "outfall-survey", 0.0, 1795.0, 3.0)
    s, n = river.to_river(route[:, 0], route[:, 1])
    turn = int(np.argmax(s))
    assert np.all(n[:turn] < 0) and np.all(n[turn + 1:] > 0)
    assert np.all(np.diff(s[:turn]) > 0) and np.all(np.diff(s[turn + 1:]) < 0)
    np.testing.assert_allclose(np.abs(n), river.width_at(s) / 2 - 3.0, atol=0.005)  # bend corners: W at the vertex
    assert s.max() == pytest.approx(1795.0) and s.min() == pytest.approx(3.0)


def test_transects_cross_the_river_at_the_spacing(river) -> None:  # type: ignore[no-untyped-def]
    route = plan_route(river, "transects", 0.0, 400.0, 3.0, spacing_m=100.0)
    s, n = river.to_river(route[:, 0], route[:, 1])
    across = np.flatnonzero((np.abs(np.diff(s)) < 1e-6) & (np.sign(n[:-1]) != np.sign(n[1:])))
    np.testing.assert_allclose(s[across], [3, 103, 203, 303], atol=1e-6)  # bank to bank, every 100 m
    assert n[0] < 0  # the first cross-section starts at the right bank


def test_mission_sets_speed_then_visits_then_returns(river) -> None:  # type: ignore[no-untyped-def]
    route = plan_route(river, "centerline", 0.0, 200.0, 3.0)
    items = mission_items(river, route, 1.5)
    assert items[0].command is MavCmd.DO_CHANGE_SPEED and items[0].speed_mps == 1.5
    assert items[-1].command is MavCmd.NAV_RETURN_TO_LAUNCH
    assert len(items) == len(route) + 2


def test_plan_command_writes_plan_and_geojson(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["plan", str(DEMO), "--out", str(tmp_path / "r.plan"), "--geojson", str(tmp_path / "r.geojson")])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "r.plan").read_text())
    assert doc["mission"]["items"][0]["command"] == 178
    geo = json.loads((tmp_path / "r.geojson").read_text())
    assert [f["properties"]["kind"] for f in geo["features"]] == ["route", "geofence"]


def test_plan_command_rejects_unknown_pattern(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["plan", str(DEMO), "--out", str(tmp_path / "r.plan"), "--pattern", "spiral"])
    assert result.exit_code == 2 and not (tmp_path / "r.plan").exists()


def _along_river(river, s0: float, s1: float, n: float = 0.0) -> np.ndarray:  # type: ignore[no-untyped-def]
    s = np.linspace(s0, s1, 40)
    x, y = river.from_river(s, np.full(s.shape, n))
    return np.column_stack([x, y])


def test_corridor_runs_lanes_across_its_width_back_and_forth(river) -> None:  # type: ignore[no-untyped-def]
    route = corridor_route(river, _along_river(river, 200.0, 600.0), width_m=8.0, spacing_m=4.0, clearance_m=2.0)
    s, n = river.to_river(route[:, 0], route[:, 1])
    lanes = np.round(n).astype(int)
    assert sorted(set(lanes.tolist())) == [-4, 0, 4]  # three lanes: the polyline and 4 m to either side
    runs = [k for k, lane in enumerate(lanes) if k == 0 or lane != lanes[k - 1]]
    assert [lanes[k] for k in runs] == [-4, 0, 4]  # one pass per lane, one after the other
    assert np.all(np.diff(s[lanes == -4]) < 0) or np.all(np.diff(s[lanes == -4]) > 0)
    assert np.sign(s[lanes == 0][-1] - s[lanes == 0][0]) == -np.sign(s[lanes == -4][-1] - s[lanes == -4][0])


def test_corridor_wider_than_the_river_closes_up_inside_the_banks(river) -> None:  # type: ignore[no-untyped-def]
    route = corridor_route(river, _along_river(river, 50.0, 1500.0), width_m=80.0, spacing_m=10.0, clearance_m=3.0)
    clearance = river.bank_clearance(*_densify(route).T)
    assert clearance.min() >= 3.0 - 0.05
    assert len(route) > 100


def test_corridor_rejects_a_degenerate_polyline(river) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="two distinct points"):
        corridor_route(river, np.array([[1.0, 1.0], [1.0, 1.0]]), 10.0, 5.0, 2.0)


def test_plan_command_writes_a_corridor_plan(tmp_path: Path, river) -> None:  # type: ignore[no-untyped-def]
    xy = _along_river(river, 300.0, 700.0)
    lon, lat = river.local.to_lonlat(xy[:, 0], xy[:, 1])
    (tmp_path / "c.csv").write_text("".join(f"{a},{b}\n" for a, b in zip(lon, lat)))
    out = tmp_path / "c.plan"
    result = CliRunner().invoke(app, ["plan", str(DEMO), "--out", str(out), "--pattern", "corridor",
                                      "--corridor", str(tmp_path / "c.csv"), "--width", "6", "--spacing", "3"])
    assert result.exit_code == 0, result.output
    items = json.loads(out.read_text())["mission"]["items"]
    assert len(items) > 3 * 400 / 5  # three lanes of 400 m, a waypoint every 5 m


def test_plan_command_rejects_a_corridor_without_its_pattern(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("121.38,28.37\n121.381,28.372\n")
    result = CliRunner().invoke(app, ["plan", str(DEMO), "--out", str(tmp_path / "x.plan"),
                                      "--corridor", str(tmp_path / "c.csv")])
    assert result.exit_code == 2
    assert "--pattern corridor" in result.output
