"""Wall time of `riverpatrol analyze` on a 10 km patrol log (both banks, all sensors).

Builds a 10 km meandering reach with six outfalls, patrols it in the twin (outfall survey: down
one bank, back up the other), then times `riverpatrol analyze` as a user runs it (a fresh process,
start-up included), with the default maps and without maps.

    .venv/bin/python bench/analyze_speed.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from riverpatrol.geo.frame import LocalFrame
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import simulate


def ten_km_scenario() -> dict:
    x = np.arange(0.0, 10_000.0, 25.0)
    y = 40.0 * np.sin(2 * np.pi * x / 900.0)
    lon, lat = LocalFrame(121.38, 28.37).to_lonlat(x, y)
    outfalls = [{"id": f"B{k}", "chainage_m": float(c), "bank": "left" if k % 2 else "right", "flow_m3ps": 0.02,
                 "excess": {"conductivity": 900, "nh3n": 12, "cod": 120, "turbidity": 60, "temperature": 3, "do": -3}}
                for k, c in enumerate((1200, 2500, 4100, 5600, 7300, 8800))]
    home_lon, home_lat = LocalFrame(121.38, 28.37).to_lonlat(15.0, 40.0 * np.sin(2 * np.pi * 15.0 / 900.0))
    return {"schema": "riverpatrol.scenario/1", "name": "ten-km", "seed": 3,
            "river": {"centerline": np.column_stack([lon, lat]).tolist(), "width_m": 26.0, "depth_m": 2.0,
                      "velocity_mps": 0.25, "transverse_dispersion_m2ps": 0.05},
            "outfalls": outfalls, "boat": {"home": [float(home_lon), float(home_lat)], "endurance_s": 30000},
            "mission": {"pattern": "outfall-survey"}}


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        result = simulate(parse_scenario(ten_km_scenario()), out)
        base = [sys.executable, "-m", "riverpatrol", "analyze", str(out)]
        with_maps = timed([*base, "--out", str(out / "a")])
        without = timed([*base, "--out", str(out / "b"), "--maps", "none"])
        imports = timed([sys.executable, "-c", "import riverpatrol.analysis.pipeline"])
        print(f"10 km reach, {result.scenario_s:.0f} s patrol, {result.counts['sonde']} sonde samples: "
              f"analyze {with_maps:.1f} s with the default maps (conductivity, nh3n, do), "
              f"{without:.1f} s without maps; of which {imports:.1f} s is importing the analysis stack "
              f"(target < 3 s)")


if __name__ == "__main__":
    main()
