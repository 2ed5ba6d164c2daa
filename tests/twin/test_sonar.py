"""Side-scan sonar: shapes, determinism, the pipe-mouth signature on the right side and range,
the bank wall where the beam meets it, and exponential speckle on plain seabed."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.twin.sonar import PipeMouth, SideScanSonar

BIN_M = 30.0 / 500
MOUTH_S = 300.0
TARGET_BINS = 6  # 0.36 m: inside the mouth's 0.4 m bright face


@pytest.fixture(scope="module")
def river() -> RiverFrame:
    """28 m wide, 2 m deep, about 590 m long, flowing east."""
    return RiverFrame([[121.379, 28.3712], [121.385, 28.3712]], 28.0, 2.0)


def downstream_heading(river: RiverFrame) -> float:
    t = river.downstream_unit([0.0])[0]
    return float(np.arctan2(t[1], t[0]))


def left_mouth(river: RiverFrame, s: float = MOUTH_S) -> PipeMouth:
    """A mouth on the left bank at chainage s, facing into the river."""
    x, y = river.from_river([s], [14.0])
    t = river.downstream_unit([s])[0]
    return PipeMouth(float(x[0]), float(y[0]), (float(t[1]), float(-t[0])))


def poses(river: RiverFrame, s: NDArray[np.float64], n: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return river.from_river(s, np.full_like(s, n))


def brightest_window(side: NDArray[np.uint8], lo_bin: int, hi_bin: int) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Per ping, the largest mean over TARGET_BINS consecutive bins in [lo_bin, hi_bin), and where it starts."""
    csum = np.cumsum(side[:, lo_bin:hi_bin].astype(float), axis=1)
    csum = np.concatenate([np.zeros((len(side), 1)), csum], axis=1)
    means = (csum[:, TARGET_BINS:] - csum[:, :-TARGET_BINS]) / TARGET_BINS
    return means.max(axis=1), lo_bin + means.argmax(axis=1)


def test_shapes_and_dtypes(river: RiverFrame) -> None:
    sonar = SideScanSonar(river, [], np.random.default_rng(0))
    x, y = poses(river, np.array([100.0, 101.0, 102.0]), 0.0)
    port, starboard = sonar.pings(x, y, downstream_heading(river))
    assert port.shape == starboard.shape == (3, 500)
    assert port.dtype == starboard.dtype == np.uint8
    single = sonar.pings(float(x[0]), float(y[0]), 0.0)
    assert single[0].shape == single[1].shape == (1, 500)
    coarse = SideScanSonar(river, [], np.random.default_rng(0), bins=200, range_m=20.0)
    assert coarse.pings(x, y, np.zeros(3))[1].shape == (3, 200)


def test_deterministic_for_a_seed_and_independent_of_batching(river: RiverFrame) -> None:
    s = np.linspace(50.0, 400.0, 700)
    x, y = poses(river, s, 3.0)
    heading = downstream_heading(river)
    mouths = [left_mouth(river)]
    whole = SideScanSonar(river, mouths, np.random.default_rng(11)).pings(x, y, heading)
    again = SideScanSonar(river, mouths, np.random.default_rng(11)).pings(x, y, heading)
    split_sonar = SideScanSonar(river, mouths, np.random.default_rng(11))
    first = split_sonar.pings(x[:123], y[:123], heading)
    rest = split_sonar.pings(x[123:], y[123:], heading)
    other = SideScanSonar(river, mouths, np.random.default_rng(12)).pings(x, y, heading)
    for side in range(2):
        np.testing.assert_array_equal(whole[side], again[side])
        np.testing.assert_array_equal(whole[side], np.concatenate([first[side], rest[side]]))
        assert np.mean(whole[side] != other[side]) > 0.5


def test_known_river_coordinates_give_the_same_pings(river: RiverFrame) -> None:
    s = np.linspace(100.0, 200.0, 50)
    x, y = poses(river, s, -2.0)
    heading = downstream_heading(river) + 0.2
    projected = SideScanSonar(river, [], np.random.default_rng(3)).pings(x, y, heading)
    given = SideScanSonar(river, [], np.random.default_rng(3)).pings(x, y, heading, s=s, n=np.full(50, -2.0))
    for side in range(2):
        np.testing.assert_array_equal(projected[side], given[side])


