"""The true water-quality field of spec section 3: background plus bank-hugging outfall plumes.

Each outfall's plume is a steady 2-D depth-averaged solution with both banks reflecting (seven image
pairs), switched on and off with the travel time from the outfall. Parameters differ only in their
excess, so one kernel per outfall serves every parameter.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.scenario import PARAMETERS, Scenario

_IMAGES = np.arange(-3, 4, dtype=float)


class TrueField:
    """Evaluates C_p(s, n, t) for every canonical parameter at water points."""

    def __init__(self, scenario: Scenario, river: RiverFrame) -> None:
        self.river = river
        self.u = scenario.river.velocity_mps
        self.ey = scenario.river.transverse_dispersion_m2ps
        background = scenario.background_full
        self.background = np.array([background[p] for p in PARAMETERS])
        outs = scenario.outfalls
        self._s = np.array([o.chainage_m for o in outs], float)
        self._left = np.array([o.bank == "left" for o in outs], bool)
        self._flow = np.array([o.flow_m3ps for o in outs], float)
        self._excess = np.array([[o.excess.get(p, 0.0) for p in PARAMETERS] for o in outs]).reshape(len(outs), len(PARAMETERS))
        self._active = [np.asarray(o.active, float).reshape(-1, 2) for o in outs]

    def kernels(self, s: ArrayLike, n: ArrayLike, t: ArrayLike) -> NDArray[np.float64]:
        """Per-outfall plume strength per unit excess: shape (outfalls, points)."""
        s = np.atleast_1d(np.asarray(s, float))
        n = np.broadcast_to(np.asarray(n, float), s.shape)
        t = np.broadcast_to(np.asarray(t, float), s.shape)
        width = self.river.width_at(s)
        depth = self.river.depth_at(s)
        y = n + width / 2.0
        out = np.zeros((len(self._s), s.size))
        for i, s_i in enumerate(self._s):
            x = s - s_i
            hit = x > 0
            if not hit.any():
                continue
            x = np.maximum(x[hit], 1.0)
            tau = x / self.u
            w = width[hit]
            y_i = w if self._left[i] else np.zeros_like(w)
            on = self._is_active(i, t[hit] - tau)
            spread = 4.0 * self.ey * tau
            shift = 2.0 * _IMAGES[:, None] * w
            yy = y[hit]
            images = np.exp(-((yy - y_i - shift) ** 2) / spread) + np.exp(-((yy + y_i - shift) ** 2) / spread)
            out[i, hit] = on * self._flow[i] / (depth[hit] * self.u * np.sqrt(np.pi * spread)) * images.sum(0)
        return out

    def _is_active(self, i: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
        intervals = self._active[i]
        inside = (t[:, None] >= intervals[:, 0]) & (t[:, None] <= intervals[:, 1])
        return inside.any(axis=1).astype(float)

    def values(self, s: ArrayLike, n: ArrayLike, t: ArrayLike) -> NDArray[np.float64]:
        """True values, shape (points, parameters) in the order of PARAMETERS."""
        k = self.kernels(s, n, t)
        return self.background[None, :] + k.T @ self._excess

    def value(self, param: str, s: ArrayLike, n: ArrayLike, t: ArrayLike) -> NDArray[np.float64]:
        k = self.kernels(s, n, t)
        return self.background[PARAMETERS.index(param)] + k.T @ self._excess[:, PARAMETERS.index(param)]
