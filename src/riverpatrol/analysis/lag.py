"""A sonde channel's first-order lag (time constant ``tau_s`` from the log meta), both ways.

A channel reads ``dy/dt = (x - y) / tau``: it sees a plume edge late, by up to ``tau`` seconds, i.e.
``tau`` times the boat's speed metres downstream of where the edge is. Two uses:

- ``respond``: what the channel would read for a given true series (the lag run forward, exact for
  a true value varying linearly between samples). Fitting a plume model through it compares like
  with like while the noise stays white, so fitted positions and their spreads are honest.
- ``compensate``: the true series estimated from the readings, ``x = y + tau dy/dt`` with a
  Gaussian-smoothed derivative, smoothed just enough that its noise is no larger than the raw
  reading's. Peaks and edges read off it sit where the water changed, not where the sensor caught up.

Plain numpy: the outfall search runs this thousands of times in a process of its own, and
scipy.signal's import (it brings scipy.stats) cost that process more than the filtering did.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_BLOCK = 16  # samples per block of the recursion: smaller blocks, fewer products but more levels
_TRUNCATE = 4.0  # the Gaussian kernel reaches this many widths either side


def respond(x: FloatArray, dt: float, tau: float, axis: int = -1) -> FloatArray:
    """The lagged reading of a true series ``x`` sampled every ``dt`` s (settled at ``x[0]`` before).

    First-order hold: over a step the true value ramps from ``x0`` to ``x1``, giving
    ``y1 = a y0 + (1 - c) x1 + (c - a) x0`` with ``a = exp(-dt/tau)``, ``c = tau (1 - a) / dt``.
    Computed in blocks of _BLOCK samples, exactly: within a block the readings are one product
    with a matrix of powers of ``a`` (the hold folded in); what each block owes to those before it
    (the reading it starts from, the true value just before it) follows the same recursion over the
    blocks, with ``a**_BLOCK`` (``_decay``), and is added after.
    """
    x = np.asarray(x, float)
    if tau <= 0.0 or x.shape[axis] == 0:
        return x.copy()
    a = float(np.exp(-dt / tau))
    c = tau * (1.0 - a) / dt
    rows = np.moveaxis(x, axis, -1)
    n = rows.shape[-1]
    blocks = -(-n // _BLOCK)
    d = np.zeros(rows.shape[:-1] + (blocks, _BLOCK))  # the series less its first value, zero after it
    flat = d.reshape(rows.shape[:-1] + (blocks * _BLOCK,))
    first = rows[..., :1]
    np.subtract(rows, first, out=flat[..., :n])
    hold, powers = _hold(a, c)
    y = (d.reshape(-1, _BLOCK) @ hold).reshape(d.shape)  # each block as if nothing came before it
    if blocks > 1:
        owed = _decay(a * y[..., :-1, -1] + (c - a) * d[..., :-1, -1], a**_BLOCK)
        y[..., 1:, :] += owed[..., None] * powers
    out = y.reshape(flat.shape)[..., :n]
    out += first
    return np.moveaxis(out, -1, axis)


def _decay(v: FloatArray, a: float) -> FloatArray:
    """``y[k] = a y[k-1] + v[k]`` along the last axis, from ``y[-1] = 0``.

    Exact and stable (only powers ``a**k <= 1`` appear): within blocks of _BLOCK samples the sums
    are one product with the block's matrix of powers; what each block hands to the next is the
    same recursion over the blocks' last values, with ``a**_BLOCK``, solved the same way.
    """
    n = v.shape[-1]
    if n <= _BLOCK:
        return v @ _powers(a, n)
    blocks = -(-n // _BLOCK)
    padded = np.zeros(v.shape[:-1] + (blocks * _BLOCK,))
    padded[..., :n] = v
    local = (padded.reshape(-1, _BLOCK) @ _powers(a, _BLOCK)).reshape(v.shape[:-1] + (blocks, _BLOCK))
    carried = _decay(local[..., -1], a**_BLOCK)  # each block's true last value
    local[..., 1:, :] += carried[..., :-1, None] * _powers(a, _BLOCK)[0, :] * a
    return local.reshape(padded.shape)[..., :n]


@lru_cache(maxsize=64)
def _powers(a: float, n: int) -> FloatArray:
    """``p[j, k] = a**(k - j)`` for ``k >= j``, else 0: ``v @ p`` sums the recursion over ``n`` samples."""
    k = np.arange(n)
    p = np.triu(a ** np.maximum(k[None, :] - k[:, None], 0))
    p.flags.writeable = False  # cached: shared by every call
    return p


@lru_cache(maxsize=64)
def _hold(a: float, c: float) -> tuple[FloatArray, FloatArray]:
    """A block's matrix of the lag with the first-order hold (``d @ m``: its readings from zero,
    with zero before it), and ``a**k`` over the block (how what came before decays through it)."""
    p = _powers(a, _BLOCK)
    shifted = np.zeros_like(p)
    shifted[:-1] = p[1:]  # each true value also enters the step after it, through (c - a)
    hold, powers = (1.0 - c) * p + (c - a) * shifted, a ** np.arange(_BLOCK)
    hold.flags.writeable = powers.flags.writeable = False  # cached: shared by every call
    return hold, powers


def compensate(y: FloatArray, dt: float, tau: float) -> FloatArray:
    """The true series behind lagged readings ``y`` sampled every ``dt`` s (see module docstring)."""
    y = np.asarray(y, float)
    if y.size < 3:
        return y.copy()
    width = smoothing_samples(tau / dt)
    radius = int(_TRUNCATE * width + 0.5)
    offset = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offset / width) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(y, radius, mode="edge")
    smooth = np.convolve(padded, kernel, mode="valid")
    slope = np.convolve(padded, -offset / width**2 * kernel, mode="valid") / dt
    return smooth + tau * slope


def smoothing_samples(tau_samples: float) -> float:
    """Gaussian width (samples) at which ``y + tau dy/dt`` of white noise has the noise's own variance.

    For a Gaussian of width ``b`` the smoothed noise keeps ``1/(2 b sqrt(pi))`` of the variance and
    its derivative ``1/(4 b^3 sqrt(pi))``; the sum is 1 where ``4 sqrt(pi) b^3 - 2 b^2 - tau^2 = 0``,
    whose one positive root is returned (at least one sample).
    """
    roots = np.roots([4.0 * np.sqrt(np.pi), -2.0, 0.0, -float(tau_samples) ** 2])
    positive = roots.real[(np.abs(roots.imag) < 1e-9) & (roots.real > 0.0)]
    return max(1.0, float(positive.max(initial=0.0)))
