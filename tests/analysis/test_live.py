"""The live analyser raises a signal where a plume begins, from the records as they come."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from riverpatrol.analysis.live import LiveAnalyser
from riverpatrol.analysis.track import river_frame
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.patrollog import PatrolLog
from riverpatrol.records import Position, SondeSample
from riverpatrol.scenario import load_scenario
from riverpatrol.simulate import simulate

SONDE = {"params": {"conductivity": {"sigma": 2.0, "tau_s": 2.0}, "nh3n": {"sigma": 0.03, "tau_s": 15.0},
                    "do": {"sigma": 0.05, "tau_s": 20.0}}}
RIVER = RiverFrame([[121.379, 28.3712], [121.385, 28.3712]], 28.0, 2.0)


def feed(conductivity: np.ndarray, nh3n: np.ndarray, do: np.ndarray) -> list:
    live = LiveAnalyser(RIVER, SONDE)
    rng = np.random.default_rng(2)
    fixes, samples = [], []
    for k in range(len(conductivity)):
        lon, lat = RIVER.local.to_lonlat(10.0 + 1.5 * k, -11.0)
        fixes.append(Position(float(k), float(lon), float(lat), 1.5, 90.0, 90.0))
        samples.append(SondeSample(float(k) + 0.5, {
            "conductivity": float(conductivity[k] + 2.0 * rng.standard_normal()),
            "nh3n": float(nh3n[k] + 0.03 * rng.standard_normal()),
            "do": float(do[k] + 0.05 * rng.standard_normal())}))
    return live.run(fixes, samples)


def test_clean_water_raises_nothing() -> None:
    n = 400
    assert feed(np.full(n, 500.0), np.full(n, 0.5), np.full(n, 7.0)) == []


def test_a_plume_raises_one_signal_where_it_begins() -> None:
    n = 400
    k = np.arange(n)
    on = (k >= 200) & (k < 260)
    signals = feed(500.0 + 60.0 * on, np.full(n, 0.5) + 0.4 * on, 7.0 - 0.3 * on)
    assert len(signals) == 1
    signal = signals[0]
    assert 199 <= signal.t <= 206
    assert signal.chainage_m == pytest.approx(10.0 + 1.5 * 200, abs=8.0)  # unlagged data read with a 2 s lag: 3 m early
    assert signal.bank == "right" and signal.z["conductivity"] > 10


def test_falling_oxygen_counts_as_pollution_and_rising_does_not() -> None:
    n = 400
    k = np.arange(n)
    on = (k >= 200) & (k < 260)
    assert len(feed(np.full(n, 500.0), np.full(n, 0.5), 7.0 - 1.0 * on)) == 1
    assert feed(np.full(n, 500.0), np.full(n, 0.5), 7.0 + 1.0 * on) == []


@pytest.mark.slow
def test_signals_on_the_demo_patrol_are_near_the_outfalls(tmp_path: Path) -> None:
    scenario_path = Path(__file__).resolve().parents[2] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"
    result = simulate(load_scenario(scenario_path), tmp_path, investigate=False)  # each plume passed once
    with PatrolLog(result.log_path) as log:
        live = LiveAnalyser(river_frame(log.meta), log.meta["sensors"]["sonde"])
        signals = live.run(log.records("position"), log.records("sonde"))
    truth = json.loads(result.truth_path.read_text())["outfalls"]
    assert signals, "no signal on a reach with three outfalls"
    found = [(round(s.chainage_m), s.bank) for s in signals]
    for bank in ("left", "right"):
        outfalls = [o["chainage_m"] for o in truth if o["bank"] == bank]
        # downstream the boat meets a plume at its source; upstream, at the downstream end of its
        # tail (plumes grow u*t metres long): either way the signal is on the outfall's bank, below it
        near = [s for s in signals if s.bank == bank and min(outfalls) - 10 <= s.chainage_m <= max(outfalls) + 300]
        assert near, (bank, found)
    assert len(signals) <= 4, found  # no scatter of false alarms on clean water
