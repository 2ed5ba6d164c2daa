"""The autopilot interface over direct in-process calls, for fast runs against the twin.

The boat side drives this exactly as it drives a MAVLink autopilot: arm, set a mode, upload a
mission, watch its events. It holds no reference to the twin itself, only to an autopilot that
answers these calls, so boat-side code cannot peek at the truth.
"""

from __future__ import annotations

from typing import Any, Protocol

from riverpatrol.records import MissionEvent
from riverpatrol.vehicle.mission import MissionItem, Mode


class _Rover(Protocol):
    mode: Mode
    armed: bool
    current_seq: int
    events: list[tuple[float, str, dict[str, Any]]]

    def arm(self, armed: bool = True) -> None: ...
    def set_mode(self, mode: Mode) -> None: ...
    def set_mission(self, items: list[MissionItem]) -> None: ...
    def set_speed(self, speed: float) -> None: ...
    def guided_position(self, lon: float, lat: float) -> None: ...
    def guided_velocity(self, north_mps: float, east_mps: float) -> None: ...


class DirectAutopilot:
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

    def arm(self) -> None:
        self._rover.arm(True)

    def disarm(self) -> None:
        self._rover.arm(False)

    def set_mode(self, mode: Mode) -> None:
        self._rover.set_mode(mode)

    def upload_mission(self, items: list[MissionItem]) -> None:
        self._rover.set_mission(items)

    def set_speed(self, speed_mps: float) -> None:
        self._rover.set_speed(speed_mps)

    def guided_position(self, lon: float, lat: float) -> None:
        self._rover.guided_position(lon, lat)

    def guided_velocity(self, north_mps: float, east_mps: float) -> None:
        self._rover.guided_velocity(north_mps, east_mps)

    def events(self) -> list[MissionEvent]:
        """Autopilot events since the last call (mode changes, waypoints reached, mission complete)."""
        pending = self._rover.events
        out = [MissionEvent(t=t, kind=kind, detail=detail) for t, kind, detail in pending]
        pending.clear()
        return out
