"""The autopilot interface over MAVLink 2: a real ArduPilot Rover boat or ``riverpatrol twin serve``.

One receive thread reads the link, keeps the vehicle state (mode, armed, mission item, position),
turns what happens into ``MissionEvent`` records and hands replies to whichever command waits for
them. It also sends the GCS heartbeat at 1 Hz and watches the vehicle's: silent for 5 s means the
link is lost (an event), the next heartbeat means it is back. Commands follow the MAVLink
microservices: COMMAND_LONG until COMMAND_ACK, the mission protocol with its timeouts and
retries, PARAM_REQUEST_READ until PARAM_VALUE. Broken frames and messages from other systems are
counted and skipped; nothing the link brings stops the thread.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from riverpatrol.interop.qgc_plan import Fence
from riverpatrol.records import MissionEvent, Position, RangeScan
from riverpatrol.vehicle.autopilot import AutopilotError
from riverpatrol.vehicle.link import drain, mavlink, open_link
from riverpatrol.vehicle.mavlink_items import BadItem, WireItem, decode, encode, fence_items, fences_from_items, home_item
from riverpatrol.vehicle.mission import MissionItem, Mode

HEARTBEAT_PERIOD_S = 1.0
LINK_LOST_AFTER_S = 5.0
MISSION_TIMEOUT_S = 1.5  # first reply to MISSION_COUNT / MISSION_REQUEST_LIST
MISSION_ITEM_TIMEOUT_S = 0.25  # each further item
MISSION_RETRIES = 5
COMMAND_TIMEOUT_S = 1.0
COMMAND_RETRIES = 5
GCS_SYSTEM = 255
GCS_COMPONENT = mavlink.MAV_COMP_ID_MISSIONPLANNER

# What the boat side asks for (Hz): position for navigation, ranging at its scan rate and the
# attitude as often, so each body-frame ring has the heading of its own instant.
STREAMS_HZ = {
    mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT: 5.0,
    mavlink.MAVLINK_MSG_ID_OBSTACLE_DISTANCE: 10.0,
    mavlink.MAVLINK_MSG_ID_ATTITUDE: 10.0,
    mavlink.MAVLINK_MSG_ID_MISSION_CURRENT: 1.0,
}
SCANS_KEPT = 100  # rings waiting for ``scans``: 10 s at 10 Hz
HEADING_FRESH_S = 1.0  # an attitude older than this (from the ring's time) gives no heading
_POSITION_ONLY = 0b110111111000  # SET_POSITION_TARGET type_mask: lat/lon used, the rest ignored
_VELOCITY_ONLY = 0b110111000111  # vx/vy/vz used


class MavlinkAutopilot:
    """``Autopilot`` over a MAVLink link; ``url`` as pymavlink takes it (udpin:, udpout:, tcp:, serial)."""

    def __init__(self, url: str, *, target_system: int = 1, target_component: int = 1,
                 signing_key: bytes | None = None, streams_hz: dict[int, float] | None = None) -> None:
        self._conn = open_link(url, system=GCS_SYSTEM, component=GCS_COMPONENT, signing_key=signing_key)
        self._target = (target_system, target_component)
        self._streams = STREAMS_HZ if streams_hz is None else streams_hz
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._waiters: list[tuple[Callable[[Any], bool], queue.Queue[Any], Callable[[Any], None] | None]] = []
        self._events: list[MissionEvent] = []
        self._taps: tuple[tuple[frozenset[str], queue.Queue[Any]], ...] = ()
        self._mode: Mode | None = None
        self._custom_mode = -1
        self._armed = False
        self._seq = 0
        self._mission_state = 0
        self._time = 0.0
        self._position_msg: Any = None
        self._attitude: tuple[float, float, float] | None = None  # t, yaw and yaw rate (deg, deg/s, clockwise)
        self._scans: deque[RangeScan] = deque(maxlen=SCANS_KEPT)
        self._last_heard: float | None = None
        self._next_beat = 0.0
        self._link_up = False
        self._heard_first = threading.Event()
        self.bad_packets = 0
        self.foreign_packets = 0
        self.received = 0
        self._running = True
        self._thread = threading.Thread(target=self._run, name="mavlink-link", daemon=True)
        self._thread.start()

    # ---- state -------------------------------------------------------------------------------
    @property
    def mode(self) -> Mode:
        return self._mode if self._mode is not None else Mode.HOLD

    @property
    def armed(self) -> bool:
        return self._armed

    @property
    def mission_seq(self) -> int:
        return self._seq

    @property
    def time(self) -> float:
        return self._time

    @property
    def link_up(self) -> bool:
        return self._link_up

    def position(self) -> Position | None:
        """From the latest GLOBAL_POSITION_INT, built when asked: most fixes are never looked at."""
        msg = self._position_msg
        return None if msg is None else position_of(msg)

    def scans(self) -> list[RangeScan]:
        """The OBSTACLE_DISTANCE rings received since the last call (the last ``SCANS_KEPT`` at most),
        oldest first; sector 0 of each is at its ``heading_deg`` (clockwise from north)."""
        out = []
        while self._scans:
            out.append(self._scans.popleft())
        return out

    def tap(self, *kinds: str) -> queue.Queue[Any]:
        """Every later message of these types from the vehicle, in arrival order: for a recorder
        that keeps them all (``position()`` gives only the latest)."""
        box: queue.Queue[Any] = queue.Queue()
        self._taps = (*self._taps, (frozenset(kinds), box))
        return box

    def events(self) -> list[MissionEvent]:
        with self._state_lock:
            out, self._events = self._events, []
        return out

    # ---- connection --------------------------------------------------------------------------
    def wait_heartbeat(self, timeout_s: float = 10.0) -> None:
        """Wait for the vehicle, then ask for the streams the boat side needs.

        A stream the autopilot cannot send (a real Rover reports ranging as DISTANCE_SENSOR, not
        OBSTACLE_DISTANCE) is a ``stream_refused`` event, not an error.
        """
        if not self._heard_first.wait(timeout_s):
            raise AutopilotError(f"no heartbeat from system {self._target[0]} within {timeout_s:g} s")
        for msg_id, hz in self._streams.items():
            try:
                self.set_message_interval(msg_id, hz)
            except AutopilotError as exc:
                self._event("stream_refused", message=_message_name(msg_id), reason=str(exc))

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=2.0)
        self._conn.close()

    def __enter__(self) -> MavlinkAutopilot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- commands ----------------------------------------------------------------------------
    def arm(self) -> None:
        self._command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1.0)

    def disarm(self) -> None:
        self._command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0.0)

    def set_mode(self, mode: Mode) -> None:
        self._command(mavlink.MAV_CMD_DO_SET_MODE, float(mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED), float(mode))

    def start_mission(self) -> None:
        self._command(mavlink.MAV_CMD_MISSION_START, 0.0, 0.0)

    def set_speed(self, speed_mps: float) -> None:
        self._command(mavlink.MAV_CMD_DO_CHANGE_SPEED, 1.0, speed_mps, -1.0)

    def set_message_interval(self, msg_id: int, hz: float) -> None:
        """Stream ``msg_id`` at ``hz`` (0 stops it)."""
        self._command(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, float(msg_id), 1e6 / hz if hz > 0 else -1.0)

    def guided_position(self, lon: float, lat: float) -> None:
        self._send(mavlink.MAVLink_set_position_target_global_int_message(
            int(self._time * 1000), *self._target, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, _POSITION_ONLY,
            round(lat * 1e7), round(lon * 1e7), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0))

    def guided_velocity(self, north_mps: float, east_mps: float) -> None:
        self._send(mavlink.MAVLink_set_position_target_global_int_message(
            int(self._time * 1000), *self._target, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, _VELOCITY_ONLY,
            0, 0, 0.0, north_mps, east_mps, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0))

    def param(self, name: str) -> float:
        request = mavlink.MAVLink_param_request_read_message(*self._target, name.encode(), -1)
        reply = self._exchange(request, lambda m: m.get_type() == "PARAM_VALUE" and m.param_id == name,
                               COMMAND_TIMEOUT_S, COMMAND_RETRIES, f"parameter {name}")
        return float(reply.param_value)

    def set_param(self, name: str, value: float) -> None:
        kind = mavlink.MAV_PARAM_TYPE_REAL32
        request = mavlink.MAVLink_param_set_message(*self._target, name.encode(), value, kind)
        reply = self._exchange(request, lambda m: m.get_type() == "PARAM_VALUE" and m.param_id == name,
                               COMMAND_TIMEOUT_S, COMMAND_RETRIES, f"setting {name}")
        if not math.isclose(reply.param_value, value, rel_tol=1e-6, abs_tol=1e-6):
            raise AutopilotError(f"setting {name}: the autopilot kept {reply.param_value}")

    def _command(self, command: int, *params: float) -> None:
        """COMMAND_LONG until COMMAND_ACK; retries carry an increasing confirmation, as the spec says."""
        name = _enum_name("MAV_CMD", command)
        p = [*params, *[0.0] * (7 - len(params))]
        with self._expect(lambda m: m.get_type() == "COMMAND_ACK" and m.command == command) as replies:
            for attempt in range(COMMAND_RETRIES + 1):
                self._send(mavlink.MAVLink_command_long_message(*self._target, command, attempt, *p))
                deadline = time.monotonic() + COMMAND_TIMEOUT_S
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        ack = replies.get(timeout=left)
                    except queue.Empty:
                        break
                    if ack.result == mavlink.MAV_RESULT_IN_PROGRESS:
                        deadline = time.monotonic() + COMMAND_TIMEOUT_S
                        continue
                    if ack.result != mavlink.MAV_RESULT_ACCEPTED:
                        raise AutopilotError(f"{name} {params}: {_enum_name('MAV_RESULT', ack.result)}")
                    return
        raise AutopilotError(f"{name}: no COMMAND_ACK after {COMMAND_RETRIES + 1} tries")

    # ---- missions ----------------------------------------------------------------------------
    def upload_mission(self, items: Sequence[MissionItem], mission_type: int = mavlink.MAV_MISSION_TYPE_MISSION) -> None:
        """MISSION_COUNT -> (MISSION_REQUEST_INT -> MISSION_ITEM_INT)* -> MISSION_ACK, home at seq 0."""
        wire = [encode(item) for item in items]
        if mission_type == mavlink.MAV_MISSION_TYPE_MISSION:
            here = self.position()
            wire.insert(0, home_item(here.lon, here.lat) if here else home_item(0.0, 0.0))
        self.upload_wire(wire, mission_type)
        if mission_type == mavlink.MAV_MISSION_TYPE_MISSION:
            self._event("mission_loaded", items=len(items))

    def upload_wire(self, wire: Sequence[WireItem], mission_type: int) -> None:
        """Upload items as they go on the wire (fence and rally items, or a mission with its home).

        The vehicle runs the old mission until it accepts the new one: a waypoint reached that the
        caller has not been handed by then counts in the old mission's numbers, and is dropped at
        the acceptance (the caller would read it as the new mission's item). A failed upload
        leaves it be.
        """
        def ours(m: Any) -> bool:
            return (m.get_type() in ("MISSION_REQUEST_INT", "MISSION_REQUEST", "MISSION_ACK")
                    and m.mission_type == mission_type)

        def answer(request: Any) -> None:
            """In the link thread: each requested item goes out at once, with no thread hand-off;
            the acceptance of a mission drops its predecessor's waypoint events before any of its own."""
            if request.get_type() == "MISSION_ACK":
                if request.type == mavlink.MAV_MISSION_ACCEPTED and mission_type == mavlink.MAV_MISSION_TYPE_MISSION:
                    with self._state_lock:
                        self._events = [e for e in self._events if e.kind != "waypoint_reached"]
            elif 0 <= request.seq < len(wire):
                last[0] = wire[request.seq].message(request.seq, mission_type, self._target,
                                                    as_int=request.get_type() == "MISSION_REQUEST_INT")
                self._send(last[0])

        what = f"mission upload ({len(wire)} items)"
        last: list[Any] = [mavlink.MAVLink_mission_count_message(*self._target, len(wire), mission_type)]
        with self._expect(ours, answer) as replies:
            timeout, tries = MISSION_TIMEOUT_S, 0
            self._send(last[0])
            while True:
                try:
                    reply = replies.get(timeout=timeout)
                except queue.Empty:
                    tries += 1
                    if tries > MISSION_RETRIES:
                        raise AutopilotError(f"{what}: no answer after {MISSION_RETRIES} retries") from None
                    self._send(last[0])
                    continue
                if reply.get_type() == "MISSION_ACK":
                    if reply.type == mavlink.MAV_MISSION_ACCEPTED:
                        return
                    if reply.type == mavlink.MAV_MISSION_INVALID_SEQUENCE:
                        continue  # a late duplicate crossed a retry; the autopilot asks again
                    raise AutopilotError(f"{what}: {_enum_name('MAV_MISSION_RESULT', reply.type)}")
                if not 0 <= reply.seq < len(wire):
                    raise AutopilotError(f"{what}: the autopilot asked for item {reply.seq}")
                timeout, tries = MISSION_ITEM_TIMEOUT_S, 0

    def download_mission(self) -> list[MissionItem]:
        """The mission items after home, as the autopilot holds them."""
        wire = self.download_wire(mavlink.MAV_MISSION_TYPE_MISSION)
        try:
            return [decode(w) for w in wire[1:]]
        except BadItem as bad:
            raise AutopilotError(f"mission download: {bad}") from None

    def upload_fence(self, fences: Sequence[Fence], tolerance_m: float = 1.0) -> None:
        """Geofence polygons (e.g. from a QGroundControl .plan) as the autopilot's fence,
        simplified within ``tolerance_m`` to the few vertices an autopilot stores."""
        self.upload_wire(fence_items(fences, tolerance_m), mavlink.MAV_MISSION_TYPE_FENCE)

    def download_fence(self) -> list[Fence]:
        return fences_from_items(self.download_wire(mavlink.MAV_MISSION_TYPE_FENCE))

    def download_wire(self, mission_type: int) -> list[WireItem]:
        def ours(m: Any) -> bool:
            return (m.get_type() in ("MISSION_COUNT", "MISSION_ITEM_INT", "MISSION_ACK")
                    and m.mission_type == mission_type)

        with self._expect(ours) as replies:
            count = self._await_mission(replies, mavlink.MAVLink_mission_request_list_message(*self._target, mission_type),
                                        "MISSION_COUNT", MISSION_TIMEOUT_S).count
            out: list[WireItem] = []
            for seq in range(count):
                request = mavlink.MAVLink_mission_request_int_message(*self._target, seq, mission_type)
                item = self._await_mission(replies, request, "MISSION_ITEM_INT", MISSION_ITEM_TIMEOUT_S, seq)
                out.append(WireItem.from_message(item))
            self._send(mavlink.MAVLink_mission_ack_message(*self._target, mavlink.MAV_MISSION_ACCEPTED, mission_type))
        return out

    def _await_mission(self, replies: queue.Queue[Any], request: Any, kind: str, timeout: float, seq: int | None = None) -> Any:
        for _ in range(MISSION_RETRIES + 1):
            self._send(request)
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                try:
                    reply = replies.get(timeout=left)
                except queue.Empty:
                    break
                if reply.get_type() == "MISSION_ACK":
                    raise AutopilotError(f"mission download: {_enum_name('MAV_MISSION_RESULT', reply.type)}")
                if reply.get_type() == kind and (seq is None or reply.seq == seq):
                    return reply
        raise AutopilotError(f"mission download: no {kind} after {MISSION_RETRIES} retries")

    # ---- the link thread ---------------------------------------------------------------------
    def _run(self) -> None:
        clock = time.monotonic
        while self._running:
            now = clock()
            if now >= self._next_beat:
                self._send(mavlink.MAVLink_heartbeat_message(mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID,
                                                             0, 0, mavlink.MAV_STATE_ACTIVE, 3))
                self._next_beat = now + HEARTBEAT_PERIOD_S
            self._watch_link(now)
            try:
                self._conn.select(0.05)
                for msg in drain(self._conn):
                    self._receive(msg)
                    if clock() >= self._next_beat:  # a flood of telemetry must not silence our heartbeat
                        break
            except OSError as exc:  # a serial adapter unplugged, a TCP peer gone: keep watching
                self._event("link_error", error=str(exc))
                time.sleep(HEARTBEAT_PERIOD_S)

    def _watch_link(self, now: float) -> None:
        if self._link_up and self._last_heard is not None and now - self._last_heard > LINK_LOST_AFTER_S:
            self._link_up = False
            self._event("link_lost", silent_s=round(now - self._last_heard, 1))

    def _receive(self, msg: Any) -> None:
        kind = msg.get_type()
        if kind == "BAD_DATA":
            self.bad_packets += 1
            return
        if msg.get_srcSystem() != self._target[0]:
            self.foreign_packets += 1
            return
        self.received += 1
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, msg)
        for kinds, box in self._taps:
            if kind in kinds:
                box.put(msg)
        if self._waiters:  # telemetry is the bulk and nobody waits for it: no lock on that path
            with self._state_lock:
                waiters = list(self._waiters)
            for predicate, box, answer in waiters:
                if predicate(msg):
                    if answer is not None:
                        answer(msg)
                    box.put(msg)

    def _on_heartbeat(self, msg: Any) -> None:
        if msg.get_srcComponent() != self._target[1]:
            return
        self._last_heard = time.monotonic()
        first = not self._heard_first.is_set()
        if not self._link_up:
            self._link_up = True
            self._next_beat = 0.0  # greet at once: on UDP-in the vehicle could not hear us until now
            if not first:
                self._event("link_recovered")
        armed = bool(msg.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
        if armed != self._armed:
            self._armed = armed
            if not first:  # the state found on connecting is no event
                self._event("armed" if armed else "disarmed")
        if msg.custom_mode != self._custom_mode:
            self._custom_mode = msg.custom_mode
            try:
                self._mode = Mode(msg.custom_mode)
            except ValueError:
                self._mode = None
            if not first:
                self._event("mode", mode=self._mode.name if self._mode is not None else str(msg.custom_mode))
        if first:
            self._heard_first.set()

    def _on_timed(self, msg: Any) -> None:
        self._time = max(self._time, msg.time_boot_ms / 1000.0)

    def _on_global_position(self, msg: Any) -> None:
        self._time = max(self._time, msg.time_boot_ms / 1000.0)
        self._position_msg = msg

    def _on_attitude(self, msg: Any) -> None:
        self._on_timed(msg)
        self._attitude = (msg.time_boot_ms / 1000.0, math.degrees(msg.yaw) % 360.0, math.degrees(msg.yawspeed))

    def _on_obstacle_distance(self, msg: Any) -> None:
        """A ring as a ``RangeScan``: its sectors turned to the earth frame at the ring's own time."""
        increment = msg.increment_f or float(msg.increment)
        if not increment > 0:
            return
        t = msg.time_usec / 1e6
        sectors = min(round(360.0 / increment), len(msg.distances))
        # a body-mounted ring (FRD) turns with the boat; any other frame is north-aligned
        heading = self._heading_at(t) if msg.frame == mavlink.MAV_FRAME_BODY_FRD else 0.0
        self._scans.append(RangeScan(t=t, heading_deg=(heading + msg.angle_offset) % 360.0, increment_deg=increment,
                                     min_cm=msg.min_distance, max_cm=msg.max_distance,
                                     distances_cm=np.asarray(msg.distances[:sectors], dtype=np.uint16)))

    def _heading_at(self, t: float) -> float:
        """The heading at time ``t``: the latest ATTITUDE's yaw carried on at its yaw rate (NaN
        without a recent one); a ring and the attitude of its tick are usually the same instant."""
        if self._attitude is None or abs(t - self._attitude[0]) > HEADING_FRESH_S:
            return math.nan
        at, yaw, rate = self._attitude
        return (yaw + rate * (t - at)) % 360.0

    def _on_mission_current(self, msg: Any) -> None:
        self._seq = msg.seq
        if msg.mission_state != self._mission_state:
            self._mission_state = msg.mission_state
            if msg.mission_state == mavlink.MISSION_STATE_COMPLETE:
                self._event("mission_complete")

    def _on_item_reached(self, msg: Any) -> None:
        if msg.seq == 0 and self._mode is Mode.GUIDED:
            self._event("target_reached", mode=Mode.GUIDED.name)
        else:
            self._event("waypoint_reached", seq=msg.seq)

    def _on_statustext(self, msg: Any) -> None:
        self._event("autopilot_text", severity=msg.severity, text=msg.text)

    # ---- plumbing ----------------------------------------------------------------------------
    @contextmanager
    def _expect(self, predicate: Callable[[Any], bool],
                answer: Callable[[Any], None] | None = None) -> Iterator[queue.Queue[Any]]:
        """Collect matching messages from the link thread while the body runs; ``answer`` is
        called on each in the link thread first, for replies that cannot wait for a thread switch."""
        box: queue.Queue[Any] = queue.Queue()
        entry = (predicate, box, answer)
        with self._state_lock:
            self._waiters.append(entry)
        try:
            yield box
        finally:
            with self._state_lock:
                self._waiters.remove(entry)

    def _exchange(self, request: Any, predicate: Callable[[Any], bool], timeout: float, retries: int, what: str) -> Any:
        with self._expect(predicate) as replies:
            for _ in range(retries + 1):
                self._send(request)
                try:
                    return replies.get(timeout=timeout)
                except queue.Empty:
                    continue
        raise AutopilotError(f"{what}: no answer after {retries + 1} tries")

    def _send(self, message: Any) -> None:
        with self._send_lock:
            self._conn.mav.send(message)

    def _event(self, kind: str, **detail: Any) -> None:
        with self._state_lock:
            self._events.append(MissionEvent(t=self._time, kind=kind, detail=detail))


_HANDLERS: dict[str, Callable[[MavlinkAutopilot, Any], None]] = {
    "HEARTBEAT": MavlinkAutopilot._on_heartbeat,
    "GLOBAL_POSITION_INT": MavlinkAutopilot._on_global_position,
    "ATTITUDE": MavlinkAutopilot._on_attitude,
    "OBSTACLE_DISTANCE": MavlinkAutopilot._on_obstacle_distance,
    "MISSION_CURRENT": MavlinkAutopilot._on_mission_current,
    "MISSION_ITEM_REACHED": MavlinkAutopilot._on_item_reached,
    "STATUSTEXT": MavlinkAutopilot._on_statustext,
}


def position_of(msg: Any) -> Position:
    """A GLOBAL_POSITION_INT as a fix: course and speed from its velocity, time the autopilot's."""
    vn, ve = msg.vx / 100.0, msg.vy / 100.0
    return Position(t=msg.time_boot_ms / 1000.0, lon=msg.lon / 1e7, lat=msg.lat / 1e7,
                    sog_mps=math.hypot(vn, ve), cog_deg=math.degrees(math.atan2(ve, vn)) % 360.0,
                    heading_deg=msg.hdg / 100.0 if msg.hdg != 65535 else math.nan)


def _message_name(msg_id: int) -> str:
    entry = mavlink.mavlink_map.get(msg_id)
    return entry.msgname if entry is not None else str(msg_id)


def _enum_name(enum: str, value: int) -> str:
    names = mavlink.enums[enum]
    return names[value].name if value in names else f"{enum} {value}"
