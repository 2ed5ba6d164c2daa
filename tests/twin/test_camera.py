"""Forward camera: valid deterministic JPEGs, and piers, vessels, visible outfalls and the timestamp
appear where the pinhole model puts them (f = 320 px, eye 1 m, horizon at row 240)."""

from __future__ import annotations

import copy as copy_module
import io
import pickle
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.twin import camera as camera_module
from riverpatrol.twin.camera import ForwardCamera

CAMERA_S = 100.0


@pytest.fixture(scope="module")
def river() -> RiverFrame:
    """28 m wide, 2 m deep, about 590 m long, flowing east."""
    return RiverFrame([[121.379, 28.3712], [121.385, 28.3712]], 28.0, 2.0)


def at(river: RiverFrame, s: float, n: float) -> tuple[float, float]:
    x, y = river.from_river([s], [n])
    return float(x[0]), float(y[0])


def footprint(river: RiverFrame, s: float, n: float, length: float = 10.0, beam: float = 3.0) -> NDArray[np.float64]:
    """4x2 corners of a vessel lying along the river, centred on (s, n)."""
    corners = ((1, 1), (1, -1), (-1, -1), (-1, 1))
    return np.array([at(river, s + a * length / 2, n + b * beam / 2) for a, b in corners])


def view(river: RiverFrame, **scene: Any) -> NDArray[np.int16]:
    """Decoded frame of ``render``."""
    return decode(render(river, **scene))


def render(
    river: RiverFrame,
    *,
    t: float = 12.3,
    circles: Sequence[tuple[float, float, float]] = (),
    polygons: Sequence[NDArray[np.float64]] = (),
    outfalls: Sequence[tuple[float, float]] = (),
    vessels: Sequence[NDArray[np.float64]] = (),
) -> bytes:
    """JPEG frame from mid-river at CAMERA_S looking downstream."""
    camera = ForwardCamera(river, circles=circles, polygons=polygons, visible_outfalls=outfalls)
    down = river.downstream_unit([CAMERA_S])[0]
    return camera.render(t, *at(river, CAMERA_S, 0.0), float(np.arctan2(down[1], down[0])), vessels)


def decode(jpeg: bytes) -> NDArray[np.int16]:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(np.int16)


def changed(a: NDArray[np.int16], b: NDArray[np.int16]) -> NDArray[np.int16]:
    return np.abs(a - b).max(axis=2)


def test_frame_is_a_640x480_jpeg(river: RiverFrame) -> None:
    jpeg = render(river)
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    assert image.size == (640, 480)
    assert image.mode == "RGB"


def test_rendering_is_deterministic(river: RiverFrame) -> None:
    pier = [(*at(river, CAMERA_S + 30, 0.0), 1.2)]
    assert render(river, circles=pier) == render(river, circles=pier)


def test_scene_is_sky_over_water_between_banks(river: RiverFrame) -> None:
    frame = view(river)
    sky, water = frame[60:200, 300:340].mean(axis=(0, 1)), frame[300:460, 300:340].mean(axis=(0, 1))
    assert sky[2] > sky[0] + 40 and sky[2] > 180, "blue sky above the horizon"
    assert water.mean() < sky.mean() - 40, "darker water below it"
    left_bank, right_bank = frame[200:236, 0:40].mean(axis=(0, 1)), frame[200:236, 600:640].mean(axis=(0, 1))
    for bank in (left_bank, right_bank):  # the banks 14 m to each side fill the image edges at eye level
        assert bank[2] < sky[2] - 60


def test_pier_ahead_is_a_pillar_where_projected(river: RiverFrame) -> None:
    """A 1.2 m pier 30 m dead ahead: columns 307-333, from row 208 (4 m up) to 251 (waterline)."""
    plain = view(river)
    with_pier = view(river, circles=[(*at(river, CAMERA_S + 30, 0.0), 1.2)])
    diff = changed(plain, with_pier)
    assert diff[214:246, 312:329].min() > 25
    pillar = with_pier[214:246, 312:329].mean(axis=(0, 1))
    assert np.ptp(pillar) < 25 and 90 < pillar.mean() < 150, "a grey pillar"
    assert diff[:, :288].max() <= 2 and diff[:, 352:].max() <= 2 and diff[:192].max() <= 2 and diff[272:].max() <= 2


