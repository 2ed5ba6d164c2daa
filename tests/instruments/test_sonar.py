"""The Ping drivers against the twin's emulated Omniscan pair and Ping1D over loopback UDP."""

import asyncio

import numpy as np
import pytest

from riverpatrol.instruments.errors import InstrumentError
from riverpatrol.instruments.sonar import OmniscanPair, Ping1DEcho, intensity_to_power, power_db_to_intensity
from riverpatrol.twin.devices.ping import EmulatedPingDevices


def test_intensity_survives_the_db_scale_exactly():
    every = np.arange(256, dtype=np.uint8)
    assert np.array_equal(power_db_to_intensity(intensity_to_power(every), 0.0, 20 * np.log10(256.0)), every)


async def _wait_for(predicate, timeout=2.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


async def _collect(pair, count):
    """Drain until ``count`` pings came; a quiet pair raises meanwhile, as it does between pings."""
    got = []

    def more():
        try:
            got.extend(pair.drain())
        except InstrumentError:
            pass
        return len(got) >= count

    await _wait_for(more)
    return got


def test_pair_decodes_the_twins_pings_and_recovers_after_a_restart():
    rng = np.random.default_rng(3)
    port, starboard = (rng.integers(0, 256, (4, 500), dtype=np.uint8) for _ in range(2))

    async def go():
        devices = EmulatedPingDevices()
        addresses = await devices.start()
        pair = OmniscanPair("sonar", addresses["sonar_port"], addresses["sonar_starboard"], timeout_s=0.3)
        await pair.start()
        try:
            await _wait_for(lambda: devices.port_side.subscribers and devices.starboard_side.subscribers)
            devices.pings(np.arange(4) * 0.2, port, starboard, 30.0, np.zeros(4))
            got = await _collect(pair, 4)
            await devices.stop()
            await asyncio.sleep(0.4)
            with pytest.raises(InstrumentError, match="no profile from the port and starboard Omniscan"):
                pair.drain()
            ports = tuple(int(a.rsplit(":", 1)[1]) for a in addresses.values())
            back = EmulatedPingDevices(ports=ports)
            await back.start()
            await _wait_for(lambda: back.port_side.subscribers and back.starboard_side.subscribers, timeout=3.0)
            try:
                back.pings(np.array([9.0]), port[:1], starboard[:1], 30.0, np.zeros(1))
                again = await _collect(pair, 1)
            finally:
                await back.stop()
            return got, again
        finally:
            pair.close()

    got, again = asyncio.run(go())
    assert all(np.array_equal(g.port, port[i]) and np.array_equal(g.starboard, starboard[i]) for i, g in enumerate(got))
    assert got[0].range_m == 30.0 and np.array_equal(again[0].port, port[0])


def test_ping1d_depth_and_timeout():
    async def go():
        devices = EmulatedPingDevices()
        addresses = await devices.start()
        echo = Ping1DEcho("echosounder", addresses["echosounder"], timeout_s=0.2)
        await echo.start()
        try:
            devices.depth(1.634)
            depth = await echo.read()
            await devices.stop()
            with pytest.raises(InstrumentError, match="no distance from the Ping1D .* within 0.2 s"):
                await echo.read()
            return depth
        finally:
            echo.close()

    assert asyncio.run(go()) == (1.634, 1.0)
