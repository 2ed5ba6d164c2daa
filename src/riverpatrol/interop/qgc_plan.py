"""QGroundControl ``.plan`` files: our missions out, and missions and geofences in.

The format is QGC's JSON plan (fileType "Plan", mission version 2, geoFence version 2): mission
items as ``SimpleItem`` with MAV_CMD and the seven MISSION_ITEM params, ArduPilot firmware
(firmwareType 3) on a surface boat (vehicleType 11); the geofence as inclusion/exclusion polygons.
An operator opens our routes in QGC unchanged, and a route drawn in QGC runs on our boats.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riverpatrol.vehicle.mission import MavCmd, MissionItem

FIRMWARE_ARDUPILOT = 3
MAV_TYPE_SURFACE_BOAT = 11
FRAME_GLOBAL_RELATIVE_ALT = 3
FRAME_MISSION = 2
SPEED_TYPE_GROUND = 1


@dataclass(frozen=True)
class Fence:
    """A geofence polygon of [lon, lat] points; inclusion keeps the boat inside it."""

    ring: list[list[float]]
    inclusion: bool = True


@dataclass(frozen=True)
class Plan:
    home: list[float]  # [lon, lat]
    items: list[MissionItem]
    fences: list[Fence]
    cruise_speed_mps: float


class PlanError(ValueError):
    """A .plan file we cannot use; the message names the file and the JSON path at fault."""


def plan_document(plan: Plan) -> dict[str, Any]:
    """The QGC JSON document of a plan."""
    items = [_item_json(seq, item) for seq, item in enumerate(plan.items, start=1)]
    return {
        "fileType": "Plan",
        "version": 1,
        "groundStation": "riverpatrol",
        "mission": {
            "version": 2,
            "firmwareType": FIRMWARE_ARDUPILOT,
            "vehicleType": MAV_TYPE_SURFACE_BOAT,
            "cruiseSpeed": plan.cruise_speed_mps,
            "hoverSpeed": plan.cruise_speed_mps,
            "plannedHomePosition": [plan.home[1], plan.home[0], 0],
            "items": items,
        },
        "geoFence": {
            "version": 2,
            "circles": [],
            "polygons": [{"version": 1, "inclusion": f.inclusion, "polygon": [[lat, lon] for lon, lat in f.ring]}
                         for f in plan.fences],
        },
        "rallyPoints": {"version": 2, "points": []},
    }


def write_plan(path: Path, plan: Plan) -> None:
    path.write_text(json.dumps(plan_document(plan), indent=2), encoding="utf-8")


def read_plan(path: Path) -> Plan:
    """Mission items (waypoints, speed changes, return to launch) and fence polygons of a .plan."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise PlanError(f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return parse_plan(doc, str(path))


def parse_plan(doc: Any, source: str = "<plan>") -> Plan:
    mission = _get(doc, "mission", dict, source)
    if doc.get("fileType") != "Plan":
        raise PlanError(f"{source}: fileType: must be 'Plan', got {doc.get('fileType')!r}")
    home = _get(mission, "plannedHomePosition", list, source, "mission.")
    items = [_item(raw, f"mission.items[{i}]", source)
             for i, raw in enumerate(_get(mission, "items", list, source, "mission."))]
    fences = []
    fence_doc = doc.get("geoFence") or {}
    for i, poly in enumerate(fence_doc.get("polygons", [])):
        ring = _get(poly, "polygon", list, source, f"geoFence.polygons[{i}].")
        fences.append(Fence([[float(p[1]), float(p[0])] for p in ring], bool(poly.get("inclusion", True))))
    return Plan([float(home[1]), float(home[0])], items, fences, float(mission.get("cruiseSpeed", 0.0)))


def _item_json(seq: int, item: MissionItem) -> dict[str, Any]:
    if item.command is MavCmd.DO_CHANGE_SPEED:
        frame, params = FRAME_MISSION, [SPEED_TYPE_GROUND, item.speed_mps, -1, 0, 0, 0, 0]
    elif item.command is MavCmd.NAV_WAYPOINT:
        frame, params = FRAME_GLOBAL_RELATIVE_ALT, [0, 0, 0, None, item.lat, item.lon, 0]
    else:
        frame, params = FRAME_MISSION, [0, 0, 0, 0, 0, 0, 0]
    return {"type": "SimpleItem", "command": int(item.command), "frame": frame, "params": params,
            "autoContinue": True, "doJumpId": seq, "AMSLAltAboveTerrain": None, "Altitude": 0, "AltitudeMode": 1}


def _item(raw: Any, where: str, source: str) -> MissionItem:
    if not isinstance(raw, dict) or raw.get("type") != "SimpleItem":
        kind = raw.get("complexItemType", raw.get("type")) if isinstance(raw, dict) else type(raw).__name__
        raise PlanError(f"{source}: {where}: only simple items are supported, got {kind!r}")
    try:
        command = MavCmd(raw.get("command"))
    except ValueError:
        raise PlanError(f"{source}: {where}.command: MAV_CMD {raw.get('command')!r} is not supported "
                        f"(supported: {', '.join(f'{c.name} {c.value}' for c in MavCmd)})") from None
    params = _get(raw, "params", list, source, f"{where}.")
    if len(params) != 7:
        raise PlanError(f"{source}: {where}.params: needs 7 values, got {len(params)}")
    if command is MavCmd.NAV_WAYPOINT:
        lat, lon = params[4], params[5]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lat, lon)) or not (
                -90 <= lat <= 90 and -180 <= lon <= 180):
            raise PlanError(f"{source}: {where}.params: latitude/longitude {lat!r}, {lon!r} are not a position")
        return MissionItem.waypoint(float(lon), float(lat))
    if command is MavCmd.DO_CHANGE_SPEED:
        return MissionItem.change_speed(float(params[1]))
    return MissionItem.return_to_launch()


def _get(node: Any, key: str, kind: type, source: str, prefix: str = "") -> Any:
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, kind):
        raise PlanError(f"{source}: {prefix}{key}: missing or not {'an object' if kind is dict else 'a list'}")
    return value
