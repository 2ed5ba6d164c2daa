"""The multi-parameter sonde: each channel follows the true value at the intake through a
first-order lag (its response time tau) and adds Gaussian noise, sampled at the sonde rate.

The lag is integrated on the control-tick grid, so a plume crossed in a few seconds is smeared the
way a real sensor smears it; the filter state carries over between chunks of a patrol.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from riverpatrol.scenario import PARAMETERS, Sonde

_MAX_GROWTH = 10.0  # a block may span at most this many time constants: a**-L stays ~e^10


def first_order_lag(x: NDArray[np.float64], y0: NDArray[np.float64], decay: NDArray[np.float64]) -> NDArray[np.float64]:
    """y[k] = decay*y[k-1] + (1-decay)*x[k] for every column of x (ticks x channels), y[-1] = y0.

    Closed form per block (y_j = a^(j+1) * (y0 + (1-a) * sum_i a^-(i+1) x_i)) keeps it in numpy;
    blocks are short enough that a^-L cannot lose precision.
    """
    out = np.empty_like(x)
    state = y0.astype(float).copy()
    instant = decay <= 0.0
    lagged = ~instant
    out[:, instant] = x[:, instant]
    if not lagged.any():
        return out
    a = decay[lagged]
    block = max(1, int(_MAX_GROWTH / float(np.max(-np.log(a)))))
    xs = x[:, lagged]
    ys = np.empty_like(xs)
    s = state[lagged]
    for lo in range(0, xs.shape[0], block):
        chunk = xs[lo : lo + block]
        powers = np.arange(1, chunk.shape[0] + 1, dtype=float)[:, None]
        grow = a[None, :] ** -powers
        acc = s[None, :] + (1.0 - a[None, :]) * np.cumsum(chunk * grow, axis=0)
        ys[lo : lo + block] = acc / grow
        s = ys[lo + chunk.shape[0] - 1]
    out[:, lagged] = ys
    return out


class SondeModel:
    """Samples the sonde's channels from true intake values on the tick grid."""

    def __init__(self, config: Sonde, tick_s: float, rng: np.random.Generator) -> None:
        self.channels = [p for p in PARAMETERS if p in config.params]
        self._cols = np.array([PARAMETERS.index(p) for p in self.channels], int)
        taus = np.array([config.params[p].tau_s for p in self.channels], float)
        self._decay = np.where(taus > 0, np.exp(-tick_s / np.maximum(taus, 1e-12)), 0.0)
        self._sigma = np.array([config.params[p].sigma for p in self.channels], float)
        self.period_ticks = max(1, round(1.0 / (config.rate_hz * tick_s)))
        self._state: NDArray[np.float64] | None = None
        self._rng = rng

    def sample(self, ticks: NDArray[np.int64], truth: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Readings at the sample ticks among ``ticks``: (sample ticks, samples x channels)."""
        x = truth[:, self._cols]
        if self._state is None:  # the sonde settles in the water before the patrol starts
            self._state = x[0].copy()
        lagged = first_order_lag(x, self._state, self._decay)
        self._state = lagged[-1]
        pick = ticks % self.period_ticks == 0
        noise = self._rng.standard_normal((int(pick.sum()), len(self.channels))) * self._sigma
        return ticks[pick], lagged[pick] + noise
