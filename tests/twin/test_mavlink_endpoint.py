"""The twin's MAVLink endpoint, driven by plain pymavlink as any ground station would.

Each test starts ``serve`` on an ephemeral UDP port and talks to it over real UDP.
"""

from __future__ import annotations

import math
import os
import random
import socket
import struct
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from riverpatrol.vehicle.link import mavlink, mavutil, signing_key
from riverpatrol.vehicle.mission import Mode
from riverpatrol.vehicle.named_values import SONDE_NAMES

WAIT_S = 10.0


class Gcs:
    """A pymavlink ground station on ``udpin:127.0.0.1:port`` (sysid 255)."""

    def __init__(self, port: int, key: bytes | None = None, system: int = 255) -> None:
        self.conn = mavutil.mavlink_connection(f"udpin:127.0.0.1:{port}", source_system=system, source_component=190)
        if key is not None:
            self.conn.setup_signing(key, sign_outgoing=True)
        self.port = port
        self.heartbeat = self.wait("HEARTBEAT")

    def wait(self, kind: str | list[str], cond: Callable[[Any], bool] = lambda m: True, timeout: float = WAIT_S) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.conn.recv_match(type=kind, blocking=True, timeout=0.2)
            if msg is not None and cond(msg):
                return msg
        return None

    def send(self, message: Any) -> None:
        self.conn.mav.send(message)

    def command(self, command: int, *params: float) -> int | None:
        p = [*params, *[0.0] * (7 - len(params))]
        self.send(mavlink.MAVLink_command_long_message(1, 1, command, 0, *p))
        ack = self.wait("COMMAND_ACK", lambda m: m.command == command)
        return None if ack is None else ack.result

    def upload(self, items: list[Any], mission_type: int = mavlink.MAV_MISSION_TYPE_MISSION) -> int:
        self.send(mavlink.MAVLink_mission_count_message(1, 1, len(items), mission_type))
        while True:
            msg = self.wait(["MISSION_REQUEST_INT", "MISSION_ACK"], lambda m: m.mission_type == mission_type)
            assert msg is not None, "the endpoint stopped answering the upload"
            if msg.get_type() == "MISSION_ACK":
                return int(msg.type)
            self.send(items[msg.seq](msg.seq, mission_type))

    def download(self, mission_type: int = mavlink.MAV_MISSION_TYPE_MISSION) -> list[Any]:
        self.send(mavlink.MAVLink_mission_request_list_message(1, 1, mission_type))
        count = self.wait("MISSION_COUNT", lambda m: m.mission_type == mission_type).count
        items = []
        for seq in range(count):
            self.send(mavlink.MAVLink_mission_request_int_message(1, 1, seq, mission_type))
            items.append(self.wait("MISSION_ITEM_INT", lambda m, s=seq: m.seq == s))
        self.send(mavlink.MAVLink_mission_ack_message(1, 1, mavlink.MAV_MISSION_ACCEPTED, mission_type))
        return items

    def close(self) -> None:
        self.conn.close()


def waypoint(lat: float, lon: float, command: int = mavlink.MAV_CMD_NAV_WAYPOINT,
             frame: int = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT) -> Callable[[int, int], Any]:
    def build(seq: int, mission_type: int) -> Any:
        return mavlink.MAVLink_mission_item_int_message(1, 1, seq, frame, command, 0, 1, 0, 0, 0, 0,
                                                        round(lat * 1e7), round(lon * 1e7), 0, mission_type)
    return build


@pytest.fixture
def gcs(serve_twin: Callable[..., Any]) -> Iterator[Gcs]:
    served = serve_twin(speedup=10.0)
    station = Gcs(served.port)
    yield station
    station.close()


def _position(gcs: Gcs) -> tuple[float, float]:
    msg = gcs.wait("GLOBAL_POSITION_INT")
    return msg.lat / 1e7, msg.lon / 1e7


def test_heartbeat_says_ardupilot_rover_boat(gcs: Gcs) -> None:
    hb = gcs.heartbeat
    assert hb.type == mavlink.MAV_TYPE_SURFACE_BOAT and hb.autopilot == mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA
    assert hb.custom_mode == Mode.HOLD and not hb.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED
    assert hb.get_header().mlen > 0 and gcs.conn.WIRE_PROTOCOL_VERSION == "2.0"


