"""The endpoint under hostile input: any bytes on the wire, any field values in well-formed
messages. It must never raise, and must answer every command with a COMMAND_ACK."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riverpatrol.scenario import parse_scenario
from riverpatrol.twin.mavlink_endpoint import RoverEndpoint
from riverpatrol.twin.twin import RiverTwin
from riverpatrol.vehicle.link import mavlink, open_link

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
any_float = st.floats(allow_nan=True, allow_infinity=True, width=32)


class _Bench:
    """An endpoint on a real UDP socket, and a peer socket that sends to it and reads its answers."""

    def __init__(self, scenario: dict[str, Any]) -> None:
        self.peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.peer.bind(("127.0.0.1", 0))
        self.peer.settimeout(1.0)
        self.twin = RiverTwin(parse_scenario(scenario))
        self.conn = open_link(f"udpout:127.0.0.1:{self.peer.getsockname()[1]}", system=1, component=1)
        self.endpoint = RoverEndpoint(self.conn, self.twin.autopilot)
        self.encoder = mavlink.MAVLink(None, srcSystem=255, srcComponent=190)
        self.parser = mavlink.MAVLink(None)
        self.endpoint.publish(*self._step())
        _, self.address = self.peer.recvfrom(65536)

    def _step(self) -> tuple[Any, Any]:
        block = self.twin.advance(0.2)
        return block, self.twin.sense(block)

    def send(self, data: bytes) -> None:
        self.peer.sendto(data, self.address)

    def answers(self) -> list[Any]:
        self.peer.settimeout(0.05)
        out = []
        try:
            while True:
                out += self.parser.parse_buffer(self.peer.recv(65536)) or []
        except TimeoutError:
            return out

    def close(self) -> None:
        self.conn.close()
        self.peer.close()


@pytest.fixture
def bench(make_scenario: Callable[..., dict[str, Any]]) -> Iterator[_Bench]:
    """One per test, shared by its examples (hence the suppressed health check)."""
    rig = _Bench(make_scenario())
    yield rig
    rig.close()


@FUZZ
@given(st.lists(st.binary(max_size=400), min_size=1, max_size=6))
def test_any_bytes_are_dropped_and_counted(bench: _Bench, datagrams: list[bytes]) -> None:
    for datagram in datagrams:
        bench.send(datagram)
    bench.endpoint.poll(wait_s=0.05)
    bench.send(bytes(mavlink.MAVLink_param_request_read_message(1, 1, b"FRAME_CLASS", -1).pack(bench.encoder)))
    bench.endpoint.poll(wait_s=0.05)
    assert any(m.get_type() == "PARAM_VALUE" for m in bench.answers())  # still answering


@FUZZ
@given(command=st.integers(0, 65535), params=st.lists(any_float, min_size=7, max_size=7))
def test_every_command_gets_an_ack_whatever_its_values(bench: _Bench, command: int, params: list[float]) -> None:
    bench.endpoint.handle(mavlink.MAVLink_command_long_message(1, 1, command, 0, *params))
    acks = [m for m in bench.answers() if m.get_type() == "COMMAND_ACK"]
    assert [a.command for a in acks] == [command]


@FUZZ
@given(name=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=16), value=any_float,
       index=st.integers(-1, 40))
def test_parameter_requests_with_any_values(bench: _Bench, name: str, value: float, index: int) -> None:
    bench.endpoint.handle(mavlink.MAVLink_param_set_message(1, 1, name.encode(), value, mavlink.MAV_PARAM_TYPE_REAL32))
    bench.endpoint.handle(mavlink.MAVLink_param_request_read_message(1, 1, name.encode(), index))
    bench.answers()


@FUZZ
@given(mask=st.integers(0, 0xFFFF), lat=st.integers(-(2**31), 2**31 - 1), lon=st.integers(-(2**31), 2**31 - 1),
       vx=any_float, vy=any_float, mode=st.sampled_from([4, 15]))
def test_guided_targets_with_any_values(bench: _Bench, mask: int, lat: int, lon: int, vx: float, vy: float,
                                        mode: int) -> None:
    bench.endpoint.handle(mavlink.MAVLink_command_long_message(1, 1, mavlink.MAV_CMD_DO_SET_MODE, 0, 1, mode, 0, 0, 0, 0, 0))
    bench.endpoint.handle(mavlink.MAVLink_set_position_target_global_int_message(
        0, 1, 1, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, mask, lat, lon, 0, vx, vy, 0, 0, 0, 0, 0, 0))
    bench.endpoint.publish(*bench._step())
    bench.answers()


@FUZZ
@given(count=st.integers(0, 65535), mission_type=st.integers(0, 255),
       items=st.lists(st.tuples(st.integers(0, 70), st.integers(0, 65535), st.integers(0, 20), any_float,
                                st.integers(-(2**31), 2**31 - 1), st.integers(-(2**31), 2**31 - 1)), max_size=8))
def test_mission_transfers_with_any_values(bench: _Bench, count: int, mission_type: int,
                                           items: list[tuple[int, int, int, float, int, int]]) -> None:
    bench.endpoint.handle(mavlink.MAVLink_mission_count_message(1, 1, count, mission_type))
    for seq, command, frame, param, x, y in items:
        bench.endpoint.handle(mavlink.MAVLink_mission_item_int_message(
            1, 1, seq, frame, command, 0, 1, param, param, param, param, x, y, 0, mission_type))
    bench.endpoint.handle(mavlink.MAVLink_mission_request_list_message(1, 1, mission_type))
    bench.endpoint.handle(mavlink.MAVLink_mission_request_int_message(1, 1, count % 7, mission_type))
    bench.endpoint.handle(mavlink.MAVLink_mission_clear_all_message(1, 1, mavlink.MAV_MISSION_TYPE_MISSION))
    bench.answers()
