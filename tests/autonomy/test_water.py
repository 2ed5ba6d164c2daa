"""The fast local bank clearance agrees exactly with the river frame's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from riverpatrol.autonomy.water import NearWater
from riverpatrol.scenario import parse_scenario


def test_near_water_matches_the_river_frame(make_scenario: Callable[..., dict[str, Any]]) -> None:
    bend = [(0.0, 0.0), (100.0, 0.0), (170.0, 60.0), (200.0, 150.0), (300.0, 180.0)]
    river = parse_scenario(make_scenario(bend, width=[18.0, 20.0, 24.0, 20.0, 16.0])).river_frame()
    water = NearWater(river, 30.0)
    rng = np.random.default_rng(1)
    for s in np.linspace(5.0, river.length - 5.0, 40):
        x, y = river.from_river(s, rng.uniform(-7.0, 7.0))
        water.focus(float(x[0]), float(y[0]))
        px, py = x[0] + rng.uniform(-30.0, 30.0, 300), y[0] + rng.uniform(-30.0, 30.0, 300)
        near = np.hypot(px - x[0], py - y[0]) <= 30.0
        assert np.allclose(water.clearance(px, py)[near], river.bank_clearance(px, py)[near])


def test_near_water_river_coordinates_match_the_river_frame(make_scenario: Callable[..., dict[str, Any]]) -> None:
    bend = [(0.0, 0.0), (100.0, 0.0), (170.0, 60.0), (200.0, 150.0)]
    river = parse_scenario(make_scenario(bend, width=20.0)).river_frame()
    water = NearWater(river, 30.0)
    s0 = np.linspace(20.0, river.length - 20.0, 30)
    n0 = np.random.default_rng(2).uniform(-9.0, 9.0, 30)
    x, y = river.from_river(s0, n0)
    for k in range(len(s0)):
        water.focus(float(x[k]), float(y[k]))
        s, n, past_end = water.river_coords(x[k:k + 1], y[k:k + 1])
        rs, rn = river.to_river(x[k:k + 1], y[k:k + 1])
        assert np.allclose([s[0], n[0]], [rs[0], rn[0]]) and not past_end[0]


def test_near_water_projects_exactly_as_the_river_frame_ties_and_ends_included(
        make_scenario: Callable[..., dict[str, Any]]) -> None:
    """The search skips segments that cannot be nearest; the answer is still the full projection's,
    to the bit, for points at the centerline's vertices (two segments equally near) and past its ends."""
    bend = [(0.0, 0.0), (40.0, 5.0), (70.0, 30.0), (80.0, 60.0), (120.0, 70.0), (160.0, 60.0)]
    river = parse_scenario(make_scenario(bend, width=16.0)).river_frame()
    water = NearWater(river, 30.0)
    rng = np.random.default_rng(4)
    for s in np.linspace(0.0, river.length, 25):
        x, y = river.from_river(s, rng.uniform(-6.0, 6.0))
        water.focus(float(x[0]), float(y[0]))
        px = np.concatenate([x[0] + rng.uniform(-30.0, 30.0, 200), river.xy[:, 0]])
        py = np.concatenate([y[0] + rng.uniform(-30.0, 30.0, 200), river.xy[:, 1]])
        near = np.hypot(px - x[0], py - y[0]) <= 30.0
        s_near, n_near, past_end = water.river_coords(px[near], py[near])
        s_all, n_all, inside = river.project(px[near], py[near])
        assert np.array_equal(s_near, s_all) and np.array_equal(n_near, n_all)
        assert np.array_equal(past_end, ~inside)