def test_every_stream_arrives_and_its_time_is_twin_time(gcs: Gcs) -> None:
    seen = {gcs.wait(kind).get_type() for kind in ("SYS_STATUS", "GPS_RAW_INT", "ATTITUDE", "VFR_HUD",
                                                     "MISSION_CURRENT", "OBSTACLE_DISTANCE")}
    assert len(seen) == 6
    stamps = [gcs.wait("GLOBAL_POSITION_INT").time_boot_ms for _ in range(9)]
    assert stamps[-1] - stamps[0] == pytest.approx(2000, abs=100)  # 4 Hz of twin time (0.1 s ticks), any speedup
    ring = gcs.wait("OBSTACLE_DISTANCE")
    assert len(ring.distances) == 72 and ring.increment_f == 5.0 and ring.frame == mavlink.MAV_FRAME_BODY_FRD


def test_ranging_at_the_sensor_rate_is_each_scan_once_with_the_heading_of_its_tick(gcs: Gcs) -> None:
    interval = mavlink.MAV_CMD_SET_MESSAGE_INTERVAL
    assert gcs.command(interval, mavlink.MAVLINK_MSG_ID_OBSTACLE_DISTANCE, 100_000) == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.command(interval, mavlink.MAVLINK_MSG_ID_ATTITUDE, 100_000) == mavlink.MAV_RESULT_ACCEPTED
    gcs.wait("OBSTACLE_DISTANCE")  # from here on at 10 Hz
    rings, yaw_ms = [], set()
    while len(rings) < 20:
        msg = gcs.wait(["OBSTACLE_DISTANCE", "ATTITUDE"])
        if msg.get_type() == "ATTITUDE":
            yaw_ms.add(msg.time_boot_ms)
        else:
            rings.append(msg.time_usec)
    # a block of several ticks sends each tick's own scan, never the block's last one twice
    assert [b - a for a, b in zip(rings, rings[1:])] == [100_000] * 19
    assert {t // 1000 for t in rings[1:]} <= yaw_ms  # an ATTITUDE at each scan's instant


def test_each_sonde_sample_arrives_as_named_floats_taken_together(gcs: Gcs) -> None:
    readings: dict[int, dict[str, float]] = {}
    while len(readings) < 4:
        msg = gcs.wait("NAMED_VALUE_FLOAT")
        readings.setdefault(msg.time_boot_ms, {})[msg.name] = msg.value
    times = sorted(readings)[:3]  # the newest may still be arriving
    assert all(set(readings[t]) == set(SONDE_NAMES.values()) for t in times)
    assert [b - a for a, b in zip(times, times[1:])] == [1000, 1000]  # the sonde's 1 Hz, in twin time
    assert all(6.0 < readings[t]["wq_ph"] < 9.0 and readings[t]["wq_cond"] > 0 for t in times)


def test_parameters_list_read_and_set(gcs: Gcs) -> None:
    gcs.send(mavlink.MAVLink_param_request_list_message(1, 1))
    values = {}
    while (msg := gcs.wait("PARAM_VALUE", timeout=2.0)) is not None:
        values[msg.param_id] = (msg.param_value, msg.param_index, msg.param_count)
        if len(values) == msg.param_count:
            break
    assert {"WP_SPEED", "WP_RADIUS", "LOIT_RADIUS", "FS_GCS_ENABLE", "FS_GCS_TIMEOUT", "CRUISE_SPEED",
            "FRAME_CLASS"} <= set(values)
    assert values["FRAME_CLASS"][0] == 2.0
    assert sorted(index for _, index, _ in values.values()) == list(range(len(values)))
    gcs.send(mavlink.MAVLink_param_set_message(1, 1, b"WP_SPEED", 1.5, mavlink.MAV_PARAM_TYPE_REAL32))
    assert gcs.wait("PARAM_VALUE", lambda m: m.param_id == "WP_SPEED").param_value == 1.5
    gcs.send(mavlink.MAVLink_param_request_read_message(1, 1, b"WP_SPEED", -1))
    assert gcs.wait("PARAM_VALUE", lambda m: m.param_id == "WP_SPEED").param_value == 1.5
    gcs.send(mavlink.MAVLink_param_set_message(1, 1, b"WP_SPEED", math.nan, mavlink.MAV_PARAM_TYPE_REAL32))
    assert gcs.wait("STATUSTEXT", lambda m: "denied" in m.text) is not None
    gcs.send(mavlink.MAVLink_param_request_read_message(1, 1, b"NO_SUCH_PARAM", -1))
    assert gcs.wait("PARAM_VALUE", lambda m: m.param_id == "NO_SUCH_PARAM", timeout=1.0) is None


def test_mission_upload_then_download_with_home_at_seq_0(gcs: Gcs) -> None:
    lat, lon = _position(gcs)
    items = [waypoint(lat, lon)] + [waypoint(lat, lon + 0.0001 * i) for i in range(1, 6)]
    assert gcs.upload(items) == mavlink.MAV_MISSION_ACCEPTED
    back = gcs.download()
    assert len(back) == 6 and back[0].command == mavlink.MAV_CMD_NAV_WAYPOINT
    assert [round(m.y / 1e7, 6) for m in back[1:]] == [round(lon + 0.0001 * i, 6) for i in range(1, 6)]
    current = gcs.wait("MISSION_CURRENT", lambda m: m.total == 5)
    assert current.mission_state == mavlink.MISSION_STATE_NOT_STARTED


@pytest.mark.parametrize("mission_type, command", [
    (mavlink.MAV_MISSION_TYPE_FENCE, mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION),
    (mavlink.MAV_MISSION_TYPE_RALLY, mavlink.MAV_CMD_NAV_RALLY_POINT),
])
def test_fence_and_rally_round_trip(gcs: Gcs, mission_type: int, command: int) -> None:
    lat, lon = _position(gcs)
    items = [waypoint(lat + d, lon + d, command, mavlink.MAV_FRAME_GLOBAL_INT) for d in (0.0, 0.001, 0.002)]
    assert gcs.upload(items, mission_type) == mavlink.MAV_MISSION_ACCEPTED
    assert [m.command for m in gcs.download(mission_type)] == [command] * 3
    # a mission command in a fence is refused, and the stored fence is kept
    assert gcs.upload([waypoint(lat, lon)], mission_type) == mavlink.MAV_MISSION_UNSUPPORTED
    assert len(gcs.download(mission_type)) == 3


@pytest.mark.parametrize("bad, result", [
    (waypoint(28.4, 121.4, command=31000), mavlink.MAV_MISSION_UNSUPPORTED),
    (waypoint(28.4, 121.4, frame=mavlink.MAV_FRAME_BODY_FRD), mavlink.MAV_MISSION_UNSUPPORTED_FRAME),
    (waypoint(95.0, 121.4), mavlink.MAV_MISSION_INVALID_PARAM5_X),
    (waypoint(28.4, 190.0), mavlink.MAV_MISSION_INVALID_PARAM6_Y),
])
def test_bad_items_get_the_mission_result_and_keep_the_mission(gcs: Gcs, bad: Any, result: int) -> None:
    lat, lon = _position(gcs)
    assert gcs.upload([waypoint(lat, lon), waypoint(lat, lon + 0.0001)]) == mavlink.MAV_MISSION_ACCEPTED
    assert gcs.upload([waypoint(lat, lon), waypoint(lat, lon), bad]) == result
    assert len(gcs.download()) == 2


def test_empty_and_oversized_missions(gcs: Gcs) -> None:
    gcs.send(mavlink.MAVLink_mission_count_message(1, 1, 10_000, mavlink.MAV_MISSION_TYPE_MISSION))
    assert gcs.wait("MISSION_ACK").type == mavlink.MAV_MISSION_NO_SPACE
    gcs.send(mavlink.MAVLink_mission_count_message(1, 1, 0, mavlink.MAV_MISSION_TYPE_MISSION))
    assert gcs.wait("MISSION_ACK").type == mavlink.MAV_MISSION_ACCEPTED
    assert gcs.wait("MISSION_CURRENT").mission_state == mavlink.MISSION_STATE_NO_MISSION
    assert gcs.command(mavlink.MAV_CMD_DO_SET_MODE, 1, Mode.AUTO) == mavlink.MAV_RESULT_FAILED


def test_out_of_order_items_are_refused_and_asked_for_again(gcs: Gcs) -> None:
    lat, lon = _position(gcs)
    gcs.send(mavlink.MAVLink_mission_count_message(1, 1, 3, mavlink.MAV_MISSION_TYPE_MISSION))
    assert gcs.wait("MISSION_REQUEST_INT").seq == 0
    gcs.send(waypoint(lat, lon)(2, 0))  # skips seq 0 and 1
    assert gcs.wait("MISSION_ACK").type == mavlink.MAV_MISSION_INVALID_SEQUENCE
    assert gcs.wait("MISSION_REQUEST_INT").seq == 0
    for seq in range(3):
        gcs.send(waypoint(lat, lon + 0.0001 * seq)(seq, 0))
    assert gcs.wait("MISSION_ACK", lambda m: m.type == mavlink.MAV_MISSION_ACCEPTED) is not None
    assert len(gcs.download()) == 3


def test_commands_get_their_results(gcs: Gcs) -> None:
    assert gcs.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1) == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.wait("HEARTBEAT", lambda m: m.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED) is not None
    assert gcs.command(mavlink.MAV_CMD_DO_SET_MODE, 1, Mode.GUIDED) == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.wait("HEARTBEAT", lambda m: m.custom_mode == Mode.GUIDED) is not None
    assert gcs.command(mavlink.MAV_CMD_DO_SET_MODE, 1, 99) == mavlink.MAV_RESULT_FAILED
    assert gcs.command(mavlink.MAV_CMD_DO_SET_MODE, 0, Mode.HOLD) == mavlink.MAV_RESULT_DENIED
    assert gcs.command(mavlink.MAV_CMD_DO_CHANGE_SPEED, 1, 1.2, -1) == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.command(mavlink.MAV_CMD_DO_CHANGE_SPEED, 1, -3, -1) == mavlink.MAV_RESULT_FAILED
    assert gcs.command(mavlink.MAV_CMD_DO_FLIGHTTERMINATION, 1) == mavlink.MAV_RESULT_UNSUPPORTED
    assert gcs.command(mavlink.MAV_CMD_REQUEST_MESSAGE, mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.wait("AUTOPILOT_VERSION").capabilities & mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_INT
    assert gcs.command(mavlink.MAV_CMD_REQUEST_MESSAGE, 60000) == mavlink.MAV_RESULT_FAILED
    gcs.send(mavlink.MAVLink_set_mode_message(1, mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, Mode.HOLD))
    assert gcs.wait("COMMAND_ACK", lambda m: m.command == mavlink.MAVLINK_MSG_ID_SET_MODE).result == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0) == mavlink.MAV_RESULT_ACCEPTED


