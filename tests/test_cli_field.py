"""``riverpatrol twin field``: CSV of the true field at points, and exit code 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

TIME = 1000.0


def riverpatrol(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "riverpatrol", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)


def assert_clean_failure(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""


@pytest.fixture
def demo_path(shared_dir: Path) -> Path:
    return shared_dir / "scenarios" / "dongmen-demo.json"


# ---- bad input ------------------------------------------------------------------------------

def test_bad_scenario_exits_2_naming_key_paths(tmp_path: Path, demo_path: Path) -> None:
    data = json.loads(demo_path.read_text(encoding="utf-8"))
    data["river"]["width_m"][3] = -1.0
    data["boat"]["colour"] = "red"
    scenario = tmp_path / "bad.json"
    scenario.write_text(json.dumps(data), encoding="utf-8")
    points = tmp_path / "p.csv"
    points.write_text("121.3791,28.3713\n", encoding="utf-8")
    result = riverpatrol("twin", "field", str(scenario), "--param", "nh3n", "--time", "0", "--points", str(points))
    assert_clean_failure(result)
    assert "river.width_m[3]: must be > 0" in result.stderr
    assert "boat.colour: unknown key" in result.stderr


def test_bad_points_line_exits_2_naming_file_and_line(tmp_path: Path, demo_path: Path) -> None:
    points = tmp_path / "p.csv"
    points.write_text("121.3791,28.3713\n\n121.3791;28.3713\n121.3792,28.3714\n", encoding="utf-8")
    result = riverpatrol("twin", "field", str(demo_path), "--param", "nh3n", "--time", "0", "--points", str(points))
    assert_clean_failure(result)
    assert f"{points}:3" in result.stderr


def test_unknown_param_exits_2(tmp_path: Path, demo_path: Path) -> None:
    points = tmp_path / "p.csv"
    points.write_text("121.3791,28.3713\n", encoding="utf-8")
    result = riverpatrol("twin", "field", str(demo_path), "--param", "nh4", "--time", "0", "--points", str(points))
    assert_clean_failure(result)
    assert "--param" in result.stderr and "'nh4'" in result.stderr


def test_bad_points_line_is_echoed_verbatim(tmp_path: Path, demo_path: Path) -> None:
    from typer.testing import CliRunner

    from riverpatrol.cli import app

    points = tmp_path / "p.csv"
    points.write_text("[lon],[lat]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["twin", "field", str(demo_path), "--param", "nh3n", "--time", "0",
                                      "--points", str(points)])
    assert result.exit_code == 2
    assert "'[lon],[lat]'" in result.stderr


# ---- values ---------------------------------------------------------------------------------

def test_field_at_points(tmp_path: Path, public_scenario: Path, spec_field: Callable[..., Any]) -> None:
    data = json.loads(public_scenario.read_text(encoding="utf-8"))
    ref = spec_field(data)
    rng = np.random.default_rng(41)
    rows: list[tuple[float, float, bool]] = []  # lon, lat, wet
    # water: anywhere, and within 250 m below an outfall near its bank
    for _ in range(20):
        s = rng.uniform(5.0, ref.length - 5.0)
        rows.append((*ref.lonlat_at(s, rng.uniform(-0.45, 0.45) * ref.width(s)), True))
    for out in data["outfalls"]:
        for x in (0.5, 3.0, 30.0, 120.0, 250.0):
            s = min(out["chainage_m"] + x, ref.length - 5.0)
            side = 1.0 if out["bank"] == "left" else -1.0
            rows.append((*ref.lonlat_at(s, side * 0.45 * ref.width(s)), True))
    # land: beyond both banks mid-reach, and beyond both ends on the centerline's extension
    for s in (0.3 * ref.length, 0.6 * ref.length):
        for side in (1.0, -1.0):
            rows.append((*ref.lonlat_at(s, side * (ref.width(s) / 2 + 8.0)), False))
    rows.append((*ref.lonlat_at(-10.0, 0.0), False))
    rows.append((*ref.lonlat_at(ref.length + 10.0, 0.0), False))
    rng.shuffle(rows)  # type: ignore[arg-type]
    if public_scenario.stem == "busy-reach":
        # P1 (left bank, 295.5 m) discharges from t = 344 s, at u = 0.211 m/s: at t = 1000 s its plume
        # has reached (1000 - 344) * 0.211 = 138 m downstream and no further
        schedule = [295.5 + x for x in (-20.0, 50.0, 130.0, 150.0, 300.0)]
        rows += [(*ref.lonlat_at(s, 0.4 * ref.width(s)), True) for s in schedule]

    text = "".join(f"{lon!r},{lat!r}\n" for lon, lat, _ in rows)
    args = ["twin", "field", str(public_scenario), "--param", "nh3n", "--time", str(TIME), "--points"]
    if public_scenario.stem == "straight-easy":  # once end to end: a real process, points on stdin
        result = riverpatrol(*args, "-", stdin=text)
        assert result.returncode == 0, result.stderr
        stdout = result.stdout
    else:  # in-process, to keep the suite fast
        from typer.testing import CliRunner

        from riverpatrol.cli import app

        points = tmp_path / "points.csv"
        points.write_text(text, encoding="utf-8")
        run = CliRunner().invoke(app, [*args, str(points)])
        assert run.exit_code == 0, run.stderr
        stdout = run.stdout
    lines = stdout.splitlines()
    assert len(lines) == len(rows)
    in_plume = 0
    for line, (lon, lat, wet) in zip(lines, rows):
        lon_text, lat_text, value = line.split(",")
        assert (lon_text, lat_text) == (repr(lon), repr(lat))  # input order, input text
        s, n = ref.river_coords(lon, lat)
        if not wet:
            assert abs(n) > ref.width(s) / 2.0 + 1.0 or s < 1e-9 or s > ref.length - 1e-6  # beyond a bank or an end
            assert value == "", f"{line}: a point on land has no value"
            continue
        assert 0.0 < s < ref.length and abs(n) < ref.width(s) / 2.0  # the scorer's geometry agrees: water
        expected = ref.value("nh3n", s, n, TIME)
        assert float(value) == pytest.approx(expected, rel=1e-6), line
        in_plume += expected > 1.05 * ref.background["nh3n"]
    assert in_plume >= 3
    if public_scenario.stem == "busy-reach":
        values = [float(line.split(",")[2]) for line in lines[-5:]]
        assert values[0] == 0.53  # upstream: the background
        assert values[1] > values[2] > 0.53 + 1e-3  # inside the plume's reach at t = 1000 s
        assert values[3] == 0.53 and values[4] == 0.53  # the front has not got there yet
