import asyncio
import socket

import numpy as np
from brping import definitions

from riverpatrol.instruments.pingproto import PingDecoder, encode
from riverpatrol.twin.devices.ping import EmulatedPingDevices


def test_omniscan_streams_only_to_clients_that_enabled_pinging():
    async def go():
        devices = EmulatedPingDevices()
        addresses = await devices.start()
        host, port = addresses["sonar_port"].rsplit(":", 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(1.0)
            client.bind(("127.0.0.1", 0))
            ping = (np.zeros((1, 10), np.uint8), np.zeros((1, 10), np.uint8))
            devices.pings(np.zeros(1), *ping, 30.0, np.zeros(1))
            client.sendto(encode(definitions.OMNISCAN450_OS_PING_PARAMS, enable=1, num_results=10), (host, int(port)))
            while not devices.port_side.subscribers:
                await asyncio.sleep(0.01)
            devices.pings(np.array([0.2]), *ping, 30.0, np.array([90.0]))
            data = await asyncio.get_running_loop().run_in_executor(None, client.recv, 4096)
        await devices.stop()
        return PingDecoder().datagram(data)

    (frame,) = asyncio.run(go())
    assert frame.name == "os_mono_profile"
    assert frame.fields["ping_number"] == 2 and frame.fields["channel_number"] == 0
    assert frame.fields["vehicle_heading_deg"] == 90.0
