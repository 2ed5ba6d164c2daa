"""Planning time of a 10 km outfall survey (down one bank, back up the other) on a meandering reach.

    .venv/bin/python bench/plan_speed.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from riverpatrol.autonomy.routes import mission_items, plan_route
from riverpatrol.geo.frame import LocalFrame, RiverFrame


def meandering_reach(length_m: float = 10_000.0, vertex_m: float = 25.0) -> RiverFrame:
    """A reach meandering with 400 m wavelength and 60 m amplitude, 20-35 m wide."""
    x = np.arange(0.0, length_m, vertex_m)
    y = 60.0 * np.sin(2 * np.pi * x / 400.0)
    lon, lat = LocalFrame(121.38, 28.37).to_lonlat(x, y)
    width = 27.5 + 7.5 * np.sin(2 * np.pi * x / 1700.0)
    return RiverFrame(np.column_stack([lon, lat]), width.tolist(), 2.0)


def main() -> None:
    river = meandering_reach()
    times = []
    for _ in range(7):
        started = time.perf_counter()
        route = plan_route(river, "outfall-survey", 0.0, None, 3.0)
        items = mission_items(river, route, 1.5)
        times.append(time.perf_counter() - started)
    length = float(np.hypot(*np.diff(route, axis=0).T).sum())
    print(f"outfall survey of a {river.length / 1000:.1f} km reach: {len(items)} mission items, "
          f"{length / 1000:.1f} km of route; planning median {statistics.median(times) * 1000:.0f} ms "
          f"(best {min(times) * 1000:.0f} ms; target < 500 ms)")


if __name__ == "__main__":
    main()
