"""Sonde QC: each rule on synthetic series, real plumes (steps, smooth and narrow) left alone, and
a whole twin patrol, whose healthy sensors give almost no flags."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import lfilter

from riverpatrol.analysis.qc import FLAGS, INSTRUMENTS, QcResult, quality_control, quality_control_sonde
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import DEFAULT_BACKGROUND, DEFAULT_SONDE, PARAMETERS, load_scenario
from riverpatrol.simulate import simulate

TICK = 0.1  # the true signal is lagged on a fine grid, then sampled, as a sonde does
N = 600
SIGMA = {p: s for p, (s, _) in DEFAULT_SONDE.items()}
TAU = {p: tau for p, (_, tau) in DEFAULT_SONDE.items()}
# strong effluent: most of the largest true change QC allows; DO drops to nothing in a plume
PLUME = {p: 0.8 * INSTRUMENTS[p].max_step for p in PARAMETERS} | {"do": -DEFAULT_BACKGROUND["do"]}
Signal = Callable[[np.ndarray], np.ndarray]


def sensed(name: str, excess: Signal = lambda t: 0.0 * t, *, tau: float | None = None,
           rate_hz: float = 1.0, n: int = N, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(t, readings) of background + excess(t) through a first-order lag plus N(0, sigma) noise."""
    tau = TAU[name] if tau is None else tau
    per = round(1.0 / (rate_hz * TICK))
    fine = np.arange(1, n * per + 1) * TICK
    x = DEFAULT_BACKGROUND[name] + excess(fine)
    a = np.exp(-TICK / tau) if tau > 0 else 0.0
    lagged = lfilter([1.0 - a], [1.0, -a], x, zi=[a * x[0]])[0]
    noise = np.random.default_rng(seed).normal(0.0, SIGMA[name], n)
    return fine[per - 1 :: per], lagged[per - 1 :: per] + noise


def crossing(amplitude: float, start: float, duration: float = 0.3) -> Signal:
    """The excess met crossing a thin plume from ``start`` for ``duration`` seconds."""
    return lambda t: amplitude * ((t > start) & (t < start + duration))


def qc_one(name: str, t: np.ndarray, y: np.ndarray, *, sigma: float | None = None,
           tau: float | None = None, stuck_samples: int | None = None) -> QcResult:
    """QC of one channel, with the default sonde's sigma and tau unless given."""
    return quality_control(t, {name: y}, {name: SIGMA[name] if sigma is None else sigma}, 1.0,
                           {name: TAU[name] if tau is None else tau}, stuck_samples=stuck_samples)


def flagged(result: QcResult, name: str) -> list[int]:
    return np.flatnonzero(result.flags[name] != "N").tolist()


@pytest.mark.parametrize("name", PARAMETERS)
def test_healthy_noise_is_not_flagged(name: str) -> None:
    t, y = sensed(name, n=5000)
    result = qc_one(name, t, y)
    assert result.counts[name] == {"N": 5000}
    assert result.valid[name].all() and result.gaps.shape == (0, 2)


@pytest.mark.parametrize("name", PARAMETERS)
@pytest.mark.parametrize("entering", [True, False])
def test_a_plume_step_through_the_lag_is_not_flagged(name: str, entering: bool) -> None:
    t, y = sensed(name, lambda t: PLUME[name] * ((t > 300.35) == entering))
    assert flagged(qc_one(name, t, y), name) == []


@pytest.mark.parametrize("tau", [0.0, 2.0])
def test_a_sharp_step_plus_noise_is_an_edge_not_a_spike(tau: float) -> None:
    """A plume edge met by a fast sensor: one sample jumps, the rest stay at the new level."""
    for seed in range(20):
        t, y = sensed("conductivity", lambda t: 1000.0 * ((t > 200.5) & (t < 400.5)), tau=0.0, seed=seed)
        assert flagged(qc_one("conductivity", t, y, tau=tau), "conductivity") == []


@pytest.mark.parametrize("name", PARAMETERS)
def test_a_smooth_plume_is_not_flagged(name: str) -> None:
    t, y = sensed(name, lambda t: PLUME[name] * np.exp(-0.5 * ((t - 300.0) / 15.0) ** 2))
    assert flagged(qc_one(name, t, y), name) == []


