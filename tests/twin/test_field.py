"""The true field (spec section 3) against an independent evaluation of the spec's formula.

The reference (conftest.SpecField) is scalar Python with ``math``, written from the spec text; it
shares no code with riverpatrol.twin.field.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from riverpatrol.scenario import PARAMETERS, Scenario, load_scenario, parse_scenario
from riverpatrol.twin.field import TrueField

U = 0.25  # synthetic river: 1000 m straight, 20 m wide, 2 m deep, Ey 0.05
INTERMITTENT = [
    {"id": "A", "chainage_m": 200.0, "bank": "left", "flow_m3ps": 0.02,
     "excess": {"nh3n": 10.0, "conductivity": 1000.0, "do": -3.0}, "active": [[100.0, 400.0], [1000.0, 1200.0]]},
    {"id": "B", "chainage_m": 600.0, "bank": "right", "flow_m3ps": 0.015,
     "excess": {"nh3n": 5.0, "tp": 2.0}, "active": [[0.0, 1e9]]},
]


@functools.cache
def _public(path: Path) -> Scenario:
    return load_scenario(path)


def field_of(sc: Scenario) -> TrueField:
    return TrueField(sc, sc.river_frame())


def reference_values(ref: Any, s: np.ndarray, n: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.array([[ref.value(p, float(a), float(b), float(c)) for p in PARAMETERS] for a, b, c in zip(s, n, t)])


def assert_matches_reference(values: np.ndarray, expected: np.ndarray, background: np.ndarray) -> None:
    np.testing.assert_allclose(values, expected, rtol=1e-6, atol=0)
    # the excess over background too, so a small plume is checked as closely as a big one
    np.testing.assert_allclose(values - background, expected - background, rtol=1e-6,
                               atol=1e-12 * float(np.abs(background).max()))


def sample_points(sc: Scenario, rng: np.random.Generator, count: int, t_max: float) -> tuple[np.ndarray, ...]:
    """Water points (s, n) and times: half anywhere, half within 400 m downstream of an outfall."""
    river = sc.river_frame()
    half = count // 2
    s = rng.uniform(0.0, river.length, count)
    if sc.outfalls:
        chainages = np.array([o.chainage_m for o in sc.outfalls])
        s[half:] = np.minimum(rng.choice(chainages, count - half) + rng.uniform(0.0, 400.0, count - half), river.length)
    n = rng.uniform(-0.5, 0.5, count) * river.width_at(s)
    t = rng.uniform(0.0, t_max, count)
    return s, n, t


# ---- public scenarios ---------------------------------------------------------------------------

def test_public_field_matches_the_spec_formula(public_scenario: Path, spec_field: Callable[..., Any]) -> None:
    sc = _public(public_scenario)
    ref = spec_field(json.loads(public_scenario.read_text(encoding="utf-8")))
    field = field_of(sc)
    s, n, t = sample_points(sc, np.random.default_rng(31), 300, 6000.0)
    values = field.values(s, n, t)
    assert values.shape == (300, len(PARAMETERS))
    background = np.array([sc.background_full[p] for p in PARAMETERS])
    expected = reference_values(ref, s, n, t)
    assert_matches_reference(values, expected, background)
    nh3n = PARAMETERS.index("nh3n")
    assert (expected[:, nh3n] > 1.1 * background[nh3n]).sum() >= 20, "too few points in a plume to test anything"
    for p in ("nh3n", "do", "temperature"):  # value() is values() column by column
        np.testing.assert_allclose(field.value(p, s, n, t), values[:, PARAMETERS.index(p)], rtol=1e-12)


def test_public_field_is_background_upstream_of_every_outfall(public_scenario: Path) -> None:
    sc = _public(public_scenario)
    first = min(o.chainage_m for o in sc.outfalls)
    rng = np.random.default_rng(32)
    s = np.concatenate([rng.uniform(0.0, first, 200), [first]])  # the last one: at the outfall itself (x = 0)
    river = sc.river_frame()
    n = rng.uniform(-0.5, 0.5, s.size) * river.width_at(s)
    values = field_of(sc).values(s, n, rng.uniform(0.0, 1e5, s.size))
    np.testing.assert_array_equal(values, np.tile([sc.background_full[p] for p in PARAMETERS], (s.size, 1)))


def test_busy_reach_intermittent_outfall(shared_dir: Path) -> None:
    """P1 (left, 295.5 m) discharges for t in [344, 3712]; u = 0.211 m/s; nothing else upstream of 1600 m."""
    sc = _public(shared_dir / "scenarios" / "busy-reach.json")
    field = field_of(sc)
    w = float(sc.river_frame().width_at(395.5))
    bg = sc.background_full["nh3n"]
    x = 100.0  # the front reaches 100 m downstream 474 s after the start, the tail 474 s after the stop
    tau = x / 0.211
    times = np.array([344 + tau - 2, 344 + tau + 2, 3712 + tau - 2, 3712 + tau + 2])
    got = field.value("nh3n", np.full(4, 295.5 + x), np.full(4, w / 2 - 1.0), times)
    assert got[0] == bg and got[3] == bg
    assert got[1] > bg + 0.1 and got[2] == pytest.approx(got[1], rel=1e-12)


# ---- a river with intermittent outfalls -------------------------------------------------------

@pytest.fixture
def intermittent(make_scenario: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return make_scenario(velocity=U, dispersion=0.05, outfalls=INTERMITTENT, background={"nh3n": 0.4, "do": 8.0})


@pytest.fixture
def varying(make_scenario: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The same outfalls on a bent river whose width and depth change along it."""
    return make_scenario([(0, 0), (400, 0), (700, 100), (1000, 100)], width=[20.0, 26.0, 17.0, 22.0],
                         depth=[2.0, 1.2, 2.6, 1.8], velocity=U, dispersion=0.05, outfalls=INTERMITTENT)


