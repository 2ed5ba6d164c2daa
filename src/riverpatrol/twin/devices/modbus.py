"""The twin's sonde as a Modbus device: a pymodbus server answering through a register map.

Registers hold what the map's ``encode`` makes of the latest reading, so a driver reading this
server goes through the same bytes, word order and unit conversion as on a real Y4000. Registers
outside the map are invalid and draw a Modbus exception, as a real device's would.
"""

from __future__ import annotations

from typing import Literal

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from riverpatrol.instruments.registermap import RegisterMap


class EmulatedSonde:
    """A Modbus TCP server (or RTU frames over TCP, or RTU on a serial line) for one sonde; start
    and stop inside a loop."""

    def __init__(self, regmap: RegisterMap, *, host: str = "127.0.0.1", port: int = 0,
                 framing: Literal["tcp", "rtu"] = "tcp", device_id: int = 1, serial_port: str | None = None,
                 baudrate: int = 9600) -> None:
        self.regmap = regmap
        self._bind = (host, port)
        self._framer = FramerType.SOCKET if framing == "tcp" else FramerType.RTU
        self._serial = (serial_port, baudrate)
        self._device_id = device_id
        self._image: dict[int, int] = {}
        self.update({})  # until the twin's first reading: NaN values or empty blocks, never zeros
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self.address = ""
        self.fault: int | None = None  # a Modbus exception code to answer with (fault tests)

    def update(self, values: dict[str, float], *, status: int = 0, quality: int = 0) -> None:
        """Show this reading (canonical names and units) from now on."""
        image = {}
        for start, regs in self.regmap.encode(values, status=status, quality=quality):
            image.update(zip(range(start, start + len(regs)), regs))
        self._image = image  # one assignment: a poll never sees half of two readings

    async def start(self) -> str:
        """Listen; returns ``host:port``."""
        blocks = [SimData(start, count=count, values=0, datatype=DataType.REGISTERS)
                  for start, count in self.regmap.reads]
        device = SimDevice(self._device_id, simdata=blocks, action=self._answer)
        serial_port, baudrate = self._serial
        if serial_port is not None:
            self._server = ModbusSerialServer(device, port=serial_port, baudrate=baudrate)
            await self._server.serve_forever(background=True)
            self.address = serial_port
            return self.address
        self._server = ModbusTcpServer(device, address=self._bind, framer=self._framer)
        await self._server.serve_forever(background=True)
        host, port = self._server.transport.sockets[0].getsockname()[:2]
        self.address = f"{host}:{port}"
        return self.address

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
            self._server = None

    async def _answer(self, function_code: int, start_address: int, address: int, count: int,
                      current_registers: list[int], set_values: list[int] | list[bool] | None) -> ExcCodes | None:
        if self.fault is not None:
            return ExcCodes(self.fault)
        image = self._image
        for i in range(address, address + count):
            current_registers[i - start_address] = image.get(i, 0)
        return None
