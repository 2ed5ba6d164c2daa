"""Directional variograms and the exponential fit, checked against gstools, which they replace."""

from __future__ import annotations

import gstools as gs
import numpy as np
import pytest

from riverpatrol.analysis.variogram import Bounds, Variograms, directional, fit_exponential

EDGES = np.unique(np.concatenate([np.linspace(0.0, 24.0, 13), np.geomspace(4.0, 600.0, 16)]))
BOUNDS = Bounds(var=(0.0, 10.0), nugget=(0.0, 2.0), len_along=(12.0, 1200.0), anis=(1e-3, 1.0))


def lanes(seed: int, count: int = 900) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples on three boat lanes of a 1.2 km reach: an anisotropic field (200 m along, 6 m
    across) plus noise, two parameters."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.0, 1200.0, count)
    n = rng.choice([-9.0, 0.0, 9.0], count) + rng.normal(0.0, 0.7, count)
    base = np.sin(s / 200.0) * np.exp(-np.abs(n - 9.0) / 6.0) + 0.5 * np.cos(s / 90.0)
    z = np.array([base + rng.normal(0.0, 0.3, count), -base + rng.normal(0.0, 0.3, count)])
    z = (z - z.mean(axis=1, keepdims=True)) / z.std(axis=1, keepdims=True)
    return s, n, z


def gstools_variograms(s: np.ndarray, n: np.ndarray, z: np.ndarray) -> Variograms:
    centres, gamma, counts = gs.vario_estimate((s, n), z, EDGES, direction=[[1.0, 0.0], [0.0, 1.0]],
                                               angles_tol=np.pi / 8, bandwidth=3.0, return_counts=True)
    return Variograms(centres, gamma, counts.astype(float))


def misfit(vario: Variograms, var: float, nugget: float, along: float, across: float) -> float:
    """fit_variogram's objective: each bin's misfit times its share of its direction's pairs."""
    model = np.stack([nugget + var * (1.0 - np.exp(-vario.centres / length)) for length in (along, across)])
    share = vario.counts / vario.counts.sum(axis=1, keepdims=True)
    return float((((model - vario.gamma) * np.maximum(share, 1e-9)) ** 2).sum())


@pytest.mark.parametrize("seed", [0, 1])
def test_directional_variograms_equal_gstools(seed: int) -> None:
    s, n, z = lanes(seed)
    ours, ref = directional(s, n, z, EDGES, bandwidth=3.0), gstools_variograms(s, n, z)
    np.testing.assert_allclose(ours.centres, ref.centres)
    np.testing.assert_array_equal(ours.counts, ref.counts)
    np.testing.assert_allclose(ours.gamma, ref.gamma, rtol=1e-12, atol=1e-14)
    assert ours.counts[0].sum() > 10 * ours.counts[1].sum() > 0  # lanes: far more pairs along


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_is_gstools_fit_or_better(seed: int) -> None:
    vario = gstools_variograms(*lanes(seed))
    ours = fit_exponential(vario, BOUNDS)
    model = gs.Exponential(dim=2, var=0.5, nugget=0.3, len_scale=[300.0, 6.0])
    model.set_arg_bounds(var=list(BOUNDS.var), nugget=list(BOUNDS.nugget), len_scale=list(BOUNDS.len_along),
                         anis=list(BOUNDS.anis))
    share = vario.counts / vario.counts.sum(axis=1, keepdims=True)
    model.fit_variogram(vario.centres, vario.gamma, weights=np.maximum(share, 1e-9).ravel(), init_guess="current")
    ref = (model.var, model.nugget, *model.len_scale_vec)
    assert ours is not None
    assert misfit(vario, *ours) <= misfit(vario, *ref) * (1.0 + 1e-6)
    np.testing.assert_allclose(ours, ref, rtol=0.02, atol=1e-6)


def test_bounds_hold_and_no_pairs_means_no_fit() -> None:
    vario = gstools_variograms(*lanes(0))
    tight = Bounds(var=(0.0, 0.2), nugget=(0.5, 2.0), len_along=(12.0, 50.0), anis=(0.5, 1.0))
    var, nugget, along, across = fit_exponential(vario, tight) or (np.nan,) * 4
    assert var <= 0.2 and nugget >= 0.5 and 12.0 <= along <= 50.0 and 0.5 * along <= across <= along
    empty = Variograms(vario.centres, np.zeros_like(vario.gamma), np.zeros_like(vario.counts))
    assert fit_exponential(empty, BOUNDS) is None
