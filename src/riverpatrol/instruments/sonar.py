"""Side-scan and depth over the Ping protocol: an Omniscan 450 pair and a Ping1D, over UDP.

Side-scan: two Omniscan 450s, port and starboard, synchronised as channels 0 and 1 of a pair. Each
is told to ping (``os_ping_params`` with enable set, sent again every second so a device that
restarts picks the stream up again) and streams ``os_mono_profile`` messages; the two profiles of
one ping share its ping number and become one ``SonarPing`` row. Power comes in dB, scaled into
uint16 between the message's ``min_pwr_db`` and ``max_pwr_db``; the log's 0-255 intensity is the
amplitude ``10^(dB/20) - 1`` (``gain_db`` shifts a device whose dB reference differs).

Depth: a Ping1D answers a ``general_request`` for ``distance`` with the depth in mm and its
confidence in percent.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from brping import definitions
from numpy.typing import NDArray

from riverpatrol.instruments import pingproto
from riverpatrol.instruments.errors import InstrumentError
from riverpatrol.instruments.sonde import split_host_port
from riverpatrol.records import SonarPing

MAX_POWER_DB = float(20 * np.log10(256.0))  # an intensity of 255 on the log's scale
_KEEPALIVE_S = 1.0
_UNPAIRED_LIMIT = 64  # pings waiting for their other side; older ones are dropped


def power_db_to_intensity(pwr: NDArray[np.uint16], min_db: float, max_db: float, gain_db: float = 0.0) -> NDArray[np.uint8]:
    """os_mono_profile power (uint16 across [min_db, max_db]) to the log's 0-255 intensity."""
    db = min_db + pwr.astype(np.float64) * ((max_db - min_db) / 65535.0) - gain_db
    return np.clip(np.rint(10.0 ** (db / 20.0) - 1.0), 0, 255).astype(np.uint8)


def intensity_to_power(intensity: NDArray[np.uint8]) -> NDArray[np.uint16]:
    """The inverse, as the twin's emulated Omniscan reports (0 to MAX_POWER_DB dB)."""
    db = 20.0 * np.log10(intensity.astype(np.float64) + 1.0)
    return np.rint(db / MAX_POWER_DB * 65535.0).astype("<u2")


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, on_frames: Callable[[list[pingproto.PingFrame]], None]) -> None:
        self.decoder = pingproto.PingDecoder()
        self._on_frames = on_frames

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._on_frames(self.decoder.datagram(data))

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable: the device is gone
        pass


async def _endpoint(address: str, on_frames: Callable[[list[pingproto.PingFrame]], None],
                    ) -> tuple[asyncio.DatagramTransport, _Udp]:
    host, port = split_host_port(address)
    loop = asyncio.get_running_loop()
    return await loop.create_datagram_endpoint(lambda: _Udp(on_frames), remote_addr=(host, port))


