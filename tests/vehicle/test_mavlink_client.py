"""MavlinkAutopilot against the twin's endpoint over real UDP: the Autopilot interface end to end,
link health, bad input on the boat side, signing."""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import LineString, Point
from typer.testing import CliRunner

from riverpatrol.cli import app
from riverpatrol.interop.qgc_plan import Plan, read_plan, write_plan
from riverpatrol.simulate_mavlink import free_udp_port
from riverpatrol.vehicle.autopilot import Autopilot, AutopilotError
from riverpatrol.vehicle.link import LinkError, mavlink, mavutil, signing_key
from riverpatrol.vehicle.mavlink_client import GCS_COMPONENT, GCS_SYSTEM, MavlinkAutopilot
from riverpatrol.vehicle.mission import MissionItem, Mode

WAIT_S = 15.0


def _until(pilot: MavlinkAutopilot, kind: str, timeout: float = WAIT_S) -> list[Any]:
    """Events up to and including the first of ``kind``."""
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen += pilot.events()
        if any(e.kind == kind for e in seen):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"no {kind} event within {timeout} s; saw {[e.kind for e in seen]}")


@pytest.fixture
def pilot(serve_twin: Callable[..., Any]) -> Iterator[MavlinkAutopilot]:
    served = serve_twin(speedup=10.0)
    with MavlinkAutopilot(f"udpin:127.0.0.1:{served.port}") as autopilot:
        autopilot.wait_heartbeat()
        yield autopilot


def _square(pilot: MavlinkAutopilot, n: int) -> list[MissionItem]:
    here = pilot.position()
    assert here is not None
    return [MissionItem.change_speed(1.5)] + [MissionItem.waypoint(here.lon + 1e-5 * i, here.lat) for i in range(n)] \
        + [MissionItem.return_to_launch()]


def test_it_is_an_autopilot(pilot: MavlinkAutopilot) -> None:
    assert isinstance(pilot, Autopilot)
    assert pilot.mode is Mode.HOLD and not pilot.armed and pilot.link_up


def test_parameters(pilot: MavlinkAutopilot) -> None:
    assert pilot.param("FRAME_CLASS") == 2.0
    pilot.set_param("WP_RADIUS", 3.0)
    assert pilot.param("WP_RADIUS") == 3.0
    with pytest.raises(AutopilotError, match="NO_SUCH"):
        pilot.param("NO_SUCH")


def test_mission_round_trip_of_500_items(pilot: MavlinkAutopilot) -> None:
    items = _square(pilot, 498)
    pilot.upload_mission(items)
    assert pilot.download_mission() == [
        MissionItem(i.command, round(i.lat, 7), round(i.lon, 7), i.speed_mps) for i in items]
    assert any(e.kind == "mission_loaded" and e.detail == {"items": 500} for e in pilot.events())


def test_refusals_raise_with_the_mavlink_result(pilot: MavlinkAutopilot) -> None:
    pilot.upload_mission([])
    with pytest.raises(AutopilotError, match="FAILED"):
        pilot.set_mode(Mode.AUTO)
    with pytest.raises(AutopilotError, match="NO_SPACE"):
        pilot.upload_mission(_square(pilot, 2000))


def test_arm_auto_and_the_events_of_a_mission(pilot: MavlinkAutopilot) -> None:
    items = _square(pilot, 3)
    pilot.upload_mission(items)
    pilot.arm()
    pilot.start_mission()
    events = _until(pilot, "mission_complete", timeout=60.0)
    kinds = [e.kind for e in events]
    assert {"armed", "mode", "waypoint_reached"} <= set(kinds)
    reached = [e.detail["seq"] for e in events if e.kind == "waypoint_reached"]
    assert reached == [2, 3, 4, 5]  # seq 1 is DO_CHANGE_SPEED; 5 is the RTL
    assert all(a.t <= b.t for a, b in zip(events, events[1:]))
    assert pilot.armed and pilot.mode is Mode.AUTO
    pilot.disarm()


def test_guided_targets_and_speed(pilot: MavlinkAutopilot) -> None:
    start = pilot.position()
    assert start is not None
    pilot.arm()
    pilot.set_mode(Mode.GUIDED)
    pilot.set_speed(1.0)
    pilot.guided_position(start.lon + 2e-4, start.lat)
    _until(pilot, "target_reached", timeout=60.0)
    pilot.guided_velocity(1.0, 0.0)  # north
    time.sleep(0.3)
    assert pilot.mode is Mode.GUIDED


