"""Live video over WebRTC (aiortc): the boat camera's stamped frames as a video track.

Offline by design: no STUN or TURN servers (``RTCConfiguration(iceServers=[])``), so peers meet
through their host candidates on the station's network. The browser sends an offer to
``POST /api/patrols/{id}/webrtc`` and gets the answer; each new camera frame is sent as it arrives.
"""

from __future__ import annotations

import asyncio
import fractions
import time

import numpy as np
import simplejpeg
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from av import VideoFrame

from riverpatrol.station.video import VideoFeed

_CLOCK = fractions.Fraction(1, 90_000)  # the RTP video clock


class CameraTrack(VideoStreamTrack):
    """The newest stamped frame of a patrol each time one arrives; the last one again if none
    comes for a while, so the track stays alive while the boat's camera is quiet."""

    def __init__(self, feed: VideoFeed, patrol_id: int) -> None:
        super().__init__()
        self._feed, self._patrol_id = feed, patrol_id
        self._seq = 0
        self._start = time.monotonic()
        self._last: VideoFrame | None = None

    async def recv(self) -> VideoFrame:
        stamped = await self._feed.next_frame(self._patrol_id, self._seq, timeout_s=1.0)
        if stamped is not None:
            self._seq = stamped.seq
            jpeg = await asyncio.to_thread(lambda: stamped.jpeg)
            rgb = simplejpeg.decode_jpeg(jpeg, colorspace="RGB")
            self._last = VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if self._last is None:
            self._last = VideoFrame.from_ndarray(np.zeros((480, 640, 3), np.uint8), format="rgb24")
        frame = self._last
        frame.pts = int((time.monotonic() - self._start) / _CLOCK)
        frame.time_base = _CLOCK
        return frame


class WebRtcPeers:
    """The peer connections the station holds, closed when a viewer leaves or the station stops."""

    def __init__(self, feed: VideoFeed) -> None:
        self._feed = feed
        self._peers: set[RTCPeerConnection] = set()

    async def answer(self, patrol_id: int, sdp: str, kind: str) -> RTCSessionDescription:
        peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._peers.add(peer)

        @peer.on("connectionstatechange")
        async def _closed() -> None:
            if peer.connectionState in ("failed", "closed"):
                await self._close(peer)

        try:
            await peer.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=kind))
            peer.addTrack(CameraTrack(self._feed, patrol_id))
            await peer.setLocalDescription(await peer.createAnswer())
        except Exception:
            await self._close(peer)
            raise
        return peer.localDescription

    async def close_all(self) -> None:
        await asyncio.gather(*(self._close(peer) for peer in list(self._peers)))

    async def _close(self, peer: RTCPeerConnection) -> None:
        self._peers.discard(peer)
        await peer.close()
