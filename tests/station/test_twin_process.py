"""The twin's own process: progress over the pipe, modes obeyed, and an end when the station goes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import parse_scenario
from riverpatrol.station.twin_process import FINISH, run_twin

SPEEDUP = 20.0


def _start(scenario: dict[str, Any], out: Path) -> tuple[Any, Any]:
    context = multiprocessing.get_context("spawn")
    conn, child_end = context.Pipe()
    twin = context.Process(target=run_twin, args=(child_end, parse_scenario(scenario), out, SPEEDUP, 1.0, 10.0),
                           daemon=True)
    twin.start()
    child_end.close()
    return conn, twin


def _progress_past(conn: Any, t: float) -> float:
    while True:
        assert conn.poll(60.0), "the twin went quiet"
        kind, value = conn.recv()
        assert kind == "progress", (kind, value)
        if value >= t:
            return value


def test_a_held_patrol_is_finished_on_request_with_its_log_whole(short_scenario: dict, tmp_path: Path) -> None:
    conn, twin = _start(short_scenario, tmp_path / "p")
    try:
        _progress_past(conn, 5.0)
        conn.send("HOLD")
        _progress_past(conn, 8.0)
        conn.send(FINISH)
        while (message := conn.recv())[0] == "progress":
            pass
        assert message == ("done", None)
    finally:
        twin.join(30.0)
    assert twin.exitcode == 0
    with PatrolLog(tmp_path / "p" / "patrol.sqlite") as log:
        modes = [e.detail.get("mode") for e in log.records("event") if e.kind == "mode"]
    assert "HOLD" in modes


def test_when_the_station_goes_the_twin_stops_and_its_log_opens(short_scenario: dict, tmp_path: Path) -> None:
    conn, twin = _start(short_scenario, tmp_path / "p")
    reached = _progress_past(conn, 3.0)
    conn.close()  # as when the station's process is killed
    twin.join(30.0)
    assert twin.exitcode == 0
    with PatrolLog(tmp_path / "p" / "patrol.sqlite") as log:
        last_fix = log.columns("position")["t"][-1]
    assert reached <= last_fix < reached + 30.0  # it stopped within a few ticks, not at the mission's end


def test_a_patrol_that_cannot_run_is_reported_as_failed(short_scenario: dict, tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "patrol.sqlite").write_text("someone else's file")  # simulate refuses to overwrite it
    conn, twin = _start(short_scenario, tmp_path / "p")
    assert conn.poll(60.0)
    kind, why = conn.recv()
    twin.join(30.0)
    assert kind == "failed" and "patrol.sqlite" in why