def test_a_body_frame_ring_turns_with_the_heading_of_its_instant() -> None:
    port = free_udp_port()
    with MavlinkAutopilot(f"udpin:127.0.0.1:{port}") as pilot, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as vehicle:
        mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
        distances = [500] + [65535] * 71

        def ring(t_us: int, frame: int) -> Any:
            return mavlink.MAVLink_obstacle_distance_message(t_us, mavlink.MAV_DISTANCE_SENSOR_LASER, distances, 0,
                                                            20, 3000, 5.0, 5.0, frame)

        heading_west_turning_right = mavlink.MAVLink_attitude_message(1000, 0.0, 0.0, math.radians(-90.0), 0.0, 0.0,
                                                                      math.radians(10.0))
        for message in (heading_west_turning_right, ring(1_500_000, mavlink.MAV_FRAME_BODY_FRD),
                        ring(1_500_000, mavlink.MAV_FRAME_GLOBAL), ring(5_000_000, mavlink.MAV_FRAME_BODY_FRD)):
            vehicle.sendto(bytes(message.pack(mav)), ("127.0.0.1", port))
        scans: list[Any] = []
        deadline = time.monotonic() + WAIT_S
        while len(scans) < 3 and time.monotonic() < deadline:
            scans += pilot.scans()
            time.sleep(0.01)
    assert [s.t for s in scans] == [1.5, 1.5, 5.0]
    # sector 0 is 5 deg right of the bow, and the boat turned 5 deg since its attitude was sent
    assert scans[0].heading_deg == pytest.approx(280.0)
    assert scans[1].heading_deg == pytest.approx(5.0)  # a north-aligned ring: the offset alone
    assert math.isnan(scans[2].heading_deg)  # no attitude near its time: no heading to guess
    assert scans[0].distances_cm[0] == 500 and len(scans[0].distances_cm) == 72 and scans[0].max_cm == 3000


@pytest.mark.parametrize("accepted", [True, False])
def test_a_waypoint_reached_during_an_upload_is_the_old_missions(accepted: bool) -> None:
    port = free_udp_port()
    with MavlinkAutopilot(f"udpin:127.0.0.1:{port}") as pilot:
        vehicle = mavutil.mavlink_connection(f"udpout:127.0.0.1:{port}", source_system=1, source_component=1)
        vehicle.mav.heartbeat_send(mavlink.MAV_TYPE_SURFACE_BOAT, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, 4, 3)
        vehicle.mav.mission_item_reached_send(6)  # not yet handed over when the upload starts
        deadline = time.monotonic() + WAIT_S
        while pilot.received < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        outcome: list[Any] = []

        def upload() -> None:
            try:
                pilot.upload_mission([MissionItem.waypoint(121.38, 28.37)])
                outcome.append("accepted")
            except AutopilotError as exc:
                outcome.append(exc)

        uploader = threading.Thread(target=upload)
        uploader.start()
        assert vehicle.recv_match(type="MISSION_COUNT", blocking=True, timeout=WAIT_S) is not None
        vehicle.mav.mission_item_reached_send(7)  # the old mission goes on meanwhile
        if accepted:
            for seq in (0, 1):
                vehicle.mav.mission_request_int_send(GCS_SYSTEM, GCS_COMPONENT, seq)
                assert vehicle.recv_match(type="MISSION_ITEM_INT", blocking=True, timeout=WAIT_S).seq == seq
            vehicle.mav.mission_ack_send(GCS_SYSTEM, GCS_COMPONENT, mavlink.MAV_MISSION_ACCEPTED)
        else:
            vehicle.mav.mission_ack_send(GCS_SYSTEM, GCS_COMPONENT, mavlink.MAV_MISSION_DENIED)
        uploader.join(WAIT_S)
        vehicle.close()
        kinds = [(e.kind, e.detail) for e in pilot.events()]
    if accepted:
        assert outcome == ["accepted"] and kinds == [("mission_loaded", {"items": 1})]
    else:
        assert isinstance(outcome[0], AutopilotError)
        assert kinds == [("waypoint_reached", {"seq": 6}), ("waypoint_reached", {"seq": 7})]


def test_garbage_from_the_link_is_counted_not_fatal(pilot: MavlinkAutopilot) -> None:
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = pilot._conn.port.getsockname()  # the client's own socket: what a noisy radio would hit
    for packet in (os.urandom(500), b"\xfd\x09\x00", b"\xfe" * 30):
        raw.sendto(packet, address)
    raw.close()
    deadline = time.monotonic() + WAIT_S
    while pilot.bad_packets == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pilot.bad_packets > 0
    assert pilot.param("FRAME_CLASS") == 2.0


def test_link_lost_and_recovered(serve_twin: Callable[..., Any]) -> None:
    served = serve_twin(speedup=10.0)
    with MavlinkAutopilot(f"udpin:127.0.0.1:{served.port}") as pilot:
        pilot.wait_heartbeat()
        served.finish()
        _until(pilot, "link_lost", timeout=15.0)
        assert not pilot.link_up
        serve_twin(speedup=10.0, port=served.port)
        _until(pilot, "link_recovered", timeout=30.0)
        assert pilot.link_up and pilot.param("FRAME_CLASS") == 2.0


def test_signed_link(serve_twin: Callable[..., Any]) -> None:
    key = signing_key("shared secret")
    served = serve_twin(speedup=10.0, signing_key=key)
    with MavlinkAutopilot(f"udpin:127.0.0.1:{served.port}", signing_key=key) as pilot:
        pilot.wait_heartbeat()
        pilot.arm()
        assert pilot.param("FRAME_CLASS") == 2.0
    with MavlinkAutopilot(f"udpin:127.0.0.1:{served.port}", signing_key=signing_key("wrong")) as stranger:
        with pytest.raises(AutopilotError, match="no heartbeat"):
            stranger.wait_heartbeat(timeout_s=2.0)  # it cannot even hear the vehicle


