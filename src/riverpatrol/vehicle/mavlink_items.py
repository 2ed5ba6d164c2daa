"""Mission items on the wire: ``MissionItem`` to MISSION_ITEM_INT fields and back, checked.

Both ends use this: the client encodes what it uploads and decodes what it downloads; the twin's
endpoint decodes and rejects what it cannot run with the MAV_MISSION_RESULT ArduPilot would send.
Fence and rally items are kept as raw wire fields (the boat side only stores and returns them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from shapely.geometry import LineString

from riverpatrol.interop.qgc_plan import Fence
from riverpatrol.vehicle.link import mavlink
from riverpatrol.vehicle.mission import MavCmd, MissionItem

GLOBAL_FRAMES = frozenset({
    mavlink.MAV_FRAME_GLOBAL, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT, mavlink.MAV_FRAME_GLOBAL_INT,
    mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT,
    mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT,
})
INT_FRAMES = frozenset({mavlink.MAV_FRAME_GLOBAL_INT, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
                        mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT})
FENCE_COMMANDS = frozenset({
    mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION, mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION,
    mavlink.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION, mavlink.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION,
    mavlink.MAV_CMD_NAV_FENCE_RETURN_POINT,
})
RALLY_COMMANDS = frozenset({mavlink.MAV_CMD_NAV_RALLY_POINT})
SPEED_TYPE_GROUND = 1
METRES_PER_DEGREE = 111_320.0


class BadItem(ValueError):
    """An item the autopilot cannot take; ``result`` is the MAV_MISSION_RESULT to answer with."""

    def __init__(self, result: int, message: str) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class WireItem:
    """The fields of MISSION_ITEM_INT that carry meaning (x, y in degrees * 1e7)."""

    command: int
    frame: int
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    x: int = 0
    y: int = 0
    z: float = 0.0

    @classmethod
    def from_message(cls, msg: mavlink.MAVLink_message) -> WireItem:
        """From MISSION_ITEM_INT, or the float MISSION_ITEM older ground stations still send."""
        x, y = msg.x, msg.y
        if msg.get_type() == "MISSION_ITEM" and msg.frame in GLOBAL_FRAMES:
            x, y = round(x * 1e7), round(y * 1e7)
        return cls(msg.command, msg.frame, msg.param1, msg.param2, msg.param3, msg.param4, int(x), int(y), msg.z)

    def message(self, seq: int, mission_type: int, target: tuple[int, int], as_int: bool = True) -> mavlink.MAVLink_message:
        """MISSION_ITEM_INT (or MISSION_ITEM, degrees as floats) carrying this item at ``seq``."""
        if as_int:
            return mavlink.MAVLink_mission_item_int_message(
                target[0], target[1], seq, self.frame, self.command, 0, 1, self.param1, self.param2,
                self.param3, self.param4, self.x, self.y, self.z, mission_type)
        x, y = (self.x / 1e7, self.y / 1e7) if self.frame in GLOBAL_FRAMES else (float(self.x), float(self.y))
        frame = {mavlink.MAV_FRAME_GLOBAL_INT: mavlink.MAV_FRAME_GLOBAL,
                 mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT}.get(self.frame, self.frame)
        return mavlink.MAVLink_mission_item_message(
            target[0], target[1], seq, frame, self.command, 0, 1, self.param1, self.param2,
            self.param3, self.param4, x, y, self.z, mission_type)


def encode(item: MissionItem) -> WireItem:
    if item.command is MavCmd.DO_CHANGE_SPEED:
        return WireItem(int(item.command), mavlink.MAV_FRAME_MISSION, SPEED_TYPE_GROUND, item.speed_mps, -1.0)
    if item.command is MavCmd.NAV_RETURN_TO_LAUNCH:
        return WireItem(int(item.command), mavlink.MAV_FRAME_MISSION)
    return WireItem(int(item.command), mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
                    x=round(item.lat * 1e7), y=round(item.lon * 1e7))


def home_item(lon: float, lat: float) -> WireItem:
    """Seq 0 of a mission: home, as ArduPilot stores it."""
    return WireItem(int(MavCmd.NAV_WAYPOINT), mavlink.MAV_FRAME_GLOBAL_INT, x=round(lat * 1e7), y=round(lon * 1e7))


def decode(wire: WireItem) -> MissionItem:
    """The mission item a Rover runs, or ``BadItem`` naming the problem and its MISSION_ACK result."""
    try:
        command = MavCmd(wire.command)
    except ValueError:
        raise BadItem(mavlink.MAV_MISSION_UNSUPPORTED, f"command {wire.command} is not supported") from None
    if command is MavCmd.DO_CHANGE_SPEED:
        if not 0.0 <= wire.param2 <= 100.0:
            raise BadItem(mavlink.MAV_MISSION_INVALID_PARAM2, f"speed {wire.param2} m/s out of range")
        return MissionItem.change_speed(wire.param2)
    if command is MavCmd.NAV_RETURN_TO_LAUNCH:
        return MissionItem.return_to_launch()
    if wire.frame not in GLOBAL_FRAMES:
        raise BadItem(mavlink.MAV_MISSION_UNSUPPORTED_FRAME, f"frame {wire.frame} is not a global frame")
    if not -900_000_000 <= wire.x <= 900_000_000:
        raise BadItem(mavlink.MAV_MISSION_INVALID_PARAM5_X, f"latitude {wire.x / 1e7} out of range")
    if not -1_800_000_000 <= wire.y <= 1_800_000_000:
        raise BadItem(mavlink.MAV_MISSION_INVALID_PARAM6_Y, f"longitude {wire.y / 1e7} out of range")
    return MissionItem.waypoint(wire.y / 1e7, wire.x / 1e7)


def check_other(wire: WireItem, mission_type: int) -> WireItem:
    """A fence or rally item, checked for its type's commands and a valid position."""
    allowed = FENCE_COMMANDS if mission_type == mavlink.MAV_MISSION_TYPE_FENCE else RALLY_COMMANDS
    if wire.command not in allowed:
        raise BadItem(mavlink.MAV_MISSION_UNSUPPORTED, f"command {wire.command} is not a "
                      f"{'fence' if mission_type == mavlink.MAV_MISSION_TYPE_FENCE else 'rally'} item")
    if not (-900_000_000 <= wire.x <= 900_000_000 and -1_800_000_000 <= wire.y <= 1_800_000_000):
        raise BadItem(mavlink.MAV_MISSION_INVALID_PARAM5_X, f"position {wire.x / 1e7}, {wire.y / 1e7} out of range")
    return wire