def test_set_message_interval_changes_the_rate(gcs: Gcs) -> None:
    msg_id = mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT
    assert gcs.command(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, msg_id, 100_000) == mavlink.MAV_RESULT_ACCEPTED
    gcs.wait("HEARTBEAT")
    stamps = [gcs.wait("GLOBAL_POSITION_INT").time_boot_ms for _ in range(6)]
    assert all(b - a == 100 for a, b in zip(stamps[4:], stamps[5:]))
    assert gcs.command(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, msg_id, -1) == mavlink.MAV_RESULT_ACCEPTED
    gcs.wait("HEARTBEAT")
    gcs.wait("HEARTBEAT")  # anything already in flight has arrived by now
    assert gcs.wait("GLOBAL_POSITION_INT", timeout=1.0) is None
    assert gcs.command(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 60000, 100_000) == mavlink.MAV_RESULT_FAILED


def test_guided_position_target_moves_the_boat(gcs: Gcs) -> None:
    lat, lon = _position(gcs)
    target = (lat, lon + 30.0 / (111_320.0 * math.cos(math.radians(lat))))  # 30 m east
    assert gcs.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1) == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.command(mavlink.MAV_CMD_DO_SET_MODE, 1, Mode.GUIDED) == mavlink.MAV_RESULT_ACCEPTED
    gcs.send(mavlink.MAVLink_set_position_target_global_int_message(
        0, 1, 1, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, 0b110111111000,
        round(target[0] * 1e7), round(target[1] * 1e7), 0, 0, 0, 0, 0, 0, 0, 0, 0))
    assert gcs.wait("MISSION_ITEM_REACHED", lambda m: m.seq == 0, timeout=30.0) is not None
    here = _position(gcs)
    assert math.hypot((here[0] - target[0]) * 110_574, (here[1] - target[1]) * 111_320 * math.cos(math.radians(lat))) < 5.0


