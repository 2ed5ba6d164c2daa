"""The twin's instruments served at real time, for the boat process to poll over their protocols."""

import threading
import time

import pytest

from riverpatrol.scenario import parse_scenario
from riverpatrol.twin.devices import DevicePorts, TwinDevices
from riverpatrol.twin.twin import RiverTwin

BLOCK_S = 0.2


class _PacedTwin(threading.Thread):
    """The twin at real time, feeding its devices; records what the sonde was given."""

    def __init__(self, twin, devices):
        super().__init__(daemon=True)
        self.twin, self.devices = twin, devices
        self.fed_conductivity = []
        self.halt = threading.Event()
        self.fed = threading.Event()

    def run(self):
        start = time.monotonic()
        while not self.halt.is_set():
            block = self.twin.advance(BLOCK_S)
            batch = self.twin.sense(block)
            self.fed_conductivity.extend(batch.sonde["conductivity"].tolist())
            self.devices.feed(block, batch)
            self.fed.set()
            self.halt.wait(max(0.0, start + self.twin.time - time.monotonic()))


@pytest.fixture
def twin_and_devices(make_scenario):
    scenario = parse_scenario(make_scenario(sensors={"sonde": {"rate_hz": 5}}))
    twin = RiverTwin(scenario, keyframe_s=0.4)
    devices = TwinDevices.start(twin, DevicePorts(sonde=0, sonar_port=0, sonar_starboard=0, echosounder=0, camera=0))
    pacer = _PacedTwin(twin, devices)
    pacer.start()
    assert pacer.fed.wait(30), "the twin never produced a block"
    yield scenario, devices, pacer
    pacer.halt.set()
    pacer.join()
    devices.stop()


@pytest.fixture
def config_for():
    """The boat config (as a dict) that reads every emulated device."""

    def build(devices, log, duration_s, river="unused.json"):
        a = {k: v.split(" ")[-1] for k, v in devices.addresses.items()}
        return {
            "patrol": {"river": str(river), "log": str(log), "duration_s": duration_s, "flush_s": 0.25},
            "sonde": {"protocol": "modbus-tcp", "address": a["sonde"], "rate_hz": 5, "timeout_s": 0.5, "retries": 0},
            "sonar": {"port": a["sonar_port"], "starboard": a["sonar_starboard"], "timeout_s": 0.5},
            "echosounder": {"address": a["echosounder"], "rate_hz": 5, "timeout_s": 0.5},
            "camera": {"url": a["camera"], "keyframe_s": 0.2, "timeout_s": 1.0},
        }

    return build
