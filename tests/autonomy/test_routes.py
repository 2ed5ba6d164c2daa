"""Routes are planned in the river frame and stay inside the water, clear of banks and ends."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from riverpatrol.autonomy.routes import PATTERNS, mission_items, plan_route
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