def _frame(gcs: Gcs, message: Any) -> bytes:
    return bytes(message.pack(gcs.conn.mav))


def test_garbage_on_the_link_is_counted_and_ignored(gcs: Gcs) -> None:
    rng = random.Random(7)
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    endpoint = next(iter(gcs.conn.clients))
    good = _frame(gcs, mavlink.MAVLink_command_long_message(1, 1, mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0, 1, 0, 0, 0, 0, 0, 0))
    bad_crc = bytearray(good)
    bad_crc[-1] ^= 0xFF
    unknown_id = bytearray(good)
    unknown_id[7:10] = struct.pack("<I", 0xABCDE)[:3]
    for packet in (bytes(rng.randrange(256) for _ in range(300)), good[:9], bytes(bad_crc), bytes(unknown_id),
                   b"\xfd" * 40, os.urandom(1000)):
        raw.sendto(packet, endpoint)
    other = _frame(gcs, mavlink.MAVLink_command_long_message(7, 1, mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0, 1, 0, 0, 0, 0, 0, 0))
    raw.sendto(other, endpoint)  # for system 7: not ours
    raw.close()
    status = gcs.wait("SYS_STATUS", lambda m: m.errors_comm > 0)
    assert status is not None
    assert gcs.wait("HEARTBEAT").base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED == 0
    assert gcs.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1) == mavlink.MAV_RESULT_ACCEPTED


