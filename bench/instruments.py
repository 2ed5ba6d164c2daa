"""Instrument protocol figures: one Modbus poll of the sonde, and Ping protocol decode rate.

Modbus: the Y4000 driver polls the twin's emulated Y4000 (a pymodbus server on loopback TCP, on
its own thread, as ``twin serve`` runs it) ``--polls`` times: the full map per poll (16 value
registers and the status register, two requests), round trip and decoding to canonical values.
Median and p99 latency.

Ping: ``--messages`` os_mono_profile messages of 500 results (one side of one twin ping) as one
byte stream, decoded by this project's PingDecoder and by brping's own PingParser (byte by byte,
as its devices use it); messages per second each and the ratio (target >= 0.8).

    .venv/bin/python bench/instruments.py [--polls 2000] [--messages 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np
from brping import definitions
from brping.pingmessage import PingParser

from riverpatrol.instruments.pingproto import PingDecoder, encode
from riverpatrol.instruments.registermap import load_map
from riverpatrol.instruments.sonde import ModbusLink, ModbusSonde
from riverpatrol.twin.devices.loop import LoopThread
from riverpatrol.twin.devices.modbus import EmulatedSonde

READING = {"do": 7.5, "turbidity": 11.0, "conductivity": 420.0, "ph": 7.25, "temperature": 17.5}


def modbus_polls(polls: int) -> np.ndarray:
    regmap = load_map("yosemitech-y4000")
    server_loop = LoopThread("bench-sonde")
    device = EmulatedSonde(regmap)
    address = server_loop.run(device.start())
    device.update(READING)

    async def poll() -> list[float]:
        sonde = ModbusSonde("sonde", ModbusLink("modbus-tcp", address), regmap)
        out = []
        try:
            for _ in range(polls):
                start = time.perf_counter()
                await sonde.read()
                out.append(time.perf_counter() - start)
        finally:
            sonde.close()
        return out

    try:
        return np.array(asyncio.run(poll()))
    finally:
        server_loop.run(device.stop())
        server_loop.close()


def ping_stream(messages: int) -> bytes:
    rng = np.random.default_rng(0)
    return b"".join(encode(definitions.OMNISCAN450_OS_MONO_PROFILE, ping_number=i, num_results=500,
                           length_mm=30000, max_pwr_db=48.2,
                           pwr_results=rng.integers(0, 65535, 500, dtype="<u2").tobytes())
                    for i in range(messages))


def decode_ours(stream: bytes) -> int:
    decoder = PingDecoder()
    count = 0
    for i in range(0, len(stream), 4096):  # as reads from a socket or serial port come
        count += len(decoder.feed(stream[i:i + 4096]))
    return count


def decode_brping(stream: bytes) -> int:
    parser, count = PingParser(), 0
    parse, new = parser.parse_byte, PingParser.NEW_MESSAGE
    for byte in stream:
        if parse(byte) == new:
            count += 1
    return count


def rate(fn, stream: bytes, messages: int) -> float:
    start = time.perf_counter()
    assert fn(stream) == messages
    return messages / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()

    latency = modbus_polls(args.polls) * 1000
    print(f"Modbus TCP poll of the Y4000 map (loopback, {args.polls} polls): "
          f"median {np.median(latency):.2f} ms, p99 {np.percentile(latency, 99):.2f} ms")

    stream = ping_stream(args.messages)
    ours = rate(decode_ours, stream, args.messages)
    theirs = rate(decode_brping, stream, args.messages)
    print(f"Ping decode, os_mono_profile x 500 results ({len(stream) / 1e6:.1f} MB): "
          f"PingDecoder {ours:,.0f} msg/s, brping PingParser {theirs:,.0f} msg/s, ratio {ours / theirs:.1f}")


if __name__ == "__main__":
    main()
