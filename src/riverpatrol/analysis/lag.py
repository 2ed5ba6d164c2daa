"""A sonde channel's first-order lag (time constant ``tau_s`` from the log meta), both ways.

A channel reads ``dy/dt = (x - y) / tau``: it sees a plume edge late, by up to ``tau`` seconds, i.e.
``tau`` times the boat's speed metres downstream of where the edge is. Two uses:

- ``respond``: what the channel would read for a given true series (the lag run forward, exact for
  a true value varying linearly between samples). Fitting a plume model through it compares like
  with like while the noise stays white, so fitted positions and their spreads are honest.
- ``compensate``: the true series estimated from the readings, ``x = y + tau dy/dt`` with a
  Gaussian-smoothed derivative, smoothed just enough that its noise is no larger than the raw
  reading's. Peaks and edges read off it sit where the water changed, not where the sensor caught up.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import brentq
from scipy.signal import lfilter

FloatArray = NDArray[np.float64]


def respond(x: FloatArray, dt: float, tau: float, axis: int = -1) -> FloatArray:
    """The lagged reading of a true series ``x`` sampled every ``dt`` s (settled at ``x[0]`` before).

    First-order hold: over a step the true value ramps from ``x0`` to ``x1``, giving
    ``y1 = a y0 + (1 - c) x1 + (c - a) x0`` with ``a = exp(-dt/tau)``, ``c = tau (1 - a) / dt``.
    """
    x = np.asarray(x, float)
    if tau <= 0.0 or x.shape[axis] == 0:
        return x.copy()
    a = float(np.exp(-dt / tau))
    c = tau * (1.0 - a) / dt
    first = np.take(x, [0], axis=axis)
    y, _ = lfilter([1.0 - c, c - a], [1.0, -a], x - first, axis=axis, zi=np.zeros_like(first))
    return y + first


def compensate(y: FloatArray, dt: float, tau: float) -> FloatArray:
    """The true series behind lagged readings ``y`` sampled every ``dt`` s (see module docstring)."""
    y = np.asarray(y, float)
    if y.size < 3:
        return y.copy()
    width = smoothing_samples(tau / dt)
    smooth = gaussian_filter1d(y, width, mode="nearest")
    slope = gaussian_filter1d(y, width, order=1, mode="nearest") / dt
    return smooth + tau * slope


def smoothing_samples(tau_samples: float) -> float:
    """Gaussian width (samples) at which ``y + tau dy/dt`` of white noise has the noise's own variance.

    For a Gaussian of width ``b`` the smoothed noise keeps ``1/(2 b sqrt(pi))`` of the variance and
    its derivative ``1/(4 b^3 sqrt(pi))``; the sum is 1 at the returned ``b`` (at least one sample).
    """
    def excess(b: float) -> float:
        return (1.0 / (2.0 * b) + tau_samples**2 / (4.0 * b**3)) / np.sqrt(np.pi) - 1.0

    return 1.0 if excess(1.0) <= 0.0 else float(brentq(excess, 1.0, 10.0 + tau_samples))
