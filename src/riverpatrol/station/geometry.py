"""What the dashboard draws of the river, from the map the patrol log carries: banks, chainage
ticks across the water, and the route the boat planned (the same planner, the same map)."""

from __future__ import annotations

from typing import Any

import numpy as np

from riverpatrol.analysis.track import river_frame
from riverpatrol.autonomy.routes import plan_route

TICK_EVERY_M = 100.0
_BANK_THIN = 10  # banks come at 0.5 m spacing: every 5 m is plenty on a map


def river_geometry(meta: dict[str, Any]) -> dict[str, Any]:
    """Lon/lat lines of both banks, ticks ``{s, line}`` every 100 m, and the planned route; all
    empty for a boat attached without a river map (the dashboard draws its track alone)."""
    if "river" not in meta:
        return {"length_m": None, "left_bank": [], "right_bank": [], "ticks": [], "route": None}
    frame = river_frame(meta)
    left, right = (bank[::_BANK_THIN] if len(bank) % _BANK_THIN == 1 else np.vstack([bank[::_BANK_THIN], bank[-1:]])
                   for bank in frame.bank_lines_lonlat())
    ticks = []
    for s in np.arange(0.0, frame.length + 1e-6, TICK_EVERY_M):
        half = float(frame.width_at(s)) / 2.0
        x, y = frame.from_river(np.array([s, s]), np.array([half, -half]))
        lon, lat = frame.local.to_lonlat(x, y)
        ticks.append({"s": float(s), "line": _coords(lon, lat)})
    geometry: dict[str, Any] = {"length_m": frame.length, "left_bank": _coords(*left.T), "right_bank": _coords(*right.T),
                                "ticks": ticks, "route": None}
    mission = meta.get("mission")
    if mission:
        route = plan_route(frame, mission["pattern"], mission["from_chainage_m"], mission["to_chainage_m"],
                           mission["bank_offset_m"])
        geometry["route"] = _coords(*frame.local.to_lonlat(route[:, 0], route[:, 1]))
    return geometry


def _coords(lon: Any, lat: Any) -> list[list[float]]:
    return [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat)]
