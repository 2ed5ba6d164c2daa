"""Shared fixtures: the shared/ folder beside the repo, its public scenarios and scoring tool,
a builder of synthetic scenarios in local metres, and an independent evaluation of the true field.

Tests that need shared/ skip cleanly when it is absent.
"""

from __future__ import annotations

import bisect
import importlib.util
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pyproj import Transformer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PUBLIC_SCENARIOS = ("busy-reach", "dongmen-demo", "straight-easy")
ORIGIN = (121.38, 28.37)  # first vertex of every synthetic river: [lon, lat]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "scenarios").is_dir():
        pytest.skip(f"shared folder not found at {SHARED}")
    return SHARED


@pytest.fixture(params=PUBLIC_SCENARIOS)
def public_scenario(request: pytest.FixtureRequest, shared_dir: Path) -> Path:
    """Path of each public scenario in turn."""
    path = shared_dir / "scenarios" / f"{request.param}.json"
    if not path.is_file():
        pytest.skip(f"public scenario {path} not found")
    return path


@pytest.fixture(scope="session")
def score_tool(shared_dir: Path) -> ModuleType:
    """shared/tools/score.py, imported by path: the scorer's own (s, n) projection lives there."""
    path = shared_dir / "tools" / "score.py"
    if not path.is_file():
        pytest.skip(f"scoring tool {path} not found")
    spec = importlib.util.spec_from_file_location("shared_score_tool", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _to_lonlat(points_m: Sequence[Sequence[float]]) -> list[list[float]]:
    crs = f"+proj=aeqd +lat_0={ORIGIN[1]} +lon_0={ORIGIN[0]} +datum=WGS84 +units=m"
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = inv.transform([p[0] for p in points_m], [p[1] for p in points_m])
    return [[float(a), float(b)] for a, b in zip(lon, lat)]


@pytest.fixture
def make_scenario() -> Callable[..., dict[str, Any]]:
    """Builder of a minimal valid scenario dict whose centerline and home are given in metres
    (x east, y north) of the local frame on ORIGIN; ``centerline_m[0]`` must be (0, 0)."""

    def build(
        centerline_m: Sequence[Sequence[float]] = ((0.0, 0.0), (1000.0, 0.0)),
        *,
        width: float | list[float] = 20.0,
        depth: float | list[float] = 2.0,
        velocity: float = 0.25,
        dispersion: float = 0.05,
        home_m: Sequence[float] = (5.0, 0.0),
        outfalls: Sequence[dict[str, Any]] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        assert tuple(centerline_m[0]) == (0.0, 0.0), "the first vertex is the frame origin"
        line = _to_lonlat(centerline_m)
        line[0] = list(ORIGIN)
        data: dict[str, Any] = {
            "schema": "riverpatrol.scenario/1",
            "river": {"centerline": line, "width_m": width, "depth_m": depth,
                      "velocity_mps": velocity, "transverse_dispersion_m2ps": dispersion},
            "outfalls": [dict(o) for o in outfalls],
            "boat": {"home": _to_lonlat([home_m])[0]},
            "mission": {"pattern": "centerline"},
        }
        data.update(extra)
        return data

    return build


class SpecField:
    """Spec section 3, evaluated one point at a time with ``math`` from the scenario dict alone.

    Written from the spec text, independently of riverpatrol.twin.field and riverpatrol.geo; the
    geometry (local frame, chainage, (s, n) of a lon/lat) is the scoring tool's.
    """

    def __init__(self, scenario: dict[str, Any], score_tool: ModuleType, default_background: dict[str, float]) -> None:
        river = scenario["river"]
        self.score = score_tool
        self.fwd, self.pts = score_tool.river_frame(scenario)
        pts = self.pts
        self.xy = [(float(x), float(y)) for x, y in pts]
        self.vertex_s = [0.0]
        for (x0, y0), (x1, y1) in zip(self.xy, self.xy[1:]):
            self.vertex_s.append(self.vertex_s[-1] + math.hypot(x1 - x0, y1 - y0))
        self.length = self.vertex_s[-1]
        count = len(self.xy)
        per_vertex = lambda v: [float(v)] * count if isinstance(v, (int, float)) else [float(a) for a in v]  # noqa: E731
        self.widths = per_vertex(river["width_m"])
        self.depths = per_vertex(river["depth_m"])
        self.u = float(river["velocity_mps"])
        self.ey = float(river["transverse_dispersion_m2ps"])
        self.background = {**default_background, **scenario.get("background", {})}
        self.outfalls = scenario.get("outfalls", [])

    def _interp(self, values: list[float], s: float) -> float:
        if s <= 0.0:
            return values[0]
        if s >= self.length:
            return values[-1]
        k = bisect.bisect_right(self.vertex_s, s) - 1
        f = (s - self.vertex_s[k]) / (self.vertex_s[k + 1] - self.vertex_s[k])
        return values[k] + f * (values[k + 1] - values[k])

    def width(self, s: float) -> float:
        return self._interp(self.widths, s)

    def depth(self, s: float) -> float:
        return self._interp(self.depths, s)

    def xy_at(self, s: float, n: float) -> tuple[float, float]:
        """Local point at chainage s (extrapolated past the ends) and offset n, left of the segment."""
        k = min(max(bisect.bisect_right(self.vertex_s, s) - 1, 0), len(self.xy) - 2)
        (x0, y0), (x1, y1) = self.xy[k], self.xy[k + 1]
        seg = self.vertex_s[k + 1] - self.vertex_s[k]
        ux, uy = (x1 - x0) / seg, (y1 - y0) / seg
        along = s - self.vertex_s[k]
        return x0 + ux * along - uy * n, y0 + uy * along + ux * n

    def lonlat_at(self, s: float, n: float) -> tuple[float, float]:
        lon, lat = self.fwd.transform(*self.xy_at(s, n), direction="INVERSE")
        return float(lon), float(lat)

    def river_coords(self, lon: float, lat: float) -> tuple[float, float]:
        s, n = self.score.to_river(self.fwd, self.pts, lon, lat)
        return float(s), float(n)

    def value(self, param: str, s: float, n: float, t: float) -> float:
        return self.background[param] + self.excess(param, s, n, t)

    def excess(self, param: str, s: float, n: float, t: float) -> float:
        total = 0.0
        w = self.width(s)
        h = self.depth(s)
        y = n + w / 2.0
        for out in self.outfalls:
            x = s - out["chainage_m"]
            if x <= 0.0:
                continue
            if x < 1.0:
                x = 1.0
            tau = x / self.u
            t_emit = t - tau
            if not any(a <= t_emit <= b for a, b in out.get("active", [[0.0, 1e9]])):
                continue
            y_i = w if out["bank"] == "left" else 0.0
            images = 0.0
            for k in range(-3, 4):
                images += math.exp(-((y - y_i - 2 * k * w) ** 2) / (4 * self.ey * tau))
                images += math.exp(-((y + y_i - 2 * k * w) ** 2) / (4 * self.ey * tau))
            total += (out["flow_m3ps"] * out.get("excess", {}).get(param, 0.0)
                      / (h * self.u * math.sqrt(4 * math.pi * self.ey * tau)) * images)
        return total


@pytest.fixture
def spec_field(score_tool: ModuleType) -> Callable[[dict[str, Any]], SpecField]:
    """Factory: SpecField(scenario dict), the independent evaluation of the true field."""
    from riverpatrol.scenario import DEFAULT_BACKGROUND

    return lambda scenario: SpecField(scenario, score_tool, DEFAULT_BACKGROUND)


@dataclass
class ServedTwin:
    """A ``twin serve`` running in a thread on an ephemeral UDP port (it sends to ``port``)."""

    port: int
    stop: threading.Event
    thread: threading.Thread
    results: list[Any]  # the ServeResult once stopped

    def finish(self) -> Any:
        self.stop.set()
        self.thread.join(timeout=30)
        return self.results[0]


@pytest.fixture
def serve_twin(make_scenario: Callable[..., dict[str, Any]]) -> Iterator[Callable[..., ServedTwin]]:
    """Start the twin's MAVLink endpoint: ``serve_twin(speedup=..., signing_key=..., out_dir=...)``."""
    from riverpatrol.scenario import parse_scenario
    from riverpatrol.simulate_mavlink import free_udp_port
    from riverpatrol.twin.serve import serve

    running: list[ServedTwin] = []

    def start(*, speedup: float = 10.0, port: int | None = None, scenario: dict[str, Any] | None = None,
              **options: Any) -> ServedTwin:
        sc = parse_scenario(scenario or make_scenario())
        port = port or free_udp_port()
        stop = threading.Event()
        results: list[Any] = []
        thread = threading.Thread(target=lambda: results.append(
            serve(sc, f"udpout:127.0.0.1:{port}", speedup=speedup, stop=stop, **options)), daemon=True)
        thread.start()
        served = ServedTwin(port, stop, thread, results)
        running.append(served)
        return served

    yield start
    for served in running:
        served.stop.set()
        served.thread.join(timeout=30)


@pytest.fixture(scope="session")
def short_scenario() -> dict[str, Any]:
    """A 400 m straight reach with one outfall on the left bank: a patrol of a minute or two."""
    def east(metres: float) -> list[float]:
        return [121.38 + metres / (111_320.0 * math.cos(math.radians(28.37))), 28.37]

    return {
        "schema": "riverpatrol.scenario/1",
        "name": "short-reach",
        "river": {"centerline": [east(0.0), east(400.0)], "width_m": 20.0, "depth_m": 2.0, "velocity_mps": 0.25,
                  "transverse_dispersion_m2ps": 0.05},
        "outfalls": [{"id": "p1", "chainage_m": 150.0, "bank": "left", "flow_m3ps": 0.02,
                      "excess": {"conductivity": 800.0, "nh3n": 8.0, "cod": 60.0}}],
        "boat": {"home": east(10.0)},
        "mission": {"pattern": "outfall-survey"},
    }


@pytest.fixture(scope="session")
def patrol_log(tmp_path_factory: pytest.TempPathFactory, short_scenario: dict[str, Any]) -> Path:
    """The short reach patrolled in the twin (keyframes every 2 s): a patrol log to read back."""
    from riverpatrol.scenario import parse_scenario
    from riverpatrol.simulate import simulate

    out = tmp_path_factory.mktemp("patrol")
    return simulate(parse_scenario(short_scenario), out, keyframe_s=2.0).log_path
