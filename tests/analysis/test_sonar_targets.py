"""Pipe mouths in side-scan pings: found where the twin's sonar paints one, nowhere else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riverpatrol.analysis.sonar_targets import SonarTarget, find_targets, mouth_ranges
from riverpatrol.analysis.track import Fixes, river_frame
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import simulate
from riverpatrol.twin.generator import TYPICAL_EXCESS, generate_scenario
from riverpatrol.twin.sonar import PipeMouth, SideScanSonar

BIN_M = 30.0 / 500


@pytest.fixture(scope="module")
def river() -> RiverFrame:
    """28 m wide, 2 m deep, about 590 m long, flowing east."""
    return RiverFrame([[121.379, 28.3712], [121.385, 28.3712]], 28.0, 2.0)


def left_mouth(river: RiverFrame, s: float) -> PipeMouth:
    x, y = river.from_river([s], [14.0])
    t = river.downstream_unit([s])[0]
    return PipeMouth(float(x[0]), float(y[0]), (float(t[1]), float(-t[0])))


def pings_along(river: RiverFrame, mouths: list[PipeMouth], n: float,
                seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(s of each ping, port, starboard) for a boat running downstream every 0.3 m at offset n."""
    s = np.arange(100.0, 500.0, 0.3)
    x, y = river.from_river(s, np.full_like(s, n))
    t = river.downstream_unit([0.0])[0]
    sonar = SideScanSonar(river, mouths, np.random.default_rng(seed))
    port, starboard = sonar.pings(x, y, np.full_like(s, np.arctan2(t[1], t[0])))
    return s, port, starboard


@pytest.mark.parametrize("n, side, tip_m", [(11.0, "port", 2.0), (-11.0, "port", 24.0)])
def test_a_mouth_is_found_at_its_tip_from_near_and_from_across_the_river(
        river: RiverFrame, n: float, side: str, tip_m: float) -> None:
    s, port, starboard = pings_along(river, [left_mouth(river, 300.0)], n, seed=4)
    ranges = mouth_ranges(port if side == "port" else starboard, BIN_M)
    hits = np.isfinite(ranges)
    assert hits.any() and np.all(np.abs(s[hits] - 300.0) < 1.0)
    assert np.allclose(ranges[hits], tip_m, atol=0.2)
    assert not np.isfinite(mouth_ranges(starboard if side == "port" else port, BIN_M)).any()


@pytest.mark.parametrize("n", [11.0, 0.0, -11.0])
def test_plain_seabed_and_bank_walls_give_no_mouth(river: RiverFrame, n: float) -> None:
    for seed in range(3):  # 4,000 pings a side: the bank wall alone is bright with silence behind it
        _, port, starboard = pings_along(river, [], n, seed)
        assert not np.isfinite(mouth_ranges(port, BIN_M)).any()
        assert not np.isfinite(mouth_ranges(starboard, BIN_M)).any()


def test_short_pings_hold_no_mouth() -> None:
    assert np.isnan(mouth_ranges(np.full((3, 10), 255, np.uint8), BIN_M)).all()


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A 700 m reach with a submerged outfall on the right bank and a visible one on the left."""
    scenario = generate_scenario(21, length_m=700.0, n_outfalls=1)
    scenario["outfalls"] = [
        {"id": "S", "chainage_m": 260.0, "bank": "right", "submerged": True, "flow_m3ps": 0.01,
         "excess": TYPICAL_EXCESS},
        {"id": "V", "chainage_m": 480.0, "bank": "left", "submerged": False, "flow_m3ps": 0.01,
         "excess": TYPICAL_EXCESS},
    ]
    # the planned survey only: one pass down the right bank and one up the left, no second looks
    result = simulate(parse_scenario(scenario), tmp_path_factory.mktemp("sonar"), investigate=False)
    return result.log_path, scenario


def test_a_patrol_finds_the_submerged_mouth_from_both_passes_and_nothing_else(survey: tuple[Path, dict]) -> None:
    path, _ = survey
    with PatrolLog(path) as log:
        frame = river_frame(log.meta)
        targets = find_targets(log, Fixes.from_log(log, frame), frame)
    assert len(targets) == 1
    target = targets[0]
    assert target.bank == "right" and abs(target.s - 260.0) < 1.0
    assert target.passes == 2 and target.pings >= 2 and target.sigma_m < 1.0
    assert 0.4 < target.confidence < 1.0
    assert target.evidence() == {"chainage_m": round(target.s, 1), "pings": target.pings, "passes": 2,
                                 "median_range_m": round(target.range_m, 1)}


def test_confidence_grows_with_what_the_sonar_saw() -> None:
    once = SonarTarget(s=1.0, bank="left", pings=1, passes=1, range_m=2.0, sigma_m=0.8)
    often = SonarTarget(s=1.0, bank="left", pings=4, passes=2, range_m=2.0, sigma_m=0.4)
    assert once.confidence < often.confidence < 1.0