class OmniscanPair:
    """Port and starboard Omniscan 450s streaming one synchronised ping each per cycle."""

    def __init__(self, name: str, port_address: str, starboard_address: str, *, range_m: float = 30.0,
                 bins: int = 500, ping_hz: float = 5.0, timeout_s: float = 2.0, gain_db: float = 0.0,
                 stamp: Callable[[], float] = time.monotonic) -> None:
        """``stamp`` dates the pings; silence is measured in wall seconds."""
        self.name = name
        self.addresses = (port_address, starboard_address)
        self._params = {"start_mm": 0, "length_mm": round(range_m * 1000), "msec_per_ping": round(1000 / ping_hz),
                        "num_results": bins, "enable": 1, "pulse_len_percent": 0.002,
                        "filter_duration_percent": 0.0015, "gain_index": -1}
        self.timeout_s = timeout_s
        self.gain_db = gain_db
        self._stamp = stamp
        self._pending: OrderedDict[int, list[NDArray[np.uint8] | None]] = OrderedDict()
        self._ready: list[SonarPing] = []
        self._range_m = range_m
        self._heard = [0.0, 0.0]
        self._transports: list[asyncio.DatagramTransport] = []
        self._protocols: list[_Udp] = []
        self._keepalive: asyncio.Task[None] | None = None
        self.dropped = 0

    async def start(self) -> None:
        for side, address in enumerate(self.addresses):
            transport, protocol = await _endpoint(address, lambda frames, side=side: self._frames(side, frames))
            self._transports.append(transport)
            self._protocols.append(protocol)
        self._heard = [time.monotonic(), time.monotonic()]
        self._keepalive = asyncio.get_running_loop().create_task(self._ask())

    async def _ask(self) -> None:
        while True:
            for channel, transport in enumerate(self._transports):
                transport.sendto(pingproto.encode(definitions.OMNISCAN450_SET_SYNC_CHANNEL_NUMBER,
                                                  channel_number=channel, number_of_channels=2))
                transport.sendto(pingproto.encode(definitions.OMNISCAN450_OS_PING_PARAMS, **self._params))
            await asyncio.sleep(_KEEPALIVE_S)

    def _frames(self, side: int, frames: list[pingproto.PingFrame]) -> None:
        for frame in frames:
            if frame.message_id != definitions.OMNISCAN450_OS_MONO_PROFILE:
                continue
            f = frame.fields
            self._heard[side] = time.monotonic()
            pwr = np.frombuffer(f["pwr_results"], dtype="<u2", count=f["num_results"])
            row = power_db_to_intensity(pwr, f["min_pwr_db"], f["max_pwr_db"], self.gain_db)
            self._range_m = (f["start_mm"] + f["length_mm"]) / 1000.0
            pair = self._pending.setdefault(f["ping_number"], [None, None])
            pair[side] = row
            if pair[0] is not None and pair[1] is not None:
                del self._pending[f["ping_number"]]
                self._ready.append(SonarPing(self._stamp(), self._range_m, pair[0], pair[1]))
            while len(self._pending) > _UNPAIRED_LIMIT:
                self._pending.popitem(last=False)
                self.dropped += 1

    def drain(self) -> list[SonarPing]:
        """The pings completed since the last call; ``InstrumentError`` if a side has gone quiet."""
        now = time.monotonic()
        quiet = [side for side, heard in zip(("port", "starboard"), self._heard) if now - heard > self.timeout_s]
        ready, self._ready = self._ready, []
        if quiet and not ready:
            raise InstrumentError(f"{self.name}: no profile from the {' and '.join(quiet)} Omniscan "
                                  f"for {self.timeout_s:g} s ({', '.join(self.addresses)})")
        return ready

    @property
    def errors(self) -> int:
        """Frames that failed their checksum or length, on both sides."""
        return sum(p.decoder.errors for p in self._protocols)

    def close(self) -> None:
        if self._keepalive:
            self._keepalive.cancel()
        for transport in self._transports:
            transport.close()


class Ping1DEcho:
    """A Ping1D echosounder polled for its distance (the depth under the transducer)."""

    def __init__(self, name: str, address: str, *, timeout_s: float = 0.5) -> None:
        self.name = name
        self.address = address
        self.timeout_s = timeout_s
        self._transport: asyncio.DatagramTransport | None = None
        self._answer: asyncio.Future[dict[str, int]] | None = None
        self._decoder: pingproto.PingDecoder | None = None

    async def start(self) -> None:
        self._transport, protocol = await _endpoint(self.address, self._frames)
        self._decoder = protocol.decoder

    def _frames(self, frames: list[pingproto.PingFrame]) -> None:
        for frame in frames:
            if frame.message_id == definitions.PING1D_DISTANCE and self._answer and not self._answer.done():
                self._answer.set_result(frame.fields)

    async def read(self) -> tuple[float, float]:
        """(depth m, confidence 0-1); ``InstrumentError`` if the device does not answer in time."""
        assert self._transport is not None, "start() first"
        self._answer = asyncio.get_running_loop().create_future()
        self._transport.sendto(pingproto.request(definitions.PING1D_DISTANCE))
        try:
            fields = await asyncio.wait_for(self._answer, self.timeout_s)
        except TimeoutError:
            raise InstrumentError(f"{self.name}: no distance from the Ping1D at {self.address} "
                                  f"within {self.timeout_s:g} s") from None
        return fields["distance"] / 1000.0, fields["confidence"] / 100.0

    def close(self) -> None:
        if self._transport:
            self._transport.close()
