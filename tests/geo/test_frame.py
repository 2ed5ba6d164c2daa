"""The local frame and the river frame (s, n) of spec section 1, against the scoring tool's own."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from pyproj import Geod

from riverpatrol.geo.frame import LocalFrame, RiverFrame
from riverpatrol.scenario import load_scenario, parse_scenario

GEOD = Geod(ellps="WGS84")


@functools.cache
def _frame(path: Path) -> RiverFrame:
    return load_scenario(path).river_frame()


@pytest.fixture
def frame(public_scenario: Path) -> RiverFrame:
    """The public scenario's river, built once: the tests only read it."""
    return _frame(public_scenario)


def mid_segment_points(frame: RiverFrame, rng: np.random.Generator, count: int, n_frac: tuple[float, float]) -> tuple[
        np.ndarray, np.ndarray]:
    """(s, n) in the middle half of random segments, |n| / W(s) drawn from ``n_frac``, random side:
    away from bends, where the perpendicular foot is on the segment the point was built from."""
    k = rng.integers(0, len(frame.seg_len), count)
    s = frame.vertex_s[k] + rng.uniform(0.25, 0.75, count) * frame.seg_len[k]
    n = rng.choice([-1.0, 1.0], count) * rng.uniform(*n_frac, count) * frame.width_at(s)
    return s, n


# ---- agreement with the scoring tool ----------------------------------------------------------

