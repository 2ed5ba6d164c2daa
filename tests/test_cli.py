"""The command line: help everywhere, the demo end to end, clear errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riverpatrol.cli import app

RUNNER = CliRunner()


@pytest.mark.parametrize("command", [[], ["demo"], ["simulate"], ["twin"], ["twin", "field"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = RUNNER.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and "--help" in result.output


def test_simulate_refuses_fast_with_speedup(tmp_path: Path) -> None:
    scenario = Path(__file__).resolve().parents[1] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"
    result = RUNNER.invoke(app, ["simulate", str(scenario), "--out", str(tmp_path), "--fast", "--speedup", "10"])
    assert result.exit_code == 2
    assert not (tmp_path / "patrol.sqlite").exists()


def test_simulate_names_every_problem_of_a_bad_scenario(tmp_path: Path) -> None:
    scenario = Path(__file__).resolve().parents[1] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"
    data = json.loads(scenario.read_text())
    data["river"]["width_m"][3] = -1
    data["boat"]["colour"] = "red"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    proc = subprocess.run([sys.executable, "-m", "riverpatrol", "simulate", str(bad), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "river.width_m[3]: must be > 0" in proc.stderr and "boat.colour: unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "patrol.sqlite").exists()


@pytest.mark.slow
def test_demo_runs_the_dongmen_patrol_and_says_where_its_outputs_are(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "riverpatrol", "demo", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env={"COLUMNS": "200", "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert str(out / "patrol.sqlite") in proc.stdout and str(out / "truth.json") in proc.stdout
    assert "mission complete" in proc.stdout
    truth = json.loads((out / "truth.json").read_text())
    assert truth["scenario"] == "dongmen-demo" and truth["mission_complete"] is True
