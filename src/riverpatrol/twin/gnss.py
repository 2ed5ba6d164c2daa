"""GNSS receiver with the autopilot's course, speed and compass heading.

Position error is N(0, gnss_sigma_m) per axis, independent per fix (spec section 4); speed, course
and heading carry small instrument noise of their own.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from riverpatrol.geo.angles import compass_deg
from riverpatrol.geo.frame import LocalFrame

SPEED_SIGMA_MPS = 0.05
HEADING_SIGMA_DEG = 1.0


class GnssModel:
    def __init__(self, sigma_m: float, frame: LocalFrame, rng: np.random.Generator) -> None:
        self.sigma = sigma_m
        self._frame = frame
        self._rng = rng

    def fixes(self, x: NDArray[np.float64], y: NDArray[np.float64], vx: NDArray[np.float64],
              vy: NDArray[np.float64], psi: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
        """Columns lon, lat, sog, cog, heading (degrees clockwise from north) for true states."""
        noise = self._rng.standard_normal((5, len(x)))
        lon, lat = self._frame.to_lonlat(x + self.sigma * noise[0], y + self.sigma * noise[1])
        gvx = vx + SPEED_SIGMA_MPS * noise[2]
        gvy = vy + SPEED_SIGMA_MPS * noise[3]
        return {
            "lon": lon,
            "lat": lat,
            "sog": np.hypot(gvx, gvy),
            "cog": np.degrees(np.arctan2(gvx, gvy)) % 360.0,
            "heading": (compass_deg(psi) + HEADING_SIGMA_DEG * noise[4]) % 360.0,
        }
