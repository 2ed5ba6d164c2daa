"""Patrol routes planned in the river frame and returned as mission items.

``outfall-survey`` follows the right bank downstream at the bank offset, crosses, and follows the
left bank back upstream, then returns home: plumes hug their own bank, so each bank is sampled close
in. ``centerline`` runs down the middle and back. Waypoints are spaced along the chainage so that the
route follows bends; every one stays ``bank_offset_m`` inside the water.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.vehicle.mission import MissionItem

SPACING_M = 10.0


def _chainages(start: float, end: float) -> NDArray[np.float64]:
    count = max(2, int(np.ceil(abs(end - start) / SPACING_M)) + 1)
    return np.linspace(start, end, count)


def _bank_pass(river: RiverFrame, start: float, end: float, side: int, offset: float) -> NDArray[np.float64]:
    """Local points at ``offset`` metres inside the bank on ``side`` (+1 left, -1 right)."""
    s = _chainages(start, end)
    n = side * (river.width_at(s) / 2.0 - offset)
    x, y = river.from_river(s, n)
    return np.column_stack([x, y])


def plan_route(river: RiverFrame, pattern: str, start: float, end: float | None, bank_offset_m: float) -> NDArray[np.float64]:
    """Route points (local metres) from the start chainage and back, before the return home."""
    # Keep clear of the reach's end cross-sections as of the banks: the water stops there too.
    start = max(start, bank_offset_m)
    end = min(river.length if end is None else end, river.length - bank_offset_m)
    if pattern == "outfall-survey":
        down = _bank_pass(river, start, end, -1, bank_offset_m)
        up = _bank_pass(river, end, start, +1, bank_offset_m)
        return np.concatenate([down, up])
    if pattern == "centerline":
        x, y = river.from_river(_chainages(start, end), 0.0)
        line = np.column_stack([x, y])
        return np.concatenate([line, line[::-1][1:]])
    raise ValueError(f"mission.pattern: unknown pattern {pattern!r} (known: outfall-survey, centerline)")


def mission_items(river: RiverFrame, route: NDArray[np.float64], speed_mps: float) -> list[MissionItem]:
    """The route as an ArduPilot mission: set the patrol speed, visit each point, return home."""
    lon, lat = river.local.to_lonlat(route[:, 0], route[:, 1])
    items = [MissionItem.change_speed(speed_mps)]
    items += [MissionItem.waypoint(float(a), float(b)) for a, b in zip(lon, lat)]
    items.append(MissionItem.return_to_launch())
    return items
