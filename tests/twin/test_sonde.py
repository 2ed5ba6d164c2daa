"""The sonde shows its specified noise and first-order lag."""

from __future__ import annotations

import numpy as np
import pytest

from riverpatrol.scenario import PARAMETERS, Sonde, SondeChannel
from riverpatrol.twin.sonde import SondeModel, first_order_lag

TICK = 0.1


def sonde(sigma: float, tau: float, rate_hz: float = 1.0) -> SondeModel:
    config = Sonde(rate_hz=rate_hz, params={"conductivity": SondeChannel(sigma=sigma, tau_s=tau)})
    return SondeModel(config, TICK, np.random.default_rng(3))


def truth_with(conductivity: np.ndarray) -> np.ndarray:
    table = np.zeros((len(conductivity), len(PARAMETERS)))
    table[:, PARAMETERS.index("conductivity")] = conductivity
    return table


def test_noise_has_the_specified_sigma_and_no_bias() -> None:
    model = sonde(sigma=2.0, tau=5.0)
    ticks = np.arange(1, 200_001)
    t, values = model.sample(ticks, truth_with(np.full(ticks.size, 400.0)))
    assert len(t) == 20_000  # 1 Hz over 20,000 s
    assert values[:, 0].mean() == pytest.approx(400.0, abs=0.05)
    assert values[:, 0].std() == pytest.approx(2.0, rel=0.03)


def test_step_response_reaches_63_percent_after_one_time_constant() -> None:
    tau = 10.0
    model = sonde(sigma=0.0, tau=tau, rate_hz=10.0)
    ticks = np.arange(1, 1001)
    step = np.where(ticks * TICK > 10.0, 1000.0, 0.0)  # a plume met at t = 10 s
    t, values = model.sample(ticks, truth_with(step))
    at = lambda sec: values[np.argmin(np.abs(t * TICK - sec)), 0]  # noqa: E731
    assert at(10.0) == pytest.approx(0.0, abs=1e-9)
    assert at(10.0 + tau) == pytest.approx(1000.0 * (1 - np.exp(-1)), rel=0.01)
    assert at(10.0 + 5 * tau) == pytest.approx(1000.0 * (1 - np.exp(-5)), rel=0.01)


def test_lag_state_carries_across_blocks() -> None:
    whole, split = sonde(0.0, 4.0, rate_hz=10.0), sonde(0.0, 4.0, rate_hz=10.0)
    ticks = np.arange(1, 601)
    signal = truth_with(400.0 + 50.0 * np.sin(ticks * TICK / 3.0))
    _, one = whole.sample(ticks, signal)
    _, first = split.sample(ticks[:250], signal[:250])
    _, second = split.sample(ticks[250:], signal[250:])
    np.testing.assert_allclose(np.concatenate([first, second]), one, rtol=1e-12)


@pytest.mark.parametrize("tau", [0.05, 2.0, 30.0, 600.0])
def test_block_closed_form_matches_the_recurrence(tau: float) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5000, 2)) * 100.0
    decay = np.array([np.exp(-TICK / tau), 0.0])
    y0 = np.array([7.0, 7.0])
    expected = np.empty_like(x)
    state = y0.copy()
    for k in range(len(x)):
        state = decay * state + (1 - decay) * x[k]
        expected[k] = state
    np.testing.assert_allclose(first_order_lag(x, y0, decay), expected, rtol=1e-9, atol=1e-9)


def test_only_configured_channels_are_measured() -> None:
    model = sonde(1.0, 1.0)
    assert model.channels == ["conductivity"]