def test_bad_urls_are_named() -> None:
    with pytest.raises(LinkError, match="unknown link"):
        MavlinkAutopilot("carrier-pigeon:1")



class _Radio:
    """A UDP relay between the twin and the client that can be cut, as a telemetry radio fades."""

    def __init__(self, client_port: int) -> None:
        self.vehicle_side = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.vehicle_side.bind(("127.0.0.1", 0))
        self.port = self.vehicle_side.getsockname()[1]
        self.client_side = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client_side.bind(("127.0.0.1", 0))
        self.client = ("127.0.0.1", client_port)
        self.up = True
        self._vehicle: tuple[str, int] | None = None
        self._running = True
        self._threads = [threading.Thread(target=self._pump, args=(True,), daemon=True),
                         threading.Thread(target=self._pump, args=(False,), daemon=True)]
        for thread in self._threads:
            thread.start()

    def _pump(self, downlink: bool) -> None:
        source = self.vehicle_side if downlink else self.client_side
        source.settimeout(0.1)
        while self._running:
            try:
                data, sender = source.recvfrom(65536)
            except TimeoutError:
                continue
            if downlink:
                self._vehicle = sender
            if not self.up:
                continue
            if downlink:
                self.client_side.sendto(data, self.client)
            elif self._vehicle is not None:
                self.vehicle_side.sendto(data, self._vehicle)

    def close(self) -> None:
        self._running = False
        for thread in self._threads:
            thread.join()
        self.vehicle_side.close()
        self.client_side.close()


def test_link_loss_mid_mission_failsafe_then_resume(serve_twin: Callable[..., Any]) -> None:
    client_port = free_udp_port()
    radio = _Radio(client_port)
    served = serve_twin(speedup=5.0, port=radio.port)
    try:
        with MavlinkAutopilot(f"udpin:127.0.0.1:{client_port}") as pilot:
            pilot.wait_heartbeat()
            pilot.set_param("FS_GCS_ENABLE", 1.0)
            pilot.set_param("FS_GCS_TIMEOUT", 2.0)
            pilot.upload_mission(_square(pilot, 40))
            pilot.arm()
            pilot.start_mission()
            _until(pilot, "waypoint_reached")
            radio.up = False
            _until(pilot, "link_lost", timeout=20.0)
            radio.up = True
            events = _until(pilot, "link_recovered", timeout=20.0)
            events += [] if pilot.mode is Mode.HOLD else _until(pilot, "mode", timeout=5.0)
            assert pilot.mode is Mode.HOLD  # the twin's GCS failsafe held the boat while we were away
            seq = pilot.mission_seq
            pilot.set_mode(Mode.AUTO)  # resume where it stopped
            _until(pilot, "waypoint_reached")
            assert pilot.mission_seq >= seq and pilot.position() is not None
    finally:
        served.finish()
        radio.close()


def test_a_stream_the_autopilot_cannot_send_is_an_event(serve_twin: Callable[..., Any]) -> None:
    served = serve_twin(speedup=10.0)
    with MavlinkAutopilot(f"udpin:127.0.0.1:{served.port}", streams_hz={60000: 1.0}) as pilot:
        pilot.wait_heartbeat()
        refused = [e for e in pilot.events() if e.kind == "stream_refused"]
        assert refused and "MAV_RESULT_FAILED" in refused[0].detail["reason"]


def test_a_qgroundcontrol_plan_round_trips_through_the_autopilot(
        pilot: MavlinkAutopilot, tmp_path: Path, make_scenario: Callable[..., dict[str, Any]]) -> None:
    """riverpatrol plan's .plan file in, mission and geofence uploaded, downloaded, written out again."""
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(make_scenario()))
    made = CliRunner().invoke(app, ["plan", str(scenario), "--out", str(tmp_path / "in.plan")])
    assert made.exit_code == 0, made.output
    plan = read_plan(tmp_path / "in.plan")
    pilot.upload_mission(plan.items)
    pilot.upload_fence(plan.fences)
    back = Plan(plan.home, pilot.download_mission(), pilot.download_fence(), plan.cruise_speed_mps)
    write_plan(tmp_path / "out.plan", back)
    again = read_plan(tmp_path / "out.plan")
    assert len(again.items) == len(plan.items) and again.items == back.items
    assert all(abs(a.lat - b.lat) < 1e-7 and abs(a.lon - b.lon) < 1e-7 for a, b in zip(again.items, plan.items))
    assert len(again.fences) == len(plan.fences) == 1 and again.fences[0].inclusion
    original = LineString(plan.fences[0].ring)
    metres = 111_320.0
    assert 4 <= len(again.fences[0].ring) <= 100 < len(plan.fences[0].ring)  # simplified to fit the autopilot
    assert all(original.distance(Point(p)) * metres < 0.01 for p in again.fences[0].ring)  # its vertices, kept
    assert original.hausdorff_distance(LineString(again.fences[0].ring + again.fences[0].ring[:1])) * metres < 1.5
