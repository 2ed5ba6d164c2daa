"""The river twin: river, traffic, boat, autopilot and sensors stepped on one clock.

The hull and autopilot advance tick by tick (they feed back on each other); everything else, from
the true field at the intake to sonar pings and camera frames, is computed per block of ticks in
numpy, since none of it feeds back within a block. That split is what makes a patrol run at
thousands of times real time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from riverpatrol.geo.angles import compass_deg
from riverpatrol.scenario import Scenario
from riverpatrol.twin.autopilot import RoverEmulation
from riverpatrol.twin.boat import BoatDynamics, HullLimits
from riverpatrol.twin.camera import ForwardCamera
from riverpatrol.twin.field import TrueField
from riverpatrol.twin.gnss import GnssModel
from riverpatrol.twin.ranging import MIN_CM, RangingSensor
from riverpatrol.twin.sonar import PipeMouth, SideScanSonar
from riverpatrol.twin.sonde import SondeModel
from riverpatrol.twin.ticks import TickBlock
from riverpatrol.twin.traffic import Traffic
from riverpatrol.twin.truth import TruthRecorder

TICK_S = 0.1
GNSS_HZ = 5.0  # fixes a second unless asked for more (spec: at least 5 Hz)
SONAR_EVERY = 2  # 5 pings/s
CURRENT_EVERY = 10  # the current's direction is re-read once a second along the reach
TRACK_EVERY = 10  # truth track at 1 Hz


@dataclass(frozen=True)
class Navigation:
    """What the boat navigates by over a block: GNSS fixes and ranging scans, needed scan by scan."""

    positions: dict[str, NDArray[np.float64]]
    scan_t: NDArray[np.float64]
    scan_heading: NDArray[np.float64]
    scans: NDArray[np.uint16]

    @staticmethod
    def concat(parts: list[Navigation]) -> Navigation:
        if len(parts) == 1:
            return parts[0]
        return Navigation(
            positions={k: np.concatenate([p.positions[k] for p in parts]) for k in parts[0].positions},
            scan_t=np.concatenate([p.scan_t for p in parts]),
            scan_heading=np.concatenate([p.scan_heading for p in parts]),
            scans=np.concatenate([p.scans for p in parts]),
        )


@dataclass(frozen=True)
class SensedBatch:
    """What the boat's sensors report over one block: columns per record kind."""

    positions: dict[str, NDArray[np.float64]]
    sonde_t: NDArray[np.float64]
    sonde: dict[str, NDArray[np.float64]]
    scan_t: NDArray[np.float64]
    scan_heading: NDArray[np.float64]
    scans: NDArray[np.uint16]
    scan_increment_deg: float
    scan_min_cm: int
    scan_max_cm: int
    ping_t: NDArray[np.float64]
    port: NDArray[np.uint8]
    starboard: NDArray[np.uint8]
    sonar_range_m: float
    frame_size: tuple[int, int]
    frame_t: list[float]
    frames: list[bytes]


