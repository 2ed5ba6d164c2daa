"""Scenario files (spec section 2): pydantic models, documented defaults, and validation.

Every problem is reported with its key path (``river.width_m[3]: must be > 0``), all at once, before
anything runs. Defaults for optional keys are listed in docs/scenarios.md.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riverpatrol.geo.frame import RiverFrame

SCHEMA = "riverpatrol.scenario/1"
PARAMETERS: tuple[str, ...] = (
    "temperature", "ph", "do", "conductivity", "turbidity", "nh3n", "codmn", "cod", "tp",
)
UNITS: dict[str, str] = {
    "temperature": "°C", "ph": "pH", "do": "mg/L", "conductivity": "µS/cm", "turbidity": "NTU",
    "nh3n": "mg/L", "codmn": "mg/L", "cod": "mg/L", "tp": "mg/L",
}
DEFAULT_BACKGROUND: dict[str, float] = {
    "temperature": 20.0, "ph": 7.5, "do": 7.0, "conductivity": 400.0, "turbidity": 10.0,
    "nh3n": 0.5, "codmn": 4.0, "cod": 15.0, "tp": 0.1,
}
DEFAULT_SONDE: dict[str, tuple[float, float]] = {  # (sigma, tau_s) of a typical multi-parameter sonde
    "temperature": (0.02, 5.0), "ph": (0.01, 10.0), "do": (0.05, 20.0), "conductivity": (2.0, 2.0),
    "turbidity": (0.8, 2.0), "nh3n": (0.03, 15.0), "codmn": (0.2, 10.0), "cod": (1.0, 10.0),
    "tp": (0.01, 30.0),
}

LonLat = Annotated[list[float], Field(min_length=2, max_length=2)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # json reads NaN/Infinity


class River(_Strict):
    centerline: Annotated[list[LonLat], Field(min_length=2)]
    width_m: Positive | list[Positive]
    depth_m: Positive | list[Positive]
    velocity_mps: Positive
    transverse_dispersion_m2ps: Positive


class Outfall(_Strict):
    id: str
    chainage_m: NonNegative
    bank: Literal["left", "right"]
    submerged: bool = True
    flow_m3ps: Positive
    excess: dict[str, float] = Field(default_factory=dict)
    active: list[Annotated[list[float], Field(min_length=2, max_length=2)]] = Field(
        default_factory=lambda: [[0.0, 1e9]]
    )


class Circle(_Strict):
    id: str
    type: Literal["circle"]
    center: LonLat
    radius_m: Positive


class PolygonObstacle(_Strict):
    id: str
    type: Literal["polygon"]
    ring: Annotated[list[LonLat], Field(min_length=4)]


class MovingVessel(_Strict):
    id: str
    path: Annotated[list[LonLat], Field(min_length=2)]
    speed_mps: Positive
    length_m: Positive = 10.0
    beam_m: Positive = 3.0
    start_s: NonNegative = 0.0
    loop: bool = True


class Obstacles(_Strict):
    static: list[Annotated[Circle | PolygonObstacle, Field(discriminator="type")]] = Field(default_factory=list)
    moving: list[MovingVessel] = Field(default_factory=list)


class Boat(_Strict):
    home: LonLat
    cruise_speed_mps: Positive = 1.5
    max_speed_mps: Positive = 2.5
    radius_m: Positive = 1.0
    endurance_s: Positive = 10800.0


class SondeChannel(_Strict):
    sigma: NonNegative
    tau_s: NonNegative


class Sonde(_Strict):
    rate_hz: Annotated[float, Field(gt=0, le=10)] = 1.0
    params: dict[str, SondeChannel] = Field(
        default_factory=lambda: {p: SondeChannel(sigma=s, tau_s=t) for p, (s, t) in DEFAULT_SONDE.items()}
    )


class ObstacleRanging(_Strict):
    max_range_m: Annotated[float, Field(gt=0, le=600)] = 30.0
    sector_deg: Annotated[float, Field(ge=5, le=90)] = 5.0
    rate_hz: Annotated[float, Field(gt=0, le=10)] = 10.0


class Sensors(_Strict):
    gnss_sigma_m: NonNegative = 0.8
    sonde: Sonde = Field(default_factory=Sonde)
    obstacle_ranging: ObstacleRanging = Field(default_factory=ObstacleRanging)


class Mission(_Strict):
    pattern: Literal["outfall-survey", "centerline"]
    from_chainage_m: NonNegative = 0.0
    to_chainage_m: NonNegative | None = None
    bank_offset_m: Positive = 3.0


class Scenario(_Strict):
    schema_: Literal["riverpatrol.scenario/1"] = Field(alias="schema")
    name: str = "unnamed"
    seed: int = 0
    river: River
    background: dict[str, float] = Field(default_factory=dict)
    outfalls: list[Outfall] = Field(default_factory=list)
    obstacles: Obstacles = Field(default_factory=Obstacles)
    boat: Boat
    sensors: Sensors = Field(default_factory=Sensors)
    mission: Mission

    @property
    def background_full(self) -> dict[str, float]:
        """Background of every canonical parameter, scenario values over the documented defaults."""
        return {**DEFAULT_BACKGROUND, **self.background}

    def river_frame(self) -> RiverFrame:
        """The reach's frame, built once: validation, the twin and the route planner share it."""
        return self._frame

    @cached_property
    def _frame(self) -> RiverFrame:
        return RiverFrame(self.river.centerline, self.river.width_m, self.river.depth_m)


