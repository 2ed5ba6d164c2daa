"""What the live anomaly signals add to reading a patrol log into store rows (``LogTail``).

Patrols the Dongmen demo in the twin, then reads its log whole, with the live analyser and
without it, in turns, and prints wall and CPU time of each read.

    .venv/bin/python bench/station_anomalies.py [ROUNDS]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import load_scenario
from riverpatrol.simulate import simulate
from riverpatrol.station import ingest

SCENARIO = Path(__file__).resolve().parents[1] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _read(log_path: Path, watch: bool) -> tuple[float, float, ingest.Window]:
    with PatrolLog(log_path) as log:
        tail = ingest.LogTail(log)
        if not watch:
            tail._anomalies = None  # the same read, signals left out
        wall, cpu = time.perf_counter(), _cpu()
        window = tail.read(None)
        return time.perf_counter() - wall, _cpu() - cpu, window


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log_path = simulate(load_scenario(SCENARIO), Path(tmp)).log_path
        for _ in range(rounds):
            for watch in (False, True):
                wall, cpu, window = _read(log_path, watch)
                print(f"{'with' if watch else 'without'} signals: {len(window.positions)} fixes, "
                      f"{len(window.samples)} samples, {len(window.anomalies)} signals; wall {wall:.3f} s, cpu {cpu:.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
