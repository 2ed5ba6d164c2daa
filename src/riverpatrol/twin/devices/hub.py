"""The twin's instruments behind their real protocols, fed from the twin's sensor outputs.

``twin serve`` starts them with a few lines and feeds them after every block::

    devices = TwinDevices.start(twin, DevicePorts())      # binds, on a thread of its own
    for name, address in devices.addresses.items():        # name them in the output
        print(name, address)
    while running:
        block = twin.advance(0.2)
        devices.feed(block, twin.sense(block))             # sonde, pings, depth, frames
    devices.stop()

Feeding short blocks (0.2 s or less) at real time keeps each reading's arrival close to its twin
time; a longer block arrives as a burst. ``unplug``/``plug`` take one device off the network and
back (same port), which is how the fault tests pull a cable; ``garble`` sends noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riverpatrol.geo.angles import compass_deg
from riverpatrol.instruments.registermap import load_map
from riverpatrol.twin.devices.camera import EmulatedCamera
from riverpatrol.twin.devices.loop import LoopThread
from riverpatrol.twin.devices.modbus import EmulatedSonde
from riverpatrol.twin.devices.ping import EmulatedOmniscan, EmulatedPingDevices
from riverpatrol.twin.twin import SONAR_EVERY, RiverTwin, SensedBatch, TickBlock

ECHO_SIGMA_M = 0.02  # the emulated Ping1D's depth noise (its datasheet accuracy is about 0.5 %)


@dataclass(frozen=True)
class DevicePorts:
    """Where the emulated instruments listen; port 0 picks a free one (tests)."""

    host: str = "127.0.0.1"
    sonde: int = 5020
    sonde_map: str = "yosemitech-y4000"
    sonar_port: int = 9092
    sonar_starboard: int = 9093
    echosounder: int = 9094
    camera: int = 8081


class TwinDevices:
    """The emulated sonde (Modbus TCP), sonar pair and echosounder (Ping over UDP) and camera (MJPEG)."""

    def __init__(self, twin: RiverTwin, ports: DevicePorts) -> None:
        self._twin = twin
        self.ports = ports
        self._loop = LoopThread("twin-devices")
        self._rng = np.random.default_rng(np.random.SeedSequence(twin.scenario.seed).spawn(5)[4])
        self.sonde = EmulatedSonde(load_map(ports.sonde_map), host=ports.host, port=ports.sonde)
        self.ping = EmulatedPingDevices(ports.host, (ports.sonar_port, ports.sonar_starboard, ports.echosounder))
        self.camera = EmulatedCamera(ports.host, ports.camera)
        self.addresses: dict[str, str] = {}

    @classmethod
    def start(cls, twin: RiverTwin, ports: DevicePorts = DevicePorts()) -> TwinDevices:
        devices = cls(twin, ports)
        try:
            devices.addresses["sonde"] = "modbus-tcp " + devices._loop.run(devices.sonde.start())
            devices.addresses.update({k: "ping-udp " + v for k, v in devices._loop.run(devices.ping.start()).items()})
            devices.addresses["camera"] = devices._loop.run(devices.camera.start())
        except BaseException:
            devices.stop()
            raise
        return devices

    def feed(self, block: TickBlock, batch: SensedBatch) -> None:
        """Show the devices what the twin's sensors produced in ``block``."""
        if len(batch.sonde_t):
            self._loop.call(self.sonde.update, {name: float(col[-1]) for name, col in batch.sonde.items()})
        if len(batch.ping_t):
            heading = compass_deg(block.psi[block.ticks % SONAR_EVERY == 0])
            self._loop.call(self.ping.pings, batch.ping_t, batch.port, batch.starboard, batch.sonar_range_m, heading)
        depth = float(self._twin.river.depth_at(block.s[-1:])[0]) + self._rng.normal(0.0, ECHO_SIGMA_M)
        self._loop.call(self.ping.depth, max(depth, 0.0))
        for jpeg in batch.frames:
            self._loop.call(self.camera.publish, jpeg)

    def unplug(self, name: str) -> None:
        """Take ``sonde``, ``sonar`` (the pair and the echosounder) or ``camera`` off the network."""
        self._loop.run(self._device(name).stop())

    def garble(self, name: str) -> None:
        """Send one datagram of noise from the port-side Omniscan (``sonar``): a fault test."""
        if name != "sonar":
            raise ValueError(f"only the sonar can be garbled, not {name!r}")
        self._loop.run(_noise(self.ping.port_side))

    def plug(self, name: str) -> None:
        """Bring an unplugged device back on the address it had."""
        host = self.ports.host
        if name == "sonde":
            self.sonde = EmulatedSonde(self.sonde.regmap, host=host, port=_port(self.addresses["sonde"]))
        elif name == "sonar":
            ports = tuple(_port(self.addresses[k]) for k in ("sonar_port", "sonar_starboard", "echosounder"))
            self.ping = EmulatedPingDevices(host, ports)  # type: ignore[arg-type]
        else:
            self.camera = EmulatedCamera(host, _port(self.addresses["camera"].split("/")[2]))
        self._loop.run(self._device(name).start())

    def _device(self, name: str) -> EmulatedSonde | EmulatedPingDevices | EmulatedCamera:
        devices = {"sonde": self.sonde, "sonar": self.ping, "camera": self.camera}
        if name not in devices:
            raise ValueError(f"unknown device {name!r} (known: {', '.join(devices)})")
        return devices[name]

    def stop(self) -> None:
        if self._loop.loop.is_closed():
            return
        for device in (self.sonde, self.ping, self.camera):
            self._loop.run(device.stop())
        self._loop.close()


async def _noise(device: EmulatedOmniscan) -> None:
    device.send_raw(b"BR\x04\x00\x96\x08noise and a wrong checksum")


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])
