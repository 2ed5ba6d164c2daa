"""Time of one avoidance decision per ranging scan, on the scans of a real patrol.

Replays the Dongmen demo's patrol log (GNSS fixes and scans, as the boat saw them) through the
avoidance, deciding on every scan that shows something the banks do not explain, with the decision
forced to run in full (the velocity choice included) as while avoiding. Prints percentiles of the
wall time and of the thread's CPU time per decision (on a busy machine the wall time's tail is the
scheduler's; the CPU time is the decision's own).

    .venv/bin/python bench/avoidance_speed.py [--log riverpatrol-demo/patrol.sqlite]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

from riverpatrol.autonomy.avoidance import Avoidance, AvoidanceConfig
from riverpatrol.autonomy.routes import plan_route
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import load_scenario
from riverpatrol.simulate import simulate
from riverpatrol.vehicle.mission import Mode

SCENARIO = Path(str(files("riverpatrol") / "scenarios" / "dongmen-demo.json"))


class _Guided:
    """An autopilot that stays in GUIDED and takes the targets: every scan runs the full decision."""

    mode, mission_seq = Mode.GUIDED, 2

    def set_mode(self, mode: Mode) -> None: ...
    def guided_velocity(self, north_mps: float, east_mps: float) -> None: ...


class _Keeper:
    """The planned survey as the mission; no hand-back happens while the decision is timed."""

    def __init__(self, home: tuple[float, float], route: np.ndarray) -> None:
        self.home, self.mission = home, route

    def resume_at(self, now: float, first: int, reason: str) -> None: ...


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, help="a patrol log of the demo (default: simulate one now)")
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = args.log or simulate(scenario, Path(tmp)).log_path
        with PatrolLog(log_path) as log:
            fixes = log.columns("position")
            scans = list(log.records("ranging"))
    river = scenario.river_frame()
    m = scenario.mission
    route = plan_route(river, m.pattern, m.from_chainage_m, m.to_chainage_m, m.bank_offset_m)
    home = tuple(float(v) for v in river.local.to_xy(*scenario.boat.home))
    avoidance = Avoidance(_Guided(), river, _Keeper(home, route),  # type: ignore[arg-type]
                          AvoidanceConfig(radius_m=1.0, cruise_mps=scenario.boat.cruise_speed_mps),
                          max_range_m=30.0, scan_period_s=0.1, current_mps=scenario.river.velocity_mps)
    avoidance._avoiding = True  # decide in full on every scan, as while steering round something
    fx, fy = river.local.to_xy(fixes["lon"], fixes["lat"])
    k, times, busy = 0, [], []  # (wall, cpu) per decision
    for scan in scans:
        while k < len(fixes["t"]) and fixes["t"][k] <= scan.t:
            avoidance.own.fix(float(fixes["t"][k]), float(fx[k]), float(fy[k]), float(fixes["sog"][k]), float(fixes["cog"][k]))
            k += 1
        started, cpu = time.perf_counter(), time.thread_time()
        avoidance.on_scan(scan.t, scan.heading_deg, scan.distances_cm, scan.increment_deg, scan.max_cm)
        elapsed = (time.perf_counter() - started, time.thread_time() - cpu)
        (busy if avoidance._nearest <= avoidance.config.watch_m else times).append(elapsed)
        avoidance._avoiding = True
    for label, sample in (("with an object within the watch distance", busy), ("banks only", times)):
        for clock, ms in zip(("wall", "cpu"), np.array(sample).T * 1e3):
            print(f"{label} ({clock}): {len(ms)} scans, median {np.median(ms):.3f} ms, "
                  f"p99 {np.percentile(ms, 99):.3f} ms, max {ms.max():.3f} ms")


if __name__ == "__main__":
    main()
