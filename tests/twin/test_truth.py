"""Ground truth: one collision per contact episode, clearance, the 1 Hz track."""

from __future__ import annotations

import numpy as np
import pytest

from riverpatrol.scenario import parse_scenario
from riverpatrol.twin.traffic import Traffic
from riverpatrol.twin.truth import TruthRecorder
from riverpatrol.twin.twin import TickBlock


def scenario_dict() -> dict:
    return {
        "schema": "riverpatrol.scenario/1", "name": "truth-test", "seed": 1,
        "river": {"centerline": [[121.379, 28.3712], [121.385, 28.3712]], "width_m": 28, "depth_m": 2,
                  "velocity_mps": 0.2, "transverse_dispersion_m2ps": 0.05},
        "outfalls": [{"id": "P9", "chainage_m": 300, "bank": "left", "flow_m3ps": 0.02, "submerged": False}],
        "boat": {"home": [121.3792, 28.3712], "radius_m": 1.0},
        "mission": {"pattern": "outfall-survey"},
    }


def recorder(extra_static: list | None = None) -> TruthRecorder:
    raw = scenario_dict()
    river_tmp = parse_scenario(raw).river_frame()
    lon, lat = river_tmp.local.to_lonlat(100.0, 0.0)
    raw["obstacles"] = {"static": [{"id": "pier", "type": "circle", "center": [float(lon), float(lat)], "radius_m": 1.0}]}
    sc = parse_scenario(raw)
    river = sc.river_frame()
    return TruthRecorder(sc, river, Traffic(sc.obstacles, river.local), track_every=10)


def feed(rec: TruthRecorder, x: np.ndarray, y: np.ndarray, first_tick: int = 1) -> None:
    ticks = np.arange(first_tick, first_tick + len(x))
    zeros = np.zeros(len(x))
    rec.observe(TickBlock(ticks, ticks * 0.1, x, y, zeros, zeros, zeros, *rec._river.project(x, y)))


def test_one_episode_is_one_collision_even_across_blocks() -> None:
    rec = recorder()
    x = np.linspace(90.0, 110.0, 201)  # straight through the pier (contact while |x-100| < 2)
    feed(rec, x[:100], np.zeros(100))
    feed(rec, x[100:], np.zeros(101), first_tick=101)
    assert [c["with"] for c in rec.collisions] == ["pier"]
    assert rec.collisions[0]["t"] == pytest.approx(8.1, abs=0.11)  # first tick with x > 98
    assert rec.min_clearance == pytest.approx(-2.0, abs=0.01)


def test_two_passes_are_two_collisions_and_leaving_the_water_counts() -> None:
    rec = recorder()
    out_and_back = np.concatenate([np.linspace(90, 110, 100), np.linspace(110, 90, 100)])
    feed(rec, out_and_back, np.zeros(200))
    feed(rec, np.full(20, 200.0), np.linspace(10.0, 16.0, 20), first_tick=201)  # onto the left bank
    assert [c["with"] for c in rec.collisions] == ["pier", "pier", "bank"]


def test_clear_pass_has_no_collision_and_positive_clearance() -> None:
    rec = recorder()
    feed(rec, np.linspace(50.0, 150.0, 500), np.full(500, -5.0))
    assert rec.collisions == []
    assert rec.min_clearance == pytest.approx(5.0 - 1.0 - 1.0, abs=0.01)  # 5 m from the centre, two radii


def test_document_follows_spec_section_5() -> None:
    rec = recorder()
    feed(rec, np.linspace(50.0, 150.0, 500), np.full(500, -5.0))
    doc = rec.document(mission_complete=True)
    assert set(doc) == {"scenario", "outfalls", "collisions", "min_clearance_m", "track",
                        "track_length_m", "duration_s", "mission_complete"}
    assert doc["track_length_m"] == pytest.approx(100.0 * 499 / 499, rel=1e-6)
    times = [row[0] for row in doc["track"]]
    assert np.allclose(np.diff(times), 1.0)  # 1 Hz
    assert doc["duration_s"] == pytest.approx(50.0)
    (outfall,) = doc["outfalls"]
    assert outfall["id"] == "P9" and outfall["bank"] == "left" and outfall["chainage_m"] == 300
    assert outfall["submerged"] is False and outfall["active"] == [[0.0, 1e9]]
