"""A whole patrol over real MAVLink: the twin runs as ``twin serve`` in a child process and the
boat side drives it through ``MavlinkAutopilot`` on UDP loopback, as it would a real boat.

The boat side runs the same autonomy as a direct run (``autonomy/patrol.py``): the supervisor,
the avoidance on the OBSTACLE_DISTANCE rings the autopilot streams, and investigations from the
live analyser. The child's sensors write the patrol log (the boat's payload logger); the boat
side reads the sonde's samples from it as they are committed (the sonde is not on the MAVLink
link; ``riverpatrol boat`` polls its own), adds its events to the same log, and the child writes
the truth when told to stop.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from riverpatrol.autonomy.patrol import PatrolAutonomy
from riverpatrol.jsonfile import write_json
from riverpatrol.patrollog import PatrolLog, PatrolLogWriter
from riverpatrol.records import SondeSample
from riverpatrol.scenario import Scenario
from riverpatrol.simulate import FAST_KEYFRAME_S, SimulationResult, prepare_outputs
from riverpatrol.vehicle.mavlink_client import MavlinkAutopilot

DEFAULT_SPEEDUP = 20.0  # the avoidance's commands act from the twin's next block: 0.4 s of twin time at 20x
CHECK_EVERY_S = 0.05
STARTUP_S = 60.0  # the child imports numpy, builds the twin, then speaks
STOP_S = 30.0


class TwinServeFailed(RuntimeError):
    """The child ``twin serve`` exited on its own; the message carries what it printed."""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def simulate_over_mavlink(
    scenario: Scenario,
    out_dir: Path,
    *,
    speedup: float = DEFAULT_SPEEDUP,
    keyframe_s: float | None = None,
    overwrite: bool = False,
    investigate: bool = True,
    progress: Callable[[float, float], None] | None = None,
) -> SimulationResult:
    """Run the scenario's mission over MAVLink; the child's twin is paced at ``speedup``.

    The boat side looks at the link once per ranging period of twin time and decides on the
    newest ring; ``investigate`` as in ``simulate``.
    """
    log_path, truth_path = prepare_outputs(out_dir, overwrite)
    if log_path.exists():
        raise FileExistsError(f"patrol log {log_path} already exists")
    started = time.perf_counter()
    port = free_udp_port()
    with tempfile.TemporaryDirectory() as tmp, MavlinkAutopilot(f"udpin:127.0.0.1:{port}") as pilot:
        scenario_file = Path(tmp) / "scenario.json"
        write_json(scenario_file, scenario.model_dump(mode="json", by_alias=True))
        stderr_path = Path(tmp) / "twin-serve.err"
        with stderr_path.open("wb") as stderr:
            child = subprocess.Popen(
                [sys.executable, "-m", "riverpatrol", "twin", "serve", str(scenario_file),
                 "--mavlink", f"udpout:127.0.0.1:{port}", "--speedup", repr(speedup), "--out", str(out_dir),
                 "--keyframe-interval", repr(keyframe_s or FAST_KEYFRAME_S)],
                stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            _wait_for_twin(pilot, child, stderr_path)
            autonomy = PatrolAutonomy.for_scenario(scenario, pilot,
                                                   scenario.sensors.sonde.model_dump() if investigate else None)
            supervisor = autonomy.supervisor
            expected_s = supervisor.planned_s
            look_s = 1.0 / (scenario.sensors.obstacle_ranging.rate_hz * speedup)
            with PatrolLogWriter.attach(log_path) as log, _LoggedSonde(log_path) as sonde:
                log.event(pilot.time, "patrol_start", pattern=scenario.mission.pattern,
                          waypoints=len(supervisor.route))
                while not autonomy.done and pilot.time < scenario.boat.endurance_s:
                    time.sleep(look_s)
                    if child.poll() is not None:
                        raise TwinServeFailed(_exit_message(child, stderr_path))
                    if investigate:
                        for sample in sonde.since_last(pilot.time):
                            autonomy.sample(sample)
                    events = autonomy.step(pilot)
                    log.events([(e.t, e.kind, e.detail) for e in events])
                    if progress:
                        progress(pilot.time, expected_s)
                log.event(pilot.time, "link_stats", received=pilot.received, bad=pilot.bad_packets,
                          foreign=pilot.foreign_packets, skipped_rings=autonomy.skipped_rings)
                log.event(pilot.time, "patrol_end", mission_complete=supervisor.completed)
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            child.wait(timeout=STOP_S)
        scenario_s = pilot.time
        if not truth_path.is_file():
            raise TwinServeFailed(_exit_message(child, stderr_path))
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    with PatrolLog(log_path) as read:
        counts = {kind: read.count(kind) for kind in ("position", "sonde", "ranging", "sonar", "frame", "event")}
    return SimulationResult(log_path, truth_path, truth, scenario_s, time.perf_counter() - started, counts)


class _LoggedSonde:
    """The sonde's samples as the child's payload logger commits them, each once."""

    def __init__(self, path: Path) -> None:
        self._log = PatrolLog(path)
        self._last = -1.0
        self._read_at = -1.0

    def since_last(self, now: float) -> list[SondeSample]:
        """Samples logged since the last call; the log is read once a second of twin time at most."""
        if now < self._read_at + 1.0:
            return []
        self._read_at = now
        fresh = [s for s in self._log.records("sonde", t0=self._last) if isinstance(s, SondeSample) and s.t > self._last]
        if fresh:
            self._last = fresh[-1].t
        return fresh

    def __enter__(self) -> _LoggedSonde:
        return self

    def __exit__(self, *exc: object) -> None:
        self._log.close()


def _wait_for_twin(pilot: MavlinkAutopilot, child: subprocess.Popen[bytes], stderr_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while not pilot.link_up:
        if child.poll() is not None or time.monotonic() > deadline:
            raise TwinServeFailed(_exit_message(child, stderr_path))
        time.sleep(CHECK_EVERY_S)
    pilot.wait_heartbeat()


def _exit_message(child: subprocess.Popen[bytes], stderr_path: Path) -> str:
    said = stderr_path.read_text(encoding="utf-8", errors="replace").strip() if stderr_path.exists() else ""
    state = f"exited with code {child.returncode}" if child.returncode is not None else "did not answer"
    return f"twin serve {state}" + (f": {said[-2000:]}" if said else "")
