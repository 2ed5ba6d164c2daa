"""The station's commands: `riverpatrol import LOG` into the store, `riverpatrol demo --serve`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from riverpatrol.station import models
from riverpatrol.station.store import Store


def _run(args: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIVERPATROL_DATA_DIR": str(data), "COLUMNS": "200"}
    env.pop("RIVERPATROL_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "riverpatrol", "import", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_import_then_the_patrol_is_in_the_default_store(patrol_log: Path, tmp_path: Path) -> None:
    proc = _run([str(patrol_log.parent), "--name", "morning patrol"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    store = Store(f"sqlite:///{tmp_path / 'station.sqlite'}")
    with store.session() as session:
        assert [p.name for p in session.scalars(select(models.Patrol))] == ["morning patrol"]
    store.close()


def test_import_of_a_missing_log_names_it(tmp_path: Path) -> None:
    proc = _run([str(tmp_path / "nowhere.sqlite")], tmp_path)
    assert proc.returncode == 2 and "nowhere.sqlite" in proc.stderr and "Traceback" not in proc.stderr


def test_demo_serve_starts_the_demo_patrol_in_the_station(tmp_path: Path) -> None:
    import json
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "RIVERPATROL_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    env.pop("RIVERPATROL_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "riverpatrol", "demo", "--serve", "--port", str(port),
                             "--speedup", "5"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                patrols = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/patrols", timeout=2))
                if patrols and patrols[0]["counts"]["positions"]:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "the station did not come up"
            time.sleep(0.3)
        assert patrols[0]["name"] == "dongmen-demo" and patrols[0]["status"] == "running"
    finally:
        proc.terminate()
        proc.wait(60)
    store = Store(f"sqlite:///{tmp_path / 'station.sqlite'}")
    with store.session() as session:
        assert [p.status for p in session.scalars(select(models.Patrol))] == ["interrupted"]
    store.close()
