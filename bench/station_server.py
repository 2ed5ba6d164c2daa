"""A station for the station benchmarks: `riverpatrol serve` in its own process on a free loopback
port, with a throwaway data directory and SQLite store, as an operator runs it; stopped (patrols
included) on exit. Clients in the benchmark's process then share no interpreter lock with it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Station:
    port: int
    process: subprocess.Popen[bytes]
    data: Path  # RIVERPATROL_DATA_DIR: patrol logs in patrols/ID-*/

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_s(self) -> float:
        """CPU time (user + system) the station's process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_station() -> Iterator[Station]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RIVERPATROL_DATA_DIR": tmp}
        env.pop("RIVERPATROL_DATABASE_URL", None)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with (Path(tmp) / "serve.log").open("wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "riverpatrol", "serve", "--port", str(port)],
                                       env=env, stdout=log, stderr=subprocess.STDOUT)
        station = Station(port, process, Path(tmp))
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"{station.base}/api/standards", timeout=2).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError((Path(tmp) / "serve.log").read_text()) from None
                    time.sleep(0.2)
            yield station
        finally:
            process.terminate()
            process.wait(60)


def post(url: str, body: dict) -> dict:
    """POST ``body`` as JSON, return the JSON reply."""
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)
