"""`riverpatrol analyze`: a patrol log in, the station's products out, from the log alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from riverpatrol.scenario import load_scenario
from riverpatrol.simulate import simulate

pytestmark = pytest.mark.slow
DEMO = Path(__file__).resolve().parents[2] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("patrol")
    result = simulate(load_scenario(DEMO), out)
    proc = subprocess.run([sys.executable, "-m", "riverpatrol", "analyze", str(out), "--maps", "conductivity"],
                          capture_output=True, text=True, timeout=600, env={"COLUMNS": "200", "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    return out / "analysis", result.truth


def test_findings_follow_spec_section_6_and_find_the_demo_outfalls(analysed: tuple[Path, dict]) -> None:
    out, truth = analysed
    doc = json.loads((out / "findings.geojson").read_text())
    assert doc["type"] == "FeatureCollection"
    for feature in doc["features"]:
        props = feature["properties"]
        assert feature["geometry"]["type"] == "Point" and len(feature["geometry"]["coordinates"]) == 2
        assert props["kind"] == "suspected_outfall" and 0 <= props["confidence"] <= 1
        assert props["bank"] in ("left", "right") and "evidence" in props and "chainage_m" in props
    confidences = [f["properties"]["confidence"] for f in doc["features"]]
    assert confidences == sorted(confidences, reverse=True)
    for outfall in truth["outfalls"]:
        assert any(f["properties"]["bank"] == outfall["bank"]
                   and abs(f["properties"]["chainage_m"] - outfall["chainage_m"]) <= 20 for f in doc["features"]), outfall["id"]


def test_segments_summary_map_and_pictures(analysed: tuple[Path, dict]) -> None:
    out, _ = analysed
    segments = json.loads((out / "segments.geojson").read_text())["features"]
    assert len(segments) == 18  # 1795 m surveyed in 100 m segments
    assert all(f["geometry"]["type"] == "Polygon" and 1 <= f["properties"]["class"] <= 6 for f in segments)
    assert {f["properties"]["limiting"] for f in segments} >= {"tp"}  # background TP 0.249 mg/L: class IV
    summary = json.loads((out / "summary.json").read_text())
    assert summary["findings"] >= 3 and summary["patrol"]["samples"] > 2000
    assert summary["data_quality"]["parameters"]["conductivity"]["flagged_fraction"] < 0.01
    with netCDF4.Dataset(out / "map.nc") as nc:
        assert "conductivity" in nc.variables and nc.variables["conductivity"].units
    for png in (out / "overview.png", out / "maps" / "conductivity.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "riverpatrol", "analyze", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no patrol log" in proc.stderr and "Traceback" not in proc.stderr


def test_analysis_never_imports_the_twin() -> None:
    package = Path(__file__).resolve().parents[2] / "src" / "riverpatrol" / "analysis"
    for source in package.glob("*.py"):
        text = source.read_text()
        assert "riverpatrol.twin" not in text and "from ..twin" not in text, source.name


def test_a_log_with_no_samples_is_a_clear_error(tmp_path: Path) -> None:
    from riverpatrol.patrollog import PatrolLogWriter
    from riverpatrol.simulate import log_metadata

    with PatrolLogWriter(tmp_path / "patrol.sqlite", log_metadata(load_scenario(DEMO))) as log:
        log.event(0.0, "patrol_start")
    proc = subprocess.run([sys.executable, "-m", "riverpatrol", "analyze", str(tmp_path), "--maps", "none"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "nothing to analyse" in proc.stderr and "Traceback" not in proc.stderr


def test_maps_share_one_system_unless_that_costs_a_parameter_its_samples() -> None:
    from riverpatrol.analysis.pipeline import _map_groups

    clean = np.ones(1000, bool)
    spiky = clean.copy()
    spiky[:5] = False  # a few flagged samples: the others lose 0.5 %, so all are mapped together
    stuck = clean.copy()
    stuck[500:] = False  # flagged for half the patrol: it would take half of every map with it
    assert _map_groups({"conductivity": clean, "nh3n": spiky}) == [["conductivity", "nh3n"]]
    assert _map_groups({"conductivity": clean, "do": stuck, "nh3n": spiky}) == [["conductivity"], ["do"], ["nh3n"]]
