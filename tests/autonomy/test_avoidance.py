"""The avoidance's parts on hand-made scans: geometry, what the banks explain, contact times, and
the choice of velocity (port to port head-on, never ashore)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from riverpatrol.autonomy.avoidance import (
    AvoidanceConfig,
    Obstacles,
    VelocityChooser,
    contact_times,
    scan_points,
    unexplained,
)
from riverpatrol.autonomy.tracker import Track
from riverpatrol.autonomy.water import NearWater
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.scenario import parse_scenario

CONFIG = AvoidanceConfig(radius_m=1.0, cruise_mps=1.5)


@pytest.fixture
def river(make_scenario: Callable[..., dict[str, Any]]) -> RiverFrame:
    """A straight reach 300 m east, 20 m wide: the right bank at y = -10, the left at y = +10."""
    return parse_scenario(make_scenario([(0.0, 0.0), (300.0, 0.0)], width=20.0)).river_frame()


def _ring(x: float, y: float, heading_deg: float, circles: list[tuple[float, float, float]]) -> np.ndarray:
    """A 72-sector scan of the two banks y = +-10 and some circles, by ray casting."""
    out = np.full(72, 3001, np.uint16)
    for i in range(72):
        b = np.radians(heading_deg + 5.0 * i)
        dx, dy = np.sin(b), np.cos(b)
        hits = [(10.0 - y) / dy if dy > 1e-9 else np.inf, (-10.0 - y) / dy if dy < -1e-9 else np.inf]
        for cx, cy, r in circles:
            along = (cx - x) * dx + (cy - y) * dy
            miss = r * r - ((cx - x) ** 2 + (cy - y) ** 2 - along * along)
            if along > 0 and miss >= 0:
                hits.append(along - np.sqrt(miss))
        d = min(hits)
        if d <= 30.0:
            out[i] = round(d * 100)
    return out


def test_scan_points_are_placed_clockwise_from_the_bow() -> None:
    ring = np.full(72, 3001, np.uint16)
    ring[18] = 500  # 90 degrees clockwise from a bow pointing north: 5 m east
    pts = scan_points(10.0, 20.0, 0.0, ring, 5.0, 3000)
    assert pts.shape == (1, 2) and np.allclose(pts[0], [15.0, 20.0])


def test_the_banks_explain_themselves_and_a_pier_stands_out(river: RiverFrame) -> None:
    water = NearWater(river, 30.0)
    water.focus(100.0, -7.0)
    banks = scan_points(100.0, -7.0, 90.0, _ring(100.0, -7.0, 90.0, []), 5.0, 3000)
    assert len(banks) > 20 and len(unexplained(water, 100.0, -7.0, banks, 5.0, 0.6)) == 0
    pier = scan_points(100.0, -7.0, 90.0, _ring(100.0, -7.0, 90.0, [(115.0, -5.0, 1.0)]), 5.0, 3000)
    found = unexplained(water, 100.0, -7.0, pier, 5.0, 0.6)
    assert len(found) >= 1 and np.all(np.hypot(found[:, 0] - 115.0, found[:, 1] + 5.0) < 1.5)


def test_contact_time_of_a_straight_approach() -> None:
    ttc = contact_times(np.zeros(2), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[10.0, 0.0]]),
                        np.array([[-1.0, 0.0]]), keep_m=2.0)
    assert ttc[0, 0] == pytest.approx(4.0) and ttc[1, 0] > 1e6  # closing at 2 m/s over 8 m; the other misses


def test_a_head_on_vessel_is_passed_port_to_port(river: RiverFrame) -> None:
    water = NearWater(river, 30.0)
    water.focus(100.0, 0.0)
    vessel = Track(1, 0.0, 118.0, 0.5, np.array([[114.0, 0.5], [114.0, -1.0], [114.0, 2.0]]),
                   vx=-1.5, vy=0.0, hits=20)
    obstacles = Obstacles(vessel.points, np.tile([[-1.5, 0.0]], (3, 1)), [vessel], 14.0)
    chooser = VelocityChooser(water, CONFIG)
    velocity, clear = chooser.choose(np.array([100.0, 0.0]), np.array([1.5, 0.0]), obstacles, [vessel],
                                     np.array([1.5, 0.0]))
    assert not clear
    assert velocity[1] < -0.2  # heading east, starboard is south: the vessel stays on the port side


def test_no_candidate_takes_the_boat_ashore(river: RiverFrame) -> None:
    water = NearWater(river, 30.0)
    water.focus(100.0, -7.5)
    wall = np.column_stack([np.full(9, 104.0), np.linspace(-9.5, 9.5, 9)])  # the reach blocked ahead
    obstacles = Obstacles(wall, np.zeros_like(wall), [], 4.0)
    velocity, _ = VelocityChooser(water, CONFIG).choose(np.array([100.0, -7.5]), np.array([0.0, -1.5]),
                                                       obstacles, [], np.array([0.0, -1.5]))
    ahead = np.array([100.0, -7.5]) + velocity * np.array([[1.0], [2.0], [3.0]])
    assert np.all(river.bank_clearance(ahead[:, 0], ahead[:, 1]) >= 2.0 - 1e-9)


def test_a_boat_squeezed_against_the_bank_never_goes_deeper(river: RiverFrame) -> None:
    """Already inside the bank's hard limit (1.5 m of water, the limit 1.8 m), as a vessel can
    squeeze it there, with that vessel coming head-on close beside it: every candidate is refused
    by the bank rule, and the choice among them must still be one that takes no more water, not
    the one that best dodges the vessel by running up the bank."""
    water = NearWater(river, 30.0)
    pos = np.array([100.0, -8.5])
    water.focus(*pos)
    hull = np.array([[x, y] for x in np.arange(101.0, 110.1, 1.5) for y in (-6.8, -4.8)])
    vessel = Track(1, 0.0, 105.5, -5.8, hull, vx=-1.5, vy=0.0, hits=20)
    obstacles = Obstacles(hull, np.tile([[-1.5, 0.0]], (len(hull), 1)), [vessel], 2.0)
    velocity, clear = VelocityChooser(water, CONFIG).choose(pos, np.array([1.5, 0.0]), obstacles, [vessel],
                                                            np.array([1.5, 0.0]))
    ahead = pos + velocity * np.array([[1.0], [2.0], [3.0]])
    assert not clear
    assert np.all(river.bank_clearance(ahead[:, 0], ahead[:, 1]) >= 1.5 - 1e-9)
