"""Wall time of `riverpatrol analyze` on a 10 km patrol log (both banks, all sensors).

Builds a 10 km meandering reach with six outfalls, patrols it in the twin (outfall survey: down
one bank, back up the other), then times `riverpatrol analyze` as a user runs it (a fresh process,
start-up included), with the default maps and without maps, ``--repeat`` times each, alternating.
Prints the best and the median wall time, the CPU time the command used (its worker included),
and the machine's load average, since the machine is shared and wall times move with it.

    .venv/bin/python bench/analyze_speed.py [--repeat 5] [--log DIR]

``--log DIR`` reuses a patrol already simulated into DIR (made there if it holds none).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
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


def timed(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of a command run to its end, its descendants' CPU included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def summary(runs: list[tuple[float, float]]) -> str:
    walls = [w for w, _ in runs]
    cpus = [c for _, c in runs]
    return (f"best {min(walls):.2f} s, median {statistics.median(walls):.2f} s wall "
            f"(CPU median {statistics.median(cpus):.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--log", type=Path, help="directory of a patrol to reuse (simulated there if absent)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.log or Path(tmp)
        if not (out / "patrol.sqlite").is_file():
            simulate(parse_scenario(ten_km_scenario()), out)
        base = [sys.executable, "-m", "riverpatrol", "analyze", str(out)]
        load_before = os.getloadavg()
        with_maps, without, imports = [], [], []
        for _ in range(args.repeat):
            with_maps.append(timed([*base, "--out", str(Path(tmp) / "a")]))
            without.append(timed([*base, "--out", str(Path(tmp) / "b"), "--maps", "none"]))
            imports.append(timed([sys.executable, "-c", "import riverpatrol.cli, riverpatrol.analysis.pipeline"]))
        load_after = os.getloadavg()
    print(f"10 km reach, {args.repeat} runs each (target < 3 s wall):")
    print(f"  analyze, default maps (conductivity, nh3n, do): {summary(with_maps)}")
    print(f"  analyze --maps none:                            {summary(without)}")
    print(f"  start-up (python, CLI, analysis before the search): {summary(imports)}")
    print(f"  load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
