"""The boat process over the instruments' real protocols finds what the in-process run finds.

The twin runs the scenario's mission at SPEEDUP x real time on a thread, as ``twin serve`` will,
feeding its emulated devices (Aqua TROLL map over Modbus TCP, Omniscan pair and Ping1D over UDP,
MJPEG camera); ``BoatProcess`` polls them into its own patrol log. Fixes and autopilot events
reach the boat through the autopilot interface's ``position()``/``events()`` read in-process: the
MAVLink client that will carry them is not on main yet. The boat's log is analysed and its
suspected outfalls compared with those of ``simulate`` on the same scenario.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from riverpatrol.analysis.pipeline import analyze
from riverpatrol.autonomy.routes import mission_items, plan_route
from riverpatrol.boat.config import BoatConfig
from riverpatrol.boat.runner import BoatProcess
from riverpatrol.records import MissionEvent, Position
from riverpatrol.scenario import load_scenario
from riverpatrol.simulate import simulate
from riverpatrol.twin.devices import DevicePorts, TwinDevices
from riverpatrol.twin.twin import RiverTwin
from riverpatrol.vehicle.direct import DirectAutopilot
from riverpatrol.vehicle.mission import Mode

pytestmark = pytest.mark.slow

SPEEDUP = 20.0
BLOCK_S = 0.2
ALONG_M = 20.0  # the scorer's match distance


class _TwinAtSpeed(threading.Thread):
    """The mission driven as ``simulate`` drives it, paced; the autopilot interface the boat reads."""

    def __init__(self, scenario, devices, twin):
        super().__init__(daemon=True)
        self.twin, self.devices = twin, devices
        self.pilot = DirectAutopilot(twin.autopilot)
        river, m = scenario.river_frame(), scenario.mission
        route = plan_route(river, m.pattern, m.from_chainage_m, m.to_chainage_m, m.bank_offset_m)
        self.pilot.upload_mission(mission_items(river, route, scenario.boat.cruise_speed_mps))
        self.limit_s = scenario.boat.endurance_s
        self.done = threading.Event()
        self._fix: Position | None = None
        self._events: list[MissionEvent] = []
        self._lock = threading.Lock()

    @property
    def time(self) -> float:
        return self.twin.time

    def position(self) -> Position | None:
        return self._fix

    def events(self) -> list[MissionEvent]:
        with self._lock:
            out, self._events = self._events, []
        return out

    def run(self):
        self.pilot.arm()
        self.pilot.set_mode(Mode.AUTO)
        start = time.monotonic()
        while self.twin.time < self.limit_s:
            block = self.twin.advance(BLOCK_S)
            batch = self.twin.sense(block)
            self.devices.feed(block, batch)
            p = batch.positions
            if len(p["t"]):
                self._fix = Position(float(p["t"][-1]), float(p["lon"][-1]), float(p["lat"][-1]),
                                     float(p["sog"][-1]), float(p["cog"][-1]), float(p["heading"][-1]))
            events = self.pilot.events()
            with self._lock:
                self._events.extend(events)
            if any(e.kind == "mission_complete" for e in events):
                break
            time.sleep(max(0.0, start + self.twin.time / SPEEDUP - time.monotonic()))
        self.done.set()


def _boat_config(devices, log):
    a = {k: v.split(" ")[-1] for k, v in devices.addresses.items()}
    return BoatConfig.model_validate({
        "patrol": {"river": "unused.json", "log": str(log), "flush_s": 0.5},
        "autopilot": {"url": "udpin:127.0.0.1:14550", "position_hz": 10},
        "sonde": {"protocol": "modbus-tcp", "address": a["sonde"], "map": "insitu-aquatroll600",
                  "rate_hz": 1, "timeout_s": 0.5},
        "sonar": {"port": a["sonar_port"], "starboard": a["sonar_starboard"], "timeout_s": 2.0},
        "echosounder": {"address": a["echosounder"], "rate_hz": 1},
        "camera": {"url": a["camera"], "keyframe_s": 5.0},
    })


def _outfalls(findings):
    return sorted((f["properties"]["bank"], f["properties"]["chainage_m"]) for f in findings["features"])


def test_boat_over_protocols_finds_the_same_outfalls(shared_dir, tmp_path):
    scenario = load_scenario(shared_dir / "scenarios" / "straight-easy.json")
    direct = simulate(scenario, tmp_path / "direct")
    expected = _outfalls(analyze(direct.log_path, tmp_path / "direct" / "analysis", maps=()).findings)

    twin = RiverTwin(scenario, keyframe_s=5.0)
    devices = TwinDevices.start(twin, DevicePorts(sonde=0, sonde_map="insitu-aquatroll600", sonar_port=0,
                                                  sonar_starboard=0, echosounder=0, camera=0))
    at_speed = _TwinAtSpeed(scenario, devices, twin)
    log_path = tmp_path / "boat" / "patrol.sqlite"
    log_path.parent.mkdir()
    process = BoatProcess(_boat_config(devices, log_path), scenario, autopilot=at_speed, speedup=SPEEDUP)

    async def go():
        stop = asyncio.Event()
        run = asyncio.create_task(process.run(stop))
        await asyncio.to_thread(at_speed.done.wait)
        await asyncio.sleep(0.5)  # the last readings in flight
        stop.set()
        return await run

    at_speed.start()
    try:
        summary = asyncio.run(go())
    finally:
        at_speed.done.wait()
        devices.stop()
    found = _outfalls(analyze(log_path, tmp_path / "boat" / "analysis", maps=()).findings)
    print(f"\ndirect: {expected}\nboat over protocols: {found}\n{summary}")
    assert summary.counts["sonde"] > 0.9 * direct.counts["sonde"]
    assert summary.counts["sonar"] > 0.9 * direct.counts["sonar"]
    assert len(found) == len(expected)
    for (bank, s), (bank_found, s_found) in zip(expected, found):
        assert bank_found == bank and abs(s_found - s) <= ALONG_M
