"""Tracks from successive scans: objects split on gaps, a moving hull's speed, a pier stays still."""

from __future__ import annotations

import numpy as np

from riverpatrol.autonomy.tracker import ObstacleTracker


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
