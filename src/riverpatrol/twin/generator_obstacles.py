"""Bridges, moored boats and moving vessels for seeded scenarios, laid out as a river has them.

Everything is placed in the river frame and written in lon/lat. The layout keeps the water
navigable, as a real reach is: a bridge has only as many piers (1-3) as leave spans of at least
``MIN_SPAN_M``; a moored boat lies along a bank, clear of bridges; a vessel runs back and forth
at a steady offset from the centerline that passes through a bridge span and clear of moored
boats. Where no such offset exists the vessel is left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from riverpatrol.geo.frame import RiverFrame

MIN_SPAN_M = 7.0  # clear water between neighbouring piers, or a pier and the bank
PIER_RADIUS_M = (0.6, 1.2)
HULL_LENGTH_M = (6.0, 12.0)
HULL_BEAM_M = (2.0, 3.5)
VESSEL_MPS = (0.5, 2.0)
END_M = 40.0  # nothing within this of either end of the reach (home is at 15 m)
APART_M = 40.0  # bridges and moored boats keep this far apart along the river
VESSEL_CLEAR_M = 0.8  # between a vessel's side and a pier, a moored boat or the bank


def draw_obstacles(rng: np.random.Generator, frame: RiverFrame, n_bridges: int, n_moored: int,
                   n_vessels: int) -> dict[str, Any]:
    """The scenario's ``obstacles`` object (spec section 2)."""
    static: list[dict[str, Any]] = []
    taken: list[float] = []
    piers: list[tuple[float, float, float]] = []  # (s, n, r)
    hulls: list[tuple[float, float, float, float]] = []  # moored (s0, s1, n_inner, n_outer) by side sign
    for b in range(n_bridges):
        s = _free_chainage(rng, frame, taken)
        if s is None:
            break
        taken.append(s)
        width = float(frame.width_at(s))
        radius = float(rng.uniform(*PIER_RADIUS_M))
        most = int((width - MIN_SPAN_M) // (MIN_SPAN_M + 2.0 * radius))
        count = min(int(rng.integers(1, 4)), most)
        for i in range(count):
            n = -width / 2.0 + (i + 1) * width / (count + 1)
            jitter = (width / (count + 1) - 2.0 * radius - MIN_SPAN_M) / 2.0
            n += float(rng.uniform(-1.0, 1.0)) * max(jitter, 0.0)
            piers.append((s, n, radius))
            static.append(_circle(frame, f"pier-{b + 1}{'abc'[i]}", s, n, radius))
    for m in range(n_moored):
        s = _free_chainage(rng, frame, taken)
        if s is None:
            break
        taken.append(s)
        length, beam = float(rng.uniform(*HULL_LENGTH_M)), float(rng.uniform(*HULL_BEAM_M))
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        outer = float(frame.width_at(s)) / 2.0 - float(rng.uniform(0.0, 0.5))
        hulls.append((s - length / 2.0, s + length / 2.0, side * (outer - beam), side * outer))
        static.append(_rectangle(frame, f"moored-{m + 1}", s - length / 2.0, s + length / 2.0,
                                 side * (outer - beam), side * outer))
    moving = []
    for v in range(n_vessels):
        vessel = _vessel(rng, frame, piers, hulls, f"vessel-{v + 1}")
        if vessel is not None:
            moving.append(vessel)
    return {"static": static, "moving": moving}


def _free_chainage(rng: np.random.Generator, frame: RiverFrame, taken: list[float]) -> float | None:
    for _ in range(100):
        s = float(rng.uniform(END_M + 20.0, frame.length - END_M - 20.0))
        if all(abs(s - t) >= APART_M for t in taken):
            return s
    return None


def _vessel(rng: np.random.Generator, frame: RiverFrame, piers: list[tuple[float, float, float]],
            hulls: list[tuple[float, float, float, float]], name: str) -> dict[str, Any] | None:
    length, beam = float(rng.uniform(*HULL_LENGTH_M)), float(rng.uniform(*HULL_BEAM_M))
    half = beam / 2.0 + VESSEL_CLEAR_M
    s = np.arange(END_M, frame.length - END_M, 10.0)
    if len(s) < 2:
        return None
    bound = float(frame.width_at(s).min()) / 2.0 - half
    for _ in range(50):
        n = float(rng.uniform(-bound, bound))
        if all(abs(n - pn) >= pr + half for _, pn, pr in piers) and all(
            n + half <= min(a, b) or n - half >= max(a, b) for _, _, a, b in hulls
        ):
            break
    else:
        return None
    x, y = frame.from_river(s, n)
    lon, lat = frame.local.to_lonlat(x, y)
    return {"id": name, "path": [[float(a), float(b)] for a, b in zip(lon, lat)],
            "speed_mps": round(float(rng.uniform(*VESSEL_MPS)), 2), "length_m": round(length, 1),
            "beam_m": round(beam, 1), "start_s": round(float(rng.uniform(0.0, 120.0))), "loop": True}


def _circle(frame: RiverFrame, name: str, s: float, n: float, radius: float) -> dict[str, Any]:
    x, y = frame.from_river(s, n)
    lon, lat = frame.local.to_lonlat(x, y)
    return {"id": name, "type": "circle", "center": [float(lon[0]), float(lat[0])], "radius_m": round(radius, 2)}


def _rectangle(frame: RiverFrame, name: str, s0: float, s1: float, n0: float, n1: float) -> dict[str, Any]:
    s = np.array([s0, s1, s1, s0, s0])
    n = np.array([n0, n0, n1, n1, n0])
    x, y = frame.from_river(s, n)
    lon, lat = frame.local.to_lonlat(x, y)
    return {"id": name, "type": "polygon", "ring": [[float(a), float(b)] for a, b in zip(lon, lat)]}
