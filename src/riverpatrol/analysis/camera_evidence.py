"""Outfalls seen by the camera: discoloured water at the bank in the keyframes.

An outfall open to view shows as a patch of brown water off its mouth. Pixels of that colour below
the horizon are put back on the water plane with the camera's pinhole geometry (its field of view
and height above the water, from the log meta) and the boat's pose at the frame's time, then
clustered by bank and chainage. A sighting confirms a sonde finding close by on its bank or, seen
in several frames, stands as a finding of its own: the camera sees a discharge too weak for the
sonde, or one that stopped before the boat arrived.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import simplejpeg

from riverpatrol.analysis.findings import Finding
from riverpatrol.analysis.track import Fixes
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.patrollog import PatrolLog

SCALE = 2  # frames are decoded at half size (libjpeg scales in the DCT): four times faster, and a
# plume patch the sonde could miss still spans dozens of pixels
PLUME_MIN_PIXELS = 4  # smaller blobs (at half size) are JPEG noise at the edges of other shapes
SAME_M = 20.0  # sightings (and findings) on one bank closer than this are the same outfall
MIN_FRAMES = 2  # a camera-only finding needs this many frames
CAMERA_ONLY_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Sighting:
    s: float
    bank: str
    frames: int
    spread_m: float


def camera_sightings(log: PatrolLog, frame: RiverFrame, fixes: Fixes) -> list[Sighting]:
    """Clusters of discoloured-water sightings along each bank."""
    camera = log.meta.get("camera")
    if not camera:
        return []
    width, height = camera["width"] / SCALE, camera["height"] / SCALE
    focal = width / 2.0 / math.tan(math.radians(camera["hfov_deg"]) / 2.0)
    points: list[tuple[float, float]] = []
    for record in log.records("frame"):
        rgb = simplejpeg.decode_jpeg(record.jpeg, colorspace="RGB", fastdct=True, fastupsample=True,
                                     min_width=int(width), min_height=int(height))
        hit = _plume_pixels(rgb, int(height // 2))
        if hit is None:
            continue
        rows, cols = hit
        depth = focal * camera["eye_height_m"] / (rows - height / 2.0)
        right = (cols - width / 2.0) * depth / focal
        x, y, heading = fixes.at(np.array([record.t]))
        ahead = np.array([math.cos(heading[0]), math.sin(heading[0])])
        starboard = np.array([ahead[1], -ahead[0]])
        gx = x[0] + depth * ahead[0] + right * starboard[0]
        gy = y[0] + depth * ahead[1] + right * starboard[1]
        s, n = frame.to_river(np.array([np.median(gx)]), np.array([np.median(gy)]))
        points.append((float(s[0]), float(n[0])))
    return _cluster(points)


def _plume_pixels(rgb: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows and columns of brown-water pixels below the horizon, or None if too few.

    Red well above blue is rare in a river scene (water, sky, banks and trees all fail it), so the
    full colour test runs only on the pixels that pass that one first.
    """
    water = rgb[horizon + 1:]
    redder = np.flatnonzero(np.subtract(water[..., 0], water[..., 2], dtype=np.int16) > 50)
    if redder.size < PLUME_MIN_PIXELS:
        return None
    r, g, b = (water[..., k].ravel()[redder].astype(np.int16) for k in range(3))
    brown = (r > 120) & (r < 185) & (g > 95) & (g < 155) & (b > 40) & (b < 100) & (g - b > 30)
    if np.count_nonzero(brown) < PLUME_MIN_PIXELS:
        return None
    rows, cols = np.divmod(redder[brown], water.shape[1])
    return rows + horizon + 1.0, cols + 0.5


def _cluster(points: list[tuple[float, float]]) -> list[Sighting]:
    sightings = []
    for bank, side in (("left", 1.0), ("right", -1.0)):
        along = sorted(s for s, n in points if n * side > 0)
        groups: list[list[float]] = []
        for s in along:
            if groups and s - groups[-1][-1] <= SAME_M:
                groups[-1].append(s)
            else:
                groups.append([s])
        sightings += [Sighting(float(np.median(g)), bank, len(g), float(np.ptp(g))) for g in groups]
    return sightings


def with_camera(findings: list[Finding], sightings: list[Sighting]) -> list[Finding]:
    """Findings confirmed by sightings near them, plus camera-only findings, ranked by confidence."""
    out = list(findings)
    for seen in sightings:
        near = [i for i, f in enumerate(out) if f.bank == seen.bank and abs(f.s - seen.s) <= SAME_M]
        evidence: dict[str, Any] = {"chainage_m": round(seen.s, 1), "frames": seen.frames}
        if near:
            i = min(near, key=lambda k: abs(out[k].s - seen.s))
            out[i] = replace(out[i], evidence={**out[i].evidence, "camera": evidence})
        elif seen.frames >= MIN_FRAMES:
            out.append(Finding(s=seen.s, bank=seen.bank, confidence=CAMERA_ONLY_CONFIDENCE,
                               uncertainty_m=max(3.0, seen.spread_m / 2.0),
                               evidence={"camera": evidence, "notes": ["discoloured water at the bank in the camera; "
                                                                        "no plume measured by the sonde"]}))
    return sorted(out, key=lambda f: -f.confidence)
