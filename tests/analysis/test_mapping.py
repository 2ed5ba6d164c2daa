"""Whole-river map: kriging in (s, n), its uncertainty, the water mask, parameters mapped together."""

from __future__ import annotations


import gstools as gs
import numpy as np
import pytest

from riverpatrol.analysis import mapping
from riverpatrol.analysis.mapping import Covariance, RiverGrid, river_map, river_maps
from riverpatrol.geo.frame import RiverFrame

STRAIGHT = RiverFrame([[121.379, 28.3712], [121.385, 28.3712]], 28.0, 2.0)  # about 587 m long
BENT = RiverFrame([[121.379, 28.3712], [121.382, 28.3712], [121.385, 28.3730]], [20.0, 28.0, 24.0], 2.0)
LINES = (-11.0, 0.0, 11.0)  # the boat's passes: 3 m off each bank, and the centerline


def smooth_field(s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Varies over hundreds of metres along the river and a few units across it."""
    return 20.0 + 3.0 * np.sin(2.0 * np.pi * s / 400.0) + 0.15 * n


def sampled_lines(frame: RiverFrame, seed: int = 3, spacing: float = 1.5) -> tuple[np.ndarray, ...]:
    """Samples every ``spacing`` m along each line, with GNSS-like jitter and sonde noise."""
    rng = np.random.default_rng(seed)
    along = np.arange(0.0, frame.length, spacing)
    s = np.tile(along, len(LINES)) + rng.normal(0.0, 0.3, along.size * len(LINES))
    n = np.repeat(LINES, along.size) + rng.normal(0.0, 0.5, along.size * len(LINES))
    s = np.clip(s, 0.0, frame.length)
    return s, n, smooth_field(s, n) + rng.normal(0.0, 0.05, s.size)


@pytest.fixture(scope="module")
def grid() -> RiverGrid:
    return river_map(STRAIGHT, *sampled_lines(STRAIGHT))


def cells(grid: RiverGrid) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(grid.s, grid.n, indexing="ij")


# ---- the estimate and its uncertainty ---------------------------------------------------------
def test_estimate_reproduces_the_field_between_the_lines(grid: RiverGrid) -> None:
    ss, nn = cells(grid)
    held_out = (np.abs(nn) >= 4.0) & (np.abs(nn) <= 7.0) & (ss > 20.0) & (ss < STRAIGHT.length - 20.0)
    err = np.abs(grid.estimate - smooth_field(ss, nn))[held_out]
    assert held_out.sum() > 500 and not np.ma.is_masked(err)
    assert err.max() < 0.3  # the field spans 6 units along and 4 across
    assert np.sqrt(np.mean(err**2)) < 0.1


def test_std_is_small_on_the_lines_and_grows_away_from_them(grid: RiverGrid) -> None:
    ss, nn = cells(grid)
    inner = (ss > 20.0) & (ss < STRAIGHT.length - 20.0)
    on_line = grid.std[inner & np.isin(nn, LINES)]
    between = grid.std[inner & np.isin(np.abs(nn), (5.0, 6.0))]
    at_bank = grid.std[inner & (np.abs(nn) == 14.0)]
    assert on_line.max() < between.min()
    assert on_line.mean() < 0.5 * between.mean()
    assert on_line.mean() < 0.7 * at_bank.mean()


def test_std_grows_in_a_gap_in_the_samples() -> None:
    s, n, v = sampled_lines(STRAIGHT)
    keep = (s < 250.0) | (s > 350.0)
    gap = river_map(STRAIGHT, s[keep], n[keep], v[keep])
    centre = int(np.argmin(np.abs(gap.n)))
    sampled = gap.std[(gap.s > 50.0) & (gap.s < 200.0), centre]
    middle = gap.std[(gap.s > 290.0) & (gap.s < 310.0), centre]
    assert middle.min() > 2.0 * sampled.max()


def test_covariance_is_longer_along_the_river_than_across(grid: RiverGrid) -> None:
    cov = grid.covariance
    assert cov.len_along > 2.0 * cov.len_across
    assert cov.var > 0.0 and cov.nugget > 0.0


def test_samples_that_pair_in_no_direction_get_the_unfitted_model() -> None:
    s, n = np.array([50.0, 250.0, 450.0]), np.array([-10.0, 0.0, 10.0])  # no pair along s or along n
    cov = river_map(STRAIGHT, s, n, np.array([1.0, 2.0, 3.0])).covariance
    assert cov.len_along == pytest.approx(STRAIGHT.length / 4.0) and cov.len_across == pytest.approx(7.0)
    assert cov.nugget > cov.var  # nothing known of the structure: mostly noise


def test_local_kriging_equals_gstools_global_kriging_when_the_neighbourhood_holds_every_bin() -> None:
    rng = np.random.default_rng(0)
    count = mapping.NEIGHBOURS - 4
    bins = mapping._Bins(s=rng.uniform(0, 300, count), n=rng.uniform(-10, 10, count),
                         value=rng.normal(size=count), count=rng.integers(1, 5, count).astype(float))
    model = gs.Exponential(dim=2, var=2.0, nugget=0.5, len_scale=[100.0, 5.0])
    ts, tn = np.array([10.0, 150.0, 290.0, 150.0]), np.array([0.0, 3.0, -8.0, -3.0])
    est, var = mapping._krige(Covariance("Exponential", var=2.0, nugget=0.5, len_along=100.0, len_across=5.0),
                              bins, ts, tn)
    ref = gs.krige.Ordinary(model, (bins.s, bins.n), bins.value, exact=False,
                            cond_err=model.nugget / bins.count, pseudo_inv=False)
    ref_est, ref_var = ref((ts, tn))
    np.testing.assert_allclose(est, ref_est, rtol=1e-9, atol=1e-12)
    # gstools' variance is that of a new noisy reading; the map's is the field's, without the nugget
    np.testing.assert_allclose(var, ref_var - model.nugget, rtol=1e-9, atol=1e-12)


def test_max_points_caps_the_bins_and_keeps_the_map() -> None:
    s, n, v = sampled_lines(STRAIGHT)
    capped = river_map(STRAIGHT, s, n, v, max_points=200)
    assert capped.bins <= 200 < river_map(STRAIGHT, s, n, v).bins
    ss, nn = cells(capped)
    on_lines = np.isin(nn, LINES) & (ss > 50.0) & (ss < STRAIGHT.length - 50.0)
    assert np.abs(capped.estimate - smooth_field(ss, nn))[on_lines].max() < 1.0
    rows = np.unique(np.floor(n)).size  # widening stops at one bin per row across, the whole reach long
    assert river_map(STRAIGHT, s, n, v, max_points=1).bins == rows


def test_unusable_samples_are_dropped_and_too_few_refused() -> None:
    s, n, v = sampled_lines(STRAIGHT)
    v[::2] = np.nan  # a parameter not measured half the time
    n[1::4] = 40.0  # fixes far off the water: not on this reach
    assert river_map(STRAIGHT, s, n, v).samples == np.isfinite(v).sum() - (n[1::2] == 40.0).sum()
    with pytest.raises(ValueError, match="at least 3 samples"):
        river_map(STRAIGHT, s[:4], n[:4], np.full(4, np.nan))
    with pytest.raises(ValueError, match="differ in length"):
        river_map(STRAIGHT, s, n[:-1], v)


def test_handles_twenty_thousand_samples() -> None:
    rng = np.random.default_rng(5)
    s = rng.uniform(0.0, STRAIGHT.length, 20_000)
    n = rng.uniform(-13.0, 13.0, s.size)
    big = river_map(STRAIGHT, s, n, smooth_field(s, n) + rng.normal(0.0, 0.05, s.size))
    assert big.samples == 20_000 and big.bins <= big.s.size * big.n.size


# ---- grid geometry ----------------------------------------------------------------------------
def test_cells_outside_the_water_are_masked_and_cells_sit_at_their_s_n() -> None:
    s, n, v = sampled_lines(BENT)
    bent = river_map(BENT, s, n, v, ds=4.0, dn=0.5)
    ss, nn = cells(bent)
    outside = np.abs(nn) > BENT.width_at(ss) / 2.0
    assert outside.any() and (~outside).any()
    np.testing.assert_array_equal(np.ma.getmaskarray(bent.estimate), outside)
    np.testing.assert_array_equal(np.ma.getmaskarray(bent.std), outside)
    assert np.isfinite(bent.estimate.compressed()).all() and (bent.std.compressed() >= 0.0).all()
    assert bent.s[0] == 2.0 and bent.s[-1] < BENT.length and np.allclose(np.diff(bent.n), 0.5)
    away = (np.abs(ss - BENT.vertex_s[1]) > 30.0) & ~outside  # a bend's inner side folds (s, n)
    back_s, back_n = BENT.lonlat_to_river(bent.lon[away], bent.lat[away])
    np.testing.assert_allclose(back_s, ss[away], atol=1e-3)
    np.testing.assert_allclose(back_n, nn[away], atol=1e-3)


# ---- parameters mapped together ----------------------------------------------------------------
def test_parameters_mapped_together_share_the_correlation_and_keep_their_own_scale() -> None:
    s, n, v = sampled_lines(STRAIGHT)
    rng = np.random.default_rng(11)
    other = 0.5 + 0.02 * (v - 20.0) + rng.normal(0.0, 0.001, v.size)  # another item, another unit
    maps = river_maps(STRAIGHT, s, n, {"a": v, "b": other, "c": 100.0 * v})
    a, b, c = maps["a"], maps["b"], maps["c"]
    assert a.covariance.len_along == b.covariance.len_along and a.covariance.len_across == b.covariance.len_across
    assert a.covariance.nugget / a.covariance.var == pytest.approx(b.covariance.nugget / b.covariance.var)
    # one set of weights: a field a hundred times another maps to a hundred times its map
    np.testing.assert_allclose(c.estimate.compressed(), 100.0 * a.estimate.compressed(), rtol=1e-9)
    np.testing.assert_allclose(c.std.compressed(), 100.0 * a.std.compressed(), rtol=1e-9)
    ss, nn = cells(b)
    inner = (ss > 20.0) & (ss < STRAIGHT.length - 20.0) & (np.abs(nn) <= 11.0)
    truth = 0.5 + 0.02 * (smooth_field(ss, nn) - 20.0)
    assert np.abs(b.estimate - truth)[inner].max() < 0.01  # each keeps its own values
    assert float(b.std.mean()) < 0.05 * float(a.std.mean())


def test_a_sample_missing_in_one_parameter_is_left_out_of_all() -> None:
    s, n, v = sampled_lines(STRAIGHT)
    other = v.copy()
    other[::3] = np.nan
    maps = river_maps(STRAIGHT, s, n, {"a": v, "b": other})
    assert maps["a"].samples == maps["b"].samples == np.isfinite(other).sum()
    with pytest.raises(ValueError, match="no parameters"):
        river_maps(STRAIGHT, s, n, {})
