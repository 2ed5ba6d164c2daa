"""Whole-river map: sonde samples interpolated over the reach in river coordinates (s, n).

The boat samples two or three lines along the river; the station wants every cell of the water.
Pollutants are carried downstream by the current and mixed across it slowly, so the field is
correlated over hundreds of metres along the river and over metres across it. In (s, n) that
anisotropy has one fixed direction everywhere, bends included, so one anisotropic exponential model
fitted to the directional variograms (``analysis/variogram.py``) describes the whole reach. Samples are averaged into
grid-sized bins, and each cell is estimated by ordinary kriging from its nearest bins in the
anisotropic metric (a moving neighbourhood), which keeps the cost linear in the cells and the
samples. Every parameter is sampled at the same points, so the parameters mapped together share
one correlation model (fitted to their pooled standardised variograms, each keeping its own
variance) and therefore one set of kriging weights: the systems are solved once, whatever the
number of parameters. Method, choices and timings: docs/analysis.md, "Whole-river map".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from riverpatrol.analysis.variogram import Bounds, directional, fit_exponential
from riverpatrol.geo.frame import RiverFrame

FloatArray = NDArray[np.float64]

NEIGHBOURS = 24  # bins per cell's kriging system, half on each side of it across the river
VARIO_SAMPLES = 1500  # samples for the empirical variogram (its cost is quadratic)
_SEED = 20240607  # fixed subsample for the variogram: the same log gives the same map
_BATCH = 512  # targets per batch of kriging systems: about 8 MB of temporaries, which the allocator
# reuses (at 30 MB each batch was fresh memory from the kernel, its page faults a third of the kriging)
_MIN_SILL = 1e-6  # floor of var and nugget (standardised): a noise-free or constant field stays solvable


@dataclass(frozen=True)
class Covariance:
    """The fitted anisotropic model, in the words the map's users need."""

    family: str
    var: float  # partial sill of the correlated field
    nugget: float  # per-sample noise and sub-bin variation
    len_along: float  # correlation length along the river, m
    len_across: float  # correlation length across the river, m

    def isometrize(self, s: FloatArray, n: FloatArray) -> FloatArray:
        """Points (rows) in units of the correlation lengths: the model is isotropic there."""
        return np.column_stack([s / self.len_along, n / self.len_across])

    def covariance(self, h: FloatArray) -> FloatArray:
        """Covariance of the noise-free field at isometrized distance ``h`` (the nugget apart)."""
        return self.var * np.exp(-h)

    def scaled(self, factor: float) -> Covariance:
        """The same correlation for a field whose variance is ``factor`` times this one's."""
        return replace(self, var=self.var * factor, nugget=self.nugget * factor)


@dataclass(frozen=True)
class RiverGrid:
    """One parameter's map on the (s, n) grid; arrays are (len(s), len(n)), masked off the water."""

    s: FloatArray  # chainage of cell centres, m
    n: FloatArray  # offset of cell centres from the centerline, m, left bank positive
    ds: float  # cell size along, m
    dn: float  # cell size across, m
    estimate: np.ma.MaskedArray
    std: np.ma.MaskedArray  # kriging standard deviation of the (noise-free) field
    lon: FloatArray
    lat: FloatArray
    covariance: Covariance
    samples: int  # samples used, before binning
    bins: int  # bins kriged

    @property
    def s_edges(self) -> FloatArray:
        return np.append(self.s - self.ds / 2.0, self.s[-1] + self.ds / 2.0)

    @property
    def n_edges(self) -> FloatArray:
        return np.append(self.n - self.dn / 2.0, self.n[-1] + self.dn / 2.0)


@dataclass(frozen=True)
class _Bins:
    s: FloatArray
    n: FloatArray
    value: FloatArray  # one row per field (or one field, 1-D)
    count: FloatArray