class ScenarioError(ValueError):
    """A scenario that cannot run; ``problems`` holds one ``key.path: message`` line per fault."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid scenario\n" + "\n".join(f"  {p}" for p in problems))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raises ScenarioError naming every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), [f"cannot read file: {exc.strerror or exc}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(str(path), [f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"]) from None
    return parse_scenario(data, source=str(path))


def parse_scenario(data: object, source: str = "<scenario>") -> Scenario:
    """Validate already-decoded JSON; raises ScenarioError naming every problem."""
    if not isinstance(data, dict):
        raise ScenarioError(source, ["(top level): must be a JSON object"])
    if data.get("schema") != SCHEMA:
        raise ScenarioError(source, [f"schema: must be {SCHEMA!r}, got {data.get('schema')!r}"])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, [_describe(err) for err in _drop_wrong_branches(exc.errors())]) from None
    problems = _semantic_problems(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario


def _is_branch_tag(item: object) -> bool:
    """pydantic's union-branch tags in an error's loc: not keys of the file."""
    return isinstance(item, str) and (
        item in ("circle", "polygon", "float", "list[...]", "list[constrained-float]", "constrained-float")
        or item.startswith(("list[", "function-"))
    )


_WRONG_TYPE = {"float_type": "a number", "list_type": "a list", "int_type": "an integer",
               "string_type": "a string", "bool_type": "true or false", "dict_type": "an object"}


def _drop_wrong_branches(errors: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    """A failed ``number | list`` union yields one error per branch; keep only the branch the input
    was meant for (``width_m: [1, -1]`` must not also say "should be a valid number"). When every
    branch failed on the type alone, merge them into one "must be a number or a list"."""
    def key(err: dict) -> tuple[object, ...]:  # type: ignore[type-arg]
        return tuple(item for item in err["loc"] if not _is_branch_tag(item))

    def wrong_branch(err: dict) -> bool:  # type: ignore[type-arg]
        return err["type"] in _WRONG_TYPE and bool(err["loc"]) and _is_branch_tag(err["loc"][-1])

    kept: list[dict] = []  # type: ignore[type-arg]
    merged: dict[tuple[object, ...], dict] = {}  # type: ignore[type-arg]
    for err in errors:
        if not wrong_branch(err):
            kept.append(err)
        elif not any(key(other)[: len(key(err))] == key(err) and not wrong_branch(other) for other in errors):
            if key(err) not in merged:
                merged[key(err)] = {"loc": key(err), "type": "wrong_type", "msg": "must be"}
                kept.append(merged[key(err)])
            else:
                merged[key(err)]["msg"] += " or"
            merged[key(err)]["msg"] += " " + _WRONG_TYPE[err["type"]]
    return kept


def _describe(err: dict) -> str:  # type: ignore[type-arg]
    parts: list[str] = []
    for item in err["loc"]:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif _is_branch_tag(item):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    path = "".join(parts) or "(top level)"
    kind, ctx = err["type"], err.get("ctx") or {}
    messages = {
        "extra_forbidden": "unknown key",
        "missing": "required key is missing",
        "greater_than": f"must be > {ctx.get('gt')}",
        "greater_than_equal": f"must be >= {ctx.get('ge')}",
        "less_than_equal": f"must be <= {ctx.get('le')}",
        "too_short": f"needs at least {ctx.get('min_length')} items",
        "too_long": f"takes at most {ctx.get('max_length')} items",
    }
    return f"{path}: {messages.get(kind, err['msg'])}"


def _semantic_problems(sc: Scenario) -> list[str]:
    """Checks that span keys: lengths per vertex, positions on the river, names of parameters."""
    problems: list[str] = []
    river = sc.river
    vertices = len(river.centerline)
    for key in ("width_m", "depth_m"):
        value = getattr(river, key)
        if isinstance(value, list) and len(value) != vertices:
            problems.append(f"river.{key}: has {len(value)} values for {vertices} centerline vertices")
    for i, (lon, lat) in enumerate(river.centerline):
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            problems.append(f"river.centerline[{i}]: not a WGS84 [lon, lat]")
    if problems:
        return problems
    xy = np.asarray(river.centerline, float)
    if np.any(np.all(np.diff(xy, axis=0) == 0, axis=1)):
        k = int(np.flatnonzero(np.all(np.diff(xy, axis=0) == 0, axis=1))[0])
        return [f"river.centerline[{k + 1}]: repeats the previous vertex"]
    frame = sc.river_frame()
    problems += frame.fold_problems()
    for name in sc.background:
        if name not in PARAMETERS:
            problems.append(f"background.{name}: unknown parameter (known: {', '.join(PARAMETERS)})")
    for name in sc.sensors.sonde.params:
        if name not in PARAMETERS:
            problems.append(f"sensors.sonde.params.{name}: unknown parameter (known: {', '.join(PARAMETERS)})")
    if 360.0 / sc.sensors.obstacle_ranging.sector_deg % 1:
        problems.append("sensors.obstacle_ranging.sector_deg: must divide 360")
    ids: dict[str, str] = {}
    for i, out in enumerate(sc.outfalls):
        where = f"outfalls[{i}]"
        if not 0 <= out.chainage_m <= frame.length:
            problems.append(f"{where}.chainage_m: {out.chainage_m} is outside the reach [0, {frame.length:.1f}]")
        for name in out.excess:
            if name not in PARAMETERS:
                problems.append(f"{where}.excess.{name}: unknown parameter (known: {', '.join(PARAMETERS)})")
        for j, (start, end) in enumerate(out.active):
            if end < start:
                problems.append(f"{where}.active[{j}]: ends before it starts")
        problems += _unique(ids, out.id, f"{where}.id")
    for i, obs in enumerate(sc.obstacles.static):
        problems += _unique(ids, obs.id, f"obstacles.static[{i}].id")
        if isinstance(obs, PolygonObstacle) and len({tuple(p) for p in obs.ring}) < 3:
            problems.append(f"obstacles.static[{i}].ring: needs at least 3 distinct points")
    for i, ves in enumerate(sc.obstacles.moving):
        problems += _unique(ids, ves.id, f"obstacles.moving[{i}].id")
    boat = sc.boat
    hx, hy = frame.local.to_xy(*boat.home)
    if not frame.in_water(hx, hy)[0]:
        problems.append(f"boat.home: {boat.home} is on land, not on the river")
    if boat.cruise_speed_mps > boat.max_speed_mps:
        problems.append("boat.cruise_speed_mps: must not exceed boat.max_speed_mps")
    mission = sc.mission
    end = frame.length if mission.to_chainage_m is None else mission.to_chainage_m
    if end > frame.length + 1e-6:
        problems.append(f"mission.to_chainage_m: {end} is beyond the reach length {frame.length:.1f}")
    if mission.from_chainage_m >= end:
        problems.append("mission.from_chainage_m: must be less than mission.to_chainage_m")
    narrowest = float(frame.widths.min())
    if mission.bank_offset_m + boat.radius_m > narrowest / 2:
        problems.append(
            f"mission.bank_offset_m: {mission.bank_offset_m} m leaves the boat (radius {boat.radius_m} m) "
            f"no room in the narrowest reach ({narrowest:.1f} m wide)"
        )
    return problems


def _unique(seen: dict[str, str], ident: str, where: str) -> list[str]:
    if ident in seen:
        return [f"{where}: duplicate id {ident!r} (also at {seen[ident]})"]
    seen[ident] = where
    return []