@pytest.mark.parametrize("upstream", [False, True], ids=["downstream-port", "upstream-starboard"])
def test_pipe_mouth_shows_target_then_shadow_on_its_side_only(river: RiverFrame, upstream: bool) -> None:
    """Passing 10 m off the left bank: the mouth is to port going downstream, to starboard going up."""
    s = np.arange(MOUTH_S - 50.0, MOUTH_S + 50.0, 0.3)
    x, y = poses(river, s, 4.0)
    heading = downstream_heading(river) + (np.pi if upstream else 0.0)
    port, starboard = SideScanSonar(river, [left_mouth(river)], np.random.default_rng(5)).pings(x, y, heading)
    mouth_side, other_side = (starboard, port) if upstream else (port, starboard)
    wall_bin = int(10.0 / BIN_M)  # the left bank, 10 m away
    tip_bin = int(9.0 / BIN_M)  # the mouth stands 1 m out of it
    first_clear_bin = int(3.0 / BIN_M)  # past the bright first bottom return (depth 2 m)

    score, start = brightest_window(mouth_side, first_clear_bin, wall_bin - 2)
    near = np.abs(s - MOUTH_S) < 0.31
    assert near.sum() >= 2
    assert np.all(score[near] > 200), "bright target abeam of the mouth"
    assert np.all(np.abs(start[near] - tip_bin) <= 2), "target at 9 m slant range"
    shadow = mouth_side[near][:, tip_bin + 8 : wall_bin - 1].astype(float).mean(axis=1)
    plain = mouth_side[np.abs(s - MOUTH_S) > 5][:, tip_bin + 8 : wall_bin - 1].astype(float).mean(axis=1)
    assert np.all(shadow < 12), "acoustic shadow between the target and the bank"
    assert np.median(plain) > 25, "the same bins are lit seabed away from the mouth"
    assert np.all(score[np.abs(s - MOUTH_S) > 2.0] < 150), "no target away from the mouth"

    other_score, _ = brightest_window(other_side, first_clear_bin, int(18.0 / BIN_M) - 2)
    assert np.all(other_score < 150), "no target on the side facing the far bank"


def test_mouth_beyond_range_or_behind_is_not_seen(river: RiverFrame) -> None:
    s = np.arange(MOUTH_S - 20.0, MOUTH_S + 20.0, 0.3)
    x, y = poses(river, s, -10.0)  # 24 m from the left bank: in range
    short = SideScanSonar(river, [left_mouth(river)], np.random.default_rng(5), range_m=20.0)
    port, _ = short.pings(x, y, downstream_heading(river))
    score, _ = brightest_window(port, int(3.0 / (20.0 / 500)), 500)
    assert np.all(score < 150)


def test_water_column_seabed_and_bank_wall(river: RiverFrame) -> None:
    x, y = poses(river, np.full(2000, 200.0), 0.0)
    port, starboard = SideScanSonar(river, [], np.random.default_rng(8)).pings(x, y, downstream_heading(river))
    for side in (port, starboard):
        mean = side.astype(float).mean(axis=0)
        depth_bin, wall_bin = int(2.0 / BIN_M), int(14.0 / BIN_M)
        assert mean[: depth_bin - 1].max() < 6, "water column is dark"
        assert mean[depth_bin : depth_bin + 5].mean() > 80, "bright first bottom return"
        assert 25 < mean[wall_bin - 40 : wall_bin - 2].mean() < mean[depth_bin + 40 : depth_bin + 80].mean()
        assert mean[wall_bin + 1 : wall_bin + 9].min() > 120, "the bank wall"
        assert mean[wall_bin + 12 :].max() < 6, "nothing but noise beyond the bank"


def test_wall_range_follows_the_beam_angle(river: RiverFrame) -> None:
    """Bow 30° to starboard of downstream: the port beam meets the left bank at 14 / cos 30° m."""
    x, y = poses(river, np.full(500, 200.0), 0.0)
    port, starboard = SideScanSonar(river, [], np.random.default_rng(9)).pings(
        x, y, downstream_heading(river) - np.radians(30.0)
    )
    port_wall = int(np.argmax(port.astype(float).mean(axis=0)[100:] > 100)) + 100
    assert abs(port_wall * BIN_M - 14.0 / np.cos(np.radians(30.0))) < 0.15
    x, y = poses(river, np.full(500, 200.0), 0.0)
    across = SideScanSonar(river, [], np.random.default_rng(9)).pings(x, y, downstream_heading(river) + np.pi / 2)
    for side in across:  # beams along the river: no bank within 30 m, seabed to the end
        assert side.astype(float).mean(axis=0)[-50:].mean() > 20


def test_speckle_is_exponential_on_plain_seabed(river: RiverFrame) -> None:
    x, y = poses(river, np.full(6000, 200.0), 0.0)
    port, _ = SideScanSonar(river, [], np.random.default_rng(21)).pings(x, y, downstream_heading(river))
    ranges = (np.arange(500) + 0.5) * BIN_M
    expected = 45.0 * (1 + 1.5 * np.exp(-(ranges - 2.0) / 0.5)) * np.exp(-(ranges - 2.0) / 40.0)
    seabed = slice(int(5.0 / BIN_M), int(12.0 / BIN_M))
    samples = port[:, seabed].astype(float)
    mean, std = samples.mean(axis=0), samples.std(axis=0)
    np.testing.assert_allclose(mean, expected[seabed], rtol=0.06)  # one bin: 6000 draws, 1.3% sigma
    assert abs(mean.mean() / expected[seabed].mean() - 1) < 0.01
    cv = std / mean
    assert abs(cv.mean() - 1.0) < 0.02, "exponential intensity: std equals mean"
    below_median = (samples < mean * np.log(2)).mean()
    assert abs(below_median - 0.5) < 0.01, "half the draws below mean * ln 2"
