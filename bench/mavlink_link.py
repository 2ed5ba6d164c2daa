"""MAVLink figures against ``riverpatrol twin serve`` running as its own process on UDP loopback.

1. Upload of a 500-item mission: MavlinkAutopilot.upload_mission next to the loop of pymavlink's
   mission upload example (MISSION_COUNT, answer each request with the item), same endpoint.
2. Telemetry the endpoint sustains at speedup 20 with every stream at 10 Hz of twin time.
3. The client's decode rate next to bare pymavlink reading the same datagrams from a UDP socket.

    .venv/bin/python bench/mavlink_link.py
"""

from __future__ import annotations

import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from riverpatrol.simulate_mavlink import free_udp_port
from riverpatrol.vehicle.link import mavlink, mavutil
from riverpatrol.vehicle.mavlink_client import MavlinkAutopilot
from riverpatrol.vehicle.mavlink_items import encode, home_item
from riverpatrol.vehicle.mission import MissionItem

SCENARIO = Path(__file__).resolve().parents[1] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"
ITEMS = 500
RUNS = 5
CAPTURE_S = 10.0
STREAMS = (mavlink.MAVLINK_MSG_ID_HEARTBEAT, mavlink.MAVLINK_MSG_ID_SYS_STATUS, mavlink.MAVLINK_MSG_ID_MISSION_CURRENT,
           mavlink.MAVLINK_MSG_ID_GPS_RAW_INT, mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT,
           mavlink.MAVLINK_MSG_ID_ATTITUDE, mavlink.MAVLINK_MSG_ID_VFR_HUD, mavlink.MAVLINK_MSG_ID_OBSTACLE_DISTANCE)


def twin_serve(port: int, speedup: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "riverpatrol", "twin", "serve", str(SCENARIO), "--mavlink",
                             f"udpout:127.0.0.1:{port}", "--speedup", str(speedup)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=30)


