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
from riverpatrol.vehicle.autopilot import Autopilot
from riverpatrol.vehicle.direct import DirectAutopilot
from riverpatrol.vehicle.mission import MissionItem, Mode

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


def prepare_outputs(out_dir: Path, overwrite: bool) -> tuple[Path, Path]:
    """The log and truth paths in ``out_dir`` (created); with ``overwrite`` an earlier patrol's
    log, its SQLite sidecars and its truth are deleted first."""
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path, truth_path = out_dir / LOG_NAME, out_dir / TRUTH_NAME
    if overwrite:
        for path in (log_path, Path(f"{log_path}-wal"), Path(f"{log_path}-shm"), truth_path):
            path.unlink(missing_ok=True)
    return log_path, truth_path


def twin_log_metadata(twin: RiverTwin) -> dict[str, Any]:
    """The log's metadata for a patrol in the twin: the boat's map and instruments, its camera."""
    meta = log_metadata(twin.scenario)
    meta["camera"] = {"width": twin.camera.width, "height": twin.camera.height,
                      "hfov_deg": twin.camera.hfov_deg, "eye_height_m": twin.camera.eye_height_m}
    return meta


def simulate(
    scenario: Scenario,
    out_dir: Path,
    *,
    speedup: float | None = None,
    keyframe_s: float | None = None,
    overwrite: bool = False,
    max_log_bytes: int | None = None,
    progress: Callable[[float, float], None] | None = None,
) -> SimulationResult:
    """Run the scenario's mission from home back to home; ``speedup=None`` runs as fast as it can."""
    log_path, truth_path = prepare_outputs(out_dir, overwrite)
    started = time.perf_counter()
    fast = speedup is None
    twin = RiverTwin(scenario, keyframe_s=keyframe_s or (FAST_KEYFRAME_S if fast else 1.0))
    pilot = DirectAutopilot(twin.autopilot)
    plan = plan_patrol(scenario)
    counts = {"position": 0, "sonde": 0, "ranging": 0, "sonar": 0, "frame": 0, "event": 0}
    with PatrolLogWriter(log_path, twin_log_metadata(twin), max_bytes=max_log_bytes) as log:
        duty = PatrolDuty(pilot, log, plan, scenario.boat.endurance_s)
        block_s = FAST_BLOCK_S if fast else PACED_BLOCK_S
        while not duty.done:
            block = twin.advance(block_s)
            with log.batch():
                write_sensed(log, twin.sense(block), counts)
                duty.check()
            if progress:
                progress(twin.time, plan.expected_s)
            if not fast:
                _pace(started, twin.time, speedup)
        duty.finish()
        counts["event"] = duty.events
        complete = duty.complete
    home = twin.autopilot.home
    at_home = ((twin.boat.x - home[0]) ** 2 + (twin.boat.y - home[1]) ** 2) ** 0.5 <= HOME_TOLERANCE_M
    truth = twin.truth.document(mission_complete=complete and at_home)
    write_json(truth_path, truth)
    return SimulationResult(log_path, truth_path, truth, twin.time, time.perf_counter() - started, counts)


@dataclass(frozen=True)
class PatrolPlan:
    """The scenario's patrol as mission items, planned from the river map alone."""

    pattern: str
    waypoints: int
    items: list[MissionItem]
    expected_s: float  # for the progress bar


def plan_patrol(scenario: Scenario) -> PatrolPlan:
    river = scenario.river_frame()  # the map the boat navigates by: geometry only, no truth
    m = scenario.mission
    route = plan_route(river, m.pattern, m.from_chainage_m, m.to_chainage_m, m.bank_offset_m)
    hx, hy = river.local.to_xy(*scenario.boat.home)
    speed = scenario.boat.cruise_speed_mps
    return PatrolPlan(m.pattern, len(route), mission_items(river, route, speed),
                      _round_trip_m(route, (float(hx), float(hy))) / speed)


class PatrolDuty:
    """The boat side's part of a patrol, through any ``Autopilot``: start the mission, log what
    the autopilot reports, notice completion, turn home once the endurance margin is used."""

    def __init__(self, pilot: Autopilot, log: PatrolLogWriter, plan: PatrolPlan, endurance_s: float) -> None:
        self._pilot, self._log, self._limit_s = pilot, log, endurance_s
        self.events = 0
        self.complete = self.done = self._returning = False
        log.event(pilot.time, "patrol_start", pattern=plan.pattern, waypoints=plan.waypoints)
        pilot.upload_mission(plan.items)
        pilot.arm()
        pilot.set_mode(Mode.AUTO)

    def check(self) -> None:
        """Log the autopilot's events so far and act on them; sets ``done`` when the patrol ends."""
        pilot = self._pilot
        events = pilot.events()
        self._log.events([(e.t, e.kind, e.detail) for e in events])
        self.events += len(events)
        self.complete |= any(e.kind == "mission_complete" for e in events)
        self.done = self.complete or pilot.time >= self._limit_s
        if not self.done and not self._returning and pilot.time > ENDURANCE_MARGIN * self._limit_s:
            self._returning = True
            pilot.set_mode(Mode.RTL)
            self._log.event(pilot.time, "failsafe", reason="endurance", action="RTL")

    def finish(self) -> None:
        self._log.event(self._pilot.time, "patrol_end", mission_complete=self.complete)


def _round_trip_m(route: NDArray[np.float64], home: tuple[float, float]) -> float:
    """Length of home -> route -> home, for the progress bar's expected duration."""
    path = np.vstack([home, route, home])
    return float(np.hypot(*np.diff(path, axis=0).T).sum())


def write_sensed(log: PatrolLogWriter, batch: SensedBatch, counts: dict[str, int]) -> None:
    """One block's sensed records into the log (the caller's batch), counted by kind."""
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

