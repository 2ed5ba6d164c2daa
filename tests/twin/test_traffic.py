"""Vessels run their paths: wait, run, turn round (loop) or stay at the end."""

from __future__ import annotations

import numpy as np
import pytest

from riverpatrol.geo.frame import LocalFrame
from riverpatrol.scenario import MovingVessel, Obstacles
from riverpatrol.twin.traffic import Traffic, Vessel

FRAME = LocalFrame(121.379, 28.3712)


def lonlat(x: float, y: float) -> list[float]:
    lon, lat = FRAME.to_lonlat(x, y)
    return [float(lon), float(lat)]


def vessel(loop: bool) -> Vessel:
    spec = MovingVessel(id="v", path=[lonlat(0, 0), lonlat(100, 0), lonlat(100, 50)], speed_mps=2.0,
                        length_m=10.0, beam_m=3.0, start_s=20.0, loop=loop)
    return Vessel(spec, FRAME)


def test_waits_then_runs_at_its_speed_along_the_path() -> None:
    v = vessel(loop=True)
    x, y, h = v.pose([0.0, 20.0, 45.0, 80.0])
    np.testing.assert_allclose(x, [0, 0, 50, 100], atol=1e-6)
    np.testing.assert_allclose(y, [0, 0, 0, 20], atol=1e-6)
    np.testing.assert_allclose(h[:3], 0.0, atol=1e-6)
    assert h[3] == pytest.approx(np.pi / 2, abs=1e-6)


def test_loop_turns_round_at_each_end() -> None:
    v = vessel(loop=True)  # a 150 m path at 2 m/s: 75 s out, 75 s back, from t = 20 s
    x, y, h = v.pose([20.0 + 75.0 + 12.5, 20.0 + 75.0 + 50.0, 20.0 + 150.0 + 5.0])
    np.testing.assert_allclose([x[0], y[0]], [100, 25], atol=1e-6)  # 25 m back from the far end
    assert h[0] == pytest.approx(-np.pi / 2, abs=1e-6)  # heading back down the second leg
    np.testing.assert_allclose([x[1], y[1]], [50, 0], atol=1e-6)
    assert abs(abs(h[1]) - np.pi) < 1e-6
    np.testing.assert_allclose([x[2], y[2]], [10, 0], atol=1e-6)  # a second lap has begun
    assert h[2] == pytest.approx(0.0, abs=1e-6)


def test_without_loop_it_stays_at_the_last_point() -> None:
    x, y, _ = vessel(loop=False).pose([1000.0])
    np.testing.assert_allclose([x[0], y[0]], [100, 50], atol=1e-6)


def test_footprint_is_the_hull_rectangle() -> None:
    corners = vessel(loop=True).footprints([45.0])[0]
    np.testing.assert_allclose(np.sort(corners[:, 0]), [45, 45, 55, 55], atol=1e-6)
    np.testing.assert_allclose(np.sort(corners[:, 1]), [-1.5, -1.5, 1.5, 1.5], atol=1e-6)


def test_clearances_to_circles_polygons_and_hulls() -> None:
    obstacles = Obstacles.model_validate({
        "static": [
            {"id": "pier", "type": "circle", "center": lonlat(10, 10), "radius_m": 1.0},
            {"id": "moored", "type": "polygon", "ring": [lonlat(30, 0), lonlat(34, 0), lonlat(34, 2), lonlat(30, 2), lonlat(30, 0)]},
        ],
        "moving": [{"id": "barge", "path": [lonlat(0, -20), lonlat(100, -20)], "speed_mps": 1.0, "length_m": 10, "beam_m": 2}],
    })
    traffic = Traffic(obstacles, FRAME)
    gaps = traffic.clearances(np.array([0.0, 50.0]), np.array([10.0, 32.0]), np.array([14.0, 5.0]))
    np.testing.assert_allclose(gaps["pier"], [3.0, np.hypot(22, 5) - 1.0], atol=0.01)
    np.testing.assert_allclose(gaps["moored"], [np.hypot(20, 12), 3.0], atol=0.01)
    np.testing.assert_allclose(gaps["barge"], [np.hypot(5, 33), np.hypot(13, 24)], atol=0.01)


def test_clearances_beyond_exact_within_are_lower_bounds() -> None:
    obstacles = Obstacles.model_validate({
        "static": [{"id": "moored", "type": "polygon",
                    "ring": [lonlat(30, 0), lonlat(34, 0), lonlat(34, 2), lonlat(30, 2), lonlat(30, 0)]}],
        "moving": [{"id": "barge", "path": [lonlat(0, -20), lonlat(100, -20)], "speed_mps": 1.0, "length_m": 10, "beam_m": 2}],
    })
    traffic = Traffic(obstacles, FRAME)
    t = np.linspace(0.0, 60.0, 50)
    x, y = np.linspace(-10.0, 60.0, 50), np.linspace(-25.0, 10.0, 50)
    exact = traffic.clearances(t, x, y)
    cheap = traffic.clearances(t, x, y, exact_within=4.0)
    for name in ("moored", "barge"):
        near = exact[name] <= 4.0
        assert near.any() and (~near).any()
        np.testing.assert_allclose(cheap[name][near], exact[name][near], atol=1e-9)
        assert np.all(cheap[name][~near] <= exact[name][~near] + 1e-9)
        bounded = ~np.isclose(cheap[name], exact[name])
        assert bounded.any() and np.all(cheap[name][bounded] > 4.0)  # only beyond reach
