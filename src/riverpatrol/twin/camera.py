"""Forward-looking camera of the river twin: JPEG keyframes of the scene ahead (spec section 4).

A level pinhole camera 1 m above the water on the bow axis, 90° horizontal field of view: a point
``X`` m to the right, ``Z`` m ahead and ``Y`` m above the water lands at pixel
``u = W/2 + f X / Z``, ``v = H/2 + f (1 - Y) / Z`` with ``f = (W/2) / tan 45°``; the horizon is the
middle row. The scene is painted back to front with flat-shaded polygons over a pre-rendered sky and
water background:

- banks (sampled every 4 m, within 80 m and at least 0.5 m ahead): a 2 m embankment face rising from
  the waterline, topped by a tree line to 6 m;
- piers (circles): 4 m pillars as wide as the pier; moored vessels (polygons) and moving vessels
  (footprints): 1.2 m hull boxes, side faces shaded by which way they face, clipped at 0.5 m ahead;
- visible outfalls: a dark 0.7 m pipe mouth in a concrete ring on the embankment face, and a brown
  patch of discoloured water (10 m along the river, 3 m out from the bank, drifting downstream).

The timestamp ``t=123.4 s`` is written in the top-left corner. Rendering is deterministic (no noise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from operator import itemgetter

import numpy as np
import simplejpeg
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from riverpatrol.geo.frame import FloatArray, RiverFrame

_HFOV_RAD = np.radians(90.0)
_EYE_M = 1.0  # camera height above the water
_NEAR_M = 0.5
_VIEW_M = 80.0
_BANK_STEP = 8  # every 8th bank sample (4 m apart): fewer polygon edges, same look
_EMBANKMENT_M = 2.0
_TREES_M = 6.0
_BANK_RISE = np.array([_EYE_M, _EYE_M - _EMBANKMENT_M, _EYE_M - _TREES_M])  # eye height minus each level
_PIER_M = 4.0
_HULL_M = 1.2
_PIPE_R_M = 0.35
_RING_R_M = 0.5
_PIPE_Y_M = 0.5  # height of the pipe's axis above the water

_SKY_TOP, _SKY_HORIZON = (70, 125, 195), (190, 212, 232)
_WATER_HORIZON, _WATER_NEAR = (150, 168, 172), (38, 72, 82)
_EMBANKMENT = (128, 120, 104)
_TREES = (58, 96, 52)
_PIER = (118, 114, 108)
_HULL_LIT, _HULL_SHADE = (176, 60, 44), (110, 36, 28)
_RING = (190, 186, 176)
_PIPE = (18, 16, 14)
_PLUME = (150, 124, 70)
_LABEL_XY = (8, 5)
_LABEL_BOX = (0, 0, 100, 26)  # fits "t=99999.9 s"
_LABEL_INK = (255, 255, 255)


class ForwardCamera:
    """Renders the view ahead of the boat as 640x480 JPEG keyframes (model in the module docstring)."""

    def __init__(
        self,
        river: RiverFrame,
        *,
        circles: Sequence[tuple[float, float, float]],
        polygons: Sequence[NDArray[np.float64]],
        visible_outfalls: Sequence[tuple[float, float]],
        width: int = 640,
        height: int = 480,
        quality: int = 70,
    ) -> None:
        self.width, self.height, self.quality = width, height, quality
        self.focal = (width / 2.0) / np.tan(_HFOV_RAD / 2.0)
        self.cx, self.horizon = width / 2.0, height / 2.0
        left, right = river.banks  # one array, a NaN row between the banks so no run joins them
        self._bank_points = np.concatenate([left.xy[::_BANK_STEP], [[np.nan, np.nan]], right.xy[::_BANK_STEP]])
        self._circles = np.asarray(circles, float).reshape(-1, 3)
        self._polygons = [np.asarray(p, float).reshape(-1, 2) for p in polygons]
        self._polygon_centres = np.array([p.mean(axis=0) for p in self._polygons]).reshape(-1, 2)
        self._mouths = np.asarray(visible_outfalls, float).reshape(-1, 2)
        self._plumes = [self._plume(river, mouth) for mouth in self._mouths]
        font = ImageFont.load_default(size=16)
        self._glyphs = {char: _glyph(font, char) for char in "0123456789.-afint= s"}
        self._background = self._paint_background()
        ImageDraw.Draw(self._background).rectangle(_LABEL_BOX, fill=(0, 0, 0))

    def render(
        self, t: float, x: float, y: float, heading_rad: float, vessels: Sequence[NDArray[np.float64]]
    ) -> bytes:
        """One JPEG frame at time ``t`` from pose (x, y, heading; 0 = east, CCW); vessels are 4x2 footprints."""
        img = self._background.copy()
        draw = ImageDraw.Draw(img)
        origin = np.array([x, y], float)
        cos, sin = np.cos(heading_rad), np.sin(heading_rad)
        to_camera = np.array([[sin, cos], [-cos, sin]])  # (points - origin) @ to_camera: columns (right, ahead)

        def camera(points: FloatArray) -> FloatArray:
            return (points - origin) @ to_camera

        self._draw_banks(draw, camera(self._bank_points))
        parts: list[tuple[float, Callable[[], None]]] = []  # (distance, painter): painted far to near
        for i in _in_view(self._circles[:, :2], origin):
            centre, radius = self._circles[i, :2], self._circles[i, 2]
            parts.append((_distance(centre, origin), partial(self._draw_pier, draw, *camera(centre), radius)))
        moving = [np.asarray(v, float) for v in vessels]
        centres = np.array([v.mean(axis=0) for v in moving]).reshape(-1, 2)
        hulls = [self._polygons[i] for i in _in_view(self._polygon_centres, origin)]
        hulls += [moving[i] for i in _in_view(centres, origin)]
        for shape in hulls:
            parts.append((_distance(shape.mean(axis=0), origin), partial(self._draw_hull, draw, camera(shape))))
        for i in _in_view(self._mouths, origin):
            mouth = self._mouths[i]
            paint = partial(self._draw_outfall, draw, camera(self._plumes[i]), *camera(mouth))
            parts.append((_distance(mouth, origin), paint))
        for _, paint in sorted(parts, key=itemgetter(0), reverse=True):
            paint()
        left = _LABEL_XY[0]
        for char in f"t={t:.1f} s":
            glyph, advance = self._glyphs[char]
            img.paste(_LABEL_INK, (left, _LABEL_XY[1]), glyph)
            left += advance
        return simplejpeg.encode_jpeg(np.asarray(img), self.quality, colorspace="RGB", colorsubsampling="420")

    # ---- scene parts ------------------------------------------------------------------------
    def _project(self, cam_x: FloatArray, cam_z: FloatArray, height_m: float) -> FloatArray:
        """Pixel (u, v) rows of camera-frame points at ``height_m`` above the water."""
        u = self.cx + self.focal * cam_x / cam_z
        v = self.horizon + self.focal * (_EYE_M - height_m) / cam_z
        return np.column_stack([u, v])

    def _draw_banks(self, draw: ImageDraw.ImageDraw, cam: FloatArray) -> None:
        """Embankment and tree line over each run of consecutive bank samples ahead and in range."""
        cam_x, cam_z = cam[:, 0], cam[:, 1]
        visible = np.flatnonzero((cam_z > _NEAR_M) & (cam_x * cam_x + cam_z * cam_z < _VIEW_M**2))
        for run in np.split(visible, np.flatnonzero(np.diff(visible) > 1) + 1):
            if run.size < 2:
                continue
            scale = self.focal / cam_z[run]
            u = self.cx + cam_x[run] * scale
            v = self.horizon + np.outer(scale, _BANK_RISE)  # columns: waterline, embankment top, tree tops
            there_and_back = np.concatenate([u, u[::-1]])
            for low, high, colour in ((1, 2, _TREES), (0, 1, _EMBANKMENT)):
                outline = np.column_stack([there_and_back, np.concatenate([v[:, low], v[::-1, high]])])
                draw.polygon(outline.ravel().tolist(), fill=colour)

    def _draw_pier(self, draw: ImageDraw.ImageDraw, cam_x: float, cam_z: float, radius: float) -> None:
        if cam_z - radius < _NEAR_M:
            return
        scale = self.focal / cam_z
        draw.rectangle(
            (
                self.cx + scale * (cam_x - radius),
                self.horizon + scale * (_EYE_M - _PIER_M),
                self.cx + scale * (cam_x + radius),
                self.horizon + scale * _EYE_M,
            ),
            fill=_PIER,
        )

    def _draw_hull(self, draw: ImageDraw.ImageDraw, cam: FloatArray) -> None:
        ring = _clip_near(cam)
        if len(ring) < 3:
            return
        nxt = np.roll(ring, -1, axis=0)
        area2 = float(np.sum(ring[:, 0] * nxt[:, 1] - nxt[:, 0] * ring[:, 1]))
        edge = nxt - ring
        outward = np.column_stack([edge[:, 1], -edge[:, 0]]) * np.sign(area2)
        mid = (ring + nxt) / 2.0
        faces_camera = np.sum(outward * mid, axis=1) < 0
        low = self._project(ring[:, 0], ring[:, 1], 0.0)
        high = self._project(ring[:, 0], ring[:, 1], _HULL_M)
        for k in np.argsort(-np.hypot(mid[:, 0], mid[:, 1])):
            j = (k + 1) % len(ring)
            quad = [*low[k], *low[j], *high[j], *high[k]]
            draw.polygon(quad, fill=_HULL_LIT if faces_camera[k] else _HULL_SHADE)

    def _draw_outfall(
        self,
        draw: ImageDraw.ImageDraw,
        plume: FloatArray,
        cam_x: float,
        cam_z: float,
    ) -> None:
        patch = _clip_near(plume)
        if len(patch) >= 3:
            draw.polygon(self._project(patch[:, 0], patch[:, 1], 0.0).ravel().tolist(), fill=_PLUME)
        if cam_z < _NEAR_M + _RING_R_M:
            return
        u, v = self._project(np.array([cam_x]), np.array([cam_z]), _PIPE_Y_M)[0]
        for radius, colour in ((_RING_R_M, _RING), (_PIPE_R_M, _PIPE)):
            r = self.focal * radius / cam_z
            draw.ellipse((u - r, v - r, u + r, v + r), fill=colour)

    # ---- set-up -----------------------------------------------------------------------------
    @staticmethod
    def _plume(river: RiverFrame, mouth: FloatArray) -> FloatArray:
        """World outline of the discoloured water off a mouth: an ellipse nudged downstream."""
        s, n = river.to_river(mouth[0:1], mouth[1:2])
        down = river.downstream_unit(s)[0]
        inward = -np.sign(n[0] or 1.0) * np.array([-down[1], down[0]])
        centre = mouth + 1.5 * inward + 3.0 * down
        ang = np.linspace(0.0, 2 * np.pi, 16, endpoint=False)[:, None]
        return centre + 5.0 * np.cos(ang) * down + 1.5 * np.sin(ang) * inward

    def _paint_background(self) -> Image.Image:
        rows = np.arange(self.height, dtype=float)[:, None]
        horizon = int(self.horizon)
        sky = rows[:horizon] / max(horizon - 1, 1)
        water = (rows[horizon:] - horizon) / max(self.height - horizon - 1, 1)
        colours = np.concatenate(
            [
                np.array(_SKY_TOP) + sky * (np.array(_SKY_HORIZON) - np.array(_SKY_TOP)),
                np.array(_WATER_HORIZON) + np.sqrt(water) * (np.array(_WATER_NEAR) - np.array(_WATER_HORIZON)),
            ]
        )
        image = np.broadcast_to(colours[:, None, :], (self.height, self.width, 3))
        return Image.fromarray(np.ascontiguousarray(image.round().astype(np.uint8)))


def _in_view(points: FloatArray, origin: FloatArray) -> NDArray[np.intp]:
    """Indices of the points within drawing distance, whichever way the camera looks."""
    rel = points - origin
    return np.flatnonzero(np.einsum("ij,ij->i", rel, rel) <= _VIEW_M**2)


def _distance(point: FloatArray, origin: FloatArray) -> float:
    return float(np.hypot(*(point - origin)))


def _glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str) -> tuple[Image.Image, int]:
    """A character's coverage mask and advance: pasting these is ~10x faster than drawing text."""
    advance = round(font.getlength(char))
    mask = Image.new("L", (max(advance, 1), int(font.getbbox("0123456789tfy")[3]) + 1))
    ImageDraw.Draw(mask).text((0, 0), char, font=font, fill=255)
    return mask, advance


def _clip_near(ring: FloatArray) -> FloatArray:
    """Clip a polygon given as camera (x, z) rows to the half-plane z >= near (Sutherland-Hodgman)."""
    inside = ring[:, 1] >= _NEAR_M
    if inside.all():
        return ring
    out: list[FloatArray] = []
    for k in range(len(ring)):
        a, b = ring[k - 1], ring[k]
        a_in, b_in = inside[k - 1], inside[k]
        if a_in != b_in:
            out.append(a + (b - a) * (_NEAR_M - a[1]) / (b[1] - a[1]))
        if b_in:
            out.append(b)
    return np.array(out).reshape(-1, 2)
