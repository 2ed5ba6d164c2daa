"""Seeded random scenarios (spec section 2) for testing detection beyond the public scenarios.

A scenario is drawn from one seed: a meandering urban reach, its hydrology, and one to four
outfalls on either bank. The ranges are set from what such rivers and drains are like, not from
what the analysis can see: flows run from a 3 L/s drain to a 30 L/s pipe and each outfall's
excesses are a typical effluent's scaled by 0.3-1.5, so some sources sit below sensor noise, as
some real ones do. Some outfalls run only part of the time, some sit 100 m from another, and some
are open to view (``submerged: false``) instead of submerged. Any drawn quantity can be fixed by
a keyword (``generate_scenario(7, n_outfalls=4, velocity_mps=0.1)``).

Obstacles come only when asked for: ``traffic=True`` draws 0-3 bridges, moored boats and moving
vessels each (``n_bridges``, ``n_moored``, ``n_vessels`` fix a count), laid out by
``generator_obstacles`` from a stream of their own, so the rest of the scenario stays as it was.

Geometry: the heading along the reach is a sum of three sines (wavelengths 250-900 m); their
amplitudes are scaled so that no bend is tighter than 2.5 river widths and the heading never turns
more than 70 degrees from the mean, so the reach never folds or comes back on itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from riverpatrol.geo.frame import FloatArray, LocalFrame, RiverFrame
from riverpatrol.twin.generator_obstacles import draw_obstacles
from riverpatrol.scenario import DEFAULT_BACKGROUND, parse_scenario

VERTEX_M = 20.0  # centerline vertex spacing
END_MARGIN_M = 60.0  # outfalls keep this far from the reach's ends
MIN_GAP_M = 40.0  # outfalls on one bank keep this far apart, unless placed as a cluster
CLUSTER_M = 100.0
HOME_S = 15.0
CRUISE_MPS = 1.5
# A typical effluent's excess over background (spec units); each outfall draws its own around it.
TYPICAL_EXCESS = {"conductivity": 1000.0, "nh3n": 15.0, "cod": 150.0, "codmn": 35.0, "turbidity": 70.0,
                  "temperature": 3.0, "do": -3.5, "tp": 3.0}

KNOBS = ("length_m", "width_m", "depth_m", "velocity_mps", "dispersion_m2ps", "n_outfalls",
         "flow_range", "strength_range", "p_intermittent", "p_clustered", "p_visible", "origin",
         "traffic", "n_bridges", "n_moored", "n_vessels")


def generate_scenario(seed: int, **knobs: Any) -> dict[str, Any]:
    """A valid scenario dict drawn from ``seed``; ``knobs`` (see KNOBS) fix drawn quantities."""
    unknown = set(knobs) - set(KNOBS)
    if unknown:
        raise TypeError(f"unknown knob(s): {', '.join(sorted(unknown))} (known: {', '.join(KNOBS)})")
    rng = np.random.default_rng(seed)

    def knob(name: str, draw: Any) -> Any:
        drawn = draw()  # drawn even when fixed, so fixing one knob leaves the others' draws alone
        return knobs.get(name, drawn)

    length = float(knob("length_m", lambda: rng.uniform(1200.0, 3000.0)))
    width = float(knob("width_m", lambda: rng.uniform(16.0, 40.0)))
    depth = float(knob("depth_m", lambda: rng.uniform(1.0, 3.0)))
    velocity = float(knob("velocity_mps", lambda: rng.uniform(0.1, 0.5)))
    dispersion = float(knob("dispersion_m2ps", lambda: rng.uniform(0.015, 0.06)))
    origin = knob("origin", lambda: (121.38 + rng.uniform(-0.05, 0.05), 28.37 + rng.uniform(-0.05, 0.05)))
    line, widths, depths = _reach(rng, length, width, depth, origin)
    frame = RiverFrame(line, widths, depths)
    duration = (2.0 * frame.length + 3.0 * width) / CRUISE_MPS
    count = int(knob("n_outfalls", lambda: rng.integers(1, 5)))
    outfalls = _outfalls(rng, frame, count, duration, knobs)
    home_x, home_y = frame.from_river(HOME_S, 0.0)
    home = [float(v[0]) for v in frame.local.to_lonlat(home_x, home_y)]
    scenario = {
        "schema": "riverpatrol.scenario/1",
        "name": f"generated-{seed}",
        "seed": int(seed),
        "river": {"centerline": line, "width_m": widths, "depth_m": depths, "velocity_mps": round(velocity, 3),
                  "transverse_dispersion_m2ps": round(dispersion, 4)},
        "background": {p: round(v * float(rng.uniform(0.9, 1.1)), 3) for p, v in DEFAULT_BACKGROUND.items()},
        "outfalls": outfalls,
        "boat": {"home": home, "cruise_speed_mps": CRUISE_MPS, "max_speed_mps": 2.5, "radius_m": 1.0,
                 "endurance_s": max(10800.0, 3.0 * duration)},
        "mission": {"pattern": "outfall-survey", "from_chainage_m": 0.0,
                    "to_chainage_m": math.floor(frame.length * 100.0) / 100.0, "bank_offset_m": 3.0},
    }
    counts = [knobs.get(k, 0) for k in ("n_bridges", "n_moored", "n_vessels")]
    if knobs.get("traffic") or any(counts):
        traffic_rng = np.random.default_rng([seed, 1])
        drawn = traffic_rng.integers(0, 4, 3) if knobs.get("traffic") else np.zeros(3, int)
        n_bridges, n_moored, n_vessels = (int(knobs.get(k, d)) for k, d in
                                          zip(("n_bridges", "n_moored", "n_vessels"), drawn))
        scenario["obstacles"] = draw_obstacles(traffic_rng, frame, n_bridges, n_moored, n_vessels)
    parse_scenario(scenario, source=f"generated scenario (seed {seed})")
    return scenario


def _reach(rng: np.random.Generator, length: float, width: float, depth: float,
           origin: tuple[float, float]) -> tuple[list[list[float]], list[float], list[float]]:
    """Centerline (lon/lat, first vertex at ``origin``), width and depth per vertex."""
    s = np.linspace(0.0, length, max(2, round(length / VERTEX_M)) + 1)
    waves = rng.uniform(250.0, 900.0, 3)
    amps = rng.uniform(0.2, 1.0, 3)
    phases = rng.uniform(0.0, 2.0 * np.pi, 3)
    curvature = float(np.sum(amps * 2.0 * np.pi / waves))  # bound on |d heading / ds|
    amps *= min(1.0, 1.0 / (2.5 * width * curvature), np.radians(70.0) / float(amps.sum()))
    bends = amps[:, None] * np.sin(2.0 * np.pi * s[None, :] / waves[:, None] + phases[:, None])
    heading = rng.uniform(0.0, 2.0 * np.pi) + bends.sum(axis=0)
    step = np.diff(s)
    mid = (heading[:-1] + heading[1:]) / 2.0
    x = np.concatenate([[0.0], np.cumsum(step * np.cos(mid))])
    y = np.concatenate([[0.0], np.cumsum(step * np.sin(mid))])
    lon, lat = LocalFrame(*origin).to_lonlat(x, y)
    line = [[float(a), float(b)] for a, b in zip(lon, lat)]
    line[0] = [float(origin[0]), float(origin[1])]

    def ripple(amp: float) -> FloatArray:
        return 1.0 + amp * np.sin(2.0 * np.pi * s / rng.uniform(300.0, 1200.0) + rng.uniform(0, 2 * np.pi))

    widths = [round(float(w), 2) for w in width * ripple(0.12)]
    depths = [round(float(h), 2) for h in depth * ripple(0.2)]
    return line, widths, depths


def _outfalls(rng: np.random.Generator, frame: RiverFrame, count: int, duration: float,
              knobs: dict[str, Any]) -> list[dict[str, Any]]:
    flow_lo, flow_hi = knobs.get("flow_range", (0.003, 0.03))
    strength_lo, strength_hi = knobs.get("strength_range", (0.3, 1.5))
    p_intermittent = knobs.get("p_intermittent", 0.3)
    p_clustered = knobs.get("p_clustered", 0.25)
    p_visible = knobs.get("p_visible", 0.3)
    placed: list[tuple[float, str]] = []
    outfalls = []
    for i in range(count):
        at = _place(rng, frame, placed, p_clustered)
        if at is None:
            break
        placed.append(at)
        strength = math.exp(rng.uniform(math.log(strength_lo), math.log(strength_hi)))
        excess = {p: float(f"{v * strength * math.exp(rng.normal(0.0, 0.3)):.4g}") for p, v in TYPICAL_EXCESS.items()}
        outfalls.append({
            "id": f"P{i + 1}",
            "chainage_m": round(at[0], 1),
            "bank": at[1],
            "submerged": bool(rng.uniform() >= p_visible),
            "flow_m3ps": float(f"{math.exp(rng.uniform(math.log(flow_lo), math.log(flow_hi))):.4g}"),
            "excess": excess,
            "active": _activity(rng, duration) if rng.uniform() < p_intermittent else [[0.0, 1e9]],
        })
    return outfalls


def _place(rng: np.random.Generator, frame: RiverFrame, placed: list[tuple[float, str]],
           p_clustered: float) -> tuple[float, str] | None:
    """A chainage and bank: 100 m from an earlier outfall (a cluster) or anywhere clear."""
    lo, hi = END_MARGIN_M, frame.length - END_MARGIN_M
    for _ in range(200):
        if placed and rng.uniform() < p_clustered:
            base, bank = placed[int(rng.integers(len(placed)))]
            s = base + CLUSTER_M * (1 if rng.uniform() < 0.5 else -1)
            bank = bank if rng.uniform() < 0.5 else ("left" if bank == "right" else "right")
        else:
            s, bank = float(rng.uniform(lo, hi)), ("left" if rng.uniform() < 0.5 else "right")
        if lo <= s <= hi and all(b != bank or abs(s - p) >= MIN_GAP_M for p, b in placed):
            return s, bank
    return None


def _activity(rng: np.random.Generator, duration: float) -> list[list[float]]:
    """Discharge windows over a patrol of ``duration`` s: a late start, an early stop, or pulses."""
    kind = rng.integers(3)
    if kind == 0:
        return [[round(float(rng.uniform(0.2, 0.6) * duration)), 1e9]]
    if kind == 1:
        return [[0.0, round(float(rng.uniform(0.3, 0.7) * duration))]]
    period = float(rng.uniform(300.0, 900.0))
    on = period * float(rng.uniform(0.3, 0.6))
    starts = np.arange(float(rng.uniform(0.0, period)), duration, period)
    return [[round(float(a)), round(float(a + on))] for a in starts]
