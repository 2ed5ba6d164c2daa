"""Real-time factor of `riverpatrol simulate --fast` on the Dongmen demo, start-up included.

Each run is a fresh process pinned to one core (taskset), timed from launch to exit; the factor is
the patrol's scenario time over that wall time. Runs once with the fast-mode camera keyframes (every
5 s) and once with 1 Hz keyframes.

    .venv/bin/python bench/simulate_speed.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

SCENARIO = Path(str(files("riverpatrol") / "scenarios" / "dongmen-demo.json"))


def run_once(keyframe_s: float | None, workdir: Path) -> tuple[float, float]:
    out = workdir / "run"
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "riverpatrol", "simulate", str(SCENARIO), "--out", str(out)]
    command += ["--fast"] if keyframe_s is None else ["--keyframe-interval", str(keyframe_s)]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - started
    duration = json.loads((out / "truth.json").read_text())["duration_s"]
    return duration, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for label, keyframe_s in (("keyframes every 5 s (fast mode)", None), ("keyframes every 1 s", 1.0)):
            runs = [run_once(keyframe_s, Path(tmp)) for _ in range(args.repeat)]
            duration = runs[0][0]
            walls = sorted(w for _, w in runs)
            print(f"{label}: {duration:.0f} s of patrol, wall median {statistics.median(walls):.2f} s "
                  f"(best {walls[0]:.2f} s) -> {duration / statistics.median(walls):.0f}x real time "
                  f"(best {duration / walls[0]:.0f}x), one core, start-up included")


if __name__ == "__main__":
    main()
