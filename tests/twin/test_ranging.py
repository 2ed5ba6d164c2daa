"""Obstacle ranging rings are shaped like MAVLink OBSTACLE_DISTANCE and see banks and obstacles."""

from __future__ import annotations

import numpy as np
import pytest

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.scenario import ObstacleRanging, Obstacles
from riverpatrol.twin.ranging import MIN_CM, RangingSensor
from riverpatrol.twin.traffic import Traffic

RIVER = RiverFrame([[121.379, 28.3712], [121.385, 28.3712]], 28.0, 2.0)  # flows east, 14 m each side


def lonlat(x: float, y: float) -> list[float]:
    lon, lat = RIVER.local.to_lonlat(x, y)
    return [float(lon), float(lat)]


def sensor(static: list[dict] | None = None, moving: list[dict] | None = None) -> RangingSensor:
    obstacles = Obstacles.model_validate({"static": static or [], "moving": moving or []})
    return RangingSensor(ObstacleRanging(), RIVER, Traffic(obstacles, RIVER.local))


def scan(s: RangingSensor, x: float, y: float, psi: float, t: float = 0.0) -> np.ndarray:
    """One ring as plain ints (uint16 arithmetic would wrap in comparisons)."""
    chainage, _ = RIVER.to_river(x, y)
    ring = s.scans(np.array([t]), np.array([x]), np.array([y]), np.array([psi]), chainage)[0]
    assert ring.dtype == np.uint16
    return ring.astype(int)


def test_shape_units_and_no_obstacle_value() -> None:
    ring = scan(sensor(), 200.0, 0.0, 0.0)
    assert ring.shape == (72,)
    assert ring[0] == 3001 and ring[36] == 3001  # bow and stern look along the river: nothing
    assert MIN_CM <= ring.min()


def test_banks_abeam_at_half_width() -> None:
    ring = scan(sensor(), 200.0, 0.0, 0.0)  # heading east (downstream), mid-river
    assert ring[18] == pytest.approx(1400, abs=2)  # starboard: the right bank, 14 m
    assert ring[54] == pytest.approx(1400, abs=2)  # port: the left bank
    off = scan(sensor(), 200.0, 4.0, 0.0)  # 4 m towards the left bank
    assert off[54] == pytest.approx(1000, abs=2) and off[18] == pytest.approx(1800, abs=2)


def test_sectors_turn_with_the_bow() -> None:
    ring = scan(sensor(), 200.0, 0.0, np.pi / 2)  # bow north, towards the left bank
    assert ring[0] == pytest.approx(1400, abs=2)
    assert ring[36] == pytest.approx(1400, abs=2)


def test_pier_ahead_in_the_bow_sector() -> None:
    pier = [{"id": "p", "type": "circle", "center": lonlat(210.0, 0.0), "radius_m": 1.0}]
    ring = scan(sensor(static=pier), 200.0, 0.0, 0.0)
    assert ring[0] == pytest.approx(900, abs=5)
    # a 1 m radius at 10 m spans ±5.7°: the flanks show in the two sectors beside the bow, no further
    assert 900 < ring[1] < 1000 and 900 < ring[71] < 1000
    assert ring[2] == 3001 and ring[70] == 3001


def test_pier_behind_is_seen_astern() -> None:
    pier = [{"id": "p", "type": "circle", "center": lonlat(190.0, 0.0), "radius_m": 1.0}]
    ring = scan(sensor(static=pier), 200.0, 0.0, 0.0)
    assert ring[36] == pytest.approx(900, abs=5)


def test_moving_vessel_is_seen_where_it_is_at_that_time() -> None:
    barge = [{"id": "b", "path": [lonlat(300.0, 5.0), lonlat(100.0, 5.0)], "speed_mps": 2.0,
              "length_m": 10.0, "beam_m": 3.0, "start_s": 0.0, "loop": False}]
    s = sensor(moving=barge)
    early = scan(s, 200.0, 0.0, 0.0, t=30.0)  # barge centre at x = 240: out of range (35 m)
    late = scan(s, 200.0, 0.0, 0.0, t=40.0)  # barge centre at x = 220, stern at 225, bow at 215
    near_corner = 69  # (15 m ahead, 3.5 m to port): 13° anticlockwise, 347° clockwise
    assert early[near_corner] == 3001
    assert late[near_corner] == pytest.approx(np.hypot(15.0, 3.5) * 100, abs=10)
    assert late[0] == 3001  # the hull is 3.5 m to port of the bow line: not in the bow sector


def test_a_close_bank_leaves_no_gaps_between_sectors() -> None:
    """Outline points are discrete; close up, every sector that looks at the bank must still see it."""
    for y in np.linspace(-11.0, -10.5, 6):  # 3.0 to 3.5 m from the right bank, sub-spacing offsets
        ring = scan(sensor(), 200.0 + 0.13 * (y + 11.0), float(y), 0.0)
        starboard = ring[3:34]  # 15° to 165° clockwise: every one of these rays meets the right bank
        assert (starboard < 3001).all()
        lateral = 14.0 + y
        assert ring[18] == pytest.approx(lateral * 100, abs=3)
        centre = np.arange(3, 34) * 5.0
        nearest_angle = np.clip(90.0, centre - 2.5, centre + 2.5)  # the sector's ray closest to abeam
        expected = lateral / np.sin(np.radians(nearest_angle))
        assert np.all(starboard <= np.minimum(np.ceil(expected * 100) + 26, 3000))  # within half a spacing
