"""Per-sample cost of the live analyser, replaying the Dongmen demo patrol from its log.

    .venv/bin/python bench/live_analysis.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from riverpatrol.analysis.live import LiveAnalyser
from riverpatrol.analysis.track import river_frame
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import load_scenario
from riverpatrol.simulate import simulate

SCENARIO = Path(__file__).resolve().parents[1] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = simulate(load_scenario(SCENARIO), Path(tmp))
        with PatrolLog(result.log_path) as log:
            positions, samples = list(log.records("position")), list(log.records("sonde"))
            live = LiveAnalyser(river_frame(log.meta), log.meta["sensors"]["sonde"])
            rate = log.meta["sensors"]["sonde"]["rate_hz"]
    started = time.perf_counter()
    signals = live.run(positions, samples)
    wall = time.perf_counter() - started
    per_sample = wall / len(samples)
    print(f"{len(samples)} sonde samples and {len(positions)} fixes replayed in {wall:.2f} s: "
          f"{per_sample * 1e3:.2f} ms per sample, keeps up at {1.0 / (per_sample * rate):.0f}x real time "
          f"(target 100x); {len(signals)} signals")


if __name__ == "__main__":
    main()