def mission(lon: float, lat: float) -> list[MissionItem]:
    return [MissionItem.waypoint(lon + 1e-5 * (i % 50), lat + 1e-5 * (i // 50)) for i in range(ITEMS)]


def bare_example_upload(conn: mavutil.mavfile, items: list[MissionItem], lon: float, lat: float) -> None:
    """pymavlink's example loop: send the count, answer every request with its item, until the ACK."""
    wire = [home_item(lon, lat), *(encode(i) for i in items)]
    conn.mav.mission_count_send(1, 1, len(wire), mavlink.MAV_MISSION_TYPE_MISSION)
    while True:
        msg = conn.recv_match(type=["MISSION_REQUEST_INT", "MISSION_REQUEST", "MISSION_ACK"], blocking=True, timeout=5)
        if msg is None or msg.get_type() == "MISSION_ACK":
            assert msg is not None and msg.type == mavlink.MAV_MISSION_ACCEPTED, msg
            return
        conn.mav.send(wire[msg.seq].message(msg.seq, mavlink.MAV_MISSION_TYPE_MISSION, (1, 1)))


def timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def upload_figures() -> None:
    port = free_udp_port()
    with MavlinkAutopilot(f"udpin:127.0.0.1:{port}") as pilot:
        child = twin_serve(port, 1.0)
        try:
            pilot.wait_heartbeat(timeout_s=60)
            while (here := pilot.position()) is None:
                time.sleep(0.1)
            items = mission(here.lon, here.lat)
            ours = [timed(lambda: pilot.upload_mission(items)) for _ in range(RUNS)]
        finally:
            stop(child)
    port = free_udp_port()
    conn = mavutil.mavlink_connection(f"udpin:127.0.0.1:{port}", source_system=255, source_component=190)
    child = twin_serve(port, 1.0)
    try:
        conn.wait_heartbeat(timeout=60)
        fix = conn.recv_match(type="GLOBAL_POSITION_INT", blocking=True, timeout=10)
        lon, lat = fix.lon / 1e7, fix.lat / 1e7
        bare = [timed(lambda: bare_example_upload(conn, mission(lon, lat), lon, lat)) for _ in range(RUNS)]
    finally:
        stop(child)
        conn.close()
    print(f"{ITEMS}-item mission upload over UDP loopback: MavlinkAutopilot median {statistics.median(ours) * 1000:.0f} ms "
          f"(best {min(ours) * 1000:.0f}); pymavlink example loop median {statistics.median(bare) * 1000:.0f} ms "
          f"(best {min(bare) * 1000:.0f}); target < 1000 ms")


def capture(speedup: float) -> list[bytes]:
    """Every datagram the endpoint sends for CAPTURE_S of wall time, all streams at 10 Hz."""
    port = free_udp_port()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind(("127.0.0.1", port))
    encoder = mavlink.MAVLink(None, srcSystem=255, srcComponent=190)
    child = twin_serve(port, speedup)
    datagrams: list[bytes] = []
    try:
        _, endpoint = sock.recvfrom(65536)
        for ident in STREAMS:
            command = mavlink.MAVLink_command_long_message(1, 1, mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 0,
                                                           ident, 100_000, 0, 0, 0, 0, 0)
            sock.sendto(bytes(command.pack(encoder)), endpoint)
        time.sleep(1.0)
        sock.settimeout(0.5)
        deadline = time.monotonic() + CAPTURE_S
        while time.monotonic() < deadline:
            try:
                datagrams.append(sock.recv(65536))
            except TimeoutError:
                continue
    finally:
        stop(child)
        sock.close()
    return datagrams


def twin_seconds(datagrams: list[bytes]) -> float:
    parser = mavlink.MAVLink(None)
    parser.robust_parsing = True
    stamps = [m.time_boot_ms for d in datagrams for m in (parser.parse_buffer(d) or [])
              if m.get_type() == "GLOBAL_POSITION_INT"]
    return (stamps[-1] - stamps[0]) / 1000.0


Reader = tuple[Callable[[], int], Callable[[], None], int]  # messages counted, close, reading thread


def decode_rate(datagrams: list[bytes], reader: Callable[[int], Reader]) -> float:
    """Messages per CPU second of the reading thread, fed from a UDP socket in bursts its buffer holds.

    CPU time of that thread alone, so other processes on a loaded machine do not blur the figure.
    """
    port = free_udp_port()
    count, close, ident = reader(port)
    clock = time.pthread_getcpuclockid(ident)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    time.sleep(0.2)
    started = time.clock_gettime(clock)
    sent = 0
    for first in range(0, len(datagrams), 200):
        for datagram in datagrams[first:first + 200]:
            sender.sendto(datagram, ("127.0.0.1", port))
        sent += len(datagrams[first:first + 200])
        while count() < sent:
            time.sleep(0.0005)
    cpu = time.clock_gettime(clock) - started
    sender.close()
    close()
    return sent / cpu


def bare_reader(port: int) -> Reader:
    conn = mavutil.mavlink_connection(f"udpin:127.0.0.1:{port}", source_system=255)
    conn.port.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    counted = [0]
    running = [True]

    def loop() -> None:
        while running[0]:
            conn.select(0.05)
            while conn.recv_msg() is not None:
                counted[0] += 1

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()

    def close() -> None:
        running[0] = False
        thread.join()
        conn.close()
    return (lambda: counted[0]), close, thread.ident or 0


def client_reader(port: int) -> Reader:
    pilot = MavlinkAutopilot(f"udpin:127.0.0.1:{port}")
    pilot._conn.port.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    return (lambda: pilot.received + pilot.bad_packets + pilot.foreign_packets), pilot.close, pilot._thread.ident or 0


def telemetry_figures() -> None:
    datagrams = capture(20.0)
    twin_s = twin_seconds(datagrams)
    print(f"endpoint at speedup 20, all {len(STREAMS)} streams at 10 Hz: {len(datagrams) / CAPTURE_S:.0f} messages/s, "
          f"{sum(map(len, datagrams)) / CAPTURE_S / 1000:.0f} kB/s, twin clock {twin_s / CAPTURE_S:.1f}x real time "
          f"(ideal {20 * 10 * len(STREAMS)} messages/s at 20x)")
    replay = datagrams * max(1, 20_000 // max(1, len(datagrams)))
    bare, ours = [], []
    for _ in range(3):  # interleaved, so both see the same machine
        bare.append(decode_rate(replay, bare_reader))
        ours.append(decode_rate(replay, client_reader))
    print(f"decoding {len(replay)} of those messages from UDP, per CPU second of the reading thread: "
          f"MavlinkAutopilot {statistics.median(ours):,.0f} msg/s, bare pymavlink {statistics.median(bare):,.0f} msg/s, "
          f"ratio {statistics.median(ours) / statistics.median(bare):.2f} (target >= 0.8)")


if __name__ == "__main__":
    upload_figures()
    telemetry_figures()
