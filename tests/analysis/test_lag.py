"""A sonde channel's lag: run forward as the twin's sonde does, and compensated so edges sit where
the water changed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.signal import lfilter

from riverpatrol.analysis.lag import compensate, respond, smoothing_samples
from riverpatrol.twin.sonde import first_order_lag

TICK = 0.1


def fine_truth(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """A smooth plume crossing on the twin's 0.1 s tick grid: (tick times, values)."""
    t = np.arange(0.0, seconds, TICK)
    return t, 400.0 + 60.0 * np.exp(-(((t - seconds / 2) / 12.0) ** 2)) + 10.0 * np.sin(t / 7.0)


@pytest.mark.parametrize("tau", [0.0, 2.0, 10.0, 30.0])
def test_respond_matches_the_twins_sonde_sampled_at_1_hz(tau: float) -> None:
    _, x = fine_truth(300.0)
    decay = np.array([np.exp(-TICK / tau) if tau else 0.0])
    twin = first_order_lag(x[:, None], x[:1], decay)[:, 0]
    every = round(1.0 / TICK)
    ours = respond(x[::every], 1.0, tau)
    # within 0.5 % of the 60 µS/cm plume: the twin holds each tick's value, a 0.05 s delay
    np.testing.assert_allclose(ours, twin[::every], atol=0.3)


def test_respond_keeps_a_constant_and_runs_along_any_axis() -> None:
    assert np.allclose(respond(np.full(50, 7.5), 1.0, 20.0), 7.5)
    rows = np.random.default_rng(0).normal(size=(3, 80))
    np.testing.assert_allclose(respond(rows, 1.0, 5.0, axis=1)[1], respond(rows[1], 1.0, 5.0))
    np.testing.assert_allclose(respond(rows.T, 1.0, 5.0, axis=0).T, respond(rows, 1.0, 5.0, axis=1))


@pytest.mark.parametrize("tau", [5.0, 15.0, 30.0])
def test_compensate_puts_a_plume_edge_back_where_the_water_changed(tau: float) -> None:
    rng = np.random.default_rng(1)
    t = np.arange(0.0, 400.0, 1.0)
    edge = 200.0
    truth = np.where(t >= edge, 10.0, 0.0)
    fine = np.repeat(truth, 10)
    lagged = first_order_lag(fine[:, None], fine[:1], np.array([np.exp(-TICK / tau)]))[::10, 0]
    readings = lagged + rng.normal(0.0, 0.3, t.size)
    def half(y: np.ndarray) -> float:
        """Where the series first reaches half the step."""
        return float(t[np.argmax(y >= 5.0)])

    assert half(readings) > edge + 0.5 * tau  # the sensor catches up late ...
    assert abs(half(compensate(readings, 1.0, tau)) - edge) <= 2.0  # ... compensated, the edge is back


@pytest.mark.parametrize("tau", [2.0, 10.0, 30.0])
def test_compensated_noise_is_no_larger_than_the_readings(tau: float) -> None:
    noise = np.random.default_rng(2).normal(0.0, 1.0, 20_000)
    assert compensate(noise, 1.0, tau).std() == pytest.approx(1.0, rel=0.15)
    assert smoothing_samples(tau) >= 1.0


def test_no_lag_needs_no_compensation_beyond_light_smoothing() -> None:
    x = np.sin(np.arange(200) / 15.0)
    np.testing.assert_allclose(compensate(x, 1.0, 0.0)[5:-5], x[5:-5], atol=0.01)


@pytest.mark.parametrize("tau", [0.05, 0.7, 5.0, 30.0, 3000.0])
@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 257, 5000])
def test_respond_is_the_first_order_hold_recursion_exactly(tau: float, n: int) -> None:
    x = 400.0 + np.random.default_rng(n).normal(size=(2, n)).cumsum(axis=1)
    a = np.exp(-1.0 / tau)
    c = tau * (1.0 - a)
    ref = lfilter([1.0 - c, c - a], [1.0, -a], x - x[:, :1], axis=1) + x[:, :1]  # settled at x[0] before
    np.testing.assert_allclose(respond(x, 1.0, tau, axis=1), ref, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("tau", [0.0, 3.0, 30.0])
def test_compensate_is_the_gaussian_smoothed_series_plus_tau_times_its_slope(tau: float) -> None:
    y = np.random.default_rng(4).normal(size=600).cumsum()
    width = smoothing_samples(tau)
    ref = gaussian_filter1d(y, width, mode="nearest") + tau * gaussian_filter1d(y, width, order=1, mode="nearest")
    np.testing.assert_allclose(compensate(y, 1.0, tau), ref, atol=1e-10)
