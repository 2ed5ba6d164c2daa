"""The own-ship filter: noisy fixes in, a position good to a fraction of the GNSS sigma out."""

from __future__ import annotations

import math

import numpy as np

from riverpatrol.autonomy.ownship import OwnShip


def test_smoothed_position_is_several_times_better_than_the_fixes() -> None:
    rng = np.random.default_rng(3)
    own = OwnShip()
    errors, raw = [], []
    for k in range(600):  # 2 minutes at 5 Hz, 1.5 m/s north-east
        t = 0.2 * k
        x, y = 1.06 * t, 1.06 * t
        fx, fy = x + 0.8 * rng.standard_normal(), y + 0.8 * rng.standard_normal()
        own.fix(t, fx, fy, 1.5 + 0.05 * rng.standard_normal(), 45.0)
        if k > 100:
            errors.append(math.hypot(own.x - x, own.y - y))
            raw.append(math.hypot(fx - x, fy - y))
    assert np.sqrt(np.mean(np.square(errors))) < 0.35 * np.sqrt(np.mean(np.square(raw)))


def test_position_between_fixes_is_dead_reckoned() -> None:
    own = OwnShip()
    assert not own.ready
    own.fix(10.0, 5.0, 5.0, 2.0, 90.0)  # heading east at 2 m/s
    assert own.ready and own.at(10.5) == (6.0, 5.0)
