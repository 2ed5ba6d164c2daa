"""Patrols of boats the station attaches to by MAVLink URL: connect, record, command, detach.

An attached boat may already be running its own mission: the station watches it, and pause,
resume and abort send HOLD, AUTO and RTL. Asked to, it starts the patrol of a scenario's route
itself (upload, arm, start). Nothing is stored until the boat has answered with its heartbeat, so
a bad URL or a silent link leaves no patrol behind. A worker thread writes what arrives into the
patrol's log and reads it forward with the same ``LogTail`` as a twin patrol: stored, published,
and analysed when the operator detaches (when the log carries a river map).
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riverpatrol.autonomy.routes import mission_items, plan_route
from riverpatrol.patrollog import PatrolLog, PatrolLogWriter
from riverpatrol.scenario import Scenario
from riverpatrol.simulate import LOG_NAME, log_metadata
from riverpatrol.station import models
from riverpatrol.station.ingest import LogTail, new_patrol_dir
from riverpatrol.station.live import Hub
from riverpatrol.station.mavlink_log import TAPPED, MavlinkRecorder
from riverpatrol.station.patrols import COMMANDS, CommandRefused, announce_status, store_analysis, store_and_publish
from riverpatrol.station.store import Store
from riverpatrol.vehicle.autopilot import AutopilotError
from riverpatrol.vehicle.link import LinkError
from riverpatrol.vehicle.mavlink_client import MavlinkAutopilot

HEARTBEAT_TIMEOUT_S = 10.0
READ_EVERY_S = 0.25  # wall time between passes of the link into the log, the store and the feed
LATE_S = 1.0  # autopilot seconds a message may trail the newest one and still be read in order
_log = logging.getLogger(__name__)


class AttachFailed(ValueError):
    """The URL cannot be opened, or the boat did not answer; nothing was stored."""


@dataclass
class _Attached:
    patrol_id: int
    pilot: MavlinkAutopilot
    inbox: queue.Queue[Any]
    log_path: Path
    status: str = "running"
    stop: threading.Event = field(default_factory=threading.Event)
    shutting_down: bool = False
    thread: threading.Thread | None = None


class AttachedBoats:
    """The boats this station is attached to, by patrol id."""

    def __init__(self, store: Store, hub: Hub) -> None:
        self.store, self.hub = store, hub
        self._boats: dict[int, _Attached] = {}
        self._lock = threading.Lock()

    def attach(self, url: str, *, name: str | None = None, scenario: Scenario | None = None, start: bool = False,
               timeout_s: float = HEARTBEAT_TIMEOUT_S) -> int:
        """Connect, wait for the heartbeat, store the patrol and start watching; returns its id."""
        if start and scenario is None:
            raise AttachFailed("starting a patrol needs a scenario: its route is the mission")
        try:
            pilot = MavlinkAutopilot(url)
        except LinkError as exc:
            raise AttachFailed(str(exc)) from None
        inbox = pilot.tap(*TAPPED)
        try:
            pilot.wait_heartbeat(timeout_s)
            if start and scenario is not None:
                _start_route(pilot, scenario)
            patrol_id, log_path = self._store_patrol(url, name, scenario)
        except AutopilotError as exc:
            pilot.close()
            raise AttachFailed(f"{url}: {exc}") from None
        except BaseException:
            pilot.close()
            raise
        boat = _Attached(patrol_id, pilot, inbox, log_path)
        boat.thread = threading.Thread(target=self._work, args=(boat,), name=f"attached-{patrol_id}", daemon=True)
        with self._lock:
            self._boats[patrol_id] = boat
        boat.thread.start()
        return patrol_id

    def attached(self) -> list[int]:
        with self._lock:
            return [pid for pid, boat in self._boats.items() if boat.thread and boat.thread.is_alive()]

    def command(self, patrol_id: int, command: str) -> str:
        """Pause, resume or abort at once over MAVLink; returns the status it leads to."""
        boat = self._boat(patrol_id)
        mode, status = COMMANDS[command]
        try:
            boat.pilot.set_mode(mode)
        except AutopilotError as exc:
            raise CommandRefused(f"the boat refused {command}: {exc}") from None
        self._set_status(boat, status)
        return status

    def detach(self, patrol_id: int, timeout_s: float | None = 60.0) -> None:
        """Stop watching: what arrived is stored, then analysed; the patrol ends ``detached``."""
        boat = self._boat(patrol_id)
        boat.stop.set()
        if boat.thread:
            boat.thread.join(timeout_s)

    def shutdown(self) -> None:
        """The station stops: every attached patrol ends ``interrupted``, what arrived kept."""
        with self._lock:
            boats = list(self._boats.values())
        for boat in boats:
            boat.shutting_down = True
            boat.stop.set()
        for boat in boats:
            if boat.thread:
                boat.thread.join(30.0)

    def _boat(self, patrol_id: int) -> _Attached:
        with self._lock:
            boat = self._boats.get(patrol_id)
        if boat is None or boat.thread is None or not boat.thread.is_alive() or boat.stop.is_set():
            raise CommandRefused(f"patrol {patrol_id} is not a boat this station is attached to")
        return boat

    def _store_patrol(self, url: str, name: str | None, scenario: Scenario | None) -> tuple[int, Path]:
        """The patrol row and its log (created with its header; the worker appends), together or
        not at all."""
        meta = {**(log_metadata(scenario) if scenario else
                   {"started_utc": datetime.now(UTC).isoformat(timespec="seconds")}),
                "source": "mavlink", "link": url}
        out: Path | None = None
        try:
            with self.store.session() as session:
                patrol = models.Patrol(name=name or (scenario.name if scenario else url), source="mavlink",
                                       status="running", started_utc=meta["started_utc"], meta=meta)
                session.add(patrol)
                session.flush()
                out = new_patrol_dir(patrol.id).resolve()
                patrol.log_path = str(out / LOG_NAME)
                patrol.products_dir = str(out / "analysis")
                PatrolLogWriter(out / LOG_NAME, meta).close()
                return patrol.id, out / LOG_NAME
        except BaseException:
            if out is not None:
                shutil.rmtree(out, ignore_errors=True)
            raise

    # ---- the worker ----------------------------------------------------------------------------
    def _work(self, boat: _Attached) -> None:
        log = PatrolLogWriter.attach(boat.log_path)  # SQLite connections stay in their thread
        recorder = MavlinkRecorder(log)
        tail = LogTail(PatrolLog(boat.log_path))
        try:
            while True:
                final = boat.stop.wait(READ_EVERY_S)
                recorder.record(_drain(boat.inbox), boat.pilot.scans(), boat.pilot.events(), final=final)
                until = None if final else recorder.newest - LATE_S
                if until is None or until > tail.t:
                    store_and_publish(self.store, self.hub, boat.patrol_id, tail.read(until), boat.status, time.time())
                if final:
                    break
        except Exception as exc:  # the patrol failed: keep what arrived, say why
            _log.exception("attached patrol %s failed", boat.patrol_id)
            self._close(boat, log, tail)
            self._set_status(boat, "failed", error=f"{type(exc).__name__}: {exc}")
            return
        self._close(boat, log, tail)
        if boat.shutting_down:
            self._set_status(boat, "interrupted")
        else:
            self._set_status(boat, "detached", error=self._analyse(boat))

    def _analyse(self, boat: _Attached) -> str | None:
        """Findings and segments when the log carries a river map; the reason when it cannot."""
        path = boat.log_path
        with PatrolLog(path) as log:
            if "river" not in log.meta:
                return None  # no map of the river: a track and its samples, nothing to place them on
        return store_analysis(self.store, boat.patrol_id, path)

    @staticmethod
    def _close(boat: _Attached, log: PatrolLogWriter, tail: LogTail) -> None:
        boat.pilot.close()
        tail.log.close()
        log.close()

    def _set_status(self, boat: _Attached, status: str, error: str | None = None) -> None:
        boat.status = status
        announce_status(self.store, self.hub, boat.patrol_id, status, error)


def _start_route(pilot: MavlinkAutopilot, scenario: Scenario) -> None:
    """The scenario's planned route as the boat's mission, armed and started."""
    river, m = scenario.river_frame(), scenario.mission
    route = plan_route(river, m.pattern, m.from_chainage_m, m.to_chainage_m, m.bank_offset_m)
    pilot.upload_mission(mission_items(river, route, scenario.boat.cruise_speed_mps))
    pilot.arm()
    pilot.start_mission()


def _drain(inbox: queue.Queue[Any]) -> list[Any]:
    out = []
    while True:
        try:
            out.append(inbox.get_nowait())
        except queue.Empty:
            return out
