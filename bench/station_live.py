"""Live path latency: a block of records committed on the boat side -> received over the live
WebSocket, with 10 patrols at 10 Hz (the Dongmen demo at real time) on one station.

Runs `riverpatrol serve`'s app under uvicorn on loopback, starts the patrols through the API,
and listens to every patrol's feed with a WebSocket client for DURATION seconds. Prints the
latency from block commit to receipt, and per record (a record also waits in the twin's 0.5 s
block before it is committed).

    .venv/bin/python bench/station_live.py [DURATION_S]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import websockets

sys.path.insert(0, str(Path(__file__).parent))
from station_server import running_station  # noqa: E402

PATROLS = 10
VIDEO_FPS = 1.0  # the camera at one frame a second: this measures the data path, video has its own figure


def main(duration_s: float) -> None:
    with running_station() as port:
        base = f"http://127.0.0.1:{port}"
        start = {"scenario": "dongmen-demo", "speedup": 1.0, "video_fps": VIDEO_FPS}
        ids = [_post(f"{base}/api/patrols", start)["id"] for _ in range(PATROLS)]
        block, record = asyncio.run(_listen(port, ids, duration_s))
        for patrol_id in ids:
            _post(f"{base}/api/patrols/{patrol_id}/command", {"command": "abort"})
    for name, values in (("block commit -> client", block), ("record time -> client", record)):
        ms = np.asarray(values) * 1000
        print(f"{name}: p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
              f"p99 {np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms over {len(ms)} "
              f"{'messages' if name.startswith('block') else 'fixes'} ({PATROLS} patrols, {duration_s:.0f} s)")


async def _listen(port: int, ids: list[int], duration_s: float) -> tuple[list[float], list[float]]:
    block: list[float] = []
    record: list[float] = []

    async def one(patrol_id: int) -> None:
        async with websockets.connect(f"ws://127.0.0.1:{port}/api/patrols/{patrol_id}/live", max_size=None) as ws:
            end = time.monotonic() + duration_s
            while time.monotonic() < end:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=end - time.monotonic())
                except TimeoutError:
                    break
                received = time.time()
                message = json.loads(raw)
                if "produced_unix" not in message:
                    continue
                block.append(received - message["produced_unix"])
                # at real time a fix at patrol time t was produced (until - t) s before its block was committed
                record.extend(received - message["produced_unix"] + (message["t"] - p[0]) for p in message["positions"])

    await asyncio.gather(*(one(i) for i in ids))
    return block, record


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)
