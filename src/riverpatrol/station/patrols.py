"""Patrols the station runs: a scenario's patrol in the twin, in a process of its own, ingested live.

A worker thread per patrol starts the twin's process (``twin_process``), which runs
``riverpatrol.simulate.simulate`` at the chosen speedup, commits each record to the log when the
patrol clock reaches its time and says so over a pipe; the log is then read forward at once (the
same ``LogTail`` as import), stored, and published to the live feed and the video feed. Operator
commands (pause = HOLD, resume = AUTO, abort = RTL) go down the pipe to the boat's autopilot, applied
after its next control tick; an aborted patrol ends when the boat is home. When the patrol
ends the analysis runs and its findings are stored and announced.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from riverpatrol.patrollog import PatrolLog, PatrolLogError
from riverpatrol.scenario import Scenario
from riverpatrol.pacing import PatrolClock
from riverpatrol.simulate import log_metadata
from riverpatrol.station import models
from riverpatrol.station.ingest import LogTail, Window, new_patrol_dir, run_analysis, write_analysis, write_window
from riverpatrol.station.live import Hub, live_message
from riverpatrol.station.store import Store
from riverpatrol.station.twin_process import FINISH, run_twin
from riverpatrol.station.video import VideoFeed
from riverpatrol.vehicle.mission import Mode

VIDEO_FPS = 15.0  # camera frames per wall-clock second asked of the twin
GNSS_HZ = 10.0  # fixes a second: the live map moves at the control rate
LIVE_MAPS = ("conductivity", "nh3n", "do")
_UNDER_WAY = ("running", "paused", "returning")  # statuses a command can still change
_POLL_S = 0.05  # how long the worker waits for the twin before it looks at the operator's commands
COMMANDS = {"pause": (Mode.HOLD, "paused"), "resume": (Mode.AUTO, "running"), "abort": (Mode.RTL, "returning")}
_log = logging.getLogger(__name__)


class CommandRefused(ValueError):
    """A command that does not apply to the patrol as it is (not running, unknown command)."""


@dataclass
class _Run:
    patrol_id: int
    scenario: Scenario
    speedup: float
    out: Path
    video_fps: float
    status: str = "running"
    returned: bool = False  # an aborted boat has reached home
    finishing: bool = False  # the twin has been told to end the patrol
    commands: queue.Queue[str] = field(default_factory=queue.Queue)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class PatrolRunner:
    """Starts twin patrols and relays operator commands to them."""

    def __init__(self, store: Store, hub: Hub, video: VideoFeed) -> None:
        self.store, self.hub, self.video = store, hub, video
        self._runs: dict[int, _Run] = {}
        self._lock = threading.Lock()

    def start(self, scenario: Scenario, speedup: float, name: str | None = None, video_fps: float = VIDEO_FPS) -> int:
        """Store the new patrol and start it; returns its id at once."""
        with self.store.session() as session:
            patrol = models.Patrol(name=name or scenario.name, source="twin", status="running",
                                   meta=log_metadata(scenario))
            session.add(patrol)
            session.flush()
            out = new_patrol_dir(patrol.id).resolve()
            patrol.log_path = str(out / "patrol.sqlite")
            patrol.products_dir = str(out / "analysis")
            patrol_id = patrol.id
        run = _Run(patrol_id, scenario, speedup, out, video_fps)
        run.thread = threading.Thread(target=self._work, args=(run,), name=f"patrol-{patrol_id}", daemon=True)
        with self._lock:
            self._runs[patrol_id] = run
        run.thread.start()
        return patrol_id

    def command(self, patrol_id: int, command: str) -> str:
        """Queue pause, resume or abort; returns the status it leads to."""
        with self._lock:
            run = self._runs.get(patrol_id)
        if run is None or run.thread is None or not run.thread.is_alive() or run.status not in _UNDER_WAY:
            raise CommandRefused(f"patrol {patrol_id} is not running in this station")
        if command not in COMMANDS:
            raise CommandRefused(f"unknown command {command!r} (known: {', '.join(COMMANDS)})")
        run.commands.put(command)
        return COMMANDS[command][1]

    def running(self) -> list[int]:
        with self._lock:
            return [pid for pid, run in self._runs.items() if run.thread and run.thread.is_alive()]

    def wait(self, patrol_id: int, timeout_s: float | None = None) -> None:
        with self._lock:
            run = self._runs.get(patrol_id)
        if run and run.thread:
            run.thread.join(timeout_s)

    def shutdown(self) -> None:
        """Stop every patrol at its next block; what was received stays stored."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop.set()
        for run in runs:
            if run.thread:
                run.thread.join(30.0)

    # ---- the worker ----------------------------------------------------------------------------
    def _work(self, run: _Run) -> None:
        """Run the twin in its own process (``twin_process``) and ingest its log as it commits."""
        out = run.out
        tail: LogTail | None = None
        context = multiprocessing.get_context("spawn")  # a fork of a threaded server is unsafe
        conn, child_end = context.Pipe()
        twin = context.Process(target=run_twin, name=f"twin-{run.patrol_id}", daemon=True,
                               args=(child_end, run.scenario, out, run.speedup, run.speedup / run.video_fps, GNSS_HZ))
        try:
            twin.start()
            child_end.close()
            ended: tuple[str, object] | None = None
            while ended is None:
                self._relay(run, conn)
                if not conn.poll(_POLL_S):
                    if not twin.is_alive() and not conn.poll():
                        ended = ("failed", f"the twin's process ended (exit code {twin.exitcode})")
                    continue
                kind, value = conn.recv()
                if kind != "progress":
                    ended = (kind, value)
                    continue
                committed = time.time()  # the boat side has just committed everything up to ``value``
                if tail is None:
                    tail = LogTail(PatrolLog(out / "patrol.sqlite"))
                self._ingest(run, tail, tail.read(float(value)), committed)  # type: ignore[arg-type]
            if tail is None and (out / "patrol.sqlite").is_file():
                tail = LogTail(PatrolLog(out / "patrol.sqlite"))
            if tail is not None:
                self._ingest(run, tail, tail.read(None), time.time())
                tail.log.close()
            if ended[0] == "failed":  # the twin says why; what arrived stays
                _log.error("patrol %s failed: %s", run.patrol_id, ended[1])
                self._set_status(run, "failed", error=str(ended[1]))
            elif run.status == "stopped":  # the station is shutting down: no time for the analysis
                self._set_status(run, "interrupted")
            else:
                self._finish(run, "aborted" if run.status == "returning" else "finished", out / "patrol.sqlite")
        except Exception as exc:  # the station's side failed: keep what arrived, say why
            _log.exception("patrol %s failed", run.patrol_id)
            self._set_status(run, "failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()
            twin.join(10.0)
            if twin.is_alive():
                twin.kill()

    def _relay(self, run: _Run, conn: Connection) -> None:
        """Operator commands to the twin, and the end of the patrol once it is due."""
        while not run.commands.empty():
            mode, status = COMMANDS[run.commands.get()]
            conn.send(mode.name)
            self._set_status(run, status)
        if not run.finishing and (run.stop.is_set() or (run.status == "returning" and run.returned)):
            if run.stop.is_set():
                run.status = "stopped"
            conn.send(FINISH)
            run.finishing = True

    def _ingest(self, run: _Run, tail: LogTail, window: Window, committed_unix: float) -> None:
        store_and_publish(self.store, self.hub, run.patrol_id, window, run.status, committed_unix)
        if any(e["kind"] == "target_reached" and e["detail"].get("mode") == Mode.RTL.name for e in window.events):
            run.returned = True
        clock = PatrolClock(**tail.log.meta["paced"])  # when each record's time came on the boat side
        for frame in window.video:
            self.video.push(run.patrol_id, frame["t"], frame["jpeg"], clock.due(frame["t"]))

    def _finish(self, run: _Run, status: str, log_path: Path) -> None:
        self._set_status(run, status, error=store_analysis(self.store, run.patrol_id, log_path))

    def _set_status(self, run: _Run, status: str, error: str | None = None) -> None:
        run.status = status
        announce_status(self.store, self.hub, run.patrol_id, status, error)


def store_and_publish(store: Store, hub: Hub, patrol_id: int, window: Window, status: str,
                      committed_unix: float) -> None:
    """A window of a live patrol into the store, then (if it holds anything) onto its live feed:
    what a viewer is shown is already stored. ``committed_unix`` is when the boat side had it."""
    with store.session() as session:
        write_window(session, patrol_id, window)
    if not window.empty():
        message = live_message(patrol_id, window, status=status)
        message["committed_unix"] = committed_unix
        hub.publish(patrol_id, message)


def store_analysis(store: Store, patrol_id: int, log_path: Path) -> str | None:
    """Analyse a finished patrol's log and store its findings and segments; the reason if it cannot.

    Too little to analyse is not a failure of the patrol: what it recorded stands.
    """
    try:
        result, segments = run_analysis(log_path, log_path.parent / "analysis", LIVE_MAPS)
        with store.session() as session:
            write_analysis(session, patrol_id, result, segments)
    except (ValueError, PatrolLogError) as exc:
        return f"analysis: {exc}"
    return None


def announce_status(store: Store, hub: Hub, patrol_id: int, status: str, error: str | None = None) -> None:
    """A patrol's new status (and what went wrong) into the store, then onto its live feed."""
    with store.session() as session:
        patrol = session.get_one(models.Patrol, patrol_id)
        patrol.status = status
        if error:
            patrol.error = error[:2000]
    hub.publish(patrol_id, {"type": "status", "patrol": patrol_id, "status": status, "error": error})
