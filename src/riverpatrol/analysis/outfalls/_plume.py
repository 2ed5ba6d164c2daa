"""The plume of spec section 3 for a unit load: what a source adds at a point downstream of it."""

from __future__ import annotations

import numpy as np

from riverpatrol.geo.frame import FloatArray


def plume(x: FloatArray, y: FloatArray, y_src: FloatArray | float, width: FloatArray, depth: FloatArray,
          u: float, ey: float, images: int = 3) -> FloatArray:
    """Spec section 3 for a unit load (flow x excess = 1) at distance ``x`` downstream of the source,
    lateral position ``y`` from the right bank, source at ``y_src`` (0 or W); zero for ``x <= 0``.
    ``images`` pairs of reflections each side (3 in the spec; near a source one is plenty)."""
    x, y, y_src, width, depth = np.broadcast_arrays(x, y, y_src, width, depth)
    out = np.zeros(x.shape)
    hit = x > 0
    x, y, y_src, width, depth = x[hit], y[hit], y_src[hit], width[hit], depth[hit]
    spread = 4.0 * ey * np.maximum(x, 1.0) / u
    total = np.zeros(x.shape)
    for k in range(-images, images + 1):
        shift = 2.0 * k * width
        total += np.exp(-((y - y_src - shift) ** 2) / spread) + np.exp(-((y + y_src - shift) ** 2) / spread)
    out[hit] = total / (depth * u * np.sqrt(np.pi * spread))
    return out
