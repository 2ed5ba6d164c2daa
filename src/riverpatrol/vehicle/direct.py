"""The autopilot interface over direct in-process calls, for fast runs against the twin.

The boat side drives this exactly as it drives a MAVLink autopilot: arm, set a mode, upload a
mission, watch its events. It holds no reference to the twin itself, only to an autopilot that
answers these calls, so boat-side code cannot peek at the truth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from riverpatrol.geo.angles import compass_deg
from riverpatrol.records import MissionEvent, Position
from riverpatrol.vehicle.autopilot import AutopilotError
from riverpatrol.vehicle.mission import MissionItem, Mode


class _Hull(Protocol):
    x: float
    y: float
    psi: float
    vx: float
    vy: float


class _Frame(Protocol):
    def to_lonlat(self, x: Any, y: Any) -> tuple[Any, Any]: ...


class _Rover(Protocol):
    mode: Mode
    armed: bool
    current_seq: int
    mission: list[MissionItem]
    params: dict[str, float]
    events: list[tuple[float, str, dict[str, Any]]]
    boat: _Hull
    frame: _Frame

    @property
    def time(self) -> float: ...
    def arm(self, armed: bool = True) -> None: ...
    def set_mode(self, mode: Mode) -> None: ...
    def set_mission(self, items: list[MissionItem]) -> None: ...
    def set_speed(self, speed: float) -> None: ...
    def guided_position(self, lon: float, lat: float) -> None: ...
    def guided_velocity(self, north_mps: float, east_mps: float) -> None: ...


class DirectAutopilot:
    """``Autopilot`` over the twin's Rover emulation; its position is the emulated EKF's."""

    def __init__(self, rover: _Rover) -> None:
        self._rover = rover

    @property
    def mode(self) -> Mode:
        return self._rover.mode

    @property
    def armed(self) -> bool:
        return self._rover.armed

    @property
    def mission_seq(self) -> int:
        return self._rover.current_seq

    @property
    def time(self) -> float:
        return self._rover.time

    def wait_heartbeat(self, timeout_s: float = 10.0) -> None:
        """In-process: the autopilot is always there."""

    def arm(self) -> None:
        self._rover.arm(True)

    def disarm(self) -> None:
        self._rover.arm(False)

    def set_mode(self, mode: Mode) -> None:
        if mode is Mode.AUTO and not self._rover.mission:
            raise AutopilotError("AUTO refused: no mission loaded")
        self._rover.set_mode(mode)

    def upload_mission(self, items: Sequence[MissionItem]) -> None:
        self._rover.set_mission(list(items))

    def download_mission(self) -> list[MissionItem]:
        return list(self._rover.mission)

    def start_mission(self) -> None:
        self._rover.current_seq = 1
        self.set_mode(Mode.AUTO)

    def set_speed(self, speed_mps: float) -> None:
        self._rover.set_speed(speed_mps)

    def guided_position(self, lon: float, lat: float) -> None:
        self._rover.guided_position(lon, lat)

    def guided_velocity(self, north_mps: float, east_mps: float) -> None:
        self._rover.guided_velocity(north_mps, east_mps)

    def param(self, name: str) -> float:
        try:
            return self._rover.params[name]
        except KeyError:
            raise AutopilotError(f"unknown parameter {name!r}") from None

    def position(self) -> Position:
        hull = self._rover.boat
        lon, lat = self._rover.frame.to_lonlat(hull.x, hull.y)
        return Position(t=self._rover.time, lon=float(lon), lat=float(lat), sog_mps=math.hypot(hull.vx, hull.vy),
                        cog_deg=float(compass_deg(math.atan2(hull.vy, hull.vx))), heading_deg=float(compass_deg(hull.psi)))

    def events(self) -> list[MissionEvent]:
        """Autopilot events since the last call (mode changes, waypoints reached, mission complete)."""
        pending = self._rover.events
        out = [MissionEvent(t=t, kind=kind, detail=detail) for t, kind, detail in pending]
        pending.clear()
        return out
