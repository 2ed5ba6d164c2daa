"""WebRTC video from the station to a viewer (aiortc on both ends), frames advancing while a twin
patrol runs. Peers meet on loopback: only the loopback address is offered as a host candidate."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from fastapi.testclient import TestClient

from riverpatrol.station.server import create_app
from riverpatrol.station.store import Store


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
def client(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("RIVERPATROL_DATA_DIR", str(tmp_path / "station"))
    with TestClient(create_app(Store(f"sqlite:///{tmp_path / 'station.sqlite'}"))) as c:
        yield c


def test_a_viewer_receives_advancing_video_frames(client: TestClient, short_scenario: dict, loopback_only: None) -> None:
    reply = client.post("/api/patrols/upload", files={"file": ("s.json", json.dumps(short_scenario))},
                        data={"speedup": "30"})
    patrol_id = reply.json()["id"]

    async def watch() -> list[tuple[int, bytes]]:
        peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        peer.addTransceiver("video", direction="recvonly")
        received: asyncio.Future = asyncio.get_running_loop().create_future()
        peer.on("track", lambda track: received.set_result(track))
        await peer.setLocalDescription(await peer.createOffer())
        answer = await asyncio.to_thread(client.post, f"/api/patrols/{patrol_id}/webrtc",
                                         json={"sdp": peer.localDescription.sdp, "type": "offer"})
        assert answer.status_code == 200, answer.text
        await peer.setRemoteDescription(RTCSessionDescription(**answer.json()))
        track = await asyncio.wait_for(received, 20)
        frames = []
        for _ in range(12):
            frame = await asyncio.wait_for(track.recv(), 20)
            bar = frame.to_ndarray(format="gray")[:24, :]  # the stamped bar: time and clock
            frames.append((frame.width, bar.tobytes()))
        await peer.close()
        return frames

    frames = asyncio.run(watch())
    assert {w for w, _ in frames} == {640}
    assert len({bar for _, bar in frames}) >= 3  # the stamps advance: new frames, not one repeated
    client.post(f"/api/patrols/{patrol_id}/command", json={"command": "abort"})


def test_a_broken_offer_is_a_4xx(client: TestClient, patrol_log) -> None:
    from riverpatrol.station.ingest import import_log

    patrol_id = import_log(client.app.state.store, patrol_log, maps=())
    reply = client.post(f"/api/patrols/{patrol_id}/webrtc", json={"sdp": "v=0\r\nnonsense", "type": "offer"})
    assert reply.status_code == 422 and "offer" in reply.text
    assert client.post("/api/patrols/999/webrtc", json={"sdp": "v=0", "type": "offer"}).status_code == 404