def test_obstacles_behind_the_camera_are_not_drawn(river: RiverFrame) -> None:
    behind = [(*at(river, CAMERA_S - 30, 0.0), 1.2)]
    moored = [footprint(river, CAMERA_S - 40, 5.0)]
    assert render(river, circles=behind, polygons=moored) == render(river)


def test_vessels_are_hull_boxes(river: RiverFrame) -> None:
    """A vessel 25 m ahead, 5 m to the right: reddish hull on the waterline right of centre."""
    plain = view(river)
    ahead = view(river, vessels=[footprint(river, CAMERA_S + 25, -5.0)])
    rows, cols = np.nonzero(changed(plain, ahead) > 25)
    assert rows.size > 200
    assert cols.min() > 320 and rows.min() > 225 and rows.max() < 265
    hull = ahead[rows, cols].mean(axis=0)
    assert hull[0] > hull[2] + 50, "reddish hull"
    hull_ring = footprint(river, CAMERA_S + 25, -5.0)
    moored = view(river, polygons=[np.vstack([hull_ring, hull_ring[:1]])])  # closed ring, as in a scenario
    assert changed(moored, ahead).max() <= 2, "a moored polygon draws like a vessel footprint"


def test_vessel_alongside_is_clipped_not_lost(river: RiverFrame) -> None:
    """A vessel from 5 m behind to 5 m ahead, to the right: its near part fills the right edge."""
    plain = view(river)
    alongside = view(river, vessels=[footprint(river, CAMERA_S, -4.0)])
    assert changed(plain, alongside)[240:300, 600:].mean() > 25


def test_visible_outfall_shows_pipe_and_discoloured_water(river: RiverFrame) -> None:
    """Mouth on the left bank 15 m ahead: pipe at column 21, row 251; plume downstream of it."""
    plain = view(river)
    outfall = view(river, outfalls=[at(river, CAMERA_S + 15, 14.0)])
    pipe = outfall[247:256, 17:26].mean(axis=2)
    assert pipe.min() < 50 and plain[247:256, 17:26].mean(axis=2).min() > 90, "dark pipe mouth on the bank"
    plume, water = outfall[256:259, 80:115].mean(axis=(0, 1)), plain[256:259, 80:115].mean(axis=(0, 1))
    assert plume[0] > plume[2] + 30 and water[2] > water[0], "brown water where it was blue-grey"
    assert changed(plain, outfall)[:, 192:].max() <= 2, "nothing changes away from the left bank"


def test_timestamp_overlay_in_top_left_corner(river: RiverFrame) -> None:
    early, late = view(river, t=1.0), view(river, t=2345.6)
    diff = changed(early, late)
    corner = diff[:32, :112]
    assert corner.max() > 100
    diff[:32, :112] = 0
    assert diff.max() == 0, "only the label changes with time"
    assert late[:32, :112].max() > 200 and late[:26, :100].mean() < 80, "white text on a dark box"


def test_flat_areas_keep_the_palette_colours(river: RiverFrame) -> None:
    """Frames are painted straight into JPEG's YCbCr planes: flat areas decode to the scene's RGB colours."""
    pier, vessel = (*at(river, CAMERA_S + 30, 0.0), 1.2), footprint(river, CAMERA_S + 25, -5.0)
    scene = view(river, circles=[pier], vessels=[vessel])
    sky_top, sky_horizon = np.array(camera_module._SKY_TOP), np.array(camera_module._SKY_HORIZON)
    water_horizon, water_near = np.array(camera_module._WATER_HORIZON), np.array(camera_module._WATER_NEAR)
    rows = np.arange(8)[:, None]  # the background's gradients (horizon at row 240, 239 rows to either edge)
    sky = sky_top + (96 + rows) / 239 * (sky_horizon - sky_top)
    water = water_horizon + np.sqrt((396 + rows - 240) / 239) * (water_near - water_horizon)
    areas = {  # (rows, columns) well inside each flat area, and its colour
        "sky": (slice(96, 104), slice(296, 344), sky[:, None, :]),
        "water": (slice(396, 404), slice(296, 344), water[:, None, :]),
        "tree line": (slice(150, 200), slice(8, 32), camera_module._TREES),
        "embankment": (slice(228, 250), slice(8, 32), camera_module._EMBANKMENT),
        "pier": (slice(216, 244), slice(314, 326), camera_module._PIER),
        "hull side facing the camera": (slice(241, 252), slice(386, 414), camera_module._HULL_LIT),
    }
    for name, (rows, cols, colour) in areas.items():
        error = (scene[rows, cols] - np.asarray(colour)).mean(axis=(0, 1))
        assert np.abs(error).max() <= 4, f"{name}: off by {error}"


