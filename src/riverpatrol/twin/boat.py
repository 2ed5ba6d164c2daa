"""Planar boat dynamics: speed, acceleration and turn-rate limits, drifted by the current.

The hull tracks a commanded heading and speed through the water; the river current adds to the
ground velocity. Scalar maths on purpose: this runs once per control tick on the hot path, where
numpy's per-call overhead would dominate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class HullLimits:
    max_speed_mps: float
    accel_mps2: float = 0.5
    decel_mps2: float = 1.0
    turn_rate_rps: float = math.radians(30.0)
    heading_gain: float = 1.5  # 1/s: heading error to turn-rate command


class BoatDynamics:
    """State: position (x, y), heading psi (rad, math convention), speed through water v."""

    __slots__ = ("x", "y", "psi", "v", "vx", "vy", "limits")

    def __init__(self, x: float, y: float, psi: float, limits: HullLimits) -> None:
        self.x, self.y, self.psi, self.v = x, y, psi, 0.0
        self.vx = self.vy = 0.0  # ground velocity
        self.limits = limits

    def step(self, dt: float, psi_cmd: float, v_cmd: float, cur_x: float, cur_y: float) -> None:
        lim = self.limits
        err = (psi_cmd - self.psi + math.pi) % (2.0 * math.pi) - math.pi
        rate = lim.heading_gain * err
        if rate > lim.turn_rate_rps:
            rate = lim.turn_rate_rps
        elif rate < -lim.turn_rate_rps:
            rate = -lim.turn_rate_rps
        self.psi = (self.psi + rate * dt + math.pi) % (2.0 * math.pi) - math.pi
        v_cmd = min(max(v_cmd, 0.0), lim.max_speed_mps)
        dv = v_cmd - self.v
        if dv > lim.accel_mps2 * dt:
            dv = lim.accel_mps2 * dt
        elif dv < -lim.decel_mps2 * dt:
            dv = -lim.decel_mps2 * dt
        self.v += dv
        self.vx = self.v * math.cos(self.psi) + cur_x
        self.vy = self.v * math.sin(self.psi) + cur_y
        self.x += self.vx * dt
        self.y += self.vy * dt