class RiverTwin:
    """One scenario's world. ``advance`` moves it on; ``sense`` says what the boat saw meanwhile."""

    def __init__(self, scenario: Scenario, *, keyframe_s: float = 1.0, gnss_hz: float = GNSS_HZ) -> None:
        self.scenario = scenario
        self.river = river = scenario.river_frame()
        seeds = np.random.SeedSequence(scenario.seed).spawn(4)
        self.field = TrueField(scenario, river)
        self.traffic = Traffic(scenario.obstacles, river.local)
        hx, hy = river.local.to_xy(*scenario.boat.home)
        hs, _ = river.to_river(hx, hy)
        down = river.downstream_unit(hs)[0]
        limits = HullLimits(max_speed_mps=scenario.boat.max_speed_mps)
        self.boat = BoatDynamics(float(hx), float(hy), math.atan2(down[1], down[0]), limits)
        self.autopilot = RoverEmulation(self.boat, river.local, (float(hx), float(hy)))
        self._u = scenario.river.velocity_mps
        sensors = scenario.sensors
        self.gnss = GnssModel(sensors.gnss_sigma_m, river.local, np.random.default_rng(seeds[0]))
        self._gnss_every = max(1, round(1.0 / (gnss_hz * TICK_S)))  # a fix every this many ticks
        self.sonde = SondeModel(sensors.sonde, TICK_S, np.random.default_rng(seeds[1]))
        self.ranging = RangingSensor(sensors.obstacle_ranging, river, self.traffic)
        self._scan_every = max(1, round(1.0 / (sensors.obstacle_ranging.rate_hz * TICK_S)))
        self.sonar = SideScanSonar(river, self._pipe_mouths(), np.random.default_rng(seeds[2]))
        self.camera = ForwardCamera(
            river,
            circles=[o.circle for o in self.traffic.static if o.circle is not None],
            polygons=[np.asarray(o.geometry.exterior.coords) for o in self.traffic.static if o.circle is None],
            visible_outfalls=self._bank_points(submerged=False),
        )
        self._frame_ticks = keyframe_s / TICK_S  # camera period in ticks: frames need not fall on ticks
        self._sensed_pose = (0, self.boat.x, self.boat.y, self.boat.psi)  # last tick a payload covered
        self.truth = TruthRecorder(scenario, river, self.traffic, TRACK_EVERY)
        self.tick = 0
        self._current = (0.0, 0.0)
        self._segment = 0
        self._unit = [tuple(u) for u in river.downstream_unit(river.vertex_s[:-1]).tolist()]

    @property
    def time(self) -> float:
        return self.tick * TICK_S

    def _bank_points(self, submerged: bool) -> list[tuple[float, float]]:
        points = []
        for out in self.scenario.outfalls:
            if out.submerged == submerged:
                side = 1.0 if out.bank == "left" else -1.0
                x, y = self.river.from_river(out.chainage_m, side * self.river.width_at(out.chainage_m) / 2.0)
                points.append((float(x[0]), float(y[0])))
        return points

    def _pipe_mouths(self) -> list[PipeMouth]:
        mouths = []
        for (x, y), out in zip(self._bank_points(submerged=True), (o for o in self.scenario.outfalls if o.submerged)):
            cx, cy = self.river.from_river(out.chainage_m, 0.0)
            dx, dy = float(cx[0]) - x, float(cy[0]) - y
            norm = math.hypot(dx, dy) or 1.0
            mouths.append(PipeMouth(x=x, y=y, bank_inward=(dx / norm, dy / norm)))
        return mouths

    def advance(self, seconds: float) -> TickBlock:
        """Step hull and autopilot for ``seconds`` of scenario time."""
        count = max(1, round(seconds / TICK_S))
        first = self.tick + 1
        states: list[tuple[float, float, float, float, float]] = []
        record = states.append
        boat, pilot, step = self.boat, self.autopilot, self.boat.step
        current = self._current
        for tick in range(first, first + count):
            if tick % CURRENT_EVERY == 1:
                current = self._current = self._current_at(boat.x, boat.y)
            psi_cmd, v_cmd = pilot.update(tick * TICK_S)
            step(TICK_S, psi_cmd, v_cmd, current[0], current[1])
            record((boat.x, boat.y, boat.psi, boat.vx, boat.vy))
        self.tick = first + count - 1
        ticks = np.arange(first, first + count, dtype=np.int64)
        x, y, psi, vx, vy = np.array(states).T
        block = TickBlock(ticks, ticks * TICK_S, x, y, psi, vx, vy, *self.river.project(x, y))
        self.truth.observe(block)
        return block

    def _current_at(self, x: float, y: float) -> tuple[float, float]:
        """The current at the boat: speed u along the downstream tangent of the nearest segment."""
        self._segment = self.river.segment_near(x, y, self._segment)
        ux, uy = self._unit[self._segment]
        return ux * self._u, uy * self._u

    def sense(self, block: TickBlock) -> SensedBatch:
        """Everything the boat's sensors produced during ``block``."""
        return self.payload(block, self.navigation(block))

    def navigation(self, block: TickBlock) -> Navigation:
        """GNSS fixes and ranging scans during ``block``: what avoidance needs as it goes."""
        g = block.ticks % self._gnss_every == 0
        positions = self.gnss.fixes(block.x[g], block.y[g], block.vx[g], block.vy[g], block.psi[g])
        positions["t"] = block.t[g]
        r = block.ticks % self._scan_every == 0
        scans = self.ranging.scans(block.t[r], block.x[r], block.y[r], block.psi[r], block.s[r])
        return Navigation(positions, block.t[r], compass_deg(block.psi[r]), scans)

    def payload(self, block: TickBlock, navigation: Navigation) -> SensedBatch:
        """The rest of what the sensors produced during ``block`` (sonde, sonar, camera), with the
        block's ``navigation``; one call may cover several blocks navigated one by one."""
        truth = self.field.values(block.s, block.n, block.t)
        sonde_ticks, sonde_values = self.sonde.sample(block.ticks, truth)
        p = block.ticks % SONAR_EVERY == 0
        port, starboard = self.sonar.pings(block.x[p], block.y[p], block.psi[p], s=block.s[p], n=block.n[p])
        frame_t, poses = self._keyframes(block)
        hulls = [v.footprints(frame_t) for v in self.traffic.vessels]
        frames = [self.camera.render(t, x, y, psi, [h[i] for h in hulls])
                  for i, (t, (x, y, psi)) in enumerate(zip(frame_t, poses))]
        return SensedBatch(
            positions=navigation.positions,
            sonde_t=sonde_ticks * TICK_S,
            sonde={name: sonde_values[:, i] for i, name in enumerate(self.sonde.channels)},
            scan_t=navigation.scan_t,
            scan_heading=navigation.scan_heading,
            scans=navigation.scans,
            scan_increment_deg=self.ranging.increment_deg,
            scan_min_cm=MIN_CM,
            scan_max_cm=self.ranging.max_cm,
            ping_t=block.t[p],
            port=port,
            starboard=starboard,
            sonar_range_m=self.sonar.range_m,
            frame_size=(self.camera.width, self.camera.height),
            frame_t=frame_t,
            frames=frames,
        )

    def _keyframes(self, block: TickBlock) -> tuple[list[float], list[tuple[float, float, float]]]:
        """Camera frame times in ``block`` (every ``keyframe_s``, on or between ticks) and the pose at
        each, linear between the ticks around it: a camera runs on its own clock, faster than 10 Hz."""
        first = int(block.ticks[0]) - 1  # the tick before the block, whose pose frames start from
        last = int(block.ticks[-1])
        before = self._sensed_pose if self._sensed_pose[0] == first else (first, block.x[0], block.y[0], block.psi[0])
        self._sensed_pose = (last, float(block.x[-1]), float(block.y[-1]), float(block.psi[-1]))
        at = np.arange(math.floor(first / self._frame_ticks + 1e-9) + 1,
                       math.floor(last / self._frame_ticks + 1e-9) + 1) * self._frame_ticks
        if not len(at):
            return [], []
        x, y, psi = (np.concatenate([[before[k]], column]) for k, column in ((1, block.x), (2, block.y), (3, block.psi)))
        i = np.minimum(np.floor(at - first + 1e-9).astype(np.int64), len(x) - 1)
        w = np.clip(at - first - i, 0.0, 1.0)
        j = np.minimum(i + 1, len(x) - 1)
        turn = (psi[j] - psi[i] + math.pi) % (2.0 * math.pi) - math.pi
        poses = zip((x[i] + w * (x[j] - x[i])).tolist(), (y[i] + w * (y[j] - y[i])).tolist(),
                    (psi[i] + w * turn).tolist())
        on_tick = np.abs(at - np.round(at)) < 1e-6  # the same time as the tick's records, to the bit
        times = np.where(on_tick, np.round(at).astype(np.int64) * TICK_S, np.round(at * TICK_S, 6))
        return times.tolist(), list(poses)

