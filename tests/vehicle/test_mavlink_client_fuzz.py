"""The client under hostile telemetry: well-formed messages with any values, and any bytes, sent
to its socket as a vehicle would. Its link thread must live on and its records stay readable."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riverpatrol.simulate_mavlink import free_udp_port
from riverpatrol.vehicle.link import mavlink
from riverpatrol.vehicle.mavlink_client import MavlinkAutopilot

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
u8, u16, u32 = st.integers(0, 255), st.integers(0, 65535), st.integers(0, 2**32 - 1)
i32 = st.integers(-(2**31), 2**31 - 1)
f32 = st.floats(allow_nan=True, allow_infinity=True, width=32)

telemetry = st.one_of(
    st.builds(mavlink.MAVLink_heartbeat_message, u8, u8, u8, u32, u8, u8),
    st.builds(mavlink.MAVLink_mission_current_message, u16, u16, u8, u8),
    st.builds(mavlink.MAVLink_mission_item_reached_message, u16),
    st.builds(mavlink.MAVLink_global_position_int_message, u32, i32, i32, i32, i32,
              st.integers(-32768, 32767), st.integers(-32768, 32767), st.integers(-32768, 32767), u16),
    st.builds(mavlink.MAVLink_obstacle_distance_message, st.integers(0, 2**63), u8, st.lists(u16, min_size=72, max_size=72),
              u8, u16, u16, f32, f32, u8),
    st.builds(mavlink.MAVLink_statustext_message, u8, st.binary(max_size=50), u16, u8),
    st.builds(mavlink.MAVLink_attitude_message, u32, f32, f32, f32, f32, f32, f32),
)


class _Vehicle:
    """A raw socket posing as system 1, sending to the client."""

    def __init__(self) -> None:
        self.port = free_udp_port()
        self.pilot = MavlinkAutopilot(f"udpin:127.0.0.1:{self.port}")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.encoder = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.port))

    def settle(self, sent: int) -> None:
        deadline = time.monotonic() + 5.0
        pilot = self.pilot
        while pilot.received + pilot.bad_packets < sent and time.monotonic() < deadline:
            time.sleep(0.002)

    def close(self) -> None:
        self.pilot.close()
        self.sock.close()


@pytest.fixture
def vehicle() -> Iterator[_Vehicle]:
    rig = _Vehicle()
    yield rig
    rig.close()


@FUZZ
@given(messages=st.lists(telemetry, min_size=1, max_size=5))
def test_any_telemetry_values(vehicle: _Vehicle, messages: list[Any]) -> None:
    before = vehicle.pilot.received
    for message in messages:
        vehicle.send(bytes(message.pack(vehicle.encoder)))
    vehicle.settle(before + len(messages) + vehicle.pilot.bad_packets)
    assert vehicle.pilot._thread.is_alive()
    vehicle.pilot.position()
    vehicle.pilot.scans()
    vehicle.pilot.events()
    _ = vehicle.pilot.mode, vehicle.pilot.armed, vehicle.pilot.mission_seq, vehicle.pilot.time


@FUZZ
@given(datagrams=st.lists(st.binary(max_size=300), min_size=1, max_size=5))
def test_any_bytes(vehicle: _Vehicle, datagrams: list[bytes]) -> None:
    for datagram in datagrams:
        vehicle.send(datagram)
    beat = mavlink.MAVLink_heartbeat_message(mavlink.MAV_TYPE_SURFACE_BOAT, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, 4, 3, 3)
    before = vehicle.pilot.received
    vehicle.send(bytes(beat.pack(vehicle.encoder)))
    deadline = time.monotonic() + 5.0
    while vehicle.pilot.received == before and time.monotonic() < deadline:
        time.sleep(0.002)
    assert vehicle.pilot.received > before and vehicle.pilot._thread.is_alive()