def test_frames_do_not_carry_over(river: RiverFrame) -> None:
    """The camera paints every frame on the same planes: nothing of one frame is left in the next."""
    pier = [(*at(river, CAMERA_S + 30, 0.0), 1.2)]
    camera = ForwardCamera(river, circles=pier, polygons=[], visible_outfalls=[at(river, CAMERA_S + 15, 14.0)])
    down = river.downstream_unit([CAMERA_S])[0]
    heading = float(np.arctan2(down[1], down[0]))
    ahead = (*at(river, CAMERA_S, 0.0), heading)
    first = camera.render(2345.6, *ahead, [footprint(river, CAMERA_S + 25, -5.0)])
    away = camera.render(1.0, *at(river, CAMERA_S, 0.0), heading + np.pi, [])
    fresh = ForwardCamera(river, circles=pier, polygons=[], visible_outfalls=[at(river, CAMERA_S + 15, 14.0)])
    assert first != away
    assert away == fresh.render(1.0, *at(river, CAMERA_S, 0.0), heading + np.pi, [])
    assert camera.render(2345.6, *ahead, [footprint(river, CAMERA_S + 25, -5.0)]) == first


def test_same_frames_if_pillow_does_not_draw_into_the_arrays(
    river: RiverFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planes are numpy arrays that Pillow draws into; a Pillow that copied them instead is detected and
    the camera reads its images out per frame, to the same bytes."""
    scene: dict[str, Any] = {
        "circles": [(*at(river, CAMERA_S + 30, 0.0), 1.2)],
        "outfalls": [at(river, CAMERA_S + 15, 14.0)],
        "vessels": [footprint(river, CAMERA_S + 25, -5.0)],
    }
    shared = ForwardCamera(river, circles=scene["circles"], polygons=[], visible_outfalls=scene["outfalls"])
    assert all(plane.shared for plane in shared._canvas.planes), "the installed Pillow draws in place"
    frombuffer = Image.frombuffer
    monkeypatch.setattr(Image, "frombuffer", lambda *args: frombuffer(*args).copy())
    copied = ForwardCamera(river, circles=scene["circles"], polygons=[], visible_outfalls=scene["outfalls"])
    assert not any(plane.shared for plane in copied._canvas.planes)
    down = river.downstream_unit([CAMERA_S])[0]
    pose = (*at(river, CAMERA_S, 0.0), float(np.arctan2(down[1], down[0])))
    for t in (1.0, 2345.6):
        assert copied.render(t, *pose, scene["vessels"]) == shared.render(t, *pose, scene["vessels"])


@pytest.mark.parametrize(("width", "height"), [(321, 241), (160, 120)])
def test_other_frame_sizes(river: RiverFrame, width: int, height: int) -> None:
    camera = ForwardCamera(river, circles=[], polygons=[], visible_outfalls=[], width=width, height=height)
    down = river.downstream_unit([CAMERA_S])[0]
    jpeg = camera.render(12.3, *at(river, CAMERA_S, 0.0), float(np.arctan2(down[1], down[0])), [])
    image = Image.open(io.BytesIO(jpeg))
    assert image.size == (width, height)
    frame = decode(jpeg)
    sky, water = frame[height // 4, width // 2], frame[height - 5, width // 2]
    assert sky[2] > sky[0] + 40 and water.mean() < sky.mean() - 40


def test_a_copied_camera_renders_the_same(river: RiverFrame) -> None:
    """Copies (deepcopy, pickle) paint on planes of their own, not on the original's."""
    camera = ForwardCamera(river, circles=[(*at(river, CAMERA_S + 30, 0.0), 1.2)], polygons=[], visible_outfalls=[])
    down = river.downstream_unit([CAMERA_S])[0]
    pose = (*at(river, CAMERA_S, 0.0), float(np.arctan2(down[1], down[0])))
    vessels = [footprint(river, CAMERA_S + 25, -5.0)]
    frame = camera.render(12.3, *pose, vessels)
    for copy in (copy_module.deepcopy(camera), pickle.loads(pickle.dumps(camera))):
        assert copy.render(12.3, *pose, vessels) == frame
        assert copy._canvas.planes[0].pixels is not camera._canvas.planes[0].pixels
