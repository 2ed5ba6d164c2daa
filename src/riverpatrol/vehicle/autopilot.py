"""The one interface through which the boat side reaches its autopilot.

Two implementations: ``DirectAutopilot`` (in-process calls into the twin, for fast runs) and
``MavlinkAutopilot`` (MAVLink 2 to a real ArduPilot Rover or to ``riverpatrol twin serve``).
Autonomy code holds an ``Autopilot`` and cannot tell which one it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from riverpatrol.records import MissionEvent, Position
from riverpatrol.vehicle.mission import MissionItem, Mode


class AutopilotError(RuntimeError):
    """The autopilot refused a command or did not answer; the message says which and why."""


@runtime_checkable
class Autopilot(Protocol):
    """Commands return once the autopilot has accepted them and raise ``AutopilotError`` otherwise."""

    @property
    def mode(self) -> Mode: ...
    @property
    def armed(self) -> bool: ...
    @property
    def mission_seq(self) -> int:
        """The mission item being run; 1 is the first item after home."""
    @property
    def time(self) -> float:
        """The autopilot's clock, seconds since boot (twin time for the twin)."""

    def wait_heartbeat(self, timeout_s: float = 10.0) -> None: ...
    def arm(self) -> None: ...
    def disarm(self) -> None: ...
    def set_mode(self, mode: Mode) -> None: ...
    def upload_mission(self, items: Sequence[MissionItem]) -> None:
        """Replace the mission with ``items`` (home at seq 0 is the autopilot's own)."""
    def download_mission(self) -> list[MissionItem]: ...
    def start_mission(self) -> None:
        """AUTO from the first item."""
    def set_speed(self, speed_mps: float) -> None: ...
    def guided_position(self, lon: float, lat: float) -> None:
        """Go to a point (GUIDED only); ignored in other modes, as Rover does."""
    def guided_velocity(self, north_mps: float, east_mps: float) -> None:
        """Hold a ground velocity for 3 s (GUIDED only)."""
    def param(self, name: str) -> float: ...
    def position(self) -> Position | None:
        """The latest position estimate, or None before the first."""
    def events(self) -> list[MissionEvent]:
        """Autopilot events since the last call (arming, modes, waypoints, mission complete, link)."""
