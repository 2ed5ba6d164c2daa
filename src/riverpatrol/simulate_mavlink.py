"""A whole patrol over real MAVLink: the twin runs as ``twin serve`` in a child process and the
boat side drives it through ``MavlinkAutopilot`` on UDP loopback, as it would a real boat.

The child's sensors write the patrol log (the boat's payload logger); the boat side adds the
autopilot's events to the same log, and the child writes the truth when told to stop.
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

from riverpatrol.autonomy.supervisor import LinkState
from riverpatrol.jsonfile import write_json
from riverpatrol.patrollog import PatrolLog, PatrolLogWriter
from riverpatrol.scenario import Scenario
from riverpatrol.simulate import (
    FAST_KEYFRAME_S,
    SimulationResult,
    local_fix,
    patrol_supervisor,
    prepare_outputs,
)
from riverpatrol.vehicle.mavlink_client import MavlinkAutopilot

DEFAULT_SPEEDUP = 50.0
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
    progress: Callable[[float, float], None] | None = None,
) -> SimulationResult:
    """Run the scenario's mission over MAVLink; the child's twin is paced at ``speedup``."""
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
            supervisor = patrol_supervisor(scenario, pilot, investigate=False)  # no sonde on this link
            expected_s = supervisor.planned_s
            with PatrolLogWriter.attach(log_path) as log:
                log.event(pilot.time, "patrol_start", pattern=scenario.mission.pattern,
                          waypoints=len(supervisor.route))
                while not supervisor.done and pilot.time < scenario.boat.endurance_s:
                    time.sleep(CHECK_EVERY_S)
                    if child.poll() is not None:
                        raise TwinServeFailed(_exit_message(child, stderr_path))
                    events = pilot.events()
                    events += supervisor.update(pilot.time, local_fix(supervisor.river, pilot.position()), events,
                                                links=LinkState(autopilot=pilot.link_up))
                    log.events([(e.t, e.kind, e.detail) for e in events])
                    if progress:
                        progress(pilot.time, expected_s)
                log.event(pilot.time, "link_stats", received=pilot.received, bad=pilot.bad_packets,
                          foreign=pilot.foreign_packets)
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
