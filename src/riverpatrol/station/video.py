"""Live video from the boat's camera: the newest frame of each patrol, stamped, for MJPEG and WebRTC.

Every frame shown gets an overlay with the patrol time and the wall clock (UTC, milliseconds) at
which the camera took it, in digits and as a strip of black and white cells a page can read back
(``CODE_*``), so the delay from camera to screen can be read off any viewer. Frames are stamped when
a viewer first asks for them, so patrols nobody watches cost no re-encoding.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import simplejpeg
from PIL import Image, ImageDraw, ImageFont

_BAR_PX = 24
CLOCK_BITS = 24  # the capture clock in milliseconds modulo 2**24 (4.7 hours) ...
CODE_BITS = CLOCK_BITS + 8  # ... then its CRC-8, most significant bit first ...
CODE_CELL_PX = 8  # ... one 8x8 cell a bit (a JPEG block each, so they stay sharp), white for 1 ...
CODE_X, CODE_Y = 384, 8  # ... left to right from here, in the bar
_FONT = ImageFont.load_default(size=17)


@dataclass
class StampedFrame:
    seq: int
    t: float
    captured_unix: float
    raw: bytes
    _stamped: bytes | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def jpeg(self) -> bytes:
        """The frame with its overlay (made once, by whichever viewer asks first)."""
        with self._lock:
            if self._stamped is None:
                self._stamped = stamp(self.raw, self.t, self.captured_unix)
            return self._stamped


class VideoFeed:
    """The newest stamped frame per patrol; pushed from ingest threads, awaited by viewers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[int, StampedFrame] = {}
        self._waiters: dict[int, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def push(self, patrol_id: int, t: float, jpeg: bytes, captured_unix: float) -> None:
        """A new frame, taken at patrol time ``t``, Unix time ``captured_unix``."""
        with self._lock:
            seq = self._latest[patrol_id].seq + 1 if patrol_id in self._latest else 1
            self._latest[patrol_id] = StampedFrame(seq, t, captured_unix, jpeg)
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


def stamp(jpeg: bytes, t: float, captured_unix: float) -> bytes:
    """The frame with a bar at the top: patrol time and the capture clock (UTC, milliseconds)."""
    pixels = simplejpeg.decode_jpeg(jpeg, colorspace="RGB")
    image = Image.fromarray(np.ascontiguousarray(pixels))
    draw = ImageDraw.Draw(image)
    clock = datetime.fromtimestamp(captured_unix, UTC).strftime("%H:%M:%S.%f")[:-3]
    draw.rectangle((0, 0, image.width, _BAR_PX), fill=(0, 0, 0))
    draw.text((6, 3), f"T+{t:8.1f} s   {clock} UTC", fill=(255, 255, 255), font=_FONT)
    ms = capture_clock(captured_unix)
    code = ms << 8 | _crc8(ms)
    for bit in range(CODE_BITS):
        if code >> (CODE_BITS - 1 - bit) & 1:
            x = CODE_X + bit * CODE_CELL_PX
            draw.rectangle((x, CODE_Y, x + CODE_CELL_PX - 1, CODE_Y + CODE_CELL_PX - 1), fill=(255, 255, 255))
    return simplejpeg.encode_jpeg(np.asarray(image), quality=80, colorspace="RGB")


def capture_clock(captured_unix: float) -> int:
    """The capture clock as the strip carries it: Unix milliseconds modulo 2**CLOCK_BITS."""
    return round(captured_unix * 1000) % 2**CLOCK_BITS


def read_clock(pixels: np.ndarray) -> int | None:
    """The capture clock from a stamped frame's RGB pixels, or None where the strip does not read
    true (its CRC fails): a video codec at a low bitrate can blur a cell across the threshold.
    Each cell is read as the mean of its inner 4x4 pixels."""
    cells = pixels[CODE_Y + 2:CODE_Y + CODE_CELL_PX - 2, CODE_X:CODE_X + CODE_BITS * CODE_CELL_PX].mean(axis=2)
    inner = cells.reshape(len(cells), CODE_BITS, CODE_CELL_PX)[:, :, 2:CODE_CELL_PX - 2].mean(axis=(0, 2))
    code = int("".join("1" if v > 127 else "0" for v in inner), 2)
    clock = code >> 8
    return clock if _crc8(clock) == code & 0xFF else None


def _crc8(clock: int) -> int:
    """CRC-8 (polynomial 0x07) of the clock's three bytes: any one or two wrong cells show."""
    crc = 0
    for byte in clock.to_bytes(CLOCK_BITS // 8, "big"):
        crc ^= byte
        for _ in range(8):
            crc = (crc << 1 ^ 0x07 if crc & 0x80 else crc << 1) & 0xFF
    return crc
