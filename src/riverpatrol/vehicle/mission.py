"""Mission vocabulary shared with ArduPilot: Rover mode numbers, MAV_CMD ids, mission items.

Items carry WGS84 lat/lon as MISSION_ITEM_INT does, so the same list drives the twin's autopilot,
a real Rover over MAVLink, and a QGroundControl .plan file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Mode(IntEnum):
    """Rover custom mode numbers, as in HEARTBEAT.custom_mode."""

    MANUAL = 0
    HOLD = 4
    LOITER = 5
    AUTO = 10
    RTL = 11
    SMART_RTL = 12
    GUIDED = 15


class MavCmd(IntEnum):
    NAV_WAYPOINT = 16
    NAV_RETURN_TO_LAUNCH = 20
    DO_CHANGE_SPEED = 178


@dataclass(frozen=True)
class MissionItem:
    """One item after home (seq 0); ``speed_mps`` is used by DO_CHANGE_SPEED only."""

    command: MavCmd
    lat: float = 0.0
    lon: float = 0.0
    speed_mps: float = 0.0

    @classmethod
    def waypoint(cls, lon: float, lat: float) -> MissionItem:
        return cls(MavCmd.NAV_WAYPOINT, lat=lat, lon=lon)

    @classmethod
    def change_speed(cls, speed_mps: float) -> MissionItem:
        return cls(MavCmd.DO_CHANGE_SPEED, speed_mps=speed_mps)

    @classmethod
    def return_to_launch(cls) -> MissionItem:
        return cls(MavCmd.NAV_RETURN_TO_LAUNCH)
