"""GNSS fixes: columns per true state; a block with no fix draws no noise."""

from __future__ import annotations

import numpy as np

from riverpatrol.geo.frame import LocalFrame
from riverpatrol.twin.gnss import GnssModel

FRAME = LocalFrame(121.38, 28.37)


def receiver(seed: int = 1) -> GnssModel:
    return GnssModel(0.8, FRAME, np.random.default_rng(seed))


def test_a_block_without_fixes_gives_the_same_columns_empty_and_draws_no_noise() -> None:
    state = [np.array([v]) for v in (10.0, 20.0, 1.0, 0.5, 0.3)]  # x, y, vx, vy, psi
    stepping, fresh = receiver(), receiver()
    empty = stepping.fixes(*(np.empty(0) for _ in range(5)))
    fix = stepping.fixes(*state)
    assert set(empty) == set(fix) and all(len(column) == 0 for column in empty.values())
    expected = fresh.fixes(*state)
    assert all(np.array_equal(fix[name], expected[name]) for name in fix)


def test_fixes_scatter_round_the_true_position() -> None:
    n = 4000
    fixes = receiver().fixes(np.full(n, 10.0), np.full(n, 20.0), np.ones(n), np.zeros(n), np.zeros(n))
    x, y = FRAME.to_xy(fixes["lon"], fixes["lat"])
    assert abs(x.mean() - 10.0) < 0.05 and abs(y.mean() - 20.0) < 0.05
    assert 0.75 < x.std() < 0.85 and 0.75 < y.std() < 0.85
    np.testing.assert_allclose(np.median(fixes["cog"]), 90.0, atol=1.0)  # moving east