def river_map(frame: RiverFrame, s: np.ndarray, n: np.ndarray, values: np.ndarray, *,
              ds: float = 5.0, dn: float = 1.0, max_points: int | None = None) -> RiverGrid:
    """Krige one parameter's samples at river coordinates (s, n) onto a ds x dn grid over the reach
    (``river_maps`` with one parameter)."""
    return river_maps(frame, s, n, {"values": values}, ds=ds, dn=dn, max_points=max_points)["values"]


def river_maps(frame: RiverFrame, s: np.ndarray, n: np.ndarray, fields: Mapping[str, np.ndarray], *,
               ds: float = 5.0, dn: float = 1.0, max_points: int | None = None) -> dict[str, RiverGrid]:
    """Krige several parameters sampled at the same points (s, n) onto one ds x dn grid, with one
    correlation model and one set of kriging weights for all (module docstring).

    A sample is used where every field is finite. Samples are averaged per grid cell first;
    ``max_points`` caps those bins (they are widened along the river, never across, until they fit
    or span the reach), None keeps one bin per cell with samples. The cost is about linear in the
    cells, so None is fine for 20,000 samples.
    """
    if not fields:
        raise ValueError("no parameters to map")
    s, n, values = _usable(frame, s, n, np.array([np.asarray(v, float).ravel() for v in fields.values()]))
    if s.size < 3:
        raise ValueError(f"need at least 3 samples on the reach to map it, got {s.size}")
    mean = values.mean(axis=1, keepdims=True)
    scale = values.std(axis=1, keepdims=True)
    scale[scale == 0.0] = 1.0
    z = (values - mean) / scale
    cov = fit_covariance(s, n, z, length=frame.length, width=float(frame.widths.mean()))
    bins = _aggregate(s, n, z, ds, dn, max_points)
    s_axis, n_axis = grid_axes(frame, ds, dn)
    ss, nn = np.meshgrid(s_axis, n_axis, indexing="ij")
    water = np.abs(nn) <= frame.width_at(ss) / 2.0
    est, var = _krige(cov, bins, ss[water], nn[water])
    std = np.sqrt(var)
    x, y = frame.from_river(ss.ravel(), nn.ravel())
    lon, lat = frame.local.to_lonlat(x, y)
    lon, lat = lon.reshape(ss.shape), lat.reshape(ss.shape)
    return {name: RiverGrid(s=s_axis, n=n_axis, ds=ds, dn=dn, estimate=_on_water(m + k * e, water),
                            std=_on_water(k * std, water), lon=lon, lat=lat, covariance=cov.scaled(k**2),
                            samples=s.size, bins=bins.s.size)
            for name, e, m, k in zip(fields, est, mean[:, 0], scale[:, 0])}


def grid_axes(frame: RiverFrame, ds: float, dn: float) -> tuple[FloatArray, FloatArray]:
    """Cell centres: along the whole reach, and across it symmetric about the centerline."""
    s_axis = np.arange(ds / 2.0, frame.length, ds)
    half = np.ceil(float(frame.widths.max()) / 2.0 / dn) * dn
    n_axis = np.arange(-half, half + dn / 2.0, dn)
    return s_axis, n_axis