def test_gcs_failsafe_holds_when_the_gcs_falls_silent(gcs: Gcs) -> None:
    for name, value in (("FS_GCS_ENABLE", 1.0), ("FS_GCS_TIMEOUT", 2.0)):
        gcs.send(mavlink.MAVLink_param_set_message(1, 1, name.encode(), value, mavlink.MAV_PARAM_TYPE_REAL32))
        assert gcs.wait("PARAM_VALUE", lambda m, n=name: m.param_id == n).param_value == value
    gcs.send(mavlink.MAVLink_heartbeat_message(mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID, 0, 0, 0, 3))
    assert gcs.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1) == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.command(mavlink.MAV_CMD_DO_SET_MODE, 1, Mode.GUIDED) == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.wait("STATUSTEXT", lambda m: m.text == "Failsafe: GCS", timeout=15.0) is not None
    assert gcs.wait("HEARTBEAT", lambda m: m.custom_mode == Mode.HOLD) is not None


def test_signed_link_ignores_unsigned_commands(serve_twin: Callable[..., Any]) -> None:
    key = signing_key("river patrol test key")
    served = serve_twin(speedup=10.0, signing_key=key)
    unsigned = Gcs(served.port)  # hears the vehicle (its own messages are what signing protects)
    assert unsigned.conn.mav.signing.sig_count > 0  # the vehicle signs what it sends
    unsigned.send(mavlink.MAVLink_command_long_message(1, 1, mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0, 1, 0, 0, 0, 0, 0, 0))
    assert unsigned.wait("COMMAND_ACK", timeout=1.5) is None
    unsigned.close()
    signed = Gcs(served.port, key)
    assert signed.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1) == mavlink.MAV_RESULT_ACCEPTED
    assert signed.wait("HEARTBEAT", lambda m: m.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED) is not None
    signed.close()