def test_to_river_agrees_with_score_tool(public_scenario: Path, frame: RiverFrame, score_tool: ModuleType) -> None:

    fwd, pts = score_tool.river_frame(json.loads(public_scenario.read_text(encoding="utf-8")))
    np.testing.assert_allclose(frame.xy, pts, rtol=0, atol=1e-9)
    rng = np.random.default_rng(20240611)
    # points scattered round the river, out to 1.5 widths from the centerline and 30 m past both ends
    count = 400
    s = rng.uniform(-30.0, frame.length + 30.0, count)
    n = rng.uniform(-1.5, 1.5, count) * frame.width_at(s)
    k = np.clip(np.searchsorted(frame.vertex_s, s, side="right") - 1, 0, len(frame.seg_len) - 1)
    unit = (pts[k + 1] - pts[k]) / frame.seg_len[k, None]
    x = pts[k, 0] + unit[:, 0] * (s - frame.vertex_s[k]) - unit[:, 1] * n
    y = pts[k, 1] + unit[:, 1] * (s - frame.vertex_s[k]) + unit[:, 0] * n
    lon, lat = fwd.transform(x, y, direction="INVERSE")
    ours_s, ours_n = frame.lonlat_to_river(lon, lat)
    theirs = np.array([score_tool.to_river(fwd, pts, a, b) for a, b in zip(lon, lat)])
    np.testing.assert_allclose(ours_s, theirs[:, 0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours_n, theirs[:, 1], rtol=0, atol=1e-6)
    assert (theirs[:, 1] > 0).sum() > 100 and (theirs[:, 1] < 0).sum() > 100  # both banks covered


def test_left_bank_is_positive_looking_downstream(make_scenario: Callable[..., dict[str, Any]]) -> None:
    # a river flowing east: north is on the left
    river = parse_scenario(make_scenario([(0, 0), (300, 0)])).river_frame()
    s, n = river.to_river([100.0, 100.0, 250.0], [4.0, -7.0, 0.0])
    np.testing.assert_allclose(s, [100.0, 100.0, 250.0], atol=1e-9)
    np.testing.assert_allclose(n, [4.0, -7.0, 0.0], atol=1e-9)
    # and flowing west (first vertex still the origin): north is on the right
    river = parse_scenario(make_scenario([(0, 0), (-300, 0)], home_m=(-5.0, 0.0))).river_frame()
    s, n = river.to_river([-100.0], [4.0])
    np.testing.assert_allclose([s[0], n[0]], [100.0, -4.0], atol=1e-9)


def test_chainage_on_a_bent_centerline(make_scenario: Callable[..., dict[str, Any]]) -> None:
    # east 100 m, then north 100 m: s counts along the bends, n flips side with the direction
    river = parse_scenario(make_scenario([(0, 0), (100, 0), (100, 100)])).river_frame()
    assert river.length == pytest.approx(200.0, abs=1e-6)
    s, n = river.to_river([50.0, 95.0, 103.0, 104.0], [3.0, 40.0, 60.0, -3.0])
    np.testing.assert_allclose(s, [50.0, 140.0, 160.0, 100.0], atol=1e-6)
    np.testing.assert_allclose(n, [3.0, 5.0, -3.0, -5.0], atol=1e-6)  # the last one: outside the bend


# ---- round trips and water --------------------------------------------------------------------

def test_from_river_inverts_to_river_away_from_bends(frame: RiverFrame) -> None:
    s, n = mid_segment_points(frame, np.random.default_rng(5), 500, (0.0, 0.5))
    x, y = frame.from_river(s, n)
    s2, n2 = frame.to_river(x, y)
    np.testing.assert_allclose(s2, s, rtol=0, atol=1e-6)
    np.testing.assert_allclose(n2, n, rtol=0, atol=1e-6)


def test_in_water_at_the_banks(frame: RiverFrame) -> None:
    s, n = mid_segment_points(frame, np.random.default_rng(6), 300, (0.5, 0.5))  # n = +-W/2 exactly
    inside = np.sign(n) * 0.01
    assert frame.in_water(*frame.from_river(s, n - inside)).all()
    assert not frame.in_water(*frame.from_river(s, n + inside)).any()
    clearance = frame.bank_clearance(*frame.from_river(s, 0.6 * n))
    np.testing.assert_allclose(clearance, np.minimum(0.4 * np.abs(n), np.minimum(s, frame.length - s)), atol=1e-6)


def test_in_water_past_the_ends(frame: RiverFrame) -> None:
    length = frame.length
    s = np.array([-0.5, -5.0, 0.5, length - 0.5, length + 0.5, length + 5.0])
    x, y = frame.from_river(s, np.zeros_like(s))  # extended along the first / last segment
    np.testing.assert_array_equal(frame.in_water(x, y), [False, False, True, True, False, False])
    assert (frame.bank_clearance(x[[0, 1, 4, 5]], y[[0, 1, 4, 5]]) < 0).all()
    np.testing.assert_allclose(frame.bank_clearance(x[[2, 3]], y[[2, 3]]), 0.5, atol=1e-6)  # the end cross-sections


def test_in_water_matches_the_spec_definition(frame: RiverFrame, score_tool: ModuleType) -> None:
    """Water is 0 <= s <= L and |n| <= W(s)/2, with (s, n) from the scoring tool's projection."""
    rng = np.random.default_rng(7)
    fwd, pts = score_tool.river_frame({"river": {"centerline": frame.centerline_lonlat.tolist()}})
    s = rng.uniform(5.0, frame.length - 5.0, 300)  # away from the ends: the scorer clips s to [0, L]
    n = rng.uniform(-0.8, 0.8, 300) * frame.width_at(s)
    x, y = frame.from_river(s, n)
    lon, lat = frame.local.to_lonlat(x, y)
    sn = np.array([score_tool.to_river(fwd, pts, a, b) for a, b in zip(lon, lat)])
    margin = np.abs(sn[:, 1]) - frame.width_at(sn[:, 0]) / 2.0
    decided = np.abs(margin) > 1e-6
    expected = margin < 0
    got = frame.in_water(x, y)
    np.testing.assert_array_equal(got[decided], expected[decided])
    assert expected.sum() > 100 and (~expected).sum() > 50


# ---- banks and the water polygon --------------------------------------------------------------

def test_bank_points_lie_on_the_spec_banks(frame: RiverFrame, score_tool: ModuleType) -> None:
    left, right = frame.banks
    for bank, side in ((left, +1), (right, -1)):
        s, n = frame.to_river(bank.xy[:, 0], bank.xy[:, 1])
        np.testing.assert_allclose(side * n, frame.width_at(s) / 2.0, rtol=0, atol=1e-6)
        np.testing.assert_allclose(bank.s, s, atol=1e-9)
        assert bank.s[0] == pytest.approx(0.0, abs=1e-9) and bank.s[-1] == pytest.approx(frame.length, abs=1e-6)
        assert (np.diff(bank.s) >= -1e-9).all(), "bank points out of chainage order"
        gaps = np.hypot(*np.diff(bank.xy, axis=0).T)
        assert gaps.max() < 1.0, f"a {gaps.max():.2f} m gap in the {'left' if side > 0 else 'right'} bank"
    # a sample, re-projected by the scoring tool from lon/lat
    fwd, pts = score_tool.river_frame({"river": {"centerline": frame.centerline_lonlat.tolist()}})
    lon, lat = frame.local.to_lonlat(left.xy[::97, 0], left.xy[::97, 1])
    for a, b in zip(lon, lat):
        s, n = score_tool.to_river(fwd, pts, a, b)
        assert n == pytest.approx(float(frame.width_at(s)) / 2.0, abs=1e-6)


def test_water_polygon_area(frame: RiverFrame) -> None:
    poly = frame.water_polygon
    assert poly.is_valid
    integral = float(np.sum(0.5 * (frame.widths[1:] + frame.widths[:-1]) * frame.seg_len))  # W linear in s
    assert poly.area == pytest.approx(integral, rel=0.01)
    # and it is the water: mid-river points inside, points beyond the banks outside
    s, n = mid_segment_points(frame, np.random.default_rng(8), 200, (0.0, 0.45))
    from shapely import contains_xy

    assert contains_xy(poly, *frame.from_river(s, n)).all()
    assert not contains_xy(poly, *frame.from_river(s, n / np.abs(n) * (frame.width_at(s) / 2 + 0.5))).any()


def test_straight_reach_polygon_is_exact(make_scenario: Callable[..., dict[str, Any]]) -> None:
    river = parse_scenario(make_scenario([(0, 0), (300, 0), (600, 0)], width=[20.0, 30.0, 20.0])).river_frame()
    assert river.water_polygon.area == pytest.approx(2 * 300 * 25.0, rel=1e-9)
    np.testing.assert_allclose(river.width_at([0, 150, 300, 450, 600]), [20, 25, 30, 25, 20])


# ---- the local frame --------------------------------------------------------------------------

def test_frame_origin_is_the_first_vertex(frame: RiverFrame) -> None:
    lon0, lat0 = frame.centerline_lonlat[0]
    assert (frame.local.lon0, frame.local.lat0) == (lon0, lat0)
    x, y = frame.local.to_xy(lon0, lat0)
    assert abs(float(x)) < 1e-9 and abs(float(y)) < 1e-9
    np.testing.assert_allclose(frame.xy[0], [0.0, 0.0], atol=1e-9)


def test_local_frame_round_trip() -> None:
    local = LocalFrame(121.3790, 28.3712)
    rng = np.random.default_rng(9)
    lon = 121.3790 + rng.uniform(-0.05, 0.05, 1000)
    lat = 28.3712 + rng.uniform(-0.05, 0.05, 1000)
    lon2, lat2 = local.to_lonlat(*local.to_xy(lon, lat))
    np.testing.assert_allclose(lon2, lon, rtol=0, atol=1e-9)
    np.testing.assert_allclose(lat2, lat, rtol=0, atol=1e-9)


def test_local_frame_is_azimuthal_equidistant() -> None:
    """Distance and azimuth from the origin are the WGS84 geodesic ones; x east, y north."""
    lon0, lat0 = 121.3790, 28.3712
    local = LocalFrame(lon0, lat0)
    rng = np.random.default_rng(10)
    lon = lon0 + rng.uniform(-0.03, 0.03, 50)
    lat = lat0 + rng.uniform(-0.03, 0.03, 50)
    x, y = local.to_xy(lon, lat)
    azimuth, _, distance = GEOD.inv(np.full(50, lon0), np.full(50, lat0), lon, lat)
    np.testing.assert_allclose(np.hypot(x, y), distance, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.degrees(np.arctan2(x, y)), azimuth, rtol=0, atol=1e-7)
    east_x, east_y = local.to_xy(lon0 + 0.001, lat0)
    assert float(east_x) == pytest.approx(97.9, abs=0.2) and abs(float(east_y)) < 0.01
    north_x, north_y = local.to_xy(lon0, lat0 + 0.001)
    assert abs(float(north_x)) < 1e-6 and float(north_y) == pytest.approx(110.8, abs=0.2)
    assert math.isclose(float(np.hypot(*local.to_xy(lon0, lat0 + 0.001))),
                        GEOD.inv(lon0, lat0, lon0, lat0 + 0.001)[2], abs_tol=1e-6)