@pytest.mark.parametrize("name", PARAMETERS)
def test_a_plume_narrower_than_a_sample_decays_at_the_lag_and_is_not_a_spike(name: str) -> None:
    """Crossing a thin plume in 0.3 s: the sensor jumps, then falls back at its lag's rate."""
    for start in (100.05, 100.35, 100.65, 100.85):  # phases of the crossing against the sampling
        t, y = sensed(name, crossing(PLUME[name], start))
        assert flagged(qc_one(name, t, y), name) == [], start


def test_a_faster_sonde_scales_gaps_and_lag_with_its_rate() -> None:
    t, y = sensed("conductivity", crossing(PLUME["conductivity"], 100.05), rate_hz=4.0, n=2000)
    t[1000:] += 1.0  # 1.25 s between samples: a gap at 4 Hz
    result = quality_control(t, {"conductivity": y}, SIGMA, 4.0, TAU)
    assert result.gaps.tolist() == [[t[999], t[1000]]]
    assert flagged(result, "conductivity") == [1000]


@pytest.mark.parametrize("name", PARAMETERS)
def test_isolated_spikes_are_faults(name: str) -> None:
    t, y = sensed(name)
    at = np.arange(50, N - 50, 100)
    y[at] += 20.0 * SIGMA[name] * np.where(at % 200 == 0, 1.0, -1.0)
    result = qc_one(name, t, y)
    assert flagged(result, name) == at.tolist()
    assert set(result.flags[name][at]) == {"D"}


def test_a_spike_on_top_of_a_plume_is_found() -> None:
    t, y = sensed("nh3n", lambda t: 2.0 * np.exp(-0.5 * ((t - 300.0) / 30.0) ** 2))
    y[305] += 1.0
    assert flagged(qc_one("nh3n", t, y), "nh3n") == [305]


def test_a_sensor_without_lag_can_show_a_one_sample_plume() -> None:
    t, y = sensed("conductivity", tau=0.0)
    y[300] += 500.0
    assert flagged(qc_one("conductivity", t, y, tau=0.0), "conductivity") == []


def test_a_jump_faster_than_the_sensor_can_move_is_a_fault_on_the_sample_after_it() -> None:
    t, y = sensed("nh3n")  # tau 15 s: from 0.5 mg/L it can move ~6 mg/L in a second at most
    y[300:] += 20.0
    assert flagged(qc_one("nh3n", t, y), "nh3n") == [300]
    assert flagged(qc_one("nh3n", t, y, tau=0.0), "nh3n") == []  # an instant sensor can step


@pytest.mark.parametrize("sigma", [0.03, 0.0])
def test_the_jump_back_from_a_one_sample_fault_is_not_a_second_fault(sigma: float) -> None:
    t, y = sensed("nh3n")
    y[300] += 20.0
    assert flagged(qc_one("nh3n", t, y, sigma=sigma), "nh3n") == [300]


def test_a_jump_after_a_gap_may_be_bigger() -> None:
    t, y = sensed("nh3n")
    t[300:] += 60.0  # a minute without data: the sensor had time to settle on a new level
    y[300:] += 20.0
    result = qc_one("nh3n", t, y)
    assert flagged(result, "nh3n") == [300] and result.flags["nh3n"][300] == "B"


def test_range_failures() -> None:
    t = np.arange(1.0, 9.0)
    values = {
        "nh3n": np.array([0.5, -0.5, 0.5, 250.0, 0.5, 200.0, 0.5, -0.01]),  # -0.01: noise at zero
        "ph": np.array([7.0, 14.5, 7.0, -1.0, 7.0, 7.0, 7.0, 7.0]),
    }
    result = quality_control(t, values, {"nh3n": 0.03, "ph": 0.01}, 1.0, {"nh3n": 15.0, "ph": 10.0})
    assert result.flags["nh3n"].tolist() == ["N", "D", "N", "T", "N", "T", "N", "N"]
    assert result.flags["ph"].tolist() == ["N", "D", "N", "D", "N", "N", "N", "N"]
    assert result.counts["nh3n"] == {"N": 5, "D": 1, "T": 2}


