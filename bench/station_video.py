"""Live video over MJPEG: frames per second a viewer receives at 640x480, and the delay from the
station receiving a camera frame (the stamp in the overlay, also sent as X-Received-Unix) to the
viewer holding it. One Dongmen demo patrol at real time and at 2x, camera asked for 15 frames a
second (the twin renders at most one frame per 0.1 s tick of patrol time).

    .venv/bin/python bench/station_video.py [DURATION_S]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from station_server import running_station  # noqa: E402


def main(duration_s: float) -> None:
    for speedup in (1.0, 2.0):
        _measure(duration_s, speedup)


def _measure(duration_s: float, speedup: float) -> None:
    with running_station() as port:
        base = f"http://127.0.0.1:{port}"
        patrol = httpx.post(f"{base}/api/patrols", json={"scenario": "dongmen-demo", "speedup": speedup}).json()["id"]
        time.sleep(2.0)
        delays, sizes = [], set()
        with httpx.stream("GET", f"{base}/api/patrols/{patrol}/video.mjpeg", timeout=30) as stream:
            end = time.monotonic() + duration_s
            buffer = b""
            for chunk in stream.iter_bytes():
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    head, rest = buffer.split(b"\r\n\r\n", 1)
                    fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
                    length = int(fields["Content-Length"])
                    if len(rest) < length + 2:
                        break
                    delays.append(time.time() - float(fields["X-Received-Unix"]))
                    sizes.add(len(rest[:length]))
                    buffer = rest[length + 2:]
                if time.monotonic() > end:
                    break
        httpx.post(f"{base}/api/patrols/{patrol}/command", json={"command": "abort"})
    ms = np.asarray(delays) * 1000
    print(f"MJPEG 640x480, patrol at {speedup:g}x: {len(ms) / duration_s:.1f} frames/s over {duration_s:.0f} s; station -> viewer "
          f"p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms (stamping included)")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 15.0)