def fence_items(fences: Sequence[Fence], tolerance_m: float = 1.0) -> list[WireItem]:
    """Polygons as ArduPilot's fence items: one per vertex, param1 the polygon's vertex count.

    Each ring is simplified (Douglas-Peucker, within ``tolerance_m``): a river's water polygon has
    thousands of vertices and an autopilot holds tens; the first point is not repeated at the end.
    """
    out = []
    for fence in fences:
        ring = _simplified(fence.ring, tolerance_m)
        command = (mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION if fence.inclusion
                   else mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION)
        out += [WireItem(command, mavlink.MAV_FRAME_GLOBAL, float(len(ring)), x=round(lat * 1e7), y=round(lon * 1e7))
                for lon, lat in ring]
    return out


def _simplified(ring: list[list[float]], tolerance_m: float) -> list[list[float]]:
    lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
    squash = math.cos(lat0)  # degrees of longitude as short as degrees of latitude
    line = LineString([(lon * squash, lat) for lon, lat in ring]).simplify(tolerance_m / METRES_PER_DEGREE)
    points = [[x / squash, y] for x, y in line.coords]
    return points[:-1] if len(points) > 1 and points[0] == points[-1] else points


def fences_from_items(items: Sequence[WireItem]) -> list[Fence]:
    """The polygons back from fence items (circles and return points are skipped)."""
    fences, index = [], 0
    polygon_commands = (mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
                        mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION)
    while index < len(items):
        first = items[index]
        count = int(first.param1) if first.command in polygon_commands else 0
        if count < 3:
            index += 1
            continue
        ring = [[w.y / 1e7, w.x / 1e7] for w in items[index:index + count]]
        fences.append(Fence(ring, first.command == mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION))
        index += count
    return fences
