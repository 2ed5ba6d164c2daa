"""Live path latency: a record produced on the boat side -> held by a WebSocket client, and -> drawn
by the dashboard in Chromium, with 10 twin patrols (or PATROLS) at real time, 10 Hz fixes each, on one station.

`riverpatrol serve` runs in its own process on loopback (SQLite). A record is produced when the
patrol clock reaches its time: the patrol log's ``paced`` metadata gives patrol time 0 on the wall
clock. Every patrol's live feed has a WebSocket listener here; the dashboard (Playwright driving
/usr/bin/chromium) shows one patrol and notes, for each batch it draws, the time of the animation
frame that paints it (the clock when its requestAnimationFrame callback runs). Fixes and sonde
samples are counted from WARMUP_S after the last patrol started (every twin starts in a process of
its own, and the first seconds measure ten interpreters importing at once, not the live path).

    .venv/bin/python bench/station_live.py [DURATION_S [PATROLS]]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import websockets
from playwright.async_api import async_playwright

from riverpatrol.pacing import PatrolClock
from riverpatrol.patrollog import PatrolLog, PatrolLogError

sys.path.insert(0, str(Path(__file__).parent))
from station_server import Station, post, running_station  # noqa: E402

VIDEO_FPS = 1.0  # the camera at one frame a second: this measures the data path, video has its own figure
WARMUP_S = 3.0
CHROMIUM = "/usr/bin/chromium"
_DRAWN = """() => {
    window.drawn = [];
    const draw = window.applyBatch;
    window.applyBatch = (message) => {
        draw(message);
        if (message.replay) return;
        const times = [...message.positions.map((p) => p[0]), ...message.samples.map((s) => s.t)];
        requestAnimationFrame(() => window.drawn.push([Date.now(), times]));  // as the frame that paints it starts
    };
}"""


def main(duration_s: float, patrols: int) -> None:
    with running_station() as station:
        ids = [post(f"{station.base}/api/patrols", {"scenario": "dongmen-demo", "speedup": 1.0,
                                                     "video_fps": VIDEO_FPS})["id"] for _ in range(patrols)]
        clocks = {i: _clock(station, i) for i in ids}
        cpu0, wall0 = station.cpu_s(), time.monotonic()
        received, drawn = asyncio.run(_watch(station, ids, clocks, duration_s))
        cpu = station.cpu_s() - cpu0
        wall = time.monotonic() - wall0
        load = os.getloadavg()[0]
        for patrol_id in ids:
            post(f"{station.base}/api/patrols/{patrol_id}/command", {"command": "abort"})
    print(f"{patrols} patrol(s) at real time, {duration_s:.0f} s (from {WARMUP_S:.0f} s after the last one started); station process "
          f"{cpu:.1f} s CPU over {wall:.1f} s wall ({100 * cpu / wall:.0f}% of a core); load average {load:.1f}")
    _print("produced -> WebSocket client", received, f"records of {patrols} patrol(s)")
    _print("produced -> drawn in Chromium", drawn, "records of 1 patrol")


async def _watch(station: Station, ids: list[int], clocks: dict[int, PatrolClock],
                 duration_s: float) -> tuple[list[float], list[float]]:
    received: list[float] = []
    end = time.monotonic() + duration_s
    steady = max(c.start_unix for c in clocks.values()) + WARMUP_S  # every patrol under way

    async def listen(patrol_id: int) -> None:
        clock = clocks[patrol_id]
        async with websockets.connect(f"ws://127.0.0.1:{station.port}/api/patrols/{patrol_id}/live",
                                      max_size=None) as ws:
            while (left := end - time.monotonic()) > 0:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=left)
                except TimeoutError:
                    break
                now = time.time()
                message = json.loads(raw)
                if message.get("type") != "batch" or message.get("replay"):
                    continue
                times = [p[0] for p in message["positions"]] + [s["t"] for s in message["samples"]]
                received.extend(now - clock.due(t) for t in times if clock.due(t) >= steady)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await page.goto(f"{station.base}/?patrol={ids[0]}")
        await page.wait_for_function("() => state.patrol && state.ws")
        await page.evaluate(_DRAWN)
        await asyncio.gather(*(listen(i) for i in ids))
        marks = await page.evaluate("() => window.drawn")
        await browser.close()
    clock = clocks[ids[0]]
    drawn = [at / 1000 - clock.due(t) for at, times in marks for t in times if clock.due(t) >= steady]
    return received, drawn


def _clock(station: Station, patrol_id: int) -> PatrolClock:
    """The patrol's clock as the boat side wrote it in its log."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for path in station.data.glob(f"patrols/{patrol_id}-*/patrol.sqlite"):
            try:
                with PatrolLog(path) as log:
                    if "paced" in log.meta:
                        return PatrolClock(**log.meta["paced"])
            except PatrolLogError:  # its header is being written
                pass
        time.sleep(0.2)
    raise RuntimeError(f"patrol {patrol_id} did not start")


def _print(name: str, values: list[float], what: str) -> None:
    ms = np.asarray(values) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    print(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {ms.max():.1f} ms over {len(ms)} {what}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0, int(sys.argv[2]) if len(sys.argv) > 2 else 10)
