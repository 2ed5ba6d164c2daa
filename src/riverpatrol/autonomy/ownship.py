"""The boat's own position, smoothed from GNSS fixes with the receiver's speed and course.

Fixes scatter by the GNSS sigma (0.8 m in the twin's scenarios), far too much to tell a bank return
from a pier 3 m inside it or to difference an obstacle's position into a speed. Speed and course
come from Doppler and are good to a few cm/s, so the position is dead-reckoned on them and pulled
towards each fix by a small gain: a complementary filter that keeps the error near 0.2 m.
"""

from __future__ import annotations

import math

FIX_GAIN = 0.1  # share of each fix's innovation taken: sigma * sqrt(g / (2 - g)) ~ 0.18 sigma at 5 Hz


class OwnShip:
    """Position (x, y local metres) and ground velocity (vx, vy) at time ``t``."""

    __slots__ = ("t", "x", "y", "vx", "vy")

    def __init__(self) -> None:
        self.t = -math.inf
        self.x = self.y = self.vx = self.vy = 0.0

    @property
    def ready(self) -> bool:
        return math.isfinite(self.t)

    def fix(self, t: float, x: float, y: float, sog_mps: float, cog_deg: float) -> None:
        """Take one GNSS fix (local metres, speed over ground, course clockwise from north)."""
        cog = math.radians(cog_deg)
        vx, vy = sog_mps * math.sin(cog), sog_mps * math.cos(cog)
        if not self.ready:
            self.t, self.x, self.y, self.vx, self.vy = t, x, y, vx, vy
            return
        dt = t - self.t
        px = self.x + 0.5 * (self.vx + vx) * dt
        py = self.y + 0.5 * (self.vy + vy) * dt
        self.t, self.vx, self.vy = t, vx, vy
        self.x = px + FIX_GAIN * (x - px)
        self.y = py + FIX_GAIN * (y - py)

    def at(self, t: float) -> tuple[float, float]:
        """Position dead-reckoned to time ``t`` (a scan's time, between fixes)."""
        dt = t - self.t
        return self.x + self.vx * dt, self.y + self.vy * dt
