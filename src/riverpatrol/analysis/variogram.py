"""Directional variograms of samples in river coordinates (s, n), and the anisotropic exponential
model fitted to them: what the whole-river map's kriging needs, in numpy.

The estimator is gstools' ``vario_estimate`` with a direction (Matheron's, pairs within an angle of
the direction and a band about its line, fields pooled) and the fit minimises the objective of its
``fit_variogram`` (each bin's misfit times its weight, squared), both checked against gstools in the
tests. gstools itself is not imported here: it brings scipy.stats, emcee and hankel, and that import
cost ``analyze`` more than the variograms, the fit and the kriging together.

The fit is a profile search rather than a local descent: for given lengths the variogram is linear
in nugget and sill, so those are solved exactly (within their bounds) at every point of a grid of
lengths, which is then refined round its best. It finds the best fit within the bounds, with no
starting model to get stuck near and no failure to fall back from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

ANGLE_TOL = np.pi / 8  # a pair counts for a direction within this angle of it ...
_CHUNK = 512  # rows of pairs at a time: about 10 MB of temporaries for 1,500 samples
_GRID = 48  # lengths per axis of the profile search, then ...
_ZOOMS = 3  # ... this many refinements round the best, each to two of the previous steps
_ZOOM_GRID = 17


@dataclass(frozen=True)
class Variograms:
    """Empirical variograms along s (row 0) and along n (row 1): bin centres, gamma, pair counts."""

    centres: FloatArray
    gamma: FloatArray
    counts: FloatArray


@dataclass(frozen=True)
class Bounds:
    """Bounds of the exponential model's parameters; lengths are those along and across."""

    var: tuple[float, float]
    nugget: tuple[float, float]
    len_along: tuple[float, float]
    anis: tuple[float, float]  # across / along


def directional(s: FloatArray, n: FloatArray, z: FloatArray, edges: FloatArray, *,
                bandwidth: float, angle_tol: float = ANGLE_TOL) -> Variograms:
    """Matheron's variogram along s and along n of the fields in the rows of ``z`` (pooled: a pair
    counts once per field): pairs whose separation lies within ``angle_tol`` of the direction and
    whose distance from its line is below ``bandwidth``, binned by distance in ``[edges[i],
    edges[i+1])``. Half the mean squared difference per bin, zero where a bin has no pair."""
    z = np.atleast_2d(z)
    bins = edges.size - 1
    total = np.zeros((2, bins))
    counts = np.zeros((2, bins))
    cos_tol = np.cos(angle_tol)
    for lo in range(0, s.size - 1, _CHUNK):
        i, j = _pairs(lo, min(lo + _CHUNK, s.size - 1), s.size)
        d_along, d_across = np.abs(s[j] - s[i]), np.abs(n[j] - n[i])
        banded = np.flatnonzero((d_across < bandwidth) | (d_along < bandwidth))  # in either band
        i, j, d_along, d_across = i[banded], j[banded], d_along[banded], d_across[banded]
        r = np.hypot(d_along, d_across)
        where = np.searchsorted(edges, r, side="right") - 1
        binned = (where >= 0) & (where < bins)
        sq = ((z[:, j] - z[:, i]) ** 2).sum(axis=0)
        for k, (along, across) in enumerate(((d_along, d_across), (d_across, d_along))):
            keep = binned & (across < bandwidth) & ((r == 0.0) | (along > cos_tol * r))
            total[k] += np.bincount(where[keep], weights=sq[keep], minlength=bins)
            counts[k] += z.shape[0] * np.bincount(where[keep], minlength=bins)
    return Variograms((edges[:-1] + edges[1:]) / 2.0, total / (2.0 * np.maximum(counts, 1.0)), counts)


