"""The twin's autopilot as ArduPilot Rover (FRAME_CLASS=2, a boat) speaks it: MAVLink 2.

``RoverEndpoint`` answers what a ground station or companion computer sends (parameters, missions
both ways, COMMAND_LONG, SET_MODE, GUIDED targets) and publishes telemetry from each block of twin
ticks with timestamps in twin time. Ground software such as MAVProxy or QGroundControl connects
to it unchanged. Bad input never raises: the parser turns broken frames into BAD_DATA (counted in
SYS_STATUS.errors_comm) and bad requests get the MAVLink error result ArduPilot would send.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from riverpatrol.geo.angles import compass_deg
from riverpatrol.twin.autopilot import RoverEmulation
from riverpatrol.twin.twin import SensedBatch, TickBlock
from riverpatrol.vehicle.link import drain, mavlink, mavutil
from riverpatrol.vehicle.mavlink_items import BadItem, WireItem, check_other, decode, encode, home_item
from riverpatrol.vehicle.mission import Mode
from riverpatrol.vehicle.named_values import SONDE_NAMES

MISSION_CAPACITY = 1000  # items after home, as a board with a 16 kB mission store holds
OTHER_CAPACITY = 100  # fence vertices, rally points
TRANSFER_RETRY_S = 1.5  # re-request an item not received within this
TRANSFER_GIVE_UP_S = 8.0  # ArduPilot's upload timeout
MAX_MESSAGES_PER_POLL = 2000
TRANSFER_BURST_S = 0.05  # wall time one poll may spend serving an upload
TRANSFER_WAIT_S = 0.005  # for the next item of an upload in progress
BOOT_VERSION = (4 << 24) | (6 << 16) | (0 << 8) | 255  # reported as Rover 4.6.0 official

# Rover parameters the endpoint owns (the emulation owns the ones it honours for navigation).
LINK_PARAMS: dict[str, tuple[float, int]] = {
    "FRAME_CLASS": (2.0, mavlink.MAV_PARAM_TYPE_INT8),
    "FS_ACTION": (2.0, mavlink.MAV_PARAM_TYPE_INT8),  # 0 nothing, 1 RTL, 2 Hold, 3/4 SmartRTL
    "FS_GCS_ENABLE": (0.0, mavlink.MAV_PARAM_TYPE_INT8),  # 0 off, 1 on, 2 on but continue in AUTO
    "FS_GCS_TIMEOUT": (5.0, mavlink.MAV_PARAM_TYPE_REAL32),
    "SYSID_MYGCS": (255.0, mavlink.MAV_PARAM_TYPE_INT16),
    "SYSID_THISMAV": (1.0, mavlink.MAV_PARAM_TYPE_INT16),
}
FS_ACTION_MODES = {1: Mode.RTL, 2: Mode.HOLD, 3: Mode.SMART_RTL, 4: Mode.SMART_RTL}

# Default stream rates in Hz of twin time, like Rover's SRx defaults for a GCS link.
DEFAULT_RATES_HZ: dict[int, float] = {
    mavlink.MAVLINK_MSG_ID_HEARTBEAT: 1.0,
    mavlink.MAVLINK_MSG_ID_SYS_STATUS: 1.0,
    mavlink.MAVLINK_MSG_ID_MISSION_CURRENT: 1.0,
    mavlink.MAVLINK_MSG_ID_GPS_RAW_INT: 2.0,
    mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT: 4.0,
    mavlink.MAVLINK_MSG_ID_ATTITUDE: 4.0,
    mavlink.MAVLINK_MSG_ID_VFR_HUD: 4.0,
    mavlink.MAVLINK_MSG_ID_OBSTACLE_DISTANCE: 2.0,
}
# REQUEST_DATA_STREAM groups (what MAVProxy asks for) -> the messages they carry.
STREAM_GROUPS: dict[int, tuple[int, ...]] = {
    mavlink.MAV_DATA_STREAM_EXTENDED_STATUS: (mavlink.MAVLINK_MSG_ID_SYS_STATUS, mavlink.MAVLINK_MSG_ID_GPS_RAW_INT,
                                              mavlink.MAVLINK_MSG_ID_MISSION_CURRENT),
    mavlink.MAV_DATA_STREAM_POSITION: (mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT,),
    mavlink.MAV_DATA_STREAM_EXTRA1: (mavlink.MAVLINK_MSG_ID_ATTITUDE,),
    mavlink.MAV_DATA_STREAM_EXTRA2: (mavlink.MAVLINK_MSG_ID_VFR_HUD,),
    mavlink.MAV_DATA_STREAM_EXTRA3: (mavlink.MAVLINK_MSG_ID_OBSTACLE_DISTANCE,),
}


@dataclass
class _Transfer:
    """A mission upload in progress: who sends it, what type, which item we wait for."""

    partner: tuple[int, int]
    mission_type: int
    count: int
    items: list[WireItem] = field(default_factory=list)
    last_heard: float = 0.0  # wall clock of the last item (or the count)
    asked: float = 0.0  # wall clock of the last request


@dataclass
class _Snapshot:
    """One tick's state, what a telemetry message describes."""

    t: float
    lon: float
    lat: float
    vn: float
    ve: float
    psi: float
    yaw_rate: float