def test_a_saturated_channel_is_over_range_not_stuck() -> None:
    t, y = sensed("turbidity")
    y[200:300] = 4000.0  # the sensor's upper measuring limit
    result = qc_one("turbidity", t, y)
    assert flagged(result, "turbidity") == list(range(200, 300))
    assert set(result.flags["turbidity"][200:300]) == {"T"}


def test_a_stuck_sensor_is_a_fault() -> None:
    t, y = sensed("do")
    y[100:140] = y[100]  # 40 s of one value
    y[300:329] = y[300]  # 29 s: shorter than the default 30 s run
    result = qc_one("do", t, y)
    assert flagged(result, "do") == list(range(100, 140))
    shorter_runs = qc_one("do", t, y, stuck_samples=10)
    assert flagged(shorter_runs, "do") == list(range(100, 140)) + list(range(300, 329))
    assert flagged(qc_one("do", t, y, sigma=0.0), "do") == []  # a noiseless channel may hold steady


def test_gaps_are_listed_and_the_sample_after_each_is_a_communication_failure() -> None:
    t = np.arange(1.0, 101.0)
    t[50:] += 4.0   # 5 s step: a gap at 1 Hz
    t[80:] += 1.0   # 2 s step: under 2.5 periods, not a gap
    values = {name: sensed(name, n=100)[1] for name in ("cod", "tp")}
    values["turbidity"] = np.full(100, np.nan)  # not measured
    result = quality_control(t, values, SIGMA, 1.0, TAU)
    np.testing.assert_array_equal(result.gaps, [[50.0, 55.0]])
    assert set(result.flags) == {"cod", "tp"}
    for name in ("cod", "tp"):
        assert flagged(result, name) == [50] and result.flags[name][50] == "B"


def test_a_missing_reading_is_a_communication_failure() -> None:
    t, y = sensed("cod", n=100)
    y[[10, 11, 60]] = np.nan
    result = qc_one("cod", t, y)
    assert flagged(result, "cod") == [10, 11, 60] and set(result.flags["cod"][[10, 11, 60]]) == {"B"}
    assert not result.valid["cod"][[10, 11, 60]].any()


def test_sample_times_must_be_in_order() -> None:
    with pytest.raises(ValueError, match="time order"):
        quality_control(np.array([1.0, 3.0, 2.0]), {"cod": np.ones(3)}, SIGMA, 1.0, TAU)


def test_flags_use_the_hj212_vocabulary_and_the_summary_counts_them() -> None:
    t, y = sensed("tp")
    y[100] = -1.0
    summary = qc_one("tp", t, y).summary()
    assert set("NDTB") <= set(FLAGS) and FLAGS["T"] == "over the upper measuring limit"
    assert summary["parameters"]["tp"] == {"samples": N, "flagged_fraction": 1 / N,
                                           "flags": {"N": N - 1, "D": 1}}
    assert summary["gaps"] == []


def test_ten_thousand_samples_of_nine_channels_take_milliseconds() -> None:
    values = {name: sensed(name, n=10_000)[1] for name in PARAMETERS}
    t = np.arange(1.0, 10_001.0)
    quality_control(t, values, SIGMA, 1.0, TAU)  # warm up
    start = time.perf_counter()
    quality_control(t, values, SIGMA, 1.0, TAU)
    assert time.perf_counter() - start < 0.1


@pytest.mark.slow
def test_a_twin_patrol_is_almost_all_normal(shared_dir: Path, tmp_path: Path) -> None:
    run = simulate(load_scenario(shared_dir / "scenarios" / "straight-easy.json"), tmp_path)
    with PatrolLog(run.log_path) as log:
        result = quality_control_sonde(log.columns("sonde"), log.meta)
    assert set(result.flags) == set(PARAMETERS)
    total = sum(flag.size for flag in result.flags.values())
    bad = sum(int(np.count_nonzero(~valid)) for valid in result.valid.values())
    assert total > 9 * 1000 and bad / total < 0.005
    assert result.gaps.shape == (0, 2)
