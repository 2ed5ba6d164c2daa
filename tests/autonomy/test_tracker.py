"""Tracks from successive scans: objects split on gaps, a moving hull's speed, a pier stays still."""

from __future__ import annotations

import numpy as np

from riverpatrol.autonomy.tracker import LINK_M, MAX_ACCEL_MPS2, ObstacleTracker, _clusters


def _hull(cx: float, cy: float) -> np.ndarray:
    return np.column_stack([cx + np.linspace(-4.0, 4.0, 9), np.full(9, cy)])


def test_a_vessel_gets_its_velocity_and_a_pier_none() -> None:
    tracker = ObstacleTracker()
    pier = np.array([[0.0, 10.0], [0.3, 10.2]])
    for k in range(20):
        t = 0.1 * k
        tracks = tracker.update(t, np.vstack([pier, _hull(-20.0 + 1.8 * t, -6.0)]))
    assert len(tracks) == 2
    still, moving = sorted(tracks, key=lambda tr: abs(tr.vx))
    assert still.velocity == (0.0, 0.0)
    assert abs(moving.velocity[0] - 1.8) < 0.1 and abs(moving.velocity[1]) < 0.1


def test_a_track_not_seen_for_a_second_is_forgotten() -> None:
    tracker = ObstacleTracker()
    tracker.update(0.0, _hull(0.0, 0.0))
    assert tracker.update(2.0, np.empty((0, 2))) == [] and tracker.tracks == []


def test_a_settled_velocity_changes_no_faster_than_a_hull_can() -> None:
    tracker = ObstacleTracker()
    for k in range(20):
        tracks = tracker.update(0.1 * k, _hull(1.5 * 0.1 * k, 0.0))
    before = tracks[0].vx
    jumped = tracker.update(2.0, _hull(1.5 * 2.0, 1.5))  # the visible centre jumps 1.5 m sideways
    assert abs(before - 1.5) < 0.05
    assert np.hypot(jumped[0].vx - before, jumped[0].vy) <= MAX_ACCEL_MPS2 * 0.1 + 1e-9


def _runs_by_numpy(points: np.ndarray) -> list[np.ndarray]:
    """The rule written plainly: split where neighbours (wrapping round) are LINK_M or more apart,
    starting just after the last such gap."""
    gaps = np.flatnonzero(np.hypot(*np.diff(points, axis=0, append=points[:1]).T) >= LINK_M)
    if gaps.size == 0:
        return [points]
    rolled = np.roll(points, -(gaps[-1] + 1), axis=0)
    return np.split(rolled, np.flatnonzero(np.hypot(*np.diff(rolled, axis=0).T) >= LINK_M) + 1)


def test_returns_split_into_objects_as_the_rule_says_with_their_centres() -> None:
    rng = np.random.default_rng(5)
    for _ in range(2000):
        points = np.cumsum(rng.normal(0.0, 1.3, (int(rng.integers(1, 73)), 2)), axis=0) + rng.uniform(-500, 500, 2)
        expected, found = _runs_by_numpy(points), _clusters(points)
        assert len(found) == len(expected)
        for run, (cluster, centre) in zip(expected, found):
            assert np.array_equal(cluster, run) and centre == tuple(run.mean(axis=0))
    assert _clusters(np.empty((0, 2))) == []