class RoverEndpoint:
    """Answers MAVLink for one ``RoverEmulation``; ``poll`` takes input, ``publish`` sends telemetry."""

    def __init__(self, conn: mavutil.mavfile, rover: RoverEmulation, *, system: int = 1, component: int = 1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._conn = conn
        self._mav = conn.mav
        self._rover = rover
        self._system, self._component = system, component
        self._clock = clock
        self._params = {name: default for name, (default, _) in LINK_PARAMS.items()}
        self._param_names = sorted([*rover.params, *LINK_PARAMS])
        self._intervals = {msg: 1.0 / hz for msg, hz in DEFAULT_RATES_HZ.items()}
        self._due: dict[int, float] = {}
        self._fence: list[WireItem] = []
        self._rally: list[WireItem] = []
        self._transfer: _Transfer | None = None
        self._requested: list[Any] = []  # sent after the COMMAND_ACK of the request
        self._last_gcs_heartbeat: float | None = None
        self._in_failsafe = False
        self.mission_completed = False
        self.bad_packets = 0
        self._last: _Snapshot = self._snapshot_now()
        self._scan: tuple[float, np.ndarray, float, int, int] | None = None
        self._gnss: tuple[float, float, float, float, float] | None = None  # t, lon, lat, sog, cog
        self._handlers: dict[str, Callable[[Any], None]] = {
            "HEARTBEAT": self._on_heartbeat,
            "PARAM_REQUEST_LIST": self._on_param_request_list,
            "PARAM_REQUEST_READ": self._on_param_request_read,
            "PARAM_SET": self._on_param_set,
            "MISSION_COUNT": self._on_mission_count,
            "MISSION_ITEM_INT": self._on_mission_item,
            "MISSION_ITEM": self._on_mission_item,
            "MISSION_REQUEST_LIST": self._on_mission_request_list,
            "MISSION_REQUEST_INT": self._on_mission_request,
            "MISSION_REQUEST": self._on_mission_request,
            "MISSION_CLEAR_ALL": self._on_mission_clear_all,
            "MISSION_SET_CURRENT": self._on_mission_set_current,
            "COMMAND_LONG": self._on_command_long,
            "COMMAND_INT": self._on_command_int,
            "SET_MODE": self._on_set_mode,
            "SET_POSITION_TARGET_GLOBAL_INT": self._on_position_target,
            "REQUEST_DATA_STREAM": self._on_request_data_stream,
        }

    # ---- input -------------------------------------------------------------------------------
    def poll(self, wait_s: float = 0.0) -> int:
        """Handle every message waiting (waiting up to ``wait_s`` for the first); returns how many."""
        handled = 0
        if wait_s > 0:
            self._conn.select(wait_s)
        busy_until = self._clock() + TRANSFER_BURST_S
        while True:
            for msg in drain(self._conn):
                handled += 1
                self.handle(msg)
                if handled >= MAX_MESSAGES_PER_POLL:  # a flood must not stop the twin's clock
                    break
            # A mission transfer is a ping-pong: serve it through before the twin moves on.
            if (self._transfer is None or handled >= MAX_MESSAGES_PER_POLL or self._clock() > busy_until
                    or not self._conn.select(TRANSFER_WAIT_S)):
                break
        self._check_transfer()
        self._check_gcs_failsafe()
        return handled

    def handle(self, msg: Any) -> None:
        kind = msg.get_type()
        if kind == "BAD_DATA":
            self.bad_packets += 1
            return
        target = getattr(msg, "target_system", 0)
        if target not in (0, self._system):
            return  # for another vehicle on the same link
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(msg)

    def _on_heartbeat(self, msg: Any) -> None:
        if msg.get_srcSystem() == int(self._params["SYSID_MYGCS"]):
            self._last_gcs_heartbeat = self._clock()
            if self._in_failsafe:
                self._in_failsafe = False
                self._text(mavlink.MAV_SEVERITY_INFO, "GCS Failsafe Cleared")

    # ---- parameters --------------------------------------------------------------------------
    def _param_value(self, name: str) -> float:
        return self._rover.params[name] if name in self._rover.params else self._params[name]

    def _send_param(self, name: str) -> None:
        kind = LINK_PARAMS[name][1] if name in LINK_PARAMS else mavlink.MAV_PARAM_TYPE_REAL32
        self._send(mavlink.MAVLink_param_value_message(
            name.encode(), self._param_value(name), kind, len(self._param_names), self._param_names.index(name)))

    def _on_param_request_list(self, msg: Any) -> None:
        for name in self._param_names:
            self._send_param(name)

    def _on_param_request_read(self, msg: Any) -> None:
        if msg.param_index >= 0:
            if msg.param_index < len(self._param_names):
                self._send_param(self._param_names[msg.param_index])
            return
        if msg.param_id in self._param_names:  # unknown names get no answer, as ArduPilot does
            self._send_param(msg.param_id)

    def _on_param_set(self, msg: Any) -> None:
        name, value = msg.param_id, float(msg.param_value)
        if name not in self._param_names or not math.isfinite(value):
            self._text(mavlink.MAV_SEVERITY_WARNING, f"Param write denied ({name})")
            return
        if name in self._rover.params:
            self._rover.params[name] = value
        else:
            self._params[name] = value
        self._send_param(name)

    # ---- missions ----------------------------------------------------------------------------
    def _capacity(self, mission_type: int) -> int:
        return MISSION_CAPACITY + 1 if mission_type == mavlink.MAV_MISSION_TYPE_MISSION else OTHER_CAPACITY

    def _on_mission_count(self, msg: Any) -> None:
        partner, kind = (msg.get_srcSystem(), msg.get_srcComponent()), msg.mission_type
        if kind not in (mavlink.MAV_MISSION_TYPE_MISSION, mavlink.MAV_MISSION_TYPE_FENCE, mavlink.MAV_MISSION_TYPE_RALLY):
            self._ack(partner, kind, mavlink.MAV_MISSION_UNSUPPORTED)
            return
        if self._transfer is not None and self._transfer.partner != partner:
            self._ack(partner, kind, mavlink.MAV_MISSION_DENIED)  # someone else is uploading
            return
        if msg.count > self._capacity(kind):
            self._transfer = None
            self._ack(partner, kind, mavlink.MAV_MISSION_NO_SPACE)
            return
        if msg.count == 0:
            self._transfer = None
            self._store(kind, [])
            self._ack(partner, kind, mavlink.MAV_MISSION_ACCEPTED)
            return
        self._transfer = _Transfer(partner, kind, msg.count, last_heard=self._clock())
        self._request_next()

    def _request_next(self) -> None:
        transfer = self._transfer
        assert transfer is not None
        transfer.asked = self._clock()
        self._send(mavlink.MAVLink_mission_request_int_message(
            transfer.partner[0], transfer.partner[1], len(transfer.items), transfer.mission_type))

    def _on_mission_item(self, msg: Any) -> None:
        transfer = self._transfer
        partner = (msg.get_srcSystem(), msg.get_srcComponent())
        if transfer is None or transfer.partner != partner or msg.mission_type != transfer.mission_type:
            return  # not part of an upload we run; a late duplicate most likely
        expected = len(transfer.items)
        if msg.seq != expected:
            if msg.seq > expected:
                self._ack(partner, transfer.mission_type, mavlink.MAV_MISSION_INVALID_SEQUENCE)
            self._request_next()  # a duplicate after a retry, or a skip: ask again for the one we need
            return
        wire = WireItem.from_message(msg)
        try:
            if transfer.mission_type != mavlink.MAV_MISSION_TYPE_MISSION:
                check_other(wire, transfer.mission_type)
            elif msg.seq > 0:  # seq 0 is home: the autopilot keeps its own
                decode(wire)
        except BadItem as bad:
            self._transfer = None
            self._text(mavlink.MAV_SEVERITY_WARNING, f"Mission item {msg.seq} rejected: {bad}")
            self._ack(partner, transfer.mission_type, bad.result)
            return
        transfer.items.append(wire)
        transfer.last_heard = self._clock()
        if len(transfer.items) < transfer.count:
            self._request_next()
            return
        self._transfer = None
        self._store(transfer.mission_type, transfer.items)
        self._ack(partner, transfer.mission_type, mavlink.MAV_MISSION_ACCEPTED)

    def _check_transfer(self) -> None:
        transfer = self._transfer
        if transfer is None:
            return
        now = self._clock()
        if now - transfer.last_heard > TRANSFER_GIVE_UP_S:
            self._transfer = None
            self._ack(transfer.partner, transfer.mission_type, mavlink.MAV_MISSION_OPERATION_CANCELLED)
        elif now - transfer.asked > TRANSFER_RETRY_S:
            self._request_next()

    def _store(self, mission_type: int, items: list[WireItem]) -> None:
        if mission_type == mavlink.MAV_MISSION_TYPE_FENCE:
            self._fence = list(items)
        elif mission_type == mavlink.MAV_MISSION_TYPE_RALLY:
            self._rally = list(items)
        else:
            self._rover.set_mission([decode(w) for w in items[1:]])
            self.mission_completed = False
            self._send_mission_current()

    def _stored(self, mission_type: int) -> list[WireItem]:
        if mission_type == mavlink.MAV_MISSION_TYPE_FENCE:
            return self._fence
        if mission_type == mavlink.MAV_MISSION_TYPE_RALLY:
            return self._rally
        home = self._rover.frame.to_lonlat(*self._rover.home)
        return [home_item(float(home[0]), float(home[1])), *(encode(item) for item in self._rover.mission)]

    def _on_mission_request_list(self, msg: Any) -> None:
        self._send(mavlink.MAVLink_mission_count_message(
            msg.get_srcSystem(), msg.get_srcComponent(), len(self._stored(msg.mission_type)), msg.mission_type))

    def _on_mission_request(self, msg: Any) -> None:
        partner = (msg.get_srcSystem(), msg.get_srcComponent())
        items = self._stored(msg.mission_type)
        if not 0 <= msg.seq < len(items):
            self._ack(partner, msg.mission_type, mavlink.MAV_MISSION_INVALID_SEQUENCE)
            return
        as_int = msg.get_type() == "MISSION_REQUEST_INT"
        self._send(items[msg.seq].message(msg.seq, msg.mission_type, partner, as_int=as_int))

    def _on_mission_clear_all(self, msg: Any) -> None:
        self._store(msg.mission_type, [])
        self._ack((msg.get_srcSystem(), msg.get_srcComponent()), msg.mission_type, mavlink.MAV_MISSION_ACCEPTED)

    def _on_mission_set_current(self, msg: Any) -> None:
        if 1 <= msg.seq <= len(self._rover.mission):
            self._rover.current_seq = msg.seq
            if self._rover.mode is Mode.AUTO:
                self._rover.set_mode(Mode.AUTO)
        self._send_mission_current()

    def _ack(self, partner: tuple[int, int], mission_type: int, result: int) -> None:
        self._send(mavlink.MAVLink_mission_ack_message(partner[0], partner[1], result, mission_type))

    # ---- commands ----------------------------------------------------------------------------
    def _on_command_long(self, msg: Any) -> None:
        self._answer(msg, (msg.param1, msg.param2, msg.param3, msg.param4, msg.param5, msg.param6, msg.param7))

    def _on_command_int(self, msg: Any) -> None:
        self._answer(msg, (msg.param1, msg.param2, msg.param3, msg.param4, float(msg.x), float(msg.y), msg.z))

    def _answer(self, msg: Any, params: tuple[float, ...]) -> None:
        """COMMAND_ACK first, then any message the command asked for, as ArduPilot orders them."""
        result = self._command(msg.command, params)
        self._send(mavlink.MAVLink_command_ack_message(
            msg.command, result, 0, 0, msg.get_srcSystem(), msg.get_srcComponent()))
        requested, self._requested = self._requested, []
        for message in requested:
            self._send(message)

    def _command(self, command: int, p: tuple[float, ...]) -> int:
        """The MAV_RESULT of one command, having carried it out if accepted."""
        if command == mavlink.MAV_CMD_COMPONENT_ARM_DISARM:
            if p[0] not in (0.0, 1.0):
                return mavlink.MAV_RESULT_DENIED
            self._rover.arm(p[0] == 1.0)
            return mavlink.MAV_RESULT_ACCEPTED
        if command == mavlink.MAV_CMD_DO_SET_MODE:
            if not (math.isfinite(p[0]) and int(p[0]) & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED):
                return mavlink.MAV_RESULT_DENIED
            return self._set_mode(p[1])
        if command == mavlink.MAV_CMD_MISSION_START:
            if not self._rover.mission:
                return self._refuse_auto()
            self._rover.current_seq = 1
            return self._set_mode(float(Mode.AUTO))
        if command == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            return self._set_mode(float(Mode.RTL))
        if command == mavlink.MAV_CMD_DO_CHANGE_SPEED:
            if not (math.isfinite(p[1]) and p[1] > 0.0):
                return mavlink.MAV_RESULT_FAILED
            self._rover.set_speed(p[1])
            return mavlink.MAV_RESULT_ACCEPTED
        if command == mavlink.MAV_CMD_SET_MESSAGE_INTERVAL:
            return self._set_interval(p[0], p[1])
        if command == mavlink.MAV_CMD_REQUEST_MESSAGE:
            return mavlink.MAV_RESULT_ACCEPTED if self._send_once(p[0]) else mavlink.MAV_RESULT_FAILED
        if command == mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES:
            self._send_once(float(mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION))
            return mavlink.MAV_RESULT_ACCEPTED
        if command == mavlink.MAV_CMD_GET_HOME_POSITION:
            self._send_once(float(mavlink.MAVLINK_MSG_ID_HOME_POSITION))
            return mavlink.MAV_RESULT_ACCEPTED
        return mavlink.MAV_RESULT_UNSUPPORTED

    def _set_mode(self, number: float) -> int:
        try:
            mode = Mode(int(number)) if math.isfinite(number) else None
        except ValueError:
            mode = None
        if mode is None:
            self._text(mavlink.MAV_SEVERITY_WARNING, f"Unknown mode {number}")
            return mavlink.MAV_RESULT_FAILED
        if mode is Mode.AUTO and not self._rover.mission:
            return self._refuse_auto()
        if mode is Mode.AUTO and self.mission_completed:
            self._rover.current_seq = 1  # a finished mission runs again from the start
        if mode is Mode.AUTO:
            self.mission_completed = False
        self._rover.set_mode(Mode.RTL if mode is Mode.SMART_RTL else mode)  # no breadcrumbs: SmartRTL falls back to RTL
        self._rover.mode = mode
        self._send_heartbeat()
        return mavlink.MAV_RESULT_ACCEPTED

    def _refuse_auto(self) -> int:
        self._text(mavlink.MAV_SEVERITY_WARNING, "No Mission. Can't set AUTO.")
        return mavlink.MAV_RESULT_FAILED

    def _on_set_mode(self, msg: Any) -> None:
        ok = msg.base_mode & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
        result = self._set_mode(float(msg.custom_mode)) if ok else mavlink.MAV_RESULT_DENIED
        # ArduPilot acknowledges SET_MODE with the message id in the command field.
        self._send(mavlink.MAVLink_command_ack_message(
            mavlink.MAVLINK_MSG_ID_SET_MODE, result, 0, 0, msg.get_srcSystem(), msg.get_srcComponent()))

    def _on_position_target(self, msg: Any) -> None:
        """GUIDED targets: a position, or a velocity (vx north, vy east), as Rover takes them."""
        if self._rover.mode is not Mode.GUIDED:
            return
        mask = msg.type_mask
        pos_ignored = mask & (mavlink.POSITION_TARGET_TYPEMASK_X_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_Y_IGNORE)
        vel_ignored = mask & (mavlink.POSITION_TARGET_TYPEMASK_VX_IGNORE | mavlink.POSITION_TARGET_TYPEMASK_VY_IGNORE)
        if not pos_ignored and abs(msg.lat_int) <= 900_000_000 and abs(msg.lon_int) <= 1_800_000_000:
            self._rover.guided_position(msg.lon_int / 1e7, msg.lat_int / 1e7)
        elif pos_ignored and not vel_ignored and math.isfinite(msg.vx) and math.isfinite(msg.vy):
            self._rover.guided_velocity(msg.vx, msg.vy)

    # ---- streams -----------------------------------------------------------------------------
    def _set_interval(self, msg_id: float, interval_us: float) -> int:
        if not (math.isfinite(msg_id) and math.isfinite(interval_us)) or int(msg_id) not in self._builders():
            return mavlink.MAV_RESULT_FAILED
        ident = int(msg_id)
        if interval_us < 0:
            self._intervals.pop(ident, None)
        elif interval_us == 0:
            if ident in DEFAULT_RATES_HZ:
                self._intervals[ident] = 1.0 / DEFAULT_RATES_HZ[ident]
            else:
                self._intervals.pop(ident, None)
        else:
            self._intervals[ident] = interval_us / 1e6
            self._due.pop(ident, None)
        return mavlink.MAV_RESULT_ACCEPTED

    def _on_request_data_stream(self, msg: Any) -> None:
        groups = STREAM_GROUPS if msg.req_stream_id == mavlink.MAV_DATA_STREAM_ALL else (
            {msg.req_stream_id: STREAM_GROUPS[msg.req_stream_id]} if msg.req_stream_id in STREAM_GROUPS else {})
        for ids in groups.values():
            for ident in ids:
                rate = msg.req_message_rate if msg.start_stop else 0
                self._set_interval(float(ident), 1e6 / rate if rate > 0 else -1.0)

    def _send_once(self, msg_id: float) -> bool:
        builder = self._builders().get(int(msg_id)) if math.isfinite(msg_id) else None
        if builder is None:
            return False
        message = builder(self._last)
        if message is None:
            return False
        self._requested.append(message)
        return True

    def publish(self, block: TickBlock, batch: SensedBatch) -> None:
        """Send what is due over ``block`` (twin time), and the autopilot's events as they happened."""
        lon, lat = self._rover.frame.to_lonlat(block.x, block.y)
        fix_at = np.searchsorted(batch.positions["t"], block.t, side="right") - 1
        scan_at = np.searchsorted(batch.scan_t, block.t, side="right") - 1
        rate = np.gradient(np.unwrap(block.psi), block.t) if len(block.t) > 1 else np.zeros(1)
        builders = self._builders()
        sonde = _SondeReadings(batch)
        for i, t in enumerate(block.t.tolist()):
            self._note_sensors(batch, int(fix_at[i]), int(scan_at[i]))
            self._send_all(sonde.until(t))
            self._last = _Snapshot(t, float(lon[i]), float(lat[i]), float(block.vy[i]), float(block.vx[i]),
                                   float(block.psi[i]), -float(rate[i]))
            for ident, interval in list(self._intervals.items()):
                due = self._due.get(ident, t)
                if t + 1e-9 >= due:
                    message = builders[ident](self._last)
                    if message is not None:
                        self._send(message)
                    self._due[ident] = max(due + interval, t)
        self._send_all(sonde.until(math.inf))
        self._forward_events()

    def _note_sensors(self, batch: SensedBatch, fix: int, scan: int) -> None:
        """Keep the GNSS fix and ranging ring current at a tick (indices into the batch, -1 for
        none yet): GPS_RAW_INT and OBSTACLE_DISTANCE sent at that tick carry them, so a ring
        streamed at the sensor's rate is each scan once, at its own time."""
        p = batch.positions
        if fix >= 0:
            self._gnss = (float(p["t"][fix]), float(p["lon"][fix]), float(p["lat"][fix]),
                          float(p["sog"][fix]), float(p["cog"][fix]))
        if scan >= 0:
            self._scan = (float(batch.scan_t[scan]), batch.scans[scan], batch.scan_increment_deg,
                          batch.scan_min_cm, batch.scan_max_cm)

    def _forward_events(self) -> None:
        for _, kind, detail in self._rover.events:
            if kind == "waypoint_reached":
                self._send(mavlink.MAVLink_mission_item_reached_message(detail["seq"]))
                self._text(mavlink.MAV_SEVERITY_INFO, f"Reached waypoint #{detail['seq']}")
            elif kind == "target_reached":
                self._send(mavlink.MAVLink_mission_item_reached_message(0))
                self._text(mavlink.MAV_SEVERITY_INFO, "Reached destination")
            elif kind == "mission_complete":
                self.mission_completed = True
                self._text(mavlink.MAV_SEVERITY_INFO, "Mission Complete")
                self._send_mission_current()
            elif kind in ("armed", "disarmed"):
                self._text(mavlink.MAV_SEVERITY_INFO, kind.capitalize())
                self._send_heartbeat()
        self._rover.events.clear()

    def _builders(self) -> dict[int, Callable[[_Snapshot], Any]]:
        return {
            mavlink.MAVLINK_MSG_ID_HEARTBEAT: self._heartbeat,
            mavlink.MAVLINK_MSG_ID_SYS_STATUS: self._sys_status,
            mavlink.MAVLINK_MSG_ID_MISSION_CURRENT: self._mission_current,
            mavlink.MAVLINK_MSG_ID_GPS_RAW_INT: self._gps_raw_int,
            mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT: self._global_position_int,
            mavlink.MAVLINK_MSG_ID_ATTITUDE: self._attitude,
            mavlink.MAVLINK_MSG_ID_VFR_HUD: self._vfr_hud,
            mavlink.MAVLINK_MSG_ID_OBSTACLE_DISTANCE: self._obstacle_distance,
            mavlink.MAVLINK_MSG_ID_HOME_POSITION: self._home_position,
            mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION: self._autopilot_version,
        }

    def _heartbeat(self, s: _Snapshot) -> Any:
        rover = self._rover
        base = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | mavlink.MAV_MODE_FLAG_STABILIZE_ENABLED
        if rover.mode in (Mode.AUTO, Mode.GUIDED, Mode.RTL, Mode.SMART_RTL, Mode.LOITER):
            base |= mavlink.MAV_MODE_FLAG_GUIDED_ENABLED
        if rover.mode is Mode.AUTO:
            base |= mavlink.MAV_MODE_FLAG_AUTO_ENABLED
        if rover.armed:
            base |= mavlink.MAV_MODE_FLAG_SAFETY_ARMED
        state = mavlink.MAV_STATE_ACTIVE if rover.armed else mavlink.MAV_STATE_STANDBY
        if self._in_failsafe:
            state = mavlink.MAV_STATE_CRITICAL
        return mavlink.MAVLink_heartbeat_message(mavlink.MAV_TYPE_SURFACE_BOAT, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
                                                 base, int(rover.mode), state, 3)

    def _sys_status(self, s: _Snapshot) -> Any:
        sensors = (mavlink.MAV_SYS_STATUS_SENSOR_GPS | mavlink.MAV_SYS_STATUS_SENSOR_3D_GYRO
                   | mavlink.MAV_SYS_STATUS_SENSOR_MOTOR_OUTPUTS | mavlink.MAV_SYS_STATUS_SENSOR_PROXIMITY)
        errors = min(self.bad_packets, 65535)
        return mavlink.MAVLink_sys_status_message(sensors, sensors, sensors, 100, 12600, -1, -1, 0, errors, 0, 0, 0, 0)

    def _mission_current(self, s: _Snapshot) -> Any:
        rover = self._rover
        if not rover.mission:
            state = mavlink.MISSION_STATE_NO_MISSION
        elif self.mission_completed:
            state = mavlink.MISSION_STATE_COMPLETE
        elif rover.mode is Mode.AUTO:
            state = mavlink.MISSION_STATE_ACTIVE
        else:
            state = mavlink.MISSION_STATE_NOT_STARTED if rover.current_seq <= 1 else mavlink.MISSION_STATE_PAUSED
        seq = min(rover.current_seq, len(rover.mission))
        return mavlink.MAVLink_mission_current_message(seq, len(rover.mission), state, 0)

    def _send_mission_current(self) -> None:
        self._send(self._mission_current(self._last))

    def _gps_raw_int(self, s: _Snapshot) -> Any:
        if self._gnss is None:
            return None
        t, lon, lat, sog, cog = self._gnss
        return mavlink.MAVLink_gps_raw_int_message(
            _usec(t), mavlink.GPS_FIX_TYPE_RTK_FIXED, round(lat * 1e7), round(lon * 1e7), 0, 70, 120,
            round(sog * 100), round(cog * 100) % 36000, 20)

    def _global_position_int(self, s: _Snapshot) -> Any:
        hdg = round(float(compass_deg(s.psi)) * 100) % 36000
        return mavlink.MAVLink_global_position_int_message(
            _msec(s.t), round(s.lat * 1e7), round(s.lon * 1e7), 0, 0, round(s.vn * 100), round(s.ve * 100), 0, hdg)

    def _attitude(self, s: _Snapshot) -> Any:
        yaw = math.radians(float(compass_deg(s.psi)))
        return mavlink.MAVLink_attitude_message(_msec(s.t), 0.0, 0.0, yaw - 2 * math.pi if yaw > math.pi else yaw,
                                                0.0, 0.0, s.yaw_rate)

    def _vfr_hud(self, s: _Snapshot) -> Any:
        speed = math.hypot(s.vn, s.ve)
        throttle = min(100, round(100 * speed / self._rover.boat.limits.max_speed_mps)) if self._rover.armed else 0
        return mavlink.MAVLink_vfr_hud_message(speed, speed, round(float(compass_deg(s.psi))) % 360, throttle, 0.0, 0.0)

    def _obstacle_distance(self, s: _Snapshot) -> Any:
        if self._scan is None:
            return None
        t, ring, increment, min_cm, max_cm = self._scan
        distances = [int(d) for d in ring[:72]] + [65535] * max(0, 72 - len(ring))
        return mavlink.MAVLink_obstacle_distance_message(
            _usec(t), mavlink.MAV_DISTANCE_SENSOR_LASER, distances, 0, min_cm, max_cm, increment, 0.0,
            mavlink.MAV_FRAME_BODY_FRD)

    def _home_position(self, s: _Snapshot) -> Any:
        lon, lat = self._rover.frame.to_lonlat(*self._rover.home)
        return mavlink.MAVLink_home_position_message(round(float(lat) * 1e7), round(float(lon) * 1e7), 0, 0, 0, 0,
                                                     [1, 0, 0, 0], 0, 0, 0, _usec(s.t))

    def _autopilot_version(self, s: _Snapshot) -> Any:
        caps = (mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_INT | mavlink.MAV_PROTOCOL_CAPABILITY_COMMAND_INT
                | mavlink.MAV_PROTOCOL_CAPABILITY_SET_POSITION_TARGET_GLOBAL_INT | mavlink.MAV_PROTOCOL_CAPABILITY_MAVLINK2
                | mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_FENCE | mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_RALLY
                | mavlink.MAV_PROTOCOL_CAPABILITY_PARAM_FLOAT)
        return mavlink.MAVLink_autopilot_version_message(caps, BOOT_VERSION, 0, 0, 0, [0] * 8, [0] * 8, [0] * 8,
                                                         0, 0, self._system)

    def _snapshot_now(self) -> _Snapshot:
        boat = self._rover.boat
        lon, lat = self._rover.frame.to_lonlat(boat.x, boat.y)
        return _Snapshot(self._rover.time, float(lon), float(lat), boat.vy, boat.vx, boat.psi, 0.0)

    # ---- GCS failsafe ------------------------------------------------------------------------
    def _check_gcs_failsafe(self) -> None:
        """Rover's GCS failsafe: armed, enabled, a GCS was heard and has been silent too long.

        Silence is measured on the wall clock: it is the radio link that fails, and a GCS sends
        its heartbeat once a wall-clock second whatever the twin's speedup.
        """
        enabled = int(self._params["FS_GCS_ENABLE"])
        heard = self._last_gcs_heartbeat
        if self._in_failsafe or not enabled or heard is None or not self._rover.armed:
            return
        if self._clock() - heard <= self._params["FS_GCS_TIMEOUT"]:
            return
        self._in_failsafe = True
        self._text(mavlink.MAV_SEVERITY_CRITICAL, "Failsafe: GCS")
        if enabled == 2 and self._rover.mode is Mode.AUTO:
            return  # "enabled, continue with mission in AUTO"
        action = FS_ACTION_MODES.get(int(self._params["FS_ACTION"]))
        if action is not None:
            self._set_mode(float(action))

    # ---- output ------------------------------------------------------------------------------
    def _text(self, severity: int, text: str) -> None:
        self._send(mavlink.MAVLink_statustext_message(severity, text[:50].encode(), 0, 0))

    def _send_heartbeat(self) -> None:
        self._send(self._heartbeat(self._last))

    def _send_all(self, messages: list[Any]) -> None:
        for message in messages:
            self._send(message)

    def _send(self, message: Any) -> None:
        self._mav.srcSystem, self._mav.srcComponent = self._system, self._component
        self._mav.send(message)


class _SondeReadings:
    """A block's sonde samples as NAMED_VALUE_FLOAT, handed out in time order beside the telemetry
    (as a Lua script on the autopilot forwards each reading when it is taken)."""

    def __init__(self, batch: SensedBatch) -> None:
        self._t = batch.sonde_t.tolist()
        self._values = {SONDE_NAMES[p]: column.tolist() for p, column in batch.sonde.items() if p in SONDE_NAMES}
        self._next = 0

    def until(self, t: float) -> list[Any]:
        """Messages of the samples taken at or before ``t`` not handed out yet."""
        out = []
        while self._next < len(self._t) and self._t[self._next] <= t + 1e-9:
            ms = _msec(self._t[self._next])
            out += [mavlink.MAVLink_named_value_float_message(ms, name.encode(), value[self._next])
                    for name, value in self._values.items() if math.isfinite(value[self._next])]
            self._next += 1
        return out


def _msec(t: float) -> int:
    return int(round(t * 1000)) & 0xFFFFFFFF


def _usec(t: float) -> int:
    return int(round(t * 1e6))
