import asyncio
import math

from riverpatrol.instruments.registermap import load_map
from riverpatrol.instruments.sonde import ModbusLink, ModbusSonde
from riverpatrol.twin.devices.modbus import EmulatedSonde


def test_before_the_first_reading_the_sonde_reads_as_faulty_not_as_zero():
    async def go():
        regmap = load_map("yosemitech-y4000")
        device = EmulatedSonde(regmap)
        sonde = ModbusSonde("sonde", ModbusLink("modbus-tcp", await device.start()), regmap)
        try:
            return await sonde.read()
        finally:
            sonde.close()
            await device.stop()

    reading = asyncio.run(go())
    assert all(math.isnan(v) for v in reading.values.values())
    assert set(reading.flags.values()) == {"D"}
