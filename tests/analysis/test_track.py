"""Where the boat was: smoothed GNSS at sample times in the scorer's (s, n), and passes along banks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import savgol_filter

from riverpatrol.analysis.track import Fixes, Track, _savgol_quadratic, passes, river_frame
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import simulate
from riverpatrol.twin.generator import generate_scenario


@pytest.fixture(scope="module")
def patrol(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """An outfall survey of a 700 m meandering reach: (log path, scenario, truth)."""
    scenario = generate_scenario(11, length_m=700.0, n_outfalls=1)
    result = simulate(parse_scenario(scenario), tmp_path_factory.mktemp("track"))
    return result.log_path, scenario, json.loads(result.truth_path.read_text())


def test_frame_from_the_log_meta_is_the_scenarios_frame(patrol: tuple[Path, dict, dict]) -> None:
    path, scenario, truth = patrol
    with PatrolLog(path) as log:
        frame = river_frame(log.meta)
    expected = parse_scenario(scenario).river_frame()
    lon, lat = np.array(truth["track"])[::50, 1:].T
    np.testing.assert_allclose(frame.lonlat_to_river(lon, lat), expected.lonlat_to_river(lon, lat), atol=1e-9)


def test_sample_positions_follow_the_true_track_closer_than_single_fixes(patrol: tuple[Path, dict, dict]) -> None:
    path, _, truth = patrol
    with PatrolLog(path) as log:
        frame = river_frame(log.meta)
        fixes = Fixes.from_log(log, frame)
        t = log.columns("sonde")["t"]
        sigma = log.meta["sensors"]["gnss_sigma_m"]
    track = Track.at_times(fixes, frame, t)
    true = np.array(truth["track"])
    tx, ty = frame.local.to_xy(np.interp(t, true[:, 0], true[:, 1]), np.interp(t, true[:, 0], true[:, 2]))
    error = np.hypot(track.x - tx, track.y - ty)
    assert np.sqrt(np.mean(error**2)) < 0.5 * sigma * np.sqrt(2.0)  # a fix alone scatters sigma per axis
    s, n = frame.to_river(tx, ty)
    assert np.median(np.abs(track.s - s)) < 0.5 and np.median(np.abs(track.n - n)) < 0.5


def test_an_outfall_survey_is_two_passes_one_along_each_bank(patrol: tuple[Path, dict, dict]) -> None:
    path, _, _ = patrol
    with PatrolLog(path) as log:
        frame = river_frame(log.meta)
        track = Track.at_times(Fixes.from_log(log, frame), frame, log.columns("sonde")["t"])
    found = passes(track, frame)
    assert [(p.bank, p.direction) for p in found] == [("right", 1), ("left", -1)]
    for p in found:
        covered = np.ptp(track.s[p.start : p.stop])
        assert covered > 0.9 * frame.length
        assert np.all(np.sign(track.n[p.start : p.stop]) == (1 if p.bank == "left" else -1))


def straight(length: float = 500.0) -> RiverFrame:
    return RiverFrame([[121.38, 28.37], [121.38 + length / 98_000.0, 28.37]], 20.0, 2.0)


def synthetic(frame: RiverFrame, s: np.ndarray, n: np.ndarray) -> Track:
    x, y = frame.from_river(s, n)
    return Track(np.arange(s.size, dtype=float), x, y, s, n)


def test_a_stop_or_a_crossing_splits_a_pass_and_the_middle_is_no_bank() -> None:
    frame = straight()
    down = np.arange(20.0, 200.0, 1.5)
    still = np.full(40, down[-1])  # the boat holds station for 40 s
    on = np.arange(down[-1], 400.0, 1.5)
    back = np.arange(400.0, 100.0, -1.5)
    s = np.concatenate([down, still, on, back])
    n = np.concatenate([np.full(down.size + still.size + on.size, -7.0), np.zeros(back.size)])
    found = passes(synthetic(frame, s, n), frame)
    assert [(p.bank, p.direction) for p in found] == [("right", 1), ("right", 1), (None, -1)]
    assert found[0].stop <= down.size + 5 and found[1].start >= down.size + still.size - 5


def test_short_runs_are_manoeuvres_not_passes() -> None:
    frame = straight()
    s = np.concatenate([np.arange(100.0, 115.0, 1.5), np.arange(115.0, 100.0, -1.5)])
    assert passes(synthetic(frame, s, np.full(s.size, 6.0)), frame) == []


def test_fix_smoothing_is_scipys_quadratic_savitzky_golay() -> None:
    rng = np.random.default_rng(1)
    for count, window in ((5000, 15), (16, 15), (7, 5)):
        values = 1000.0 + 10.0 * np.cumsum(rng.normal(size=count))
        np.testing.assert_allclose(_savgol_quadratic(values, window), savgol_filter(values, window, 2),
                                   rtol=0.0, atol=1e-9)