@pytest.mark.parametrize("river", ["intermittent", "varying"])
def test_intermittent_field_matches_the_spec_formula(river: str, request: pytest.FixtureRequest,
                                                     spec_field: Callable[..., Any]) -> None:
    data = request.getfixturevalue(river)
    sc = parse_scenario(data)
    s, n, t = sample_points(sc, np.random.default_rng(33), 400, 4000.0)
    background = np.array([sc.background_full[p] for p in PARAMETERS])
    expected = reference_values(spec_field(data), s, n, t)
    assert_matches_reference(field_of(sc).values(s, n, t), expected, background)
    nh3n = PARAMETERS.index("nh3n")
    plume = expected[:, nh3n] > background[nh3n] + 0.01
    assert 40 <= plume.sum() <= 360, "the sample should hold points both in and out of the plumes"


def test_plume_switches_with_the_travel_time(intermittent: dict[str, Any]) -> None:
    sc = parse_scenario(intermittent)
    field = field_of(sc)
    bg = sc.background_full["nh3n"]
    # 50 m below A (left, active 100-400 and 1000-1200 s): the water there left A 200 s earlier
    times = np.array([299, 301, 599, 601, 1199, 1201, 1399, 1401], float)
    got = field.value("nh3n", np.full(8, 250.0), np.full(8, 8.0), times)
    on = got > bg + 1e-3
    np.testing.assert_array_equal(on, [False, True, True, False, False, True, True, False])
    np.testing.assert_array_equal(got[~on], bg)  # exactly background: B is downstream
    # 100 m below B (right, active from 0): its plume arrives at 400 s; A's reaches 500 m below it at 2100 s
    got = field.value("nh3n", np.full(4, 700.0), np.full(4, -8.0), np.array([399.0, 401.0, 2099.0, 2101.0]))
    assert got[0] == bg
    assert got[1] > bg + 1e-3 and got[2] == pytest.approx(got[1], rel=1e-12)
    assert got[3] > got[2]  # now A's plume as well (faint on the far bank, but there)


def test_below_one_metre_the_distance_is_one_metre(intermittent: dict[str, Any]) -> None:
    sc = parse_scenario(intermittent)
    field = field_of(sc)
    s = np.array([200.2, 200.5, 200.99, 201.0, 202.0])
    at_300 = field.value("nh3n", s, np.full(5, 9.0), 300.0)
    np.testing.assert_allclose(at_300[:3], at_300[3], rtol=1e-12)
    assert abs(at_300[4] - at_300[3]) > 1e-3 * at_300[3]
    # and the travel time is that of 1 m too: 4 s at 0.25 m/s, not 0.8 s for 0.2 m
    bg = sc.background_full["nh3n"]
    early, late = field.value("nh3n", np.full(2, 200.2), np.full(2, 9.0), np.array([103.5, 104.5]))
    assert early == bg
    assert late == pytest.approx(at_300[3], rel=1e-12)


def test_left_and_right_bank_plumes_mirror(make_scenario: Callable[..., dict[str, Any]]) -> None:
    one = {"id": "P", "chainage_m": 100.0, "flow_m3ps": 0.02, "excess": {"cod": 100.0}, "active": [[0.0, 1e9]]}
    sc = parse_scenario(make_scenario(outfalls=[{**one, "bank": "left"}]))
    left = field_of(sc)
    right = field_of(parse_scenario(make_scenario(outfalls=[{**one, "bank": "right"}])))
    bg = sc.background_full["cod"]
    rng = np.random.default_rng(34)
    s = rng.uniform(100.5, 1000.0, 200)
    n = rng.uniform(-10.0, 10.0, 200)
    # mirror images up to the spec's truncation of the image sum at |k| = 3
    np.testing.assert_allclose(left.value("cod", s, n, 1e5) - bg, right.value("cod", s, -n, 1e5) - bg, rtol=1e-6)
    # 20 m below the outfall the plume still hugs its bank: the left one on n > 0
    across = np.linspace(-10.0, 10.0, 41)
    profile = left.value("cod", np.full(41, 120.0), across, 1e5) - bg
    assert np.argmax(profile) == 40 and np.argmin(profile) == 0
    assert profile[-1] > 1000 * profile[0]
    profile = right.value("cod", np.full(41, 120.0), across, 1e5) - bg
    assert np.argmax(profile) == 0


@pytest.mark.parametrize("x", [50.0, 300.0, 390.0])
def test_plume_carries_the_discharged_load(make_scenario: Callable[..., dict[str, Any]], x: float) -> None:
    """Across the river, h * u * integral of the excess over the width is flow * excess (both banks reflect)."""
    outfall = {"id": "P", "chainage_m": 600.0, "bank": "right", "flow_m3ps": 0.015, "excess": {"tp": 2.0},
               "active": [[0.0, 1e9]]}
    sc = parse_scenario(make_scenario(velocity=U, dispersion=0.05, outfalls=[outfall]))
    n = np.linspace(-10.0, 10.0, 4001)
    excess = field_of(sc).value("tp", np.full(n.size, 600.0 + x), n, 1e5) - sc.background_full["tp"]
    load = 2.0 * U * float(np.sum((excess[1:] + excess[:-1]) / 2 * np.diff(n)))
    assert load == pytest.approx(0.015 * 2.0, rel=1e-4)
