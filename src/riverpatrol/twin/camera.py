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

Frames are painted straight into the JPEG's own planes (JFIF YCbCr, 4:2:0): luma at full resolution,
the two chroma planes at half resolution with every coordinate halved, each shape filled with its
colour's Y, Cb and Cr. The planes are numpy arrays that Pillow draws into in place and the encoder
reads as they are: no colour conversion or downsampling in the encoder, no RGB frame to copy in and
out, a third of the bytes moved per frame; decoded, the result matches painting in RGB to within
JPEG's rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from operator import itemgetter

import numpy as np
import simplejpeg
from numpy.typing import ArrayLike, NDArray
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
_LABEL_BOX_FILL = (0, 0, 0)
_LABEL_INK_Y, _NEUTRAL_CHROMA = 255, 128  # white text: full luma, no colour

# JPEG/JFIF RGB -> YCbCr (ITU-R BT.601, full range), as libjpeg converts RGB input
_RGB_TO_YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_YCBCR_OFFSET = np.array([0.0, 128.0, 128.0])

Fill = tuple[int, int, int]  # a colour's (Y, Cb, Cr)


def _ycbcr(rgb: ArrayLike) -> FloatArray:
    """JFIF YCbCr of RGB colours (last axis), unrounded."""
    return np.asarray(rgb, float) @ _RGB_TO_YCBCR.T + _YCBCR_OFFSET


def _to_bytes(values: FloatArray) -> NDArray[np.uint8]:
    return np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8)


def _fill(rgb: tuple[int, int, int]) -> Fill:
    y, cb, cr = _to_bytes(_ycbcr(rgb)).tolist()
    return y, cb, cr


_EMBANKMENT_FILL, _TREES_FILL, _PIER_FILL = _fill(_EMBANKMENT), _fill(_TREES), _fill(_PIER)
_HULL_LIT_FILL, _HULL_SHADE_FILL = _fill(_HULL_LIT), _fill(_HULL_SHADE)
_RING_FILL, _PIPE_FILL, _PLUME_FILL = _fill(_RING), _fill(_PIPE), _fill(_PLUME)


class _Plane:
    """One plane of the frame: a numpy array that the encoder reads and a PIL image that draws into it."""

    __slots__ = ("background", "pixels", "image", "draw", "shared", "_blank")

    def __init__(self, background: NDArray[np.uint8]) -> None:
        self.background = background
        self.pixels = background.copy()
        height, width = background.shape
        image = Image.frombuffer("L", (width, height), self.pixels, "raw", "L", 0, 1)
        image.readonly = 0  # Pillow marks a buffer-backed image read-only and would copy it on the first draw
        draw = ImageDraw.Draw(image)
        probe = 255 - int(background[0, 0])
        draw.point((0, 0), fill=probe)
        self.shared = int(self.pixels[0, 0]) == probe  # drawing lands in the array: no copy out per frame
        self._blank: Image.Image | None = None
        if not self.shared:  # a Pillow that copies anyway: draw on an image of its own, read it out per frame
            self._blank = Image.fromarray(background)
            image = self._blank.copy()
            draw = ImageDraw.Draw(image)
        self.image, self.draw = image, draw
        self.reset()

    def reset(self) -> None:
        """Back to the background."""
        if self._blank is None:
            np.copyto(self.pixels, self.background)
        else:
            self.image.paste(self._blank)

    def read(self) -> NDArray[np.uint8]:
        """The plane as painted so far, writable (the shared array itself, or a copy of the image)."""
        return self.pixels if self._blank is None else np.array(self.image)


