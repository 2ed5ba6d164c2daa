"""The boat-side process: the autopilot followed, every instrument polled, one patrol log written.

With an autopilot, each new fix and every autopilot event is logged; on a patrol the boat side's
autonomy (``autonomy/patrol.py``, as in ``simulate``) drives the river file's mission through it:
the supervisor, the avoidance on the autopilot's OBSTACLE_DISTANCE rings, and investigations of
what the live analyser finds in this process's own sonde samples. The patrol ends when the
supervisor is done. Each
instrument runs at its configured rate on an asyncio task of its own, with its own timeout,
so a dead or slow device delays nobody else; the camera, whose PyAV reads block, runs on a thread.
Records gather in memory and go into the log through ``PatrolLogWriter`` once per ``flush_s``, one
transaction each, so a crash loses at most that much.

What the log shows about instruments:
- ``instrument_down`` (instrument, error) when one stops answering, ``instrument_up`` (instrument,
  down_s) when it is back: the gap between them is a gap in its records, which the analysis's QC
  flags (B) on the first sample after it;
- ``sonde_flag`` (flags, device) for a sample whose device quality code is not a normal reading:
  the value is stored as missing (NaN) and the device's own value and code are kept in the event,
  so nothing the sonde said is lost and nothing doubtful reaches the statistics;
- ``protocol_errors`` (instrument, frames) when Ping frames fail their checksum or length: they
  are skipped, the stream goes on;
- ``depth`` (depth_m, confidence) from the echosounder;
- ``boat_error`` (job, error) when a part of the process fails for good: the patrol ends there,
  the log is closed cleanly and ``run`` raises ``BoatError``.
The meta ``camera`` (size, field of view, eye height) is written with the first frame.
Times are the autopilot's clock when the process has an autopilot, else seconds on the boat's
monotonic clock since the process started.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, Protocol, cast

import numpy as np

from riverpatrol.autonomy.patrol import LinkedAutopilot, PatrolAutonomy
from riverpatrol.boat.config import BoatConfig
from riverpatrol.instruments.camera import StreamCamera
from riverpatrol.instruments.errors import InstrumentError
from riverpatrol.instruments.registermap import SondeReading
from riverpatrol.instruments.sonar import OmniscanPair, Ping1DEcho
from riverpatrol.instruments.sonde import ModbusLink, ModbusSonde
from riverpatrol.instruments.units import CANONICAL
from riverpatrol.patrollog import PatrolLogWriter
from riverpatrol.records import Frame, MissionEvent, Position, SonarPing, SondeSample
from riverpatrol.scenario import Scenario

_RETRY_S = 1.0  # a device that is down is tried again this often
_SONAR_DRAIN_S = 0.1
_SHUTDOWN_S = 10.0  # longest wait for the jobs to stop (the camera thread may be mid-read)

Report = Callable[[str], None]


class BoatError(RuntimeError):
    """A part of the boat process failed in a way it cannot ride out; the log was closed cleanly."""


class AutopilotFeed(Protocol):
    """What the boat process reads of the autopilot interface: its clock, fixes and events (on a
    patrol it is a ``LinkedAutopilot``, commanded through the full interface)."""

    @property
    def time(self) -> float: ...
    def position(self) -> Position | None: ...
    def events(self) -> list[MissionEvent]: ...


@dataclass
class BoatSummary:
    duration_s: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: {"position": 0, "sonde": 0, "sonar": 0, "frame": 0, "depth": 0,
                                                              "event": 0})
    outages: dict[str, int] = field(default_factory=dict)


class _Buffer:
    """Records waiting for the next flush."""

    def __init__(self) -> None:
        self.positions: list[Position] = []
        self.sonde: list[tuple[float, dict[str, float]]] = []
        self.pings: list[SonarPing] = []
        self.frames: list[Frame] = []
        self.events: list[tuple[float, str, dict[str, Any]]] = []


class _Health:
    """Up/down state of one instrument: a transition is an event, a steady state is silence."""

    def __init__(self, name: str, process: BoatProcess) -> None:
        self.name = name
        self._process = process
        self._down_since: float | None = None

    def failed(self, error: str) -> None:
        if self._down_since is None:
            self._down_since = self._process.now()
            self._process.event("instrument_down", instrument=self.name, error=error)
            self._process.summary.outages[self.name] = self._process.summary.outages.get(self.name, 0) + 1
            self._process.report(f"{self.name} down: {error}")

    def ok(self) -> None:
        if self._down_since is not None:
            down = self._process.now() - self._down_since
            self._down_since = None
            self._process.event("instrument_up", instrument=self.name, down_s=round(down, 3))
            self._process.report(f"{self.name} back after {down:.1f} s")


class BoatProcess:
    """Runs the configured instruments (and, given one, follows the autopilot) into one patrol log
    until stopped, ``duration_s`` is up or the patrol is done."""

    def __init__(self, config: BoatConfig, river: Scenario, *, autopilot: AutopilotFeed | None = None,
                 patrol: bool = False, report: Report = lambda _: None,
                 clock: Callable[[], float] = time.monotonic, speedup: float = 1.0) -> None:
        """``clock`` paces the polls (wall seconds). Records are dated by the autopilot's clock when
        there is one, so fixes and instrument records share one time base, else by the seconds since
        start on ``clock``. ``speedup`` is that of a twin running faster than real time: rates stay
        what the config says, in the twin's seconds, and polls come ``speedup`` times as often.
        With ``patrol`` the boat side patrols the river file's mission through ``autopilot`` (a
        ``LinkedAutopilot``), investigating what its sonde finds if it has one, and the run ends
        when the patrol does."""
        if patrol and autopilot is None:
            raise ValueError("a patrol needs an autopilot")
        self.config = config
        self.river = river
        self.report = report
        self._clock = clock
        self._autopilot = autopilot
        self._patrol = patrol
        self._autonomy: PatrolAutonomy | None = None  # built with the log's sonde metadata
        self._speedup = speedup
        self._stop = asyncio.Event()
        t0 = clock()
        self._stamp: Callable[[], float] = (lambda: autopilot.time) if autopilot else (lambda: clock() - t0)
        self._buffer = _Buffer()
        self.summary = BoatSummary()
        self._sonde_params: tuple[str, ...] = ()
        self._frame_size: tuple[int, int] | None = None

    def now(self) -> float:
        """The time records are stamped with."""
        return self._stamp()

    def event(self, kind: str, **detail: Any) -> None:
        self._buffer.events.append((self.now(), kind, detail))

    async def run(self, stop: asyncio.Event | None = None) -> BoatSummary:
        stop = self._stop = stop or asyncio.Event()
        config = self.config
        config.patrol.log.parent.mkdir(parents=True, exist_ok=True)
        meta = self._meta()
        if self._patrol:
            pilot = cast(LinkedAutopilot, self._autopilot)
            looks = config.sonde is not None and config.patrol.investigate
            self._autonomy = PatrolAutonomy.for_scenario(self.river, pilot, meta["sensors"]["sonde"] if looks else None)
        with PatrolLogWriter(config.patrol.log, meta) as log:
            self.event("patrol_start", instruments=[n for n in ("sonde", "sonar", "echosounder", "camera")
                                                    if getattr(config, n) is not None])
            tasks = {asyncio.create_task(job, name=name) for name, job in self._jobs(stop)}
            tasks.add(asyncio.create_task(self._flush_every(log, config.patrol.flush_s), name="log"))
            waiter = asyncio.create_task(stop.wait())
            failed: BaseException | None = None
            try:
                done, _ = await asyncio.wait({waiter, *tasks}, timeout=config.patrol.duration_s,
                                             return_when=asyncio.FIRST_COMPLETED)
                failed = next((t for t in done if t is not waiter and not t.cancelled() and t.exception()), None)
                if failed is not None:  # a job cannot go on: end the patrol cleanly, then say why
                    self.event("boat_error", job=failed.get_name(), error=repr(failed.exception()))
            finally:
                stop.set()
                for task in (waiter, *tasks):
                    task.cancel()
                # a driver that swallows its cancellation must not keep the log from closing
                await asyncio.wait({waiter, *tasks}, timeout=_SHUTDOWN_S)
                autonomy = self._autonomy
                self.event("patrol_end", **({"mission_complete": autonomy.supervisor.completed,
                                             "skipped_rings": autonomy.skipped_rings} if autonomy else {}))
                self._flush(log)
                self.summary.duration_s = self.now()
        if failed is not None:
            raise BoatError(f"{failed.get_name()} stopped the patrol: {failed.exception()}") from failed.exception()
        return self.summary

    def _meta(self) -> dict[str, Any]:
        """What analysis needs from a real boat: its river map, hydrology, instruments. No truth."""
        river, config = self.river, self.config
        sonde: dict[str, Any] = {"rate_hz": river.sensors.sonde.rate_hz, "params": {}}
        if config.sonde is not None:
            mapped = _map_parameters(config.sonde.register_map())
            known = river.sensors.sonde.params
            self._sonde_params = tuple(p for p in mapped if p in known)
            sonde = {"rate_hz": config.sonde.rate_hz,
                     "params": {p: known[p].model_dump() for p in self._sonde_params}}
        meta: dict[str, Any] = {
            "source": "riverpatrol boat",
            "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "river": river.river.model_dump(),
            "boat": river.boat.model_dump(),
            "sensors": {**river.sensors.model_dump(), "sonde": sonde},
            "mission": river.mission.model_dump(),
            "instruments": config.model_dump(mode="json", exclude={"patrol"}),
        }
        return meta

    def _jobs(self, stop: asyncio.Event) -> list[tuple[str, Coroutine[Any, Any, None]]]:
        c = self.config
        jobs: list[tuple[str, Coroutine[Any, Any, None]]] = []
        if self._autopilot is not None:
            rate_hz = c.autopilot.position_hz if c.autopilot else 5.0
            if self._patrol:  # a look at the link for each ranging ring
                rate_hz = max(rate_hz, self.river.sensors.obstacle_ranging.rate_hz)
            jobs.append(("autopilot", self._follow_autopilot(rate_hz)))
        if c.sonde is not None:
            jobs.append(("sonde", self._poll_sonde()))
        if c.sonar is not None:
            jobs.append(("sonar", self._stream_sonar()))
        if c.echosounder is not None:
            jobs.append(("echosounder", self._poll_echosounder()))
        if c.camera is not None:
            jobs.append(("camera", self._watch_camera(stop)))
        return jobs

    async def _every(self, period_s: float, poll: Callable[[], Any], health: _Health, budget_s: float) -> None:
        """Call ``poll`` every ``period_s`` of record time (the autopilot's clock, when there is one:
        a twin that runs slow or stalls is sampled at its own pace, never twice at one instant);
        a failure is reported once and retried each ``_RETRY_S``. ``budget_s`` is wall time."""
        due = self.now()
        while not self._stop.is_set():  # as well as cancellation: wait_for may swallow a cancel
            ahead = due - self.now()
            if ahead > 0:
                await asyncio.sleep(min(ahead, period_s) / self._speedup)
                continue
            try:
                await asyncio.wait_for(poll(), budget_s)
            except (InstrumentError, TimeoutError) as exc:
                health.failed(str(exc) or f"{health.name}: no answer within {budget_s:g} s")
                due = max(due + period_s, self.now() + _RETRY_S)
            else:
                health.ok()
                due = max(due + period_s, self.now())  # a slow poll skips ticks, never bunches them

    async def _follow_autopilot(self, rate_hz: float) -> None:
        """Each new fix and every autopilot event, polled from the autopilot interface; on a patrol
        the autonomy takes its look at the link too and its events join the log."""
        autopilot, autonomy, last = self._autopilot, self._autonomy, -math.inf
        assert autopilot is not None
        while not self._stop.is_set():
            fix = autopilot.position()
            if fix is not None and fix.t > last:
                last = fix.t
                self._buffer.positions.append(fix)
            if autonomy is not None:
                events = autonomy.step(cast(LinkedAutopilot, autopilot))
            else:
                events = autopilot.events()
            self._buffer.events.extend((e.t, e.kind, e.detail) for e in events)
            if autonomy is not None and autonomy.done:
                self._stop.set()
                return
            await asyncio.sleep(1.0 / (rate_hz * self._speedup))

    async def _poll_sonde(self) -> None:
        c = self.config.sonde
        assert c is not None
        link = ModbusLink(c.protocol, c.address, c.device_id, c.timeout_s, c.retries, c.baudrate, c.parity, c.stopbits)
        sonde = ModbusSonde("sonde", link, c.register_map(), word_order=c.word_order, byte_order=c.byte_order)

        async def poll() -> None:
            self._sample(await sonde.read())

        try:
            await self._every(1.0 / c.rate_hz, poll, _Health("sonde", self), c.timeout_s * (c.retries + 1) + 0.5)
        finally:
            sonde.close()

    def _sample(self, reading: SondeReading) -> None:
        t = self.now()
        values = {p: reading.values.get(p, math.nan) for p in self._sonde_params}
        doubtful = {p: reading.flags[p] for p in self._sonde_params if reading.flags.get(p, "N") != "N"}
        if doubtful:
            device = {p: _plain(reading.device.get(p)) for p in doubtful}
            self._buffer.events.append((t, "sonde_flag", {"flags": doubtful, "device": device,
                                                          "status": _plain(reading.device.get("status"))}))
            for p in doubtful:
                values[p] = math.nan
        self._buffer.sonde.append((t, values))
        if self._autonomy is not None:
            self._autonomy.sample(SondeSample(t, values))

    async def _stream_sonar(self) -> None:
        c = self.config.sonar
        assert c is not None
        pair = OmniscanPair("sonar", c.port, c.starboard, range_m=c.range_m, bins=c.bins, ping_hz=c.ping_hz,
                            timeout_s=c.timeout_s, gain_db=c.gain_db, stamp=self.now)
        await pair.start()

        seen_errors = 0

        async def drain() -> None:
            nonlocal seen_errors
            if pair.errors > seen_errors:  # garbage or failed checksums: said, skipped, not fatal
                self.event("protocol_errors", instrument="sonar", frames=pair.errors - seen_errors)
                self.report(f"sonar: {pair.errors - seen_errors} bad Ping frame(s) skipped")
                seen_errors = pair.errors
            self._buffer.pings.extend(pair.drain())

        try:
            await self._every(_SONAR_DRAIN_S, drain, _Health("sonar", self), c.timeout_s + 1.0)
        finally:
            pair.close()

    async def _poll_echosounder(self) -> None:
        c = self.config.echosounder
        assert c is not None
        echo = Ping1DEcho("echosounder", c.address, timeout_s=c.timeout_s)
        await echo.start()

        async def poll() -> None:
            depth, confidence = await echo.read()
            self.event("depth", depth_m=round(depth, 3), confidence=round(confidence, 2))
            self.summary.counts["depth"] += 1

        try:
            await self._every(1.0 / c.rate_hz, poll, _Health("echosounder", self), c.timeout_s + 0.5)
        finally:
            echo.close()

    async def _watch_camera(self, stop: asyncio.Event) -> None:
        """PyAV blocks: the stream is read on a thread that hands frames and failures to the loop."""
        c = self.config.camera
        assert c is not None
        camera = StreamCamera("camera", c.url, keyframe_s=c.keyframe_s, timeout_s=c.timeout_s, clock=self.now)
        health = _Health("camera", self)
        loop = asyncio.get_running_loop()
        halt = threading.Event()

        def read() -> None:
            while not halt.is_set():
                try:
                    for frame in camera.keyframes():
                        loop.call_soon_threadsafe(self._frame, frame, health)
                        if halt.is_set():
                            return
                except InstrumentError as exc:
                    loop.call_soon_threadsafe(health.failed, str(exc))
                halt.wait(_RETRY_S)

        reader = threading.Thread(target=read, name="camera", daemon=True)
        reader.start()
        try:
            await stop.wait()
        finally:
            halt.set()
            await asyncio.to_thread(reader.join, c.timeout_s + _RETRY_S + 1.0)

    def _frame(self, frame: Frame, health: _Health) -> None:
        health.ok()
        self._buffer.frames.append(frame)

    async def _flush_every(self, log: PatrolLogWriter, period_s: float) -> None:
        while not self._stop.is_set():
            await asyncio.sleep(period_s)
            self._flush(log)

    def _flush(self, log: PatrolLogWriter) -> None:
        """Everything buffered into the log in one transaction (kept or lost whole)."""
        buf, self._buffer = self._buffer, _Buffer()
        counts = self.summary.counts
        with log.batch():
            if buf.positions:
                p = buf.positions
                log.positions([f.t for f in p], [f.lon for f in p], [f.lat for f in p], [f.sog_mps for f in p],
                              [f.cog_deg for f in p], [f.heading_deg for f in p])
            if buf.sonde:
                t = [s[0] for s in buf.sonde]
                log.sonde(t, {p: [s[1][p] for s in buf.sonde] for p in self._sonde_params})
            for (ping_range, _), run in groupby(buf.pings, key=lambda p: (p.range_m, p.port.size)):
                pings = list(run)  # one range and bin count: one call
                log.pings([p.t for p in pings], ping_range, np.stack([p.port for p in pings]),
                          np.stack([p.starboard for p in pings]))
            if buf.frames and not self._frame_size:  # the camera's geometry, known from its first frame
                self._frame_size = (buf.frames[0].width, buf.frames[0].height)
                camera = self.config.camera
                assert camera is not None
                log.set_meta("camera", {"width": self._frame_size[0], "height": self._frame_size[1],
                                        "hfov_deg": camera.hfov_deg, "eye_height_m": camera.eye_height_m})
            for (width, height), run in groupby(buf.frames, key=lambda f: (f.width, f.height)):
                frames = list(run)
                log.frames([f.t for f in frames], width, height, [f.jpeg for f in frames])
            log.events([(t, kind, _plain(detail)) for t, kind, detail in buf.events])
        counts["position"] += len(buf.positions)
        counts["sonde"] += len(buf.sonde)
        counts["sonar"] += len(buf.pings)
        counts["frame"] += len(buf.frames)
        counts["event"] += len(buf.events)


def _map_parameters(regmap: Any) -> tuple[str, ...]:
    """Canonical parameters a register map can deliver, in the contract's order."""
    named = {slot.parameter for block in regmap.blocks for slot in block.values}
    named |= {p.parameter for p in regmap.parameters.values()}
    return tuple(p for p in CANONICAL if p in named)


def _plain(value: Any) -> Any:
    """Strict JSON for an event: NaN and infinities become null, nested dicts follow."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
