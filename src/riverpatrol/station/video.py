"""Live video from the boat's camera: the newest frame of each patrol, stamped, for MJPEG and WebRTC.

Every frame shown gets an overlay with the patrol time and the wall clock (UTC, milliseconds) at
which the station received it, so latency to the screen can be read off any viewer. Frames are
stamped when a viewer first asks for them, so patrols nobody watches cost no re-encoding.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import simplejpeg
from PIL import Image, ImageDraw, ImageFont

_BAR_PX = 24
_FONT = ImageFont.load_default(size=17)


@dataclass
class StampedFrame:
    seq: int
    t: float
    received_unix: float
    raw: bytes
    _stamped: bytes | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def jpeg(self) -> bytes:
        """The frame with its overlay (made once, by whichever viewer asks first)."""
        with self._lock:
            if self._stamped is None:
                self._stamped = stamp(self.raw, self.t, self.received_unix)
            return self._stamped


class VideoFeed:
    """The newest stamped frame per patrol; pushed from ingest threads, awaited by viewers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[int, StampedFrame] = {}
        self._waiters: dict[int, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def push(self, patrol_id: int, t: float, jpeg: bytes) -> None:
        received = time.time()
        with self._lock:
            seq = self._latest[patrol_id].seq + 1 if patrol_id in self._latest else 1
            self._latest[patrol_id] = StampedFrame(seq, t, received, jpeg)
            waiters = self._waiters.pop(patrol_id, [])
        for loop, ready in waiters:
            try:
                loop.call_soon_threadsafe(ready.set)
            except RuntimeError:  # that viewer's loop has closed
                pass

    def latest(self, patrol_id: int) -> StampedFrame | None:
        with self._lock:
            return self._latest.get(patrol_id)

    async def next_frame(self, patrol_id: int, after_seq: int, timeout_s: float = 5.0) -> StampedFrame | None:
        """The first frame newer than ``after_seq``, or None if none comes within ``timeout_s``."""
        ready = asyncio.Event()
        with self._lock:
            frame = self._latest.get(patrol_id)
            if frame is not None and frame.seq > after_seq:
                return frame
            self._waiters.setdefault(patrol_id, []).append((asyncio.get_running_loop(), ready))
        try:
            await asyncio.wait_for(ready.wait(), timeout_s)
        except TimeoutError:
            return None
        return self.latest(patrol_id)


def stamp(jpeg: bytes, t: float, received_unix: float) -> bytes:
    """The frame with a bar at the top: patrol time and the UTC wall clock in milliseconds."""
    pixels = simplejpeg.decode_jpeg(jpeg, colorspace="RGB")
    image = Image.fromarray(np.ascontiguousarray(pixels))
    draw = ImageDraw.Draw(image)
    clock = datetime.fromtimestamp(received_unix, UTC).strftime("%H:%M:%S.%f")[:-3]
    draw.rectangle((0, 0, image.width, _BAR_PX), fill=(0, 0, 0))
    draw.text((6, 3), f"T+{t:8.1f} s   {clock} UTC", fill=(255, 255, 255), font=_FONT)
    return simplejpeg.encode_jpeg(np.asarray(image), quality=80, colorspace="RGB")
