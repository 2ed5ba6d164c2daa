"""PatrolAutonomy's look at a link: which ring the avoidance decides on, with which fixes, and the
live analyser's signals handed to the supervisor. The parts it feeds are stand-ins that record."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from riverpatrol.autonomy.patrol import PatrolAutonomy
from riverpatrol.records import MissionEvent, Position, RangeScan, SondeSample
from riverpatrol.scenario import parse_scenario


class _Link:
    """What the link delivered since the last look."""

    def __init__(self) -> None:
        self.time, self.link_up = 0.0, True
        self.fix: Position | None = None
        self.rings: list[RangeScan] = []
        self.pending: list[MissionEvent] = []

    def position(self) -> Position | None:
        return self.fix

    def events(self) -> list[MissionEvent]:
        out, self.pending = self.pending, []
        return out

    def scans(self) -> list[RangeScan]:
        out, self.rings = self.rings, []
        return out


class _Avoidance:
    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        self.seen: list[tuple[list[float], list[float]]] = []  # (fix times, ring times) per call

    def observe(self, fixes: dict[str, Any], scan_t: Any, *_: Any) -> list[MissionEvent]:
        self.seen.append((fixes["t"].tolist(), list(scan_t)))
        return [MissionEvent(float(scan_t[-1]), "decided", {})] if len(scan_t) else []

    def next_block_s(self, longest_s: float) -> float:
        return self.wait_s


class _Supervisor:
    def __init__(self, river: Any) -> None:
        self.river, self.done = river, False
        self.calls: list[tuple[float, tuple[float, float] | None, list[str], list[Any]]] = []

    def update(self, now: float, fix: Any, events: list[MissionEvent], signals: Any, links: Any) -> list[MissionEvent]:
        self.calls.append((now, fix, [e.kind for e in events], list(signals)))
        return []


class _Live:
    def __init__(self) -> None:
        self.fixes: list[float] = []

    def position(self, fix: Position) -> None:
        self.fixes.append(fix.t)

    def sample(self, sample: SondeSample) -> Any:
        return "a signal" if sample.values["conductivity"] > 900.0 else None


def _ring(t: float, heading: float = 90.0) -> RangeScan:
    return RangeScan(t, heading, 5.0, 20, 3000, np.full(72, 3001, dtype=np.uint16))


def _fix(t: float) -> Position:
    return Position(t, 121.38, 28.37, 1.5, 90.0, 90.0)


@pytest.fixture
def rig(make_scenario: Callable[..., dict[str, Any]]) -> Callable[[float], tuple[PatrolAutonomy, _Link, _Avoidance, _Supervisor, _Live]]:
    river = parse_scenario(make_scenario()).river_frame()

    def build(wait_s: float) -> tuple[PatrolAutonomy, _Link, _Avoidance, _Supervisor, _Live]:
        avoidance, supervisor, live = _Avoidance(wait_s), _Supervisor(river), _Live()
        return PatrolAutonomy(supervisor, avoidance, live), _Link(), avoidance, supervisor, live  # type: ignore[arg-type]

    return build


def test_the_newest_ring_is_decided_on_with_the_fixes_before_it(rig) -> None:  # type: ignore[no-untyped-def]
    autonomy, link, avoidance, supervisor, live = rig(0.1)
    link.time, link.fix, link.rings = 1.3, _fix(1.2), [_ring(1.0), _ring(1.1), _ring(1.2)]
    link.pending = [MissionEvent(1.05, "waypoint_reached", {"seq": 3})]
    events = autonomy.step(link)
    assert avoidance.seen == [([1.2], [1.2])] and autonomy.skipped_rings == 2
    assert [e.kind for e in events] == ["waypoint_reached", "decided"]
    now, fix, kinds, _ = supervisor.calls[-1]
    assert now == 1.3 and fix is not None and kinds == ["waypoint_reached", "decided"]
    autonomy.step(link)  # the same fix again is no new fix
    assert live.fixes == [1.2]


def test_rings_the_avoidance_does_not_wait_for_only_bring_their_fixes(rig) -> None:  # type: ignore[no-untyped-def]
    autonomy, link, avoidance, _, _ = rig(2.0)
    for t in (1.0, 1.5, 3.0):
        link.fix, link.rings = _fix(t), [_ring(t)]
        autonomy.step(link)
    link.fix, link.rings = _fix(3.1), [_ring(3.1, heading=math.nan)]  # no heading: nothing to place
    autonomy.step(link)
    assert avoidance.seen == [([1.0], [1.0]), ([1.5], []), ([3.0], [3.0]), ([3.1], [])]


def test_a_signal_from_the_sonde_reaches_the_supervisor_once(rig) -> None:  # type: ignore[no-untyped-def]
    autonomy, link, _, supervisor, _ = rig(0.1)
    autonomy.sample(SondeSample(1.0, {"conductivity": 500.0}))
    autonomy.sample(SondeSample(2.0, {"conductivity": 1000.0}))
    autonomy.step(link)
    autonomy.step(link)
    assert [call[3] for call in supervisor.calls] == [["a signal"], []]
