"""The Modbus sonde driver against the twin's real pymodbus server over loopback TCP."""

import asyncio
import math
import shutil
import subprocess
import time

import pytest

from riverpatrol.instruments.errors import InstrumentError
from riverpatrol.instruments.registermap import load_map
from riverpatrol.instruments.sonde import ModbusLink, ModbusSonde
from riverpatrol.twin.devices.modbus import EmulatedSonde

READING = {"do": 7.5, "turbidity": 11.0, "conductivity": 420.0, "ph": 7.25, "temperature": 17.5, "nh3n": 0.5}


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize(("name", "framing", "transport"), [
    ("yosemitech-y4000", "tcp", "modbus-tcp"),
    ("yosemitech-y4000", "rtu", "modbus-rtu-over-tcp"),
    ("insitu-aquatroll600", "tcp", "modbus-tcp"),
])
def test_poll_reads_canonical_values(name, framing, transport):
    async def go():
        regmap = load_map(name)
        device = EmulatedSonde(regmap, framing=framing)
        address = await device.start()
        device.update(READING)
        sonde = ModbusSonde("sonde", ModbusLink(transport, address), regmap)
        try:
            first = await sonde.read()
            device.update({**READING, "conductivity": 1900.0})
            second = await sonde.read()
        finally:
            sonde.close()
            await device.stop()
        return first, second

    first, second = run(go())
    assert math.isclose(first.values["conductivity"], 420.0, rel_tol=1e-6)
    assert math.isclose(second.values["conductivity"], 1900.0, rel_tol=1e-6)
    assert math.isclose(first.values["temperature"], 17.5, rel_tol=1e-6)


def test_configured_orders_override_the_map():
    async def go():
        regmap = load_map("yosemitech-y4000")
        device = EmulatedSonde(regmap.model_copy(update={"word_order": "big", "byte_order": "big"}))
        address = await device.start()
        device.update(READING)
        as_published = ModbusSonde("sonde", ModbusLink("modbus-tcp", address), regmap)
        as_configured = ModbusSonde("sonde", ModbusLink("modbus-tcp", address), regmap,
                                    word_order="big", byte_order="big")
        try:
            return await as_published.read(), await as_configured.read()
        finally:
            as_published.close()
            as_configured.close()
            await device.stop()

    wrong, right = run(go())
    assert not math.isclose(wrong.values["temperature"], 17.5, rel_tol=1e-3)
    assert math.isclose(right.values["temperature"], 17.5, rel_tol=1e-6)


def test_exception_response_names_the_map():
    async def go():
        regmap = load_map("yosemitech-y4000")
        device = EmulatedSonde(load_map("insitu-aquatroll600"))  # a different sonde at that address
        address = await device.start()
        sonde = ModbusSonde("sonde", ModbusLink("modbus-tcp", address), regmap)
        try:
            with pytest.raises(InstrumentError, match=r"refused a read of 16 registers at 9729 "
                                                      r"\(Modbus exception 2\).*'Yosemitech Y4000'"):
                await sonde.read()
        finally:
            sonde.close()
            await device.stop()

    run(go())


def test_dead_device_times_out_then_reconnects_when_back():
    async def go():
        regmap = load_map("yosemitech-y4000")
        device = EmulatedSonde(regmap)
        address = await device.start()
        device.update(READING)
        sonde = ModbusSonde("sonde", ModbusLink("modbus-tcp", address, timeout_s=0.2, retries=0), regmap)
        try:
            await sonde.read()
            await device.stop()
            with pytest.raises(InstrumentError, match="sonde: "):
                await sonde.read()
            with pytest.raises(InstrumentError, match="no connection to modbus-tcp"):
                await sonde.read()
            back = EmulatedSonde(regmap, port=int(address.rsplit(":", 1)[1]))
            await back.start()
            back.update(READING)
            try:
                return await sonde.read()
            finally:
                await back.stop()
        finally:
            sonde.close()

    assert math.isclose(run(go()).values["do"], 7.5)


@pytest.mark.skipif(shutil.which("socat") is None, reason="needs socat for a pseudo-terminal pair")
def test_rtu_on_a_serial_line(tmp_path):
    """A null-modem pair of pseudo-terminals: the emulated sonde on one end, the driver on the other."""
    ends = (tmp_path / "sonde", tmp_path / "boat")
    bridge = subprocess.Popen(["socat", f"pty,raw,echo=0,link={ends[0]}", f"pty,raw,echo=0,link={ends[1]}"])
    try:
        deadline = time.monotonic() + 5
        while not all(e.exists() for e in ends):
            assert time.monotonic() < deadline, "socat made no pseudo-terminals"
            time.sleep(0.05)

        async def go():
            regmap = load_map("yosemitech-y4000")
            device = EmulatedSonde(regmap, serial_port=str(ends[0]), baudrate=9600)
            await device.start()
            device.update(READING)
            sonde = ModbusSonde("sonde", ModbusLink("modbus-rtu", str(ends[1]), timeout_s=1.0), regmap)
            try:
                return await sonde.read()
            finally:
                sonde.close()
                await device.stop()

        reading = run(go())
    finally:
        bridge.terminate()
        bridge.wait()
    assert math.isclose(reading.values["conductivity"], 420.0, rel_tol=1e-6)


@pytest.mark.parametrize(("transport", "reply"), [
    ("modbus-rtu-over-tcp", b"\x01\x03\x20" + bytes(32) + b"\x00\x00"),  # a whole frame, CRC wrong
    ("modbus-tcp", b"\x00\x01\x00\x00\x00\x03\x01\x03\xff garbage"),   # a header that lies
])
def test_garbage_and_crc_errors_are_instrument_errors(transport, reply):
    async def go():
        lines = []

        async def answer(reader, writer):
            lines.append(writer)
            await reader.read(256)
            writer.write(reply)
            await writer.drain()
            await reader.read(256)  # keep the line open: the driver must give up by itself

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()[:2]
        sonde = ModbusSonde("sonde", ModbusLink(transport, f"{host}:{port}", timeout_s=0.3, retries=0),
                            load_map("yosemitech-y4000"))
        try:
            with pytest.raises(InstrumentError, match=r"sonde: reading 16 registers at 9729"):
                await sonde.read()
        finally:
            sonde.close()
            for writer in lines:
                writer.close()
                await writer.wait_closed()
            server.close()
            await server.wait_closed()

    run(go())
