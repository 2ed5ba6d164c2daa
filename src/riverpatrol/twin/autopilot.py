"""An autopilot that behaves like ArduPilot Rover in boat mode (FRAME_CLASS=2).

Modes HOLD (motors off: a boat drifts), LOITER (hold within LOIT_RADIUS), AUTO (mission items,
WP_SPEED, a waypoint counts as reached within the larger of WP_RADIUS and the turn radius, or once
passed), GUIDED (position target, or a velocity target that expires after 3 s), RTL; a boat loiters
at the end of a mission, of a guided leg and of RTL, as Rover does. Navigation follows the track
line with a look-ahead point and crabs against the drift it measures from GNSS (ground velocity
minus water velocity), so it needs no knowledge of the current.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from riverpatrol.geo.frame import LocalFrame
from riverpatrol.twin.boat import BoatDynamics
from riverpatrol.vehicle.mission import MavCmd, MissionItem, Mode

GRAVITY = 9.80665
GUIDED_VELOCITY_TIMEOUT_S = 3.0
CORNER_DECEL_MPS2 = 0.4
MIN_CORNER_SPEED_MPS = 0.3
TURN_THROTTLE_MIN = 0.15


DEFAULT_PARAMS: dict[str, float] = {  # the Rover parameters this emulation honours, at Rover's defaults
    "WP_SPEED": 2.0, "WP_RADIUS": 2.0, "LOIT_RADIUS": 2.0, "CRUISE_SPEED": 2.0, "TURN_MAX_G": 0.6,
}


class _Leg:
    """A straight track from (ax, ay) to (bx, by), its unit direction and length worked out once."""

    __slots__ = ("ax", "ay", "bx", "by", "ux", "uy", "length", "speed", "corner_speed")

    def __init__(self, ax: float, ay: float, bx: float, by: float, speed: float, corner_speed: float) -> None:
        self.ax, self.ay, self.bx, self.by = ax, ay, bx, by
        self.length = math.hypot(bx - ax, by - ay)
        self.ux, self.uy = ((bx - ax) / self.length, (by - ay) / self.length) if self.length > 1e-6 else (0.0, 0.0)
        self.speed = speed
        self.corner_speed = corner_speed  # speed at which to arrive, given the turn onto the next leg


@dataclass
class RoverEmulation:
    """Drives a BoatDynamics hull; ``update`` runs once per control tick."""

    boat: BoatDynamics
    frame: LocalFrame
    home: tuple[float, float]
    params: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    mode: Mode = Mode.HOLD
    armed: bool = False
    mission: list[MissionItem] = field(default_factory=list)
    current_seq: int = 0
    events: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    _leg: _Leg | None = None
    _loiter: tuple[float, float] | None = None
    _speed_override: float = 0.0
    _velocity_target: tuple[float, float, float] | None = None  # (vx, vy, expiry time)
    _drift: tuple[float, float] = (0.0, 0.0)
    _time: float = 0.0
    _local: list[tuple[float, float]] = field(default_factory=list)

    @property
    def time(self) -> float:
        """The autopilot's clock: the time of the last control tick."""
        return self._time

    # ---- commands (what the link layer calls) -----------------------------------------------
    def arm(self, armed: bool = True) -> None:
        if armed != self.armed:
            self.armed = armed
            self._emit("armed" if armed else "disarmed")

    def set_mode(self, mode: Mode) -> None:
        self.mode = Mode(mode)
        self._emit("mode", mode=self.mode.name)
        if self.mode is Mode.AUTO:
            self.current_seq = max(self.current_seq, 1)
            self._start_item()
        elif self.mode is Mode.RTL:
            self._go_to(*self.home)
        elif self.mode is Mode.LOITER:
            self._loiter = (self.boat.x, self.boat.y)
        elif self.mode is Mode.GUIDED:
            self._leg = None
            self._loiter = (self.boat.x, self.boat.y)

    def set_mission(self, items: list[MissionItem]) -> None:
        """Items after home (seq 0); seq 1 is the first item, as ArduPilot numbers them."""
        self.mission = list(items)
        lon = [item.lon for item in items]
        lat = [item.lat for item in items]
        xs, ys = self.frame.to_xy(lon, lat)
        self._local = list(zip(xs.tolist(), ys.tolist()))
        self.current_seq = 1
        self._emit("mission_loaded", items=len(items))

    def set_speed(self, speed: float) -> None:
        self._speed_override = speed

    def guided_position(self, lon: float, lat: float) -> None:
        if self.mode is Mode.GUIDED:
            self._velocity_target = None
            x, y = self.frame.to_xy(lon, lat)
            self._go_to(float(x), float(y))

    def guided_velocity(self, north_mps: float, east_mps: float) -> None:
        """A ground-velocity target (as SET_POSITION_TARGET velocity, NED); expires after 3 s."""
        if self.mode is Mode.GUIDED:
            self._leg = None
            self._velocity_target = (east_mps, north_mps, self._time + GUIDED_VELOCITY_TIMEOUT_S)

    # ---- the control tick -------------------------------------------------------------------
    def update(self, t: float) -> tuple[float, float]:
        """Heading and water-speed commands for this tick."""
        self._time = t
        boat = self.boat
        wx, wy = boat.v * math.cos(boat.psi), boat.v * math.sin(boat.psi)
        dx, dy = self._drift
        self._drift = (dx + 0.05 * (boat.vx - wx - dx), dy + 0.05 * (boat.vy - wy - dy))
        if not self.armed or self.mode in (Mode.HOLD, Mode.MANUAL):
            return boat.psi, 0.0
        if self._velocity_target is not None:
            vx, vy, expiry = self._velocity_target
            if t > expiry:
                self._velocity_target = None
                self._loiter = (boat.x, boat.y)
            else:
                return self._steer(vx, vy)
        if self._leg is not None:
            return self._follow_leg(self._leg)
        if self._loiter is not None:
            return self._hold_station(*self._loiter)
        return boat.psi, 0.0

    def _follow_leg(self, leg: _Leg) -> tuple[float, float]:
        boat = self.boat
        x, y, v = boat.x, boat.y, boat.v
        rx, ry = x - leg.bx, y - leg.by
        dist = math.hypot(rx, ry)
        along = (x - leg.ax) * leg.ux + (y - leg.ay) * leg.uy
        wp_radius = self.params["WP_RADIUS"]
        turn_radius = v * v / (self.params["TURN_MAX_G"] * GRAVITY)
        if dist <= wp_radius or dist <= turn_radius or (leg.length > 1e-6 and along >= leg.length):
            self._leg_done(leg)
            if self._leg is not None:
                return self._follow_leg(self._leg)
            return self._hold_station(*self._loiter) if self._loiter else (boat.psi, 0.0)
        ahead = along + (4.0 if v < 1.6 else 2.5 * v)  # look-ahead distance along the track
        if ahead >= leg.length:
            tx, ty = -rx, -ry
        else:
            tx, ty = leg.ax + leg.ux * ahead - x, leg.ay + leg.uy * ahead - y
        norm = math.hypot(tx, ty) or 1.0
        # Slow for the corner ahead (to a stop at the last point), as Rover limits lateral acceleration.
        reach = dist - wp_radius if dist > wp_radius else 0.0
        speed = math.sqrt(leg.corner_speed * leg.corner_speed + 2.0 * CORNER_DECEL_MPS2 * reach)
        if speed > leg.speed:
            speed = leg.speed
        return self._steer(tx / norm * speed, ty / norm * speed)

    def _hold_station(self, x: float, y: float) -> tuple[float, float]:
        rx, ry = x - self.boat.x, y - self.boat.y
        dist = math.hypot(rx, ry)
        if dist <= self.params["LOIT_RADIUS"] * 0.5:
            return self.boat.psi, 0.0
        speed = min(self._auto_speed(), 0.4 * dist)
        return self._steer(rx / dist * speed, ry / dist * speed)

    def _steer(self, gx: float, gy: float) -> tuple[float, float]:
        """Commands that give ground velocity (gx, gy) given the measured drift.

        Throttle falls with the heading error, so a boat pointing the wrong way turns nearly on
        the spot instead of swinging wide at speed.
        """
        dx, dy = self._drift
        wx, wy = gx - dx, gy - dy
        heading = math.atan2(wy, wx)
        error = (heading - self.boat.psi + math.pi) % (2.0 * math.pi) - math.pi
        return heading, math.hypot(wx, wy) * max(TURN_THROTTLE_MIN, math.cos(error))

    # ---- mission sequencing -----------------------------------------------------------------
    def _auto_speed(self) -> float:
        return self._speed_override or self.params["WP_SPEED"] or self.params["CRUISE_SPEED"]

    def _go_to(self, x: float, y: float) -> None:
        self._leg = _Leg(self.boat.x, self.boat.y, x, y, self._auto_speed(), MIN_CORNER_SPEED_MPS)
        self._loiter = None

    def _start_item(self) -> None:
        """Run DO items at once and start the next NAV item; loiter when the mission is done."""
        while 1 <= self.current_seq <= len(self.mission):
            item = self.mission[self.current_seq - 1]
            if item.command is MavCmd.DO_CHANGE_SPEED:
                self._speed_override = item.speed_mps
                self.current_seq += 1
                continue
            if item.command is MavCmd.NAV_RETURN_TO_LAUNCH:
                x, y = self.home
            else:
                x, y = self._local[self.current_seq - 1]
            ax, ay = (self._leg.bx, self._leg.by) if self._leg else (self.boat.x, self.boat.y)
            speed = self._auto_speed()
            corner = self._corner_speed(ax, ay, x, y, self._next_nav_point(self.current_seq + 1), speed)
            self._leg = _Leg(ax, ay, x, y, speed, corner)
            self._loiter = None
            return
        done = self._leg
        self._leg = None
        self._loiter = (done.bx, done.by) if done else (self.boat.x, self.boat.y)
        self._emit("mission_complete")

    def _next_nav_point(self, seq: int) -> tuple[float, float] | None:
        for index in range(seq - 1, len(self.mission)):
            item = self.mission[index]
            if item.command is MavCmd.NAV_WAYPOINT:
                return self._local[index]
            if item.command is MavCmd.NAV_RETURN_TO_LAUNCH:
                return self.home
        return None

    @staticmethod
    def _corner_speed(ax: float, ay: float, bx: float, by: float, nxt: tuple[float, float] | None, speed: float) -> float:
        """Arrival speed for a turn of angle theta: full speed straight on, a crawl for a U-turn."""
        if nxt is None:
            return MIN_CORNER_SPEED_MPS
        h1 = math.atan2(by - ay, bx - ax)
        h2 = math.atan2(nxt[1] - by, nxt[0] - bx)
        theta = abs((h2 - h1 + math.pi) % (2.0 * math.pi) - math.pi)
        return max(MIN_CORNER_SPEED_MPS, speed * math.cos(theta / 2.0) ** 2)

    def _leg_done(self, leg: _Leg) -> None:
        if self.mode is Mode.AUTO:
            self._emit("waypoint_reached", seq=self.current_seq)
            self.current_seq += 1
            self._start_item()
        else:
            self._leg = None
            self._loiter = (leg.bx, leg.by)
            self._emit("target_reached", mode=self.mode.name)

    def _emit(self, kind: str, **detail: Any) -> None:
        self.events.append((self._time, kind, detail))
