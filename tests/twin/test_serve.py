"""twin serve: pacing blocks, the log and truth it leaves, and its command line."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from riverpatrol.cli import app
from riverpatrol.patrollog import PatrolLog
from riverpatrol.twin.serve import block_seconds

RUNNER = CliRunner()


def test_blocks_are_whole_ticks_and_short_in_wall_time() -> None:
    assert block_seconds(1.0) == 0.1
    assert block_seconds(20.0) == 0.4
    assert block_seconds(1000.0) == 1.0


def test_serve_writes_the_log_and_the_truth(tmp_path: Path, serve_twin: Callable[..., Any]) -> None:
    served = serve_twin(speedup=50.0, out_dir=tmp_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (tmp_path / "patrol.sqlite").exists():
        time.sleep(0.1)
    time.sleep(1.0)
    result = served.finish()
    assert result.scenario_s > 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["duration_s"] > 0 and truth["mission_complete"] is False
    with PatrolLog(tmp_path / "patrol.sqlite") as log:
        assert log.count("position") == result.counts["position"] > 0
        assert log.count("sonde") == result.counts["sonde"] > 0


def test_cli_names_a_bad_link(tmp_path: Path, make_scenario: Callable[..., dict[str, Any]]) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(make_scenario()))
    result = RUNNER.invoke(app, ["twin", "serve", str(scenario), "--mavlink", "carrier-pigeon:7"])
    assert result.exit_code == 2
    assert "--mavlink: carrier-pigeon:7: unknown link" in result.output


def test_cli_refuses_an_unknown_via(tmp_path: Path, make_scenario: Callable[..., dict[str, Any]]) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(make_scenario()))
    result = RUNNER.invoke(app, ["simulate", str(scenario), "--out", str(tmp_path / "o"), "--via", "telepathy"])
    assert result.exit_code == 2 and "--via" in result.output
    assert not (tmp_path / "o" / "patrol.sqlite").exists()


def test_cli_never_extends_an_existing_log(tmp_path: Path, make_scenario: Callable[..., dict[str, Any]]) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(make_scenario()))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "patrol.sqlite").write_bytes(b"an earlier patrol")
    result = RUNNER.invoke(app, ["twin", "serve", str(scenario), "--mavlink", "udpout:127.0.0.1:9",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "already exists" in result.output
    assert (tmp_path / "out" / "patrol.sqlite").read_bytes() == b"an earlier patrol"
