"""The Dongmen demo patrolled over MAVLink (``simulate --via mavlink``) at a few speedups.

Per speedup: scenario and wall time, CPU time of the boat side (this process) and of the child
``twin serve``, and what the patrol did: collisions and closest approach in the twin's truth,
mission complete, avoidance detours, investigations, ranging rings skipped for a newer one.

    .venv/bin/python bench/mavlink_patrol.py [--speedup 10 20 30]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import load_scenario
from riverpatrol.simulate_mavlink import simulate_over_mavlink

SCENARIO = Path(__file__).resolve().parents[1] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_once(speedup: float, out: Path) -> str:
    boat, twin = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    result = simulate_over_mavlink(load_scenario(SCENARIO), out, speedup=speedup, keyframe_s=60.0)
    boat, twin = _cpu(resource.RUSAGE_SELF) - boat, _cpu(resource.RUSAGE_CHILDREN) - twin
    with PatrolLog(result.log_path) as log:
        events = list(log.records("event"))
    kinds = [e.kind for e in events]
    looks = sum(e.kind == "phase" and e.detail["phase"] == "investigate" for e in events)
    skipped = next(e.detail["skipped_rings"] for e in events if e.kind == "link_stats")
    truth = result.truth
    return (f"speedup {speedup:g}: {result.scenario_s:.0f} s of patrol in {result.wall_s:.1f} s wall; CPU boat side "
            f"{boat:.1f} s, twin serve {twin:.1f} s; collisions {len(truth['collisions'])}, closest "
            f"{truth['min_clearance_m']:.2f} m, complete {truth['mission_complete']}; detours "
            f"{kinds.count('avoid_start')}, investigations {looks}; rings skipped {skipped} of {result.counts['ranging']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speedup", type=float, nargs="+", default=[10.0, 20.0, 30.0])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for k, speedup in enumerate(args.speedup):
            print(run_once(speedup, Path(tmp) / str(k)), flush=True)


if __name__ == "__main__":
    main()
