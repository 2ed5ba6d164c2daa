"""``riverpatrol twin serve``: the twin on the wall clock behind its MAVLink endpoint, like SITL.

The twin advances in short blocks paced at ``speedup`` x real time; between blocks the endpoint
answers what arrived and publishes the block's telemetry. With an output directory the twin's
sensors write the patrol log exactly as ``simulate`` does (the boat's payload logger), and the
truth is written when the run stops.
"""

from __future__ import annotations

import math
from collections.abc import Callable
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riverpatrol.jsonfile import write_json
from riverpatrol.patrollog import PatrolLogWriter
from riverpatrol.scenario import Scenario
from riverpatrol.simulate import HOME_TOLERANCE_M, LOG_NAME, TRUTH_NAME, twin_log_metadata, write_sensed
from riverpatrol.twin.devices import DevicePorts, TwinDevices
from riverpatrol.twin.mavlink_endpoint import RoverEndpoint
from riverpatrol.twin.twin import TICK_S, RiverTwin
from riverpatrol.vehicle.link import open_link

MAX_BLOCK_S = 1.0
BLOCK_WALL_S = 0.02  # aim for a block every 20 ms of wall time: commands act within that
SYSTEM_ID = 1
COMPONENT_ID = 1  # MAV_COMP_ID_AUTOPILOT1


@dataclass(frozen=True)
class ServeResult:
    scenario_s: float
    wall_s: float
    counts: dict[str, int]
    truth: dict[str, Any]
    bad_packets: int


def block_seconds(speedup: float) -> float:
    """Twin seconds per block: whole ticks, about ``BLOCK_WALL_S`` of wall time each."""
    ticks = max(1, min(round(MAX_BLOCK_S / TICK_S), math.floor(speedup * BLOCK_WALL_S / TICK_S)))
    return ticks * TICK_S


def serve(scenario: Scenario, url: str, *, speedup: float = 1.0, out_dir: Path | None = None,
          keyframe_s: float = 1.0, signing_key: bytes | None = None,
          stop: threading.Event | None = None, instruments: DevicePorts | None = None,
          announce: Callable[[str, str], None] = lambda name, address: None) -> ServeResult:
    """Run until ``stop`` is set (or KeyboardInterrupt); returns what the run recorded.

    With ``instruments`` the twin's sonde, sonars and camera are also served behind their own
    protocols (docs/instruments.md); ``announce`` is told each one's name and address.
    """
    stop = stop or threading.Event()
    twin = RiverTwin(scenario, keyframe_s=keyframe_s)
    conn = open_link(url, system=SYSTEM_ID, component=COMPONENT_ID, signing_key=signing_key)
    log = None
    devices = None
    try:
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            log = PatrolLogWriter(out_dir / LOG_NAME, twin_log_metadata(twin))
        if instruments is not None:
            devices = TwinDevices.start(twin, instruments)
    except BaseException:
        if log is not None:
            log.close()
        conn.close()
        raise
    for name, address in (devices.addresses.items() if devices else ()):
        announce(name, address)
    counts = {"position": 0, "sonde": 0, "ranging": 0, "sonar": 0, "frame": 0}
    endpoint = RoverEndpoint(conn, twin.autopilot, system=SYSTEM_ID, component=COMPONENT_ID)
    block_s = block_seconds(speedup)
    started = time.monotonic()
    try:
        while not stop.is_set():
            block = twin.advance(block_s)
            batch = twin.sense(block)
            if log is not None:
                with log.batch():
                    write_sensed(log, batch, counts)
            endpoint.publish(block, batch)
            if devices is not None:
                devices.feed(block, batch)
            endpoint.poll()
            while not stop.is_set() and (ahead := started + twin.time / speedup - time.monotonic()) > 0:
                endpoint.poll(wait_s=ahead)
    except KeyboardInterrupt:
        pass
    finally:
        if devices is not None:
            devices.stop()
        conn.close()
        if log is not None:
            log.close()
    home = twin.autopilot.home
    at_home = math.hypot(twin.boat.x - home[0], twin.boat.y - home[1]) <= HOME_TOLERANCE_M
    truth = twin.truth.document(mission_complete=endpoint.mission_completed and at_home)
    if out_dir is not None:
        write_json(out_dir / TRUTH_NAME, truth)
    return ServeResult(twin.time, time.monotonic() - started, counts, truth, endpoint.bad_packets)
