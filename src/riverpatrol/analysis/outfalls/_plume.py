"""The plume of spec section 3 for a unit load: what a source adds at a point downstream of it."""

from __future__ import annotations

import numpy as np

from riverpatrol.geo.frame import FloatArray


def plume(x: FloatArray, y: FloatArray, side: int, width: FloatArray, depth: FloatArray,
          u: float, ey: float, images: int = 3) -> FloatArray:
    """Spec section 3 for a unit load (flow x excess = 1) at distance ``x`` downstream of the source,
    lateral position ``y`` from the right bank, source on the left bank (``side`` +1, at y = W) or
    the right (-1, at y = 0); zero for ``x <= 0``. ``images`` pairs of reflections each side (3 in
    the spec; near a source one is plenty).

    The spec's two sums of reflections meet at the same centres when the source is on a bank: even
    multiples of W, each twice, for the right bank; odd ones for the left, each twice but the outer
    two. Summed that way, the field costs half the exponentials.
    """
    x, y, width, depth = np.broadcast_arrays(x, y, width, depth)
    out = np.zeros(x.shape)
    hit = x > 0
    x, y, width, depth = x[hit], y[hit], width[hit], depth[hit]
    spread = 4.0 * ey * np.maximum(x, 1.0) / u
    k = np.arange(-images, images + 1)
    if side > 0:
        centres = np.append(2 * k - 1, 2 * images + 1)
        weights = np.where(np.abs(centres) == 2 * images + 1, 1.0, 2.0)
    else:
        centres, weights = 2 * k, np.full(k.size, 2.0)
    total = np.zeros(x.shape)
    for centre, weight in zip(centres, weights):
        total += weight * np.exp(-((y - centre * width) ** 2) / spread)
    out[hit] = total / (depth * u * np.sqrt(np.pi * spread))
    return out