def _pairs(first: int, stop: int, size: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Index pairs (i, j), i < j, for rows i in [first, stop)."""
    rows = np.arange(first, stop)
    lengths = size - 1 - rows
    i = np.repeat(rows, lengths)
    j = np.arange(i.size) - np.repeat(np.cumsum(lengths) - lengths, lengths) + i + 1
    return i, j


def fit_exponential(vario: Variograms, bounds: Bounds) -> tuple[float, float, float, float] | None:
    """(var, nugget, len_along, len_across) of ``nugget + var (1 - exp(-r / len))`` along each
    direction that minimises the sum over bins of ``(w (model - gamma))^2``, each bin weighted by
    its share ``w`` of its direction's pairs (so both directions weigh alike); None with no pairs.
    """
    share = vario.counts / np.maximum(vario.counts.sum(axis=1, keepdims=True), 1.0)
    if not share.any():
        return None
    w2, r, gamma = (np.maximum(share, 1e-9) ** 2).ravel(), vario.centres, vario.gamma.ravel()
    lo = np.log([bounds.len_along[0], bounds.anis[0]])
    hi = np.log([bounds.len_along[1], bounds.anis[1]])
    axes = [np.linspace(a, b, _GRID) for a, b in zip(lo, hi)]
    step = (hi - lo) / (_GRID - 1)
    for zoom in range(_ZOOMS + 1):
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
        length, anis = np.exp(grid).T
        shape = np.concatenate([1.0 - np.exp(-r[None, :] / length[:, None]),
                                1.0 - np.exp(-r[None, :] / (length * anis)[:, None])], axis=1)
        cost, var, nugget = _linear_part(shape, gamma, w2, bounds)
        best = int(np.argmin(cost))
        if zoom < _ZOOMS:
            axes = [np.clip(np.linspace(c - h, c + h, _ZOOM_GRID), a, b)
                    for c, h, a, b in zip(grid[best], step, lo, hi)]
            step = 2.0 * step / (_ZOOM_GRID - 1)
    return float(var[best]), float(nugget[best]), float(length[best]), float(length[best] * anis[best])


def _linear_part(shape: FloatArray, gamma: FloatArray, w2: FloatArray,
                 bounds: Bounds) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For each row of ``shape`` (``1 - exp(-r/len)`` at every bin), the nugget and sill within
    their bounds that minimise the weighted squared misfit, and that misfit: the unconstrained
    minimum if inside the box, else the best of the four edges' minima (a convex quadratic)."""
    s0, s1, s2 = w2.sum(), shape @ w2, (shape**2) @ w2
    b0, b1 = float(w2 @ gamma), shape @ (w2 * gamma)
    g2 = float(w2 @ gamma**2)

    def cost(nug: FloatArray, var: FloatArray) -> FloatArray:
        return s0 * nug**2 + 2.0 * s1 * nug * var + s2 * var**2 - 2.0 * (b0 * nug + b1 * var) + g2

    det = s0 * s2 - s1**2
    safe = np.where(np.abs(det) > 1e-300, det, 1.0)
    candidates = [((s2 * b0 - s1 * b1) / safe, (s0 * b1 - s1 * b0) / safe)]
    for nug in bounds.nugget:  # an edge of fixed nugget: the best sill along it, clipped
        candidates.append((np.full_like(s1, nug), np.clip((b1 - s1 * nug) / np.maximum(s2, 1e-300), *bounds.var)))
    for var in bounds.var:  # an edge of fixed sill
        candidates.append((np.clip((b0 - s1 * var) / s0, *bounds.nugget), np.full_like(s1, var)))
    nug, var = (np.array(c) for c in zip(*candidates))
    inside = ((nug >= bounds.nugget[0]) & (nug <= bounds.nugget[1])
              & (var >= bounds.var[0]) & (var <= bounds.var[1]))
    inside[0] &= np.abs(det) > 1e-300
    costs = np.where(inside, cost(nug, var), np.inf)
    pick = np.argmin(costs, axis=0)
    columns = np.arange(s1.size)
    return costs[pick, columns], var[pick, columns], nug[pick, columns]
