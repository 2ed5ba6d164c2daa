"""The boat process against the twin's emulated instruments, over their real protocols.

A thread steps the twin at real time in 0.2 s blocks and feeds its devices; the boat process polls
them into a patrol log. Mid-run the sonde is unplugged and plugged back: its gap is in the log as
instrument_down/instrument_up, and the sonar, echosounder and camera went on meanwhile. On a
patrol through ``twin serve --instruments`` the boat process avoids what its autopilot's ranging
shows and goes back to look at what its own sonde finds.
"""

import asyncio
import math
import threading

import numpy as np
import pytest

from riverpatrol.boat.config import BoatConfig
from riverpatrol.boat.runner import BoatError, BoatProcess
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import parse_scenario
from riverpatrol.twin.devices import DevicePorts
from riverpatrol.vehicle.mavlink_client import MavlinkAutopilot


def _config(devices, log, duration_s, config_for):
    return BoatConfig.model_validate(config_for(devices, log, duration_s))


def test_a_patrol_of_instruments_survives_an_unplugged_sonde(twin_and_devices, config_for, tmp_path):
    scenario, devices, pacer = twin_and_devices
    log_path = tmp_path / "patrol.sqlite"
    process = BoatProcess(_config(devices, log_path, 4.0, config_for), scenario)

    async def go():
        run = asyncio.create_task(process.run())
        await asyncio.sleep(1.2)
        await asyncio.to_thread(devices.garble, "sonar")
        await asyncio.to_thread(devices.unplug, "sonde")
        await asyncio.sleep(1.2)
        await asyncio.to_thread(devices.plug, "sonde")
        return await run

    summary = asyncio.run(go())
    with PatrolLog(log_path) as log:
        sonde = log.columns("sonde")
        pings = log.columns("sonar")
        frames = log.columns("frame")
        events = log.columns("event")
        meta = log.meta
    kinds = list(events["kind"])
    down = [d for k, d in zip(kinds, events["detail"]) if k == "instrument_down"]
    assert [d["instrument"] for d in down] == ["sonde"], down
    assert "instrument_up" in kinds and summary.outages == {"sonde": 1}
    t_down = float(events["t"][kinds.index("instrument_down")])
    t_up = float(events["t"][kinds.index("instrument_up")])
    assert t_up - t_down >= 1.0
    # the sonde's gap is a gap in its samples; the sonar and camera went on through it
    assert not np.any((sonde["t"] > t_down + 0.3) & (sonde["t"] < t_up - 0.3))
    assert np.any((pings["t"] > t_down) & (pings["t"] < t_up))
    assert np.any((frames["t"] > t_down) & (frames["t"] < t_up))
    assert kinds.count("depth") >= 5
    garbled = [d for k, d in zip(kinds, events["detail"]) if k == "protocol_errors"]
    assert garbled == [{"instrument": "sonar", "frames": 1}]
    # what the boat logged is what the twin's sonde said, through Modbus float32 and mS/cm
    fed = np.array(pacer.fed_conductivity)
    logged = sonde["conductivity"][np.isfinite(sonde["conductivity"])]
    assert len(logged) >= 5
    assert all(np.min(np.abs(fed - v)) <= 1e-6 * v for v in logged)
    assert pings["port"].shape[1] == 500 and set(meta["sensors"]["sonde"]["params"]) <= {
        "temperature", "ph", "do", "conductivity", "turbidity"}
    assert frames["width"][0] == 640 and meta["source"] == "riverpatrol boat"
    assert meta["camera"]["width"] == 640 and meta["camera"]["hfov_deg"] == 60.0


class _BrokenAutopilot:
    time = 0.0

    def position(self):
        raise OSError("the autopilot link's socket is gone")

    def events(self):
        return []


def test_a_failing_job_ends_the_patrol_cleanly_and_says_why(make_scenario, tmp_path):
    log_path = tmp_path / "patrol.sqlite"
    config = BoatConfig.model_validate({"patrol": {"river": "r.json", "log": str(log_path)},
                                        "autopilot": {"url": "udpin:127.0.0.1:14550"}})
    process = BoatProcess(config, parse_scenario(make_scenario()), autopilot=_BrokenAutopilot())
    with pytest.raises(BoatError, match="autopilot stopped the patrol: the autopilot link's socket is gone"):
        asyncio.run(process.run())
    with PatrolLog(log_path) as log:
        kinds = list(log.columns("event")["kind"])
    assert kinds == ["patrol_start", "boat_error", "patrol_end"]


def _east(metres, north=0.0):
    return [121.38 + metres / (111_320.0 * math.cos(math.radians(28.37))), 28.37 + north / 110_574.0]


@pytest.mark.slow
def test_a_patrol_avoids_a_pier_and_investigates_what_its_sonde_finds(serve_twin, tmp_path):
    # a 400 m reach: a pier on the right-bank survey lane, an outfall on the left bank
    river = {"schema": "riverpatrol.scenario/1", "name": "pier-and-outfall",
             "river": {"centerline": [_east(0.0), _east(400.0)], "width_m": 20.0, "depth_m": 2.0,
                       "velocity_mps": 0.25, "transverse_dispersion_m2ps": 0.05},
             "outfalls": [{"id": "p1", "chainage_m": 150.0, "bank": "left", "flow_m3ps": 0.15,
                           "excess": {"conductivity": 800.0, "nh3n": 8.0, "cod": 60.0}}],
             "obstacles": {"static": [{"id": "pier", "type": "circle", "center": _east(300.0, -7.0), "radius_m": 1.0}],
                           "moving": []},
             "boat": {"home": _east(10.0)}, "mission": {"pattern": "outfall-survey"}}
    speedup = 20.0
    addresses, announced = {}, threading.Event()

    def announce(name, address):
        addresses[name] = address.split(" ")[-1]
        announced.set()

    served = serve_twin(speedup=speedup, scenario=river, keyframe_s=60.0, announce=announce,
                        instruments=DevicePorts(sonde=0, sonar_port=0, sonar_starboard=0, echosounder=0, camera=0))
    assert announced.wait(30), "twin serve never served its instruments"
    log_path = tmp_path / "patrol.sqlite"
    config = BoatConfig.model_validate({
        "patrol": {"river": "river.json", "log": str(log_path), "duration_s": 1500.0, "flush_s": 0.5},
        "autopilot": {"url": f"udpin:127.0.0.1:{served.port}"},
        "sonde": {"protocol": "modbus-tcp", "address": addresses["sonde"], "timeout_s": 0.5}})
    with MavlinkAutopilot(config.autopilot.url) as pilot:
        pilot.wait_heartbeat()
        asyncio.run(BoatProcess(config, parse_scenario(river), autopilot=pilot, patrol=True, speedup=speedup).run())
    truth = served.finish().truth
    with PatrolLog(log_path) as log:
        events = list(log.records("event"))
    kinds = [e.kind for e in events]
    assert truth["collisions"] == [] and truth["mission_complete"], truth["collisions"]
    assert "avoid_start" in kinds and "avoid_end" in kinds
    looks = [e.detail for e in events if e.kind == "phase" and e.detail["phase"] == "investigate"]
    assert looks and looks[0]["parameters"]["conductivity"] > 3.0, looks
    assert events[-1].detail["mission_complete"] is True
