"""The camera by URL through PyAV: HTTP MJPEG, RTSP (H.264) or a V4L2 device.

``keyframes`` yields one frame every ``keyframe_s`` as a JPEG for the patrol log. An MJPEG stream's
frames are JPEGs already and go into the log byte for byte; other codecs are decoded (every packet:
inter frames need their predecessors) and only the kept frames are encoded, with libjpeg-turbo.
PyAV blocks, so the boat process runs this on a thread of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import av
import simplejpeg

from riverpatrol.instruments.errors import InstrumentError
from riverpatrol.records import Frame

_JPEG_QUALITY = 85


def open_options(url: str) -> dict[str, Any]:
    """How FFmpeg should open ``url``: the demuxer and protocol options the URL's kind needs."""
    if url.startswith("/dev/video"):
        return {"format": "v4l2"}
    if url.startswith(("rtsp://", "rtsps://")):
        return {"options": {"rtsp_transport": "tcp"}}
    if url.startswith(("http://", "https://")) and url.split("?")[0].lower().endswith((".mjpg", ".mjpeg", ".cgi")):
        return {"format": "mpjpeg"}
    return {}


class StreamCamera:
    """One camera stream; each ``keyframes`` call opens it anew (reconnecting is calling again)."""

    def __init__(self, name: str, url: str, *, keyframe_s: float = 1.0, timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.url = url
        self.keyframe_s = keyframe_s
        self.timeout_s = timeout_s
        self._clock = clock

    def keyframes(self) -> Iterator[Frame]:
        """Frames at the keyframe interval until the stream fails (``InstrumentError``) or the
        caller stops iterating."""
        try:
            container = av.open(self.url, timeout=(self.timeout_s, self.timeout_s), **open_options(self.url))
        except (av.FFmpegError, OSError) as exc:
            raise InstrumentError(f"{self.name}: cannot open {self.url}: {exc}") from None
        with container:
            if not container.streams.video:
                raise InstrumentError(f"{self.name}: {self.url} has no video stream")
            stream = container.streams.video[0]
            passthrough = stream.codec_context.name == "mjpeg"
            due = self._clock()
            try:
                for packet in container.demux(stream):
                    if packet.size == 0:
                        continue
                    now = self._clock()
                    if passthrough:
                        if now >= due:
                            due = now + self.keyframe_s
                            yield Frame(now, stream.codec_context.width, stream.codec_context.height, bytes(packet))
                        continue
                    for frame in packet.decode():
                        if now >= due:
                            due = now + self.keyframe_s
                            rgb = frame.to_ndarray(format="rgb24")
                            yield Frame(now, frame.width, frame.height,
                                           simplejpeg.encode_jpeg(rgb, quality=_JPEG_QUALITY, colorspace="RGB"))
            except (av.FFmpegError, OSError) as exc:
                raise InstrumentError(f"{self.name}: stream {self.url} failed: {exc}") from None
        raise InstrumentError(f"{self.name}: stream {self.url} ended")
