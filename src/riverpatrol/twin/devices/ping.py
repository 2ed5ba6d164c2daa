"""The twin's sonars over the Ping protocol on UDP: an Omniscan 450 pair and a Ping1D.

Each emulated Omniscan streams ``os_mono_profile`` to every client that enabled pinging with
``os_ping_params`` (as the real one does once told to ping), one message per twin ping, its power
the twin's intensities in dB. The Ping1D answers ``general_request(distance)`` with the twin's
latest depth. Start and stop them inside an event loop.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

import numpy as np
from brping import definitions
from numpy.typing import NDArray

from riverpatrol.instruments import pingproto
from riverpatrol.instruments.sonar import MAX_POWER_DB, intensity_to_power

_SOUND_DMPS = 14_820  # speed of sound in fresh water, decimetres per second
_OMNISCAN_HZ = 450_000


class _Device(asyncio.DatagramProtocol, ABC):
    """A UDP Ping device: decodes requests, remembers who asked, answers through ``sendto``."""

    def __init__(self) -> None:
        self.decoder = pingproto.PingDecoder()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        for frame in self.decoder.datagram(data):
            self.handle(frame, addr)

    @abstractmethod
    def handle(self, frame: pingproto.PingFrame, addr: tuple[str, int]) -> None:
        """Answer one request from ``addr``: each device knows its own messages."""

    @property
    def address(self) -> str:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return f"{host}:{port}"


class EmulatedOmniscan(_Device):
    """One side of the pair; ``channel`` 0 is port, 1 starboard."""

    def __init__(self, channel: int) -> None:
        super().__init__()
        self.channel = channel
        self.subscribers: set[tuple[str, int]] = set()

    def handle(self, frame: pingproto.PingFrame, addr: tuple[str, int]) -> None:
        if frame.message_id == definitions.OMNISCAN450_OS_PING_PARAMS:
            (self.subscribers.add if frame.fields["enable"] else self.subscribers.discard)(addr)

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are to every subscriber (noise, for fault tests)."""
        if self.transport is not None:
            for addr in self.subscribers:
                self.transport.sendto(data, addr)

    def send_profile(self, ping_number: int, t: float, intensity: NDArray[np.uint8], range_m: float,
                     heading_deg: float) -> None:
        if not self.subscribers or self.transport is None:
            return
        message = pingproto.encode(
            definitions.OMNISCAN450_OS_MONO_PROFILE, src=self.channel + 1,
            ping_number=ping_number, start_mm=0, length_mm=round(range_m * 1000), timestamp_ms=round(t * 1000),
            ping_hz=_OMNISCAN_HZ, gain_index=0, num_results=intensity.size, sos_dmps=_SOUND_DMPS,
            channel_number=self.channel, pulse_duration_sec=0.0002, analog_gain=1.0,
            max_pwr_db=MAX_POWER_DB, min_pwr_db=0.0, transducer_heading_deg=270.0 if self.channel == 0 else 90.0,
            vehicle_heading_deg=heading_deg, pwr_results=intensity_to_power(intensity).tobytes())
        self.send_raw(message)


class EmulatedPing1D(_Device):
    def __init__(self) -> None:
        super().__init__()
        self.depth_m: float | None = None
        self.confidence = 100
        self.pings = 0

    def handle(self, frame: pingproto.PingFrame, addr: tuple[str, int]) -> None:
        if (frame.message_id == definitions.COMMON_GENERAL_REQUEST
                and frame.fields["requested_id"] == definitions.PING1D_DISTANCE
                and self.depth_m is not None and self.transport is not None):
            self.pings += 1
            self.transport.sendto(pingproto.encode(
                definitions.PING1D_DISTANCE, distance=round(self.depth_m * 1000), confidence=self.confidence,
                transmit_duration=100, ping_number=self.pings, scan_start=0, scan_length=round(2000 * max(self.depth_m, 1.0)),
                gain_setting=2), addr)


class EmulatedPingDevices:
    """The pair and the echosounder on three UDP ports of ``host`` (0: any free port)."""

    def __init__(self, host: str = "127.0.0.1", ports: tuple[int, int, int] = (0, 0, 0)) -> None:
        self._host = host
        self._ports = ports
        self.port_side = EmulatedOmniscan(0)
        self.starboard_side = EmulatedOmniscan(1)
        self.echo = EmulatedPing1D()
        self._ping_number = 0

    async def start(self) -> dict[str, str]:
        """Bind; returns ``{"sonar_port": host:port, "sonar_starboard": ..., "echosounder": ...}``."""
        loop = asyncio.get_running_loop()
        devices = (self.port_side, self.starboard_side, self.echo)
        for device, port in zip(devices, self._ports):
            await loop.create_datagram_endpoint(lambda d=device: d, local_addr=(self._host, port))
        return self.addresses

    @property
    def addresses(self) -> dict[str, str]:
        return {"sonar_port": self.port_side.address, "sonar_starboard": self.starboard_side.address,
                "echosounder": self.echo.address}

    def pings(self, t: NDArray[np.float64], port: NDArray[np.uint8], starboard: NDArray[np.uint8],
              range_m: float, heading_deg: NDArray[np.float64]) -> None:
        """Stream the twin's pings (rows of intensity per side)."""
        for i in range(len(t)):
            self._ping_number += 1
            for side, rows in ((self.port_side, port), (self.starboard_side, starboard)):
                side.send_profile(self._ping_number, float(t[i]), rows[i], range_m, float(heading_deg[i]))

    def depth(self, depth_m: float) -> None:
        self.echo.depth_m = depth_m

    async def stop(self) -> None:
        for device in (self.port_side, self.starboard_side, self.echo):
            if device.transport is not None:
                device.transport.close()