def _usable(frame: RiverFrame, s: ArrayLike, n: ArrayLike,
            values: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Samples finite in every field (rows of ``values``) on the reach; one more than half a width
    off the water is not on this reach."""
    s, n = (np.asarray(a, float).ravel() for a in (s, n))
    if not s.size == n.size == values.shape[1]:
        raise ValueError(f"s, n and values differ in length: {s.size}, {n.size}, {values.shape[1]}")
    ok = np.isfinite(s) & np.isfinite(n) & np.isfinite(values).all(axis=0)
    ok[ok] &= (s[ok] >= 0.0) & (s[ok] <= frame.length) & (np.abs(n[ok]) <= frame.width_at(s[ok]))
    return s[ok], n[ok], values[:, ok]


def fit_covariance(s: FloatArray, n: FloatArray, z: FloatArray, *, length: float,
                   width: float) -> Covariance:
    """Fit an anisotropic exponential model to the empirical variograms along and across the river
    of standardised fields (rows of ``z``, each of mean 0 and variance 1), pooled.

    Pooling standardised fields fits one correlation model, nugget share included, to all: the
    intrinsic model, in which each parameter's covariance is that model times its variance. With
    no pair of samples to make a variogram of, the model is ``_unfitted``.
    """
    rng = np.random.default_rng(_SEED)
    pick = np.sort(rng.choice(s.size, VARIO_SAMPLES, replace=False)) if s.size > VARIO_SAMPLES else slice(None)
    vario = directional(s[pick], n[pick], np.atleast_2d(z)[:, pick], _lag_edges(length, width),
                        bandwidth=width / 8.0)
    fitted = fit_exponential(vario, Bounds(var=(0.0, 10.0), nugget=(0.0, 2.0), len_along=(width / 2.0, length),
                                           anis=(1e-3, 1.0)))
    if fitted is None:
        return _unfitted(length, width)
    var, nugget, len_along, len_across = fitted
    return Covariance(family="Exponential", var=max(var, _MIN_SILL), nugget=max(nugget, _MIN_SILL),
                      len_along=len_along, len_across=len_across)


def _unfitted(length: float, width: float) -> Covariance:
    """The model when no pair of samples makes a variogram (all at one point, say): mostly noise,
    correlated over a quarter of the reach along (a plume stays distinct for hundreds of metres)
    and a quarter of the width across (it hugs one bank)."""
    return Covariance(family="Exponential", var=0.05, nugget=1.0, len_along=length / 4.0, len_across=width / 4.0)


def _lag_edges(length: float, width: float) -> FloatArray:
    """Fine lags across the river (up to its width), geometric ones along it (up to half its length)."""
    across = np.linspace(0.0, width, 13)
    along = np.geomspace(width / 6.0, length / 2.0, 16)
    return np.unique(np.concatenate([across, along]))


def _aggregate(s: FloatArray, n: FloatArray, v: FloatArray, ds: float, dn: float,
               max_points: int | None) -> _Bins:
    """Grid-cell bins, widened along the river (never across) while there are more than
    ``max_points`` of them and one bin does not yet span every sample's chainage."""
    step = ds
    bins = _bin(s, n, v, step, dn)
    while max_points is not None and bins.s.size > max_points and step <= np.ptp(s):
        step *= 2.0
        bins = _bin(s, n, v, step, dn)
    return bins


def _bin(s: FloatArray, n: FloatArray, v: FloatArray, step: float, dn: float) -> _Bins:
    """Mean of the samples (of each field, a row of ``v``) in each bin, at their mean position, with
    the count (its noise shrinks)."""
    i = np.floor(s / step).astype(np.int64)
    j = np.floor(n / dn).astype(np.int64)
    key = (i - i.min()) * (j.max() - j.min() + 1) + (j - j.min())
    _, inverse, count = np.unique(key, return_inverse=True, return_counts=True)
    mean = lambda a: np.bincount(inverse, weights=a) / count
    return _Bins(s=mean(s), n=mean(n), value=np.array([mean(row) for row in v]), count=count.astype(float))


def _krige(model: Covariance, bins: _Bins, s: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Ordinary kriging of the noise-free field from each target's nearest bins (anisotropic metric).

    A bin holding k samples has measurement-error variance nugget / k. The system's matrix depends
    only on which bins a target takes, and neighbouring cells (those between the same sampled
    lines, at nearly the same chainage) take the same ones: each distinct set is inverted once, in
    batches, and each target then needs only its own right-hand side. The weights serve every
    field in ``bins.value`` (estimates: fields x targets, or targets for one field).
    """
    src = model.isometrize(bins.s, bins.n)
    dst = model.isometrize(s, n)
    idx = np.sort(_neighbours(src, dst, bins.n, n), axis=1)
    sets, which = _distinct_rows(idx)
    inverse = np.concatenate([_system_inverse(model, bins, src, sets[lo : lo + _BATCH])
                              for lo in range(0, len(sets), _BATCH)])
    est, var = np.empty(bins.value.shape[:-1] + (len(dst),)), np.empty(len(dst))
    k = idx.shape[1]
    for lo in range(0, len(dst), _BATCH):
        part = slice(lo, lo + _BATCH)
        near = src[idx[part]]  # (targets, k, 2)
        rhs = np.ones((near.shape[0], k + 1))
        rhs[:, :k] = model.covariance(np.hypot(*(near - dst[part, None, :]).transpose(2, 0, 1)))
        sol = np.einsum("tij,tj->ti", inverse[which[part]], rhs)
        est[..., part] = np.einsum("tk,...tk->...t", sol[:, :k], bins.value[..., idx[part]])
        var[part] = model.var - np.einsum("tk,tk->t", sol, rhs)  # sol[:, k] is the Lagrange multiplier
    return est, np.maximum(var, 0.0)


def _distinct_rows(idx: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The distinct rows of ``idx`` and, for each row, which of them it is. Rows are told apart by
    a 64-bit hash (sorting integers is far faster than sorting rows), checked after: a collision,
    however unlikely, falls back to comparing whole rows."""
    weights = np.random.default_rng(_SEED).integers(1, 2**62, idx.shape[1], dtype=np.int64)
    with np.errstate(over="ignore"):
        keys = (idx.astype(np.int64) * weights).sum(axis=1)
    _, first, which = np.unique(keys, return_index=True, return_inverse=True)
    sets = idx[first]
    if not np.array_equal(sets[which], idx):
        sets, which = np.unique(idx, axis=0, return_inverse=True)
    return sets, which.ravel()


def _system_inverse(model: Covariance, bins: _Bins, src: FloatArray,
                    sets: NDArray[np.intp]) -> FloatArray:
    """Inverses of the ordinary-kriging matrices [C + noise, 1; 1, 0] of sets of bins."""
    k = sets.shape[1]
    px, py = src[sets, 0], src[sets, 1]  # (sets, k)
    a = np.ones((len(sets), k + 1, k + 1))
    a[:, :k, :k] = model.covariance(np.hypot(px[:, :, None] - px[:, None, :], py[:, :, None] - py[:, None, :]))
    diag = np.arange(k)
    a[:, diag, diag] += model.nugget / bins.count[sets]
    a[:, k, k] = 0.0
    return np.linalg.inv(a)


def _neighbours(src: FloatArray, dst: FloatArray, src_n: FloatArray, dst_n: FloatArray) -> NDArray[np.intp]:
    """Each target's NEIGHBOURS nearest bins (anisotropic metric), half from each side across.

    Plain nearest bins in a strongly anisotropic metric all come from the nearest sampled line, and
    the line on the other side of the target, barely screened, would be left out. Grid targets
    share a few offsets n, so the bins are split into the two sides once per offset.
    """
    k = min(NEIGHBOURS, src.shape[0])
    idx = np.empty((dst.shape[0], k), dtype=np.intp)
    for offset in np.unique(dst_n):
        rows = np.flatnonzero(dst_n == offset)
        above = np.flatnonzero(src_n >= offset)
        below = np.flatnonzero(src_n < offset)
        k_above = min(above.size, max(k // 2, k - below.size))
        parts = [side[_nearest(src[side], dst[rows], count)]
                 for side, count in ((above, k_above), (below, k - k_above)) if count]
        idx[rows] = np.hstack(parts)
    return idx


def _nearest(points: FloatArray, targets: FloatArray, count: int) -> NDArray[np.intp]:
    """Indices (targets x count) of each target's nearest points."""
    _, idx = cKDTree(points).query(targets, k=count)
    return np.asarray(idx).reshape(targets.shape[0], count)


def _on_water(values: FloatArray, water: NDArray[np.bool_]) -> np.ma.MaskedArray:
    out = np.zeros(water.shape)
    out[water] = values
    return np.ma.masked_array(out, mask=~water)


