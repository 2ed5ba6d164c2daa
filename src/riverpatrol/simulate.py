"""A whole patrol in the twin: the boat side drives the twin's autopilot and logs what it senses.

The twin advances a block of scenario time, reports what the sensors saw, and the boat side writes
that to the patrol log and reacts to autopilot events. Blocks are committed one by one, so a killed
run or a full disk leaves a log that reads up to the last block. truth.json is written by the twin
beside the log and is the only place outfalls, obstacles and the true track appear.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from riverpatrol.autonomy.routes import mission_items, plan_route
from riverpatrol.jsonfile import write_json
from riverpatrol.patrollog import PatrolLogWriter
from riverpatrol.scenario import Scenario
from riverpatrol.twin.twin import RiverTwin, SensedBatch
from riverpatrol.vehicle.direct import DirectAutopilot
from riverpatrol.vehicle.mission import Mode

LOG_NAME = "patrol.sqlite"
TRUTH_NAME = "truth.json"
FAST_BLOCK_S = 30.0
PACED_BLOCK_S = 0.5
FAST_KEYFRAME_S = 5.0
HOME_TOLERANCE_M = 5.0
ENDURANCE_MARGIN = 0.9  # return home once this share of the endurance is used


@dataclass(frozen=True)
class SimulationResult:
    log_path: Path
    truth_path: Path
    truth: dict[str, Any]
    scenario_s: float
    wall_s: float
    counts: dict[str, int]


def log_metadata(scenario: Scenario) -> dict[str, Any]:
    """What a real boat would carry: its river map, hydrology, instruments, home. No truth."""
    return {
        "source": "riverpatrol twin",
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "river": scenario.river.model_dump(),
        "boat": scenario.boat.model_dump(),
        "sensors": scenario.sensors.model_dump(),
        "mission": scenario.mission.model_dump(),
    }


def simulate(
    scenario: Scenario,
    out_dir: Path,
    *,
    speedup: float | None = None,
    keyframe_s: float | None = None,
    overwrite: bool = False,
    max_log_bytes: int | None = None,
    progress: Callable[[float, float], None] | None = None,
    control: Callable[[DirectAutopilot], bool] | None = None,
) -> SimulationResult:
    """Run the scenario's mission from home back to home; ``speedup=None`` runs as fast as it can.

    ``control`` is called between blocks with the boat's autopilot, so an operator can command it
    (HOLD, RTL ...) from another thread; it returns True to end the patrol there.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path, truth_path = out_dir / LOG_NAME, out_dir / TRUTH_NAME
    if overwrite:
        for path in (log_path, Path(f"{log_path}-wal"), Path(f"{log_path}-shm"), truth_path):
            path.unlink(missing_ok=True)
    started = time.perf_counter()
    fast = speedup is None
    twin = RiverTwin(scenario, keyframe_s=keyframe_s or (FAST_KEYFRAME_S if fast else 1.0))
    pilot = DirectAutopilot(twin.autopilot)
    river = scenario.river_frame()  # the map the boat navigates by: geometry only, no truth
    m = scenario.mission
    route = plan_route(river, m.pattern, m.from_chainage_m, m.to_chainage_m, m.bank_offset_m)
    expected_s = _round_trip_m(route, twin.autopilot.home) / scenario.boat.cruise_speed_mps
    counts = {"position": 0, "sonde": 0, "ranging": 0, "sonar": 0, "frame": 0, "event": 0}
    complete = False
    meta = log_metadata(scenario)
    meta["camera"] = {"width": twin.camera.width, "height": twin.camera.height,
                      "hfov_deg": twin.camera.hfov_deg, "eye_height_m": twin.camera.eye_height_m}
    with PatrolLogWriter(log_path, meta, max_bytes=max_log_bytes) as log:
        log.event(0.0, "patrol_start", pattern=m.pattern, waypoints=len(route))
        pilot.upload_mission(mission_items(river, route, scenario.boat.cruise_speed_mps))
        pilot.arm()
        pilot.set_mode(Mode.AUTO)
        block_s = FAST_BLOCK_S if fast else PACED_BLOCK_S
        returning = False
        limit_s = scenario.boat.endurance_s
        while twin.time < limit_s:
            block = twin.advance(block_s)
            events = pilot.events()
            with log.batch():
                _write(log, twin.sense(block), counts)
                log.events([(e.t, e.kind, e.detail) for e in events])
            counts["event"] += len(events)
            complete |= any(e.kind == "mission_complete" for e in events)
            if progress:
                progress(twin.time, expected_s)
            if complete or (control is not None and control(pilot)):
                break
            if not returning and twin.time > ENDURANCE_MARGIN * limit_s:
                returning = True
                pilot.set_mode(Mode.RTL)
                log.event(twin.time, "failsafe", reason="endurance", action="RTL")
            if not fast:
                _pace(started, twin.time, speedup)
        log.event(twin.time, "patrol_end", mission_complete=complete)
    home = twin.autopilot.home
    at_home = ((twin.boat.x - home[0]) ** 2 + (twin.boat.y - home[1]) ** 2) ** 0.5 <= HOME_TOLERANCE_M
    truth = twin.truth.document(mission_complete=complete and at_home)
    write_json(truth_path, truth)
    return SimulationResult(log_path, truth_path, truth, twin.time, time.perf_counter() - started, counts)


def _round_trip_m(route: NDArray[np.float64], home: tuple[float, float]) -> float:
    """Length of home -> route -> home, for the progress bar's expected duration."""
    path = np.vstack([home, route, home])
    return float(np.hypot(*np.diff(path, axis=0).T).sum())


def _write(log: PatrolLogWriter, batch: SensedBatch, counts: dict[str, int]) -> None:
    p = batch.positions
    log.positions(p["t"], p["lon"], p["lat"], p["sog"], p["cog"], p["heading"])
    log.sonde(batch.sonde_t, batch.sonde)
    log.scans(batch.scan_t, batch.scan_heading, batch.scans, increment_deg=batch.scan_increment_deg,
              min_cm=batch.scan_min_cm, max_cm=batch.scan_max_cm)
    log.pings(batch.ping_t, batch.sonar_range_m, batch.port, batch.starboard)
    if batch.frames:
        log.frames(batch.frame_t, *batch.frame_size, batch.frames)
    counts["position"] += len(p["t"])
    counts["sonde"] += len(batch.sonde_t)
    counts["ranging"] += len(batch.scan_t)
    counts["sonar"] += len(batch.ping_t)
    counts["frame"] += len(batch.frames)


def _pace(started: float, scenario_s: float, speedup: float) -> None:
    ahead = started + scenario_s / speedup - time.perf_counter()
    if ahead > 0:
        time.sleep(ahead)

