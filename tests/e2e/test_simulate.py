"""Whole patrols in the twin: rates, truth kept out of the log, determinism, crashes and full disks."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import load_scenario
from riverpatrol.simulate import SimulationResult, simulate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    scenario = Path(__file__).resolve().parents[2] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"
    return simulate(load_scenario(scenario), tmp_path_factory.mktemp("demo"))


def test_patrol_completes_from_home_to_home(demo_run: SimulationResult) -> None:
    truth = demo_run.truth
    assert truth["mission_complete"] is True
    track = np.array(truth["track"])
    assert np.allclose(np.diff(track[:, 0]), 1.0)  # true track at 1 Hz
    home = load_scenario(_demo_path()).boat.home
    assert _metres(track[0, 1:], home) < 1.0 and _metres(track[-1, 1:], home) < 5.0
    assert truth["track_length_m"] > 2 * 1795 * 0.95  # down one bank and back up the other
    with PatrolLog(demo_run.log_path) as log:
        kinds = [e.kind for e in log.records("event")]
    assert kinds[0] == "patrol_start" and kinds[-1] == "patrol_end"
    assert "mission_complete" in kinds and kinds.count("waypoint_reached") > 300


def test_every_sensor_records_at_its_rate(demo_run: SimulationResult) -> None:
    duration = demo_run.truth["duration_s"]
    expected = {"position": 5.0, "sonde": 1.0, "ranging": 10.0, "sonar": 5.0, "frame": 1 / 5.0}
    with PatrolLog(demo_run.log_path) as log:
        for kind, rate in expected.items():
            assert log.count(kind) == pytest.approx(duration * rate, abs=2), kind
        ping = next(iter(log.records("sonar")))
        scan = next(iter(log.records("ranging")))
        frame = next(iter(log.records("frame")))
    assert ping.port.size >= 500 and ping.starboard.size >= 500
    assert scan.distances_cm.size == 72 and scan.increment_deg == 5.0 and scan.max_cm == 3000
    assert (frame.width, frame.height) == (640, 480) and frame.jpeg[:2] == b"\xff\xd8"


def test_gnss_noise_in_the_log_matches_the_scenario(demo_run: SimulationResult) -> None:
    sigma = load_scenario(_demo_path()).sensors.gnss_sigma_m
    truth = np.array(demo_run.truth["track"])
    with PatrolLog(demo_run.log_path) as log:
        fixes = log.columns("position")
    at = np.searchsorted(fixes["t"], truth[:, 0])
    keep = (at < len(fixes["t"])) & np.isclose(fixes["t"][np.minimum(at, len(at) - 1)], truth[:, 0])
    lat0 = math.radians(truth[0, 2])
    east = (fixes["lon"][at[keep]] - truth[keep, 1]) * 111_320.0 * math.cos(lat0)
    north = (fixes["lat"][at[keep]] - truth[keep, 2]) * 110_574.0
    assert np.std(east) == pytest.approx(sigma, rel=0.1) and np.std(north) == pytest.approx(sigma, rel=0.1)
    assert abs(np.mean(east)) < 0.1 and abs(np.mean(north)) < 0.1


def test_the_log_holds_no_truth(demo_run: SimulationResult) -> None:
    """Search the whole log for every id and value that only the twin knows."""
    scenario = json.loads(_demo_path().read_text())
    truth = demo_run.truth
    ids = [o["id"] for o in scenario["outfalls"]]
    ids += [o["id"] for o in scenario["obstacles"]["static"]] + [o["id"] for o in scenario["obstacles"]["moving"]]
    secret_numbers: set[float] = set()
    for out in scenario["outfalls"] + truth["outfalls"]:
        secret_numbers |= {out["chainage_m"], out.get("flow_m3ps", -1.0), out["lon"] if "lon" in out else -1.0,
                           out["lat"] if "lat" in out else -1.0, *out.get("excess", {}).values()}
    for obs in scenario["obstacles"]["static"]:
        secret_numbers |= set(obs.get("center", [])) | {v for p in obs.get("ring", []) for v in p}
    for ves in scenario["obstacles"]["moving"]:
        secret_numbers |= {v for p in ves["path"] for v in p} | {ves["speed_mps"], ves["length_m"], ves["beam_m"]}
    secret_numbers |= set(scenario["background"].values())
    secret_numbers |= {v for row in truth["track"] for v in row[1:]}
    secret_numbers |= {c[k] for c in truth["collisions"] for k in ("lon", "lat")}
    secret_numbers.discard(-1.0)

    db = sqlite3.connect(f"file:{demo_run.log_path}?mode=ro", uri=True)
    try:
        texts, numbers = [], []
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cursor = db.execute(f"SELECT * FROM {table}")  # noqa: S608 - names come from the schema
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                texts += [v for v in row if isinstance(v, str)]
                # t is the boat's own clock (multiples of the tick): not a value of the world
                numbers += [v for c, v in zip(columns, row) if isinstance(v, float) and c != "t"]
    finally:
        db.close()
    blob = "\n".join(texts)
    for ident in ids:
        assert f'"{ident}"' not in blob and ident not in texts, ident
    assert '"outfalls"' not in blob and '"obstacles"' not in blob and '"excess"' not in blob
    leaked = secret_numbers & set(numbers)
    assert not leaked, sorted(leaked)[:5]
    for value in secret_numbers:  # numbers inside JSON text (meta, event details)
        assert repr(value) not in blob or len(repr(value)) < 6, value
    raw = demo_run.log_path.read_bytes()
    for ident in ids:
        if len(ident) >= 6:  # long ids cannot turn up by chance in compressed image bytes
            assert ident.encode() not in raw, ident


def test_same_seed_same_log(tmp_path: Path, shared_straight: Path) -> None:
    scenario = load_scenario(shared_straight)
    first = simulate(scenario, tmp_path / "a")
    second = simulate(scenario, tmp_path / "b")
    with PatrolLog(first.log_path) as a, PatrolLog(second.log_path) as b:
        for kind in ("position", "sonde", "ranging", "sonar"):
            ca, cb = a.columns(kind), b.columns(kind)
            for name in ca:
                np.testing.assert_array_equal(ca[name], cb[name], err_msg=f"{kind}.{name}")
        assert [f.jpeg for f in a.records("frame")] == [f.jpeg for f in b.records("frame")]
    assert first.truth == second.truth


def test_a_killed_simulation_leaves_a_readable_log(tmp_path: Path, shared_straight: Path) -> None:
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "riverpatrol", "simulate", str(shared_straight), "--out", str(out),
                             "--speedup", "400"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log_path = out / "patrol.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _has_rows(log_path, "sonar", 500):
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with PatrolLog(log_path) as log:
        assert log.count("sonar") >= 500
        times = log.columns("position")["t"]
        assert np.all(np.diff(times) > 0)
        sonde = log.columns("sonde")["t"]
        assert sonde[-1] <= times[-1] + 1.0  # blocks are whole: no kind runs ahead of the others
    assert not (out / "truth.json").exists()


def test_a_full_disk_stops_the_patrol_with_a_clear_error_and_keeps_the_log(tmp_path: Path, shared_straight: Path) -> None:
    out = tmp_path / "full"
    proc = subprocess.run([sys.executable, "-m", "riverpatrol", "simulate", str(shared_straight), "--out", str(out),
                           "--max-log-mb", "3"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "full" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
    with PatrolLog(out / "patrol.sqlite") as log:
        assert log.count("position") > 100
        assert log.count("sonar") > 100


def test_an_existing_log_is_never_overwritten_by_default(tmp_path: Path, shared_straight: Path) -> None:
    out = tmp_path / "twice"
    out.mkdir()
    (out / "patrol.sqlite").write_bytes(b"precious")
    proc = subprocess.run([sys.executable, "-m", "riverpatrol", "simulate", str(shared_straight), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr
    assert (out / "patrol.sqlite").read_bytes() == b"precious"


@pytest.fixture
def shared_straight(shared_dir: Path) -> Path:
    return shared_dir / "scenarios" / "straight-easy.json"


def _demo_path() -> Path:
    return Path(__file__).resolve().parents[2] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"


def _metres(lonlat: Any, other: Any) -> float:
    lat0 = math.radians(lonlat[1])
    return math.hypot((lonlat[0] - other[0]) * 111_320.0 * math.cos(lat0), (lonlat[1] - other[1]) * 110_574.0)


def _has_rows(path: Path, table: str, count: int) -> bool:
    if not path.exists():
        return False
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1)
        try:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= count  # noqa: S608
        finally:
            db.close()
    except sqlite3.Error:
        return False
