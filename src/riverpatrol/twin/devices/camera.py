"""The twin's forward camera as an HTTP MJPEG stream (``multipart/x-mixed-replace``), the way
many IP cameras serve it. Frames are the twin's JPEG keyframes, passed on as they are."""

from __future__ import annotations

import asyncio
import contextlib

_BOUNDARY = b"riverpatrolframe"
_HEADER = (b"HTTP/1.0 200 OK\r\nCache-Control: no-cache\r\nConnection: close\r\n"
           b"Content-Type: multipart/x-mixed-replace;boundary=" + _BOUNDARY + b"\r\n\r\n")
_NOT_FOUND = b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
PATH = "/stream.mjpg"


class EmulatedCamera:
    """Serves ``GET /stream.mjpg`` to any number of viewers; ``publish`` sends a frame to all."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._bind = (host, port)
        self._server: asyncio.Server | None = None
        self._viewers: set[asyncio.Queue[bytes | None]] = set()
        self.url = ""

    async def start(self) -> str:
        """Listen; returns the stream's URL."""
        self._server = await asyncio.start_server(self._serve, *self._bind)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}{PATH}"
        return self.url

    def publish(self, jpeg: bytes) -> None:
        """One frame to every viewer; a viewer that falls behind loses frames, not the stream."""
        part = (b"--" + _BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
                + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")
        for queue in self._viewers:
            if queue.qsize() < 4:
                queue.put_nowait(part)

    async def stop(self) -> None:
        for queue in self._viewers:
            queue.put_nowait(None)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            parts = request.split(b" ", 2)
            if len(parts) < 2 or parts[0] != b"GET" or parts[1].split(b"?")[0] != PATH.encode():
                writer.write(_NOT_FOUND)
                return
            writer.write(_HEADER)
            self._viewers.add(queue)
            while (part := await queue.get()) is not None:
                writer.write(part)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the viewer went away
        finally:
            self._viewers.discard(queue)
            with contextlib.suppress(ConnectionError):
                writer.close()
