"""`riverpatrol serve` in its own process on a free loopback port with its own data directory and
SQLite store, as an operator runs it: for the station benchmarks and the browser tests
(tests/station/conftest.py). Clients in the caller's process share no interpreter lock with it,
and it can be killed and started again on the same port and data."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Station:
    """The station's process on ``port``, its data (patrol logs in patrols/ID-*/) in ``data``."""

    def __init__(self, data: Path) -> None:
        self.data = data
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> None:
        """Start `serve` and return once it answers."""
        env = {**os.environ, "RIVERPATROL_DATA_DIR": str(self.data)}
        env.pop("RIVERPATROL_DATABASE_URL", None)
        with (self.data / "serve.log").open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "riverpatrol", "serve", "--port", str(self.port)],
                                         env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/api/standards", timeout=2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not start: {(self.data / 'serve.log').read_text()}") from None
                time.sleep(0.2)

    def stop(self, kill: bool = False, timeout_s: float = 30.0) -> None:
        assert self.proc is not None
        self.proc.kill() if kill else self.proc.terminate()
        self.proc.wait(timeout_s)

    def cpu_s(self) -> float:
        """CPU time (user + system) the station's process has used so far."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_station() -> Iterator[Station]:
    """A station on a throwaway data directory, stopped (patrols included) on exit."""
    with tempfile.TemporaryDirectory() as tmp:
        station = Station(Path(tmp))
        station.start(timeout_s=120.0)
        try:
            yield station
        finally:
            station.stop(timeout_s=60.0)


def post(url: str, body: dict) -> dict:
    """POST ``body`` as JSON, return the JSON reply."""
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)
