"""The live feed: what ingest publishes, fanned out to every browser watching a patrol.

Publishers run in worker threads (a patrol's ingest); subscribers are WebSocket handlers on the
server's event loop. Each message carries the patrol's scenario time ``t``, so a client that
reconnects asks for everything after the last ``t`` it drew and the server replays that from the
store before going live, without gaps or repeats.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from typing import Any

from riverpatrol.scenario import UNITS
from riverpatrol.station.ingest import Window

_QUEUE_LIMIT = 1000  # a browser this far behind is dropped and reconnects (replaying from the store)


class Hub:
    """Thread-safe publish, asyncio subscribe, per patrol."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any] | None]]]] = \
            defaultdict(set)

    def subscribe(self, patrol_id: int) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(_QUEUE_LIMIT)
        with self._lock:
            self._subscribers[patrol_id].add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, patrol_id: int, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        with self._lock:
            self._subscribers[patrol_id] = {s for s in self._subscribers[patrol_id] if s[1] is not queue}

    def publish(self, patrol_id: int, message: dict[str, Any]) -> None:
        """From any thread; a subscriber whose queue is full gets ``None`` (close and reconnect)."""
        with self._lock:
            targets = list(self._subscribers[patrol_id])
        for loop, queue in targets:
            try:
                loop.call_soon_threadsafe(_offer, queue, message)
            except RuntimeError:  # the subscriber's loop has closed
                self.unsubscribe(patrol_id, queue)


def _offer(queue: asyncio.Queue[dict[str, Any] | None], message: dict[str, Any]) -> None:
    try:
        queue.put_nowait(message)
    except asyncio.QueueFull:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)


def live_message(patrol_id: int, window: Window, *, status: str | None = None) -> dict[str, Any]:
    """One feed message for a window of a patrol: the same shape live and when replayed."""
    mode = next((e["detail"].get("mode") for e in reversed(window.events) if e["kind"] == "mode"), None)
    message: dict[str, Any] = {
        "type": "batch",
        "patrol": patrol_id,
        "t": window.until if window.until is not None else _last_t(window),
        "sent_unix": time.time(),
        "positions": [[p["t"], p["lon"], p["lat"], p["sog"], p["cog"], p["heading"]] for p in window.positions],
        "samples": [{"t": s["t"], "lon": s["lon"], "lat": s["lat"], "s": s["chainage_m"], "class": s["water_class"],
                     "classes": s["classes"], "values": s["values"]}
                    for s in window.samples],
        "events": window.events,
        "anomalies": [{"t": a["t"], "lon": a["lon"], "lat": a["lat"], "s": a["chainage_m"], "bank": a["bank"],
                       "score": a["score"], "z": a["z"]} for a in window.anomalies],
        "units": UNITS,
    }
    if mode:
        message["mode"] = mode
    if status:
        message["status"] = status
    if window.obstacles is not None:
        message["obstacles"] = window.obstacles
    return message


def _last_t(window: Window) -> float | None:
    times = [rows[-1]["t"] for rows in (window.positions, window.samples, window.events) if rows]
    return max(times) if times else None
