"""A whole patrol in the twin: the boat side drives the twin's autopilot and logs what it senses.

The twin advances a block of scenario time, reports what the sensors saw, and the boat side writes
that to the patrol log; the supervisor (autonomy/supervisor.py) reacts to autopilot events, the
live analyser's anomaly signals and the failsafes. Blocks are committed one by one, so a killed
run or a full disk leaves a log that reads up to the last block. truth.json is written by the twin
beside the log and is the only place outfalls, obstacles and the true track appear.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riverpatrol.analysis.live import AnomalySignal, LiveAnalyser
from riverpatrol.autonomy.patrol import local_fix, patrol_avoidance, patrol_supervisor
from riverpatrol.autonomy.supervisor import Phase
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.jsonfile import write_json
from riverpatrol.pacing import PatrolClock, release
from riverpatrol.pacing import block_s as paced_block_s
from riverpatrol.patrollog import PatrolLogWriter
from riverpatrol.records import MissionEvent, Position, SondeSample
from riverpatrol.scenario import Scenario
from riverpatrol.twin.ticks import TickBlock
from riverpatrol.twin.twin import GNSS_HZ, TICK_S, Navigation, RiverTwin, SensedBatch
from riverpatrol.vehicle.direct import DirectAutopilot

LOG_NAME = "patrol.sqlite"
TRUTH_NAME = "truth.json"
FAST_BLOCK_S = 30.0
FAST_KEYFRAME_S = 5.0
HOME_TOLERANCE_M = 5.0
FIX_WAIT_S = 1.0  # sensors run this long before preflight, so there is a GNSS fix to check


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
    investigate: bool = True,
    progress: Callable[[float, float], None] | None = None,
    control: Callable[[DirectAutopilot], bool] | None = None,
    gnss_hz: float = GNSS_HZ,
) -> SimulationResult:
    """Run the scenario's mission from home back to home; ``speedup=None`` runs as fast as it can.

    With ``investigate`` the supervisor may send the boat back to look at an anomaly the live
    analyser raises; without it the patrol runs the planned route only. ``control`` is called
    between blocks with the boat's autopilot, so an operator can command it (HOLD, RTL ...) from
    another thread; it returns True to end the patrol there. A paced run (``speedup`` given) puts each
    record in the log when the wall clock reaches its patrol time and calls ``progress`` after each
    (riverpatrol.pacing); the log's ``paced`` metadata says when patrol time 0 was on the wall clock.
    ``gnss_hz`` is the twin's GNSS fix rate (at least 5 Hz, at most one fix a control tick).
    """
    log_path, truth_path = prepare_outputs(out_dir, overwrite)
    started = time.perf_counter()
    twin = RiverTwin(scenario, keyframe_s=keyframe_s or (FAST_KEYFRAME_S if speedup is None else 1.0), gnss_hz=gnss_hz)
    pilot = DirectAutopilot(twin.autopilot)
    supervisor = patrol_supervisor(scenario, pilot, investigate=investigate)
    river = supervisor.river
    live = LiveAnalyser(river, scenario.sensors.sonde.model_dump())
    avoidance = patrol_avoidance(scenario, pilot, supervisor)
    expected_s = supervisor.planned_s
    counts = {"position": 0, "sonde": 0, "ranging": 0, "sonar": 0, "frame": 0, "event": 0}
    clock: PatrolClock | None = None  # a paced run's, from when its first block is ready
    with PatrolLogWriter(log_path, twin_log_metadata(twin), max_bytes=max_log_bytes) as log:
        log.event(0.0, "patrol_start", pattern=scenario.mission.pattern, waypoints=len(supervisor.route))
        block_s = FAST_BLOCK_S if speedup is None else paced_block_s(speedup)

        def commit(sensed: SensedBatch, logged: list[MissionEvent], now: float) -> None:
            with log.batch():
                write_sensed(log, sensed, counts)
                log.events([(e.t, e.kind, e.detail) for e in logged])
            counts["event"] += len(logged)
            if progress:
                progress(now, expected_s)

        duration_s = FIX_WAIT_S
        blocks: list[TickBlock] = []  # navigated scan by scan while something is near ...
        navigation: list[Navigation] = []
        events: list[MissionEvent] = []
        while twin.time < scenario.boat.endurance_s:  # the battery's end stops everything
            block = twin.advance(duration_s)
            nav = twin.navigation(block)
            blocks.append(block)
            navigation.append(nav)
            events += pilot.events()
            events += avoidance.observe(nav.positions, nav.scan_t, nav.scan_heading, nav.scans,
                                        twin.ranging.increment_deg, twin.ranging.max_cm)
            duration_s = avoidance.next_block_s(block_s)  # scan by scan while anything is near
            grouped = blocks[-1].t[-1] - blocks[0].t[0] + TICK_S
            if grouped < block_s and supervisor.phase is not Phase.PREFLIGHT \
                    and not any(e.kind == "mission_complete" for e in events):
                continue
            # ... and sensed, supervised and logged a block at a time
            sensed = twin.payload(TickBlock.concat(blocks), Navigation.concat(navigation))
            fix, signals = _listen(live, sensed, river)
            events += supervisor.update(twin.time, fix, events, signals)
            if speedup is None:
                commit(sensed, events, twin.time)
            else:
                if clock is None:
                    clock = PatrolClock(time.time(), speedup)
                    log.set_meta("paced", asdict(clock))
                release(clock, twin.time, sensed, events, commit)
            blocks, navigation, events = [], [], []
            if supervisor.done or (control is not None and control(pilot)):
                break
        complete = supervisor.completed
        log.event(twin.time, "patrol_end", mission_complete=complete)
    home_x, home_y = twin.autopilot.home
    at_home = ((twin.boat.x - home_x) ** 2 + (twin.boat.y - home_y) ** 2) ** 0.5 <= HOME_TOLERANCE_M
    truth = twin.truth.document(mission_complete=complete and at_home)
    write_json(truth_path, truth)
    return SimulationResult(log_path, truth_path, truth, twin.time, time.perf_counter() - started, counts)


def _listen(live: LiveAnalyser, batch: SensedBatch, river: RiverFrame) -> tuple[tuple[float, float] | None, list[AnomalySignal]]:
    """The boat's latest GNSS fix (local metres) and the live analyser's signals over a batch."""
    p = batch.positions
    fixes = [Position(t=float(t), lon=float(lon), lat=float(lat), sog_mps=float(sog), cog_deg=float(cog),
                      heading_deg=float(h))
             for t, lon, lat, sog, cog, h in zip(p["t"], p["lon"], p["lat"], p["sog"], p["cog"], p["heading"])]
    names = list(batch.sonde)
    columns = [batch.sonde[name].tolist() for name in names]
    signals = []
    fix_index = 0
    for k, t in enumerate(batch.sonde_t.tolist()):
        while fix_index < len(fixes) and fixes[fix_index].t <= t:
            live.position(fixes[fix_index])
            fix_index += 1
        signal = live.sample(SondeSample(t=t, values={name: column[k] for name, column in zip(names, columns)}))
        if signal is not None:
            signals.append(signal)
    for fix in fixes[fix_index:]:
        live.position(fix)
    return local_fix(river, fixes[-1] if fixes else None), signals


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
