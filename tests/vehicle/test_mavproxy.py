"""Third-party ground control against ``riverpatrol twin serve``: MAVProxy, as a user runs it.

Both run as separate processes on an ephemeral UDP port. MAVProxy loads a waypoint file, arms,
switches to AUTO; the boat must pass each waypoint in the twin's truth and in the patrol log.
"""

from __future__ import annotations

import json
import math
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate_mavlink import free_udp_port

MAVPROXY = Path(sys.executable).with_name("mavproxy.py")
STEP_S = 60.0
REACH_M = 4.0  # WP_RADIUS 2 m, GNSS noise and the 1 Hz truth track


class _Lines:
    """A process's output, line by line, waited on by content."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        self._stream = stream = process.stdout
        self._reader = threading.Thread(target=lambda: [self._queue.put(line) for line in stream], daemon=True)
        self._reader.start()

    def close(self) -> None:
        """Once the process has exited: read to the end, then close."""
        self._reader.join(timeout=10)
        self._stream.close()

    def wait_for(self, text: str, timeout: float = STEP_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"MAVProxy never said {text!r}; it said:\n{''.join(self.seen[-40:])}")


def _metres(lon: Any, lat: Any, lon0: float, lat0: float) -> Any:
    return np.hypot((np.asarray(lon) - lon0) * 111_320.0 * math.cos(math.radians(lat0)),
                    (np.asarray(lat) - lat0) * 110_574.0)


def test_mavproxy_flies_a_waypoint_file(tmp_path: Path, make_scenario: Callable[..., dict[str, Any]]) -> None:
    scenario_file = tmp_path / "scenario.json"
    data = make_scenario()
    scenario_file.write_text(json.dumps(data))
    river = parse_scenario(data).river_frame()
    lon, lat = river.local.to_lonlat([45.0, 85.0, 125.0], [4.0, -4.0, 4.0])
    waypoints = list(zip(lon.tolist(), lat.tolist()))
    home = data["boat"]["home"]
    rows = ["QGC WPL 110", f"0\t1\t0\t16\t0\t0\t0\t0\t{home[1]:.7f}\t{home[0]:.7f}\t0\t1"]
    rows += [f"{i}\t0\t3\t16\t0\t0\t0\t0\t{b:.7f}\t{a:.7f}\t0\t1" for i, (a, b) in enumerate(waypoints, 1)]
    (tmp_path / "mission.txt").write_text("\n".join(rows) + "\n")

    port = free_udp_port()
    out = tmp_path / "out"
    twin = subprocess.Popen([sys.executable, "-m", "riverpatrol", "twin", "serve", str(scenario_file),
                             "--mavlink", f"udpout:127.0.0.1:{port}", "--speedup", "20", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    mavproxy = subprocess.Popen([sys.executable, str(MAVPROXY), f"--master=udpin:127.0.0.1:{port}",
                                 f"--state-basedir={tmp_path}", "--default-modules=wp,mode,arm,param"],
                                cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    said = _Lines(mavproxy)
    assert mavproxy.stdin is not None

    def type_in(command: str) -> None:
        assert mavproxy.stdin is not None
        mavproxy.stdin.write(command + "\n")
        mavproxy.stdin.flush()

    try:
        said.wait_for("online system 1")
        type_in(f"wp load {tmp_path / 'mission.txt'}")
        said.wait_for("MISSION_ACK: TYPE_MISSION: ACCEPTED")
        type_in("arm throttle")
        said.wait_for("COMPONENT_ARM_DISARM: ACCEPTED")
        type_in("mode auto")
        for seq in range(1, len(waypoints) + 1):
            said.wait_for(f"Reached waypoint #{seq}")
        said.wait_for("Mission Complete")
    finally:
        twin.send_signal(signal.SIGTERM)
        _, errors = twin.communicate(timeout=60)
        mavproxy.stdin.close()  # end of input: MAVProxy shuts down
        try:
            mavproxy.wait(timeout=15)
        except subprocess.TimeoutExpired:
            mavproxy.kill()
            mavproxy.wait()
        said.close()
    assert twin.returncode == 0, errors

    truth = np.array(json.loads((out / "truth.json").read_text())["track"])
    with PatrolLog(out / "patrol.sqlite") as log:
        fixes = log.columns("position")
    for wlon, wlat in waypoints:
        assert _metres(truth[:, 1], truth[:, 2], wlon, wlat).min() < REACH_M
        assert _metres(fixes["lon"], fixes["lat"], wlon, wlat).min() < REACH_M