class _Canvas:
    """The frame being painted, in the planes the encoder takes: Y at full resolution, Cb and Cr at half
    (4:2:0). Every shape is filled on all three, at halved coordinates on the chroma planes."""

    __slots__ = ("planes", "y", "cb", "cr")

    def __init__(self, luma: NDArray[np.uint8], cb: NDArray[np.uint8], cr: NDArray[np.uint8]) -> None:
        self.planes = (_Plane(luma), _Plane(cb), _Plane(cr))
        self.y, self.cb, self.cr = (plane.draw for plane in self.planes)

    def __reduce__(self) -> tuple[type[_Canvas], tuple[NDArray[np.uint8], ...]]:
        """Copied or pickled as its backgrounds: a copy gets planes of its own, drawn into in place again."""
        return _Canvas, tuple(plane.background for plane in self.planes)

    def polygon(self, xy: FloatArray, fill: Fill) -> None:
        """Fill the polygon with pixel vertices ``xy`` (N x 2)."""
        self.fill(xy.ravel().tolist(), (xy * 0.5).ravel().tolist(), fill)

    def fill(self, flat: list[float], half: list[float], fill: Fill) -> None:
        """Fill a polygon given as flat vertex lists, in pixels and in halved pixels."""
        self.y.polygon(flat, fill=fill[0])
        self.cb.polygon(half, fill=fill[1])
        self.cr.polygon(half, fill=fill[2])

    def rectangle(self, u0: float, v0: float, u1: float, v1: float, fill: Fill) -> None:
        self.y.rectangle((u0, v0, u1, v1), fill=fill[0])
        half = (u0 * 0.5, v0 * 0.5, u1 * 0.5, v1 * 0.5)
        self.cb.rectangle(half, fill=fill[1])
        self.cr.rectangle(half, fill=fill[2])

    def label(self, mask: Image.Image) -> None:
        """White text by its coverage ``mask`` (even-sized, from the even pixel at or before the label's
        corner): luma towards 255, and the chroma towards neutral by the coverage of each 2x2 block."""
        left, top = (xy - xy % 2 for xy in _LABEL_XY)
        self.planes[0].image.paste(_LABEL_INK_Y, (left, top), mask)
        half = mask.reduce(2)
        for plane in self.planes[1:]:
            plane.image.paste(_NEUTRAL_CHROMA, (left // 2, top // 2), half)

    def disc(self, u: float, v: float, r: float, fill: Fill) -> None:
        self.y.ellipse((u - r, v - r, u + r, v + r), fill=fill[0])
        u, v, r = u * 0.5, v * 0.5, r * 0.5
        self.cb.ellipse((u - r, v - r, u + r, v + r), fill=fill[1])
        self.cr.ellipse((u - r, v - r, u + r, v + r), fill=fill[2])


class ForwardCamera:
    """Renders the view ahead of the boat as 640x480 JPEG keyframes (model in the module docstring).

    Each frame is painted on the same planes, so one camera renders one frame at a time: not for
    concurrent calls from several threads (a copy of the camera has planes of its own).
    """

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
        self.hfov_deg, self.eye_height_m = float(np.degrees(_HFOV_RAD)), _EYE_M
        self.width, self.height, self.quality = width, height, quality
        self.focal = (width / 2.0) / np.tan(_HFOV_RAD / 2.0)
        self.cx, self.horizon = width / 2.0, height / 2.0
        left, right = river.banks  # one array, a NaN row between the banks so no run joins them
        self._bank_points = np.concatenate([left.xy[::_BANK_STEP], [[np.nan, np.nan]], right.xy[::_BANK_STEP]])
        self._circles = np.asarray(circles, float).reshape(-1, 3)
        self._polygons = [np.asarray(p, float).reshape(-1, 2) for p in polygons]
        self._mouths = np.asarray(visible_outfalls, float).reshape(-1, 2)
        self._plumes = [self._plume(river, mouth) for mouth in self._mouths]
        # where each static part is, for the distance test and the painting order
        polygon_centres = [p.mean(axis=0) for p in self._polygons]
        self._anchors = np.concatenate([self._circles[:, :2], np.reshape(polygon_centres, (-1, 2)), self._mouths])
        self._first_polygon, self._first_mouth = len(self._circles), len(self._circles) + len(self._polygons)
        font = ImageFont.load_default(size=16)
        pad = _LABEL_XY[1] % 2  # rows above the label's top, to start the label's mask on an even row
        self._glyphs = {char: _glyph(font, char, pad) for char in "0123456789.-afint= s"}
        self._glyphs[""] = np.zeros_like(self._glyphs["0"][:, :1])  # evens up the width
        self._canvas = _Canvas(*_planes(self._paint_background()))

    def render(
        self, t: float, x: float, y: float, heading_rad: float, vessels: Sequence[NDArray[np.float64]]
    ) -> bytes:
        """One JPEG frame at time ``t`` from pose (x, y, heading; 0 = east, CCW); vessels are 4x2 footprints."""
        frame = self._canvas
        for plane in frame.planes:
            plane.reset()
        origin = np.array([x, y], float)
        cos, sin = math.cos(heading_rad), math.sin(heading_rad)
        to_camera = np.array([[sin, cos], [-cos, sin]])  # (points - origin) @ to_camera: columns (right, ahead)

        def camera(points: FloatArray) -> FloatArray:
            return (points - origin) @ to_camera

        self._draw_banks(frame, camera(self._bank_points))
        parts: list[tuple[float, Callable[[], None]]] = []  # (distance, painter): painted far to near
        near, distance = _in_view(self._anchors, origin)  # piers, moored vessels, mouths, in that order
        for i, d in zip(near.tolist(), distance.tolist()):
            if i < self._first_polygon:
                centre, radius = self._circles[i, :2], self._circles[i, 2]
                parts.append((d, partial(self._draw_pier, frame, *camera(centre), radius)))
            elif i < self._first_mouth:
                parts.append((d, partial(self._draw_hull, frame, camera(self._polygons[i - self._first_polygon]))))
            else:
                k = i - self._first_mouth
                paint = partial(self._draw_outfall, frame, camera(self._plumes[k]), *camera(self._mouths[k]))
                parts.append((d, paint))
        if len(vessels):
            moving = [np.asarray(v, float).reshape(-1, 2) for v in vessels]
            near, distance = _in_view(np.array([v.sum(axis=0) / len(v) for v in moving]), origin)  # centres
            for i, d in zip(near.tolist(), distance.tolist()):
                parts.append((d, partial(self._draw_hull, frame, camera(moving[i]))))
        for _, paint in sorted(parts, key=itemgetter(0), reverse=True):
            paint()
        frame.label(self._label(f"t={t:.1f} s"))
        luma, cb, cr = (plane.read() for plane in frame.planes)
        return simplejpeg.encode_jpeg_yuv_planes(luma, cb, cr, self.quality)

    # ---- scene parts ------------------------------------------------------------------------
    def _project(self, cam_x: FloatArray, cam_z: FloatArray, height_m: float) -> FloatArray:
        """Pixel (u, v) rows of camera-frame points at ``height_m`` above the water."""
        u = self.cx + self.focal * cam_x / cam_z
        v = self.horizon + self.focal * (_EYE_M - height_m) / cam_z
        return np.column_stack([u, v])

    def _draw_banks(self, frame: _Canvas, cam: FloatArray) -> None:
        """Embankment and tree line over each run of consecutive bank samples ahead and in range."""
        cam_x, cam_z = cam[:, 0], cam[:, 1]
        index = np.flatnonzero((cam_z > _NEAR_M) & (cam_x * cam_x + cam_z * cam_z < _VIEW_M**2))
        if index.size < 2:
            return
        cam_x, cam_z = cam_x[index], cam_z[index]
        scale = self.focal / cam_z
        # (u, v) of every visible sample at the waterline, the embankment top and the tree tops
        pixels = np.empty((index.size, 3, 2))
        pixels[:, :, 0] = (self.cx + cam_x * scale)[:, None]
        pixels[:, :, 1] = self.horizon + scale[:, None] * _BANK_RISE
        halved = pixels * 0.5
        ends = np.flatnonzero(np.diff(index) > 1) + 1
        for start, stop in zip([0, *ends.tolist()], [*ends.tolist(), index.size]):
            if stop - start < 2:
                continue
            # along the lower level, back along the upper: the tree line, then the embankment face
            for low, high, fill in ((1, 2, _TREES_FILL), (0, 1, _EMBANKMENT_FILL)):
                outline = np.concatenate([pixels[start:stop, low], pixels[start:stop, high][::-1]])
                half = np.concatenate([halved[start:stop, low], halved[start:stop, high][::-1]])
                frame.fill(outline.ravel().tolist(), half.ravel().tolist(), fill)

    def _draw_pier(self, frame: _Canvas, cam_x: float, cam_z: float, radius: float) -> None:
        if cam_z - radius < _NEAR_M:
            return
        scale = self.focal / cam_z
        frame.rectangle(
            self.cx + scale * (cam_x - radius),
            self.horizon + scale * (_EYE_M - _PIER_M),
            self.cx + scale * (cam_x + radius),
            self.horizon + scale * _EYE_M,
            _PIER_FILL,
        )

    def _draw_hull(self, frame: _Canvas, cam: FloatArray) -> None:
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
            quad = np.array([low[k], low[j], high[j], high[k]])
            frame.polygon(quad, _HULL_LIT_FILL if faces_camera[k] else _HULL_SHADE_FILL)

    def _draw_outfall(self, frame: _Canvas, plume: FloatArray, cam_x: float, cam_z: float) -> None:
        patch = _clip_near(plume)
        if len(patch) >= 3:
            frame.polygon(self._project(patch[:, 0], patch[:, 1], 0.0), _PLUME_FILL)
        if cam_z < _NEAR_M + _RING_R_M:
            return
        u, v = self._project(np.array([cam_x]), np.array([cam_z]), _PIPE_Y_M)[0]
        for radius, fill in ((_RING_R_M, _RING_FILL), (_PIPE_R_M, _PIPE_FILL)):
            frame.disc(u, v, self.focal * radius / cam_z, fill)

    def _label(self, text: str) -> Image.Image:
        """Coverage mask (0-255) of ``text``: the glyphs side by side, from the even row and column at or
        before the label's corner and an even number of columns wide, so that it halves onto the chroma
        grid."""
        glyphs = [self._glyphs[char] for char in text]
        if _LABEL_XY[0] % 2:
            glyphs.insert(0, self._glyphs[""])
        if sum(glyph.shape[1] for glyph in glyphs) % 2:
            glyphs.append(self._glyphs[""])
        mask = np.concatenate(glyphs, axis=1)
        return Image.frombuffer("L", (mask.shape[1], mask.shape[0]), mask, "raw", "L", 0, 1)

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

    def _paint_background(self) -> NDArray[np.uint8]:
        """RGB sky and water with the label's box."""
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
        rgb = Image.fromarray(np.ascontiguousarray(image.round().astype(np.uint8)))
        ImageDraw.Draw(rgb).rectangle(_LABEL_BOX, fill=_LABEL_BOX_FILL)
        return np.asarray(rgb)


def _planes(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
    """Y, Cb and Cr planes of an RGB image as the encoder would make them: chroma averaged over 2x2 blocks."""
    height, width = rgb.shape[:2]
    ycc = _ycbcr(rgb)
    chroma = np.pad(ycc[:, :, 1:], ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    chroma = chroma.reshape(chroma.shape[0] // 2, 2, chroma.shape[1] // 2, 2, 2).mean(axis=(1, 3))
    return _to_bytes(ycc[:, :, 0]), _to_bytes(chroma[:, :, 0]), _to_bytes(chroma[:, :, 1])


def _in_view(points: FloatArray, origin: FloatArray) -> tuple[NDArray[np.intp], FloatArray]:
    """Indices of the points within drawing distance, whichever way the camera looks, and their distances."""
    rel = points - origin
    squared = np.einsum("ij,ij->i", rel, rel)
    near = np.flatnonzero(squared <= _VIEW_M**2)
    return near, np.sqrt(squared[near])


def _glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str, pad: int) -> NDArray[np.uint8]:
    """A character's coverage (0-255) in a box as wide as its advance, below ``pad`` empty rows and
    padded to an even height: the label is these side by side, much faster than drawing the text."""
    advance = round(font.getlength(char))
    height = pad + int(font.getbbox("0123456789tfy")[3]) + 1
    mask = Image.new("L", (max(advance, 1), height + height % 2))
    ImageDraw.Draw(mask).text((0, pad), char, font=font, fill=255)
    return np.array(mask)


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
