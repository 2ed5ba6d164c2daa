"""Live video at 640x480: frames per second shown, and glass to glass (the camera taking a frame in
the twin -> the frame on screen), for one Dongmen demo patrol at real time, camera at 15 frames/s.

`riverpatrol serve` runs in its own process on loopback. Every frame's overlay carries its capture
clock as a strip of cells (station/video.py); a page reads the strip back from the frame it shows
and compares it with its own clock. Three viewers, one after the other, PHASE_S each:
1. an MJPEG client here: capture -> frame received (X-Captured-Unix, checked against the strip);
2. the dashboard's MJPEG <img> in Chromium, read at every animation frame (the first one showing
   a new frame: the time it is painted);
3. the dashboard's WebRTC <video> in Chromium, read at each frame's requestVideoFrameCallback
   (its expected display time).

    .venv/bin/python bench/station_video.py [PHASE_S]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import simplejpeg
from playwright.async_api import async_playwright

from riverpatrol.station.video import CLOCK_BITS, CODE_BITS, CODE_CELL_PX, CODE_X, CODE_Y, capture_clock, read_clock

sys.path.insert(0, str(Path(__file__).parent))
from station_server import Station, post, running_station  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
_SHOWN = """([kind, x0, y0, cell, bits]) => {
    window.shown = [];
    window.misread = 0;
    const el = document.getElementById(kind === "mjpeg" ? "video-mjpeg" : "video-webrtc");
    const canvas = document.createElement("canvas");
    canvas.width = bits * cell; canvas.height = cell;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const crc8 = (clock) => {  // as riverpatrol.station.video._crc8
        let crc = 0;
        for (const byte of [(clock >>> 16) & 255, (clock >>> 8) & 255, clock & 255]) {
            crc ^= byte;
            for (let i = 0; i < 8; i++) crc = (crc & 0x80 ? (crc << 1) ^ 0x07 : crc << 1) & 255;
        }
        return crc;
    };
    let last = -1;
    const read = (at) => {  // the capture clock in the strip of the frame on screen, if it is new
        ctx.drawImage(el, x0, y0, bits * cell, cell, 0, 0, bits * cell, cell);
        const px = ctx.getImageData(0, 0, bits * cell, cell).data;
        let code = 0;
        for (let b = 0; b < bits; b++) {  // the mean of each cell's inner 4x4 pixels, as read_clock
            let sum = 0;
            for (let y = 2; y < cell - 2; y++)
                for (let x = b * cell + 2; x < (b + 1) * cell - 2; x++) {
                    const i = (y * bits * cell + x) * 4;
                    sum += (px[i] + px[i + 1] + px[i + 2]) / 3;
                }
            code = code * 2 + (sum / ((cell - 4) * (cell - 4)) > 127 ? 1 : 0);
        }
        const clock = Math.floor(code / 256);
        if (crc8(clock) !== code % 256) { window.misread += 1; return; }
        if (clock !== last) { last = clock; window.shown.push([performance.timeOrigin + at, clock]); }
    };
    if (kind === "mjpeg") {
        const paint = (at) => { if (el.naturalWidth) read(at); requestAnimationFrame(paint); };
        requestAnimationFrame(paint);
    } else {
        const frame = (_now, meta) => {
            window.presented = [window.presented ? window.presented[0] : meta.presentedFrames, meta.presentedFrames];
            read(meta.expectedDisplayTime);
            el.requestVideoFrameCallback(frame);
        };
        el.requestVideoFrameCallback(frame);
    }
}"""


def main(phase_s: float) -> None:
    with running_station() as station:
        start = {"scenario": "dongmen-demo", "speedup": 1.0}
        patrol = post(f"{station.base}/api/patrols", start)["id"]
        time.sleep(3.0)
        cpu0, wall0 = station.cpu_s(), time.monotonic()
        received, mismatched = _mjpeg_client(station, patrol, phase_s)
        _print("MJPEG client: capture -> received", received, phase_s, f"; strip != header in {mismatched}")
        for kind in ("mjpeg", "webrtc"):
            shown, misread, presented = asyncio.run(_browser(station, patrol, kind, phase_s))
            extra = f"; strip unreadable (CRC) in {misread} reads"
            extra += f"; {presented:.1f} frames/s presented" if presented is not None else ""
            _print(f"Chromium {'MJPEG <img>' if kind == 'mjpeg' else 'WebRTC <video>'}: capture -> shown", shown,
                   phase_s, extra)
        cpu, wall = station.cpu_s() - cpu0, time.monotonic() - wall0
        print(f"station process {cpu:.1f} s CPU over {wall:.1f} s wall ({100 * cpu / wall:.0f}% of a core); "
              f"load average {os.getloadavg()[0]:.1f}")
        post(f"{station.base}/api/patrols/{patrol}/command", {"command": "abort"})


def _mjpeg_client(station: Station, patrol: int, duration_s: float) -> tuple[list[float], int]:
    delays, mismatched = [], 0
    with urllib.request.urlopen(f"{station.base}/api/patrols/{patrol}/video.mjpeg", timeout=30) as stream:
        end = time.monotonic() + duration_s
        buffer = b""
        while chunk := stream.read1(65536):
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                head, rest = buffer.split(b"\r\n\r\n", 1)
                fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
                length = int(fields["Content-Length"])
                if len(rest) < length + 2:
                    break
                captured = float(fields["X-Captured-Unix"])
                delays.append(time.time() - captured)
                pixels = simplejpeg.decode_jpeg(rest[:length], colorspace="RGB")
                mismatched += read_clock(pixels) != capture_clock(captured)
                buffer = rest[length + 2:]
            if time.monotonic() > end:
                break
    return delays, mismatched


async def _browser(station: Station, patrol: int, kind: str,
                   duration_s: float) -> tuple[list[float], int, float | None]:
    """Delays from capture to screen of the frames whose strip reads true, how many reads did not,
    and (WebRTC) the frames presented a second."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await page.goto(f"{station.base}/?patrol={patrol}")
        await page.wait_for_function("() => state.patrol !== null")
        if kind == "webrtc":
            await page.check("input[name=video-kind][value=webrtc]")
            await page.wait_for_function("() => document.getElementById('video-webrtc').videoWidth > 0", timeout=30_000)
        else:
            await page.wait_for_function("() => document.getElementById('video-mjpeg').naturalWidth > 0")
        await page.evaluate(_SHOWN, [kind, CODE_X, CODE_Y, CODE_CELL_PX, CODE_BITS])
        await asyncio.sleep(duration_s)
        shown, misread, presented = await page.evaluate("() => [window.shown, window.misread, window.presented]")
        await browser.close()
    half = 2 ** (CLOCK_BITS - 1)
    delays = [(((at - clock + half) % 2**CLOCK_BITS) - half) / 1000 for at, clock in shown[1:]]
    return delays, misread, (presented[1] - presented[0]) / duration_s if presented else None


def _print(name: str, delays: list[float], duration_s: float, extra: str) -> None:
    ms = np.asarray(delays) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    print(f"{name}: {len(ms) / duration_s:.1f} frames/s over {duration_s:.0f} s; p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"p99 {p99:.1f} ms, max {ms.max():.1f} ms{extra}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 15.0)
