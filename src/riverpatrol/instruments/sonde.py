"""The sonde over Modbus (pymodbus): RTU on a serial line, TCP, or RTU frames over TCP.

One ``read`` is one poll: every read of the register map, then the map's decoding into canonical
values with HJ 212 flags. Each failure is an ``InstrumentError`` whose message says what the device
did (no answer, an exception response, registers that do not match the map), so the boat process
can log it and go on; the client reconnects on the next poll by itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from riverpatrol.instruments.errors import InstrumentError
from riverpatrol.instruments.registermap import MapError, Order, RegisterMap, SondeReading

# pymodbus logs every failed exchange with a frame dump; InstrumentError says it once, in the patrol log
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

Transport = Literal["modbus-tcp", "modbus-rtu", "modbus-rtu-over-tcp"]


@dataclass(frozen=True)
class ModbusLink:
    """Where the sonde is and how to talk to it.

    ``address`` is ``host:port`` for TCP transports and a serial device (``/dev/ttyUSB0``) for RTU.
    """

    transport: Transport
    address: str
    device_id: int = 1
    timeout_s: float = 0.5
    retries: int = 1
    baudrate: int = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: int = 1


class ModbusSonde:
    """Polls one sonde through its register map."""

    def __init__(self, name: str, link: ModbusLink, regmap: RegisterMap, *,
                 word_order: Order | None = None, byte_order: Order | None = None) -> None:
        self.name = name
        self.link = link
        self.regmap = regmap
        self._orders = {"word_order": word_order, "byte_order": byte_order}
        self._client = _client(link)
        self._read = (self._client.read_holding_registers if regmap.table == "holding"
                      else self._client.read_input_registers)

    async def read(self) -> SondeReading:
        """One poll of the whole map; raises ``InstrumentError`` naming what went wrong."""
        if not self._client.connected and not await self._client.connect():
            raise InstrumentError(f"{self.name}: no connection to {self.link.transport} {self.link.address}")
        blocks = []
        for start, count in self.regmap.reads:
            try:
                reply = await self._read(start, count=count, device_id=self.link.device_id)
            except ModbusException as exc:
                self._client.close()  # a half-read frame must not be taken for the next answer
                raise InstrumentError(f"{self.name}: reading {count} registers at {start} "
                                      f"({self.regmap.model}): {exc}") from None
            if reply.isError():
                raise InstrumentError(
                    f"{self.name}: the device refused a read of {count} registers at {start} "
                    f"(Modbus exception {getattr(reply, 'exception_code', '?')}); "
                    f"does register map {self.regmap.model!r} match the device?")
            blocks.append(list(reply.registers[:count]))
        try:
            return self.regmap.decode(blocks, **self._orders)
        except MapError as exc:
            raise InstrumentError(f"{self.name}: {exc}") from None

    def close(self) -> None:
        self._client.close()


def _client(link: ModbusLink) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
    # reconnect_delay 0: the poller decides when to try again, not a background task
    common = {"timeout": link.timeout_s, "retries": link.retries, "reconnect_delay": 0.0}
    if link.transport == "modbus-rtu":
        return AsyncModbusSerialClient(link.address, framer=FramerType.RTU, baudrate=link.baudrate,
                                       parity=link.parity, stopbits=link.stopbits, **common)
    host, port = split_host_port(link.address)
    framer = FramerType.SOCKET if link.transport == "modbus-tcp" else FramerType.RTU
    return AsyncModbusTcpClient(host, port=port, framer=framer, **common)


def split_host_port(address: str) -> tuple[str, int]:
    """``host:port`` (IPv4 or a name) as a pair; a clear error otherwise."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {address!r}")
    return host, int(port)
