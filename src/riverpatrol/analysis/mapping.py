"""Whole-river map: sonde samples interpolated over the reach in river coordinates (s, n).

The boat samples two or three lines along the river; the station wants every cell of the water.
Pollutants are carried downstream by the current and mixed across it slowly, so the field is
correlated over hundreds of metres along the river and over metres across it. In (s, n) that
anisotropy has one fixed direction everywhere, bends included, so one anisotropic covariance model
(gstools) fitted to the directional variograms describes the whole reach. Samples are averaged into
grid-sized bins, and each cell is estimated by ordinary kriging from its nearest bins in the
anisotropic metric (a moving neighbourhood), which keeps the cost linear in the cells and the
samples. Method, choices and timings: docs/analysis.md, "Whole-river map".
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import gstools as gs
import netCDF4
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, Colormap
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.scenario import PARAMETERS, UNITS

FloatArray = NDArray[np.float64]

NEIGHBOURS = 24  # bins per cell's kriging system, half on each side of it across the river
VARIO_SAMPLES = 1500  # samples for the empirical variogram (its cost is quadratic)
_SEED = 20240607  # fixed subsample for the variogram: the same log gives the same map
_BATCH = 2048  # targets per batch of kriging systems: about 30 MB of temporaries
_MAX_EVAL = 1000  # evaluations allowed to the variogram fit before the initial model is kept
_MIN_SILL = 1e-6  # floor of var and nugget (standardised): a noise-free or constant field stays solvable


@dataclass(frozen=True)
class Covariance:
    """The fitted anisotropic model, in the words the map's users need."""

    family: str
    var: float  # partial sill of the correlated field
    nugget: float  # per-sample noise and sub-bin variation
    len_along: float  # correlation length along the river, m
    len_across: float  # correlation length across the river, m

    def model(self) -> gs.CovModel:
        return getattr(gs, self.family)(dim=2, var=self.var, nugget=self.nugget,
                                        len_scale=[self.len_along, self.len_across])


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
    value: FloatArray
    count: FloatArray


def river_map(frame: RiverFrame, s: np.ndarray, n: np.ndarray, values: np.ndarray, *,
              ds: float = 5.0, dn: float = 1.0, max_points: int | None = None) -> RiverGrid:
    """Krige samples at river coordinates (s, n) onto a ds x dn grid over the whole reach.

    Samples are averaged per grid cell first; ``max_points`` caps those bins (they are widened
    along the river, never across, until they fit or span the reach), None keeps one bin per cell
    with samples. The cost is about linear in the cells, so None is fine for 20,000 samples.
    """
    s, n, values = _usable(frame, s, n, values)
    if s.size < 3:
        raise ValueError(f"need at least 3 samples on the reach to map it, got {s.size}")
    cov = fit_covariance(s, n, values, length=frame.length, width=float(frame.widths.mean()))
    bins = _aggregate(s, n, values, ds, dn, max_points)
    s_axis, n_axis = grid_axes(frame, ds, dn)
    ss, nn = np.meshgrid(s_axis, n_axis, indexing="ij")
    water = np.abs(nn) <= frame.width_at(ss) / 2.0
    est, var = _krige(cov.model(), bins, ss[water], nn[water])
    x, y = frame.from_river(ss.ravel(), nn.ravel())
    lon, lat = frame.local.to_lonlat(x, y)
    return RiverGrid(s=s_axis, n=n_axis, ds=ds, dn=dn, estimate=_on_water(est, water),
                     std=_on_water(np.sqrt(var), water), lon=lon.reshape(ss.shape), lat=lat.reshape(ss.shape),
                     covariance=cov, samples=s.size, bins=bins.s.size)


def grid_axes(frame: RiverFrame, ds: float, dn: float) -> tuple[FloatArray, FloatArray]:
    """Cell centres: along the whole reach, and across it symmetric about the centerline."""
    s_axis = np.arange(ds / 2.0, frame.length, ds)
    half = np.ceil(float(frame.widths.max()) / 2.0 / dn) * dn
    n_axis = np.arange(-half, half + dn / 2.0, dn)
    return s_axis, n_axis


def _usable(frame: RiverFrame, s: ArrayLike, n: ArrayLike, values: ArrayLike) -> tuple[FloatArray, ...]:
    """Finite samples on the reach; one more than half a width off the water is not on this reach."""
    s, n, v = (np.asarray(a, float).ravel() for a in (s, n, values))
    if not s.size == n.size == v.size:
        raise ValueError(f"s, n and values differ in length: {s.size}, {n.size}, {v.size}")
    ok = np.isfinite(s) & np.isfinite(n) & np.isfinite(v)
    ok[ok] &= (s[ok] >= 0.0) & (s[ok] <= frame.length) & (np.abs(n[ok]) <= frame.width_at(s[ok]))
    return s[ok], n[ok], v[ok]


def fit_covariance(s: FloatArray, n: FloatArray, values: FloatArray, *, length: float,
                   width: float) -> Covariance:
    """Fit an anisotropic exponential model to the empirical variograms along and across the river.

    Values are standardised first, so the fit's tolerances mean the same for pH and conductivity.
    The fit starts from a model set from the data (``_initial_model``) and keeps it if it fails,
    as it can on a variogram with no structure at all.
    """
    scale = float(np.std(values)) or 1.0
    z = (values - values.mean()) / scale
    centres, gamma, counts = gs.vario_estimate(
        (s, n), z, _lag_edges(length, width), direction=[[1.0, 0.0], [0.0, 1.0]], angles_tol=np.pi / 8,
        bandwidth=width / 8.0, sampling_size=min(s.size, VARIO_SAMPLES), sampling_seed=_SEED,
        return_counts=True)
    model = _initial_model(gamma[0][counts[0] > 0], length, width)
    model.set_arg_bounds(var=[0.0, 10.0], nugget=[0.0, 2.0], len_scale=[width / 2.0, length],
                         anis=[1e-3, 1.0])
    weights = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)  # each direction counts alike
    try:
        model.fit_variogram(centres, gamma, weights=np.maximum(weights, 1e-9).ravel(), init_guess="current",
                            max_eval=_MAX_EVAL)
    except RuntimeError:
        model = _initial_model(gamma[0][counts[0] > 0], length, width)
    return Covariance(family=type(model).__name__, var=max(float(model.var), _MIN_SILL) * scale**2,
                      nugget=max(float(model.nugget), _MIN_SILL) * scale**2,
                      len_along=float(model.len_scale_vec[0]), len_across=float(model.len_scale_vec[1]))


def _initial_model(gamma_along: FloatArray, length: float, width: float) -> gs.CovModel:
    """A model set from the data (standardised): the nugget from the shortest along-river lag
    (sonde noise), the sill from the longest, correlated over a quarter of the reach along (a plume
    stays distinct for hundreds of metres) and a quarter of the width across (it hugs one bank)."""
    if gamma_along.size == 0:  # every sample at one chainage: nothing to go on along the river
        gamma_along = np.ones(1)
    nugget = float(np.clip(gamma_along[0], 0.01, 1.5))
    var = max(float(np.mean(gamma_along[-3:])) - nugget, 0.05)
    return gs.Exponential(dim=2, var=var, nugget=nugget, len_scale=[length / 4.0, width / 4.0])


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
    """Mean of the samples in each bin, at their mean position, with the count (its noise shrinks)."""
    i = np.floor(s / step).astype(np.int64)
    j = np.floor(n / dn).astype(np.int64)
    key = (i - i.min()) * (j.max() - j.min() + 1) + (j - j.min())
    _, inverse, count = np.unique(key, return_inverse=True, return_counts=True)
    mean = lambda a: np.bincount(inverse, weights=a) / count
    return _Bins(s=mean(s), n=mean(n), value=mean(v), count=count.astype(float))


def _krige(model: gs.CovModel, bins: _Bins, s: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Ordinary kriging of the noise-free field from each target's nearest bins (anisotropic metric).

    A bin holding k samples has measurement-error variance nugget / k. Targets are solved in
    batches of small systems, so memory stays bounded and numpy does the loops.
    """
    src = model.isometrize(np.vstack([bins.s, bins.n])).T
    dst = model.isometrize(np.vstack([s, n])).T
    idx = _neighbours(src, dst, bins.n, n)
    est, var = np.empty(len(dst)), np.empty(len(dst))
    for lo in range(0, len(dst), _BATCH):
        part = slice(lo, lo + _BATCH)
        est[part], var[part] = _krige_batch(model, bins, src, dst[part], idx[part])
    return est, np.maximum(var, 0.0)


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


def _krige_batch(model: gs.CovModel, bins: _Bins, src: FloatArray, dst: FloatArray,
                 idx: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
    """One batch of ordinary-kriging systems [C + noise, 1; 1, 0] [w; mu] = [c0; 1]."""
    k = idx.shape[1]
    px, py = src[idx, 0], src[idx, 1]  # (targets, k)
    a = np.ones((len(dst), k + 1, k + 1))
    a[:, :k, :k] = model.covariance(np.hypot(px[:, :, None] - px[:, None, :], py[:, :, None] - py[:, None, :]))
    diag = np.arange(k)
    a[:, diag, diag] += model.nugget / bins.count[idx]
    a[:, k, k] = 0.0
    b = np.ones((len(dst), k + 1))
    b[:, :k] = model.covariance(np.hypot(px - dst[:, :1], py - dst[:, 1:]))
    sol = np.linalg.solve(a, b[..., None])[..., 0]
    est = np.einsum("tk,tk->t", sol[:, :k], bins.value[idx])
    return est, model.var - np.einsum("tk,tk->t", sol, b)  # sol[:, k] is the Lagrange multiplier


def _on_water(values: FloatArray, water: NDArray[np.bool_]) -> np.ma.MaskedArray:
    out = np.zeros(water.shape)
    out[water] = values
    return np.ma.masked_array(out, mask=~water)


# ---- NetCDF -----------------------------------------------------------------------------------
LONG_NAMES: dict[str, str] = {
    "temperature": "water temperature", "ph": "pH", "do": "dissolved oxygen",
    "conductivity": "specific conductance at 25 degC", "turbidity": "turbidity",
    "nh3n": "ammonia nitrogen (NH3-N)", "codmn": "permanganate index (CODMn)",
    "cod": "chemical oxygen demand (COD)", "tp": "total phosphorus",
}
CF_UNITS: dict[str, str] = {  # UDUNITS spellings of the spec's units (NTU has none; kept as is)
    "temperature": "degC", "ph": "1", "do": "mg L-1", "conductivity": "uS cm-1", "turbidity": "NTU",
    "nh3n": "mg L-1", "codmn": "mg L-1", "cod": "mg L-1", "tp": "mg L-1",
}
_FILL = float(netCDF4.default_fillvals["f8"])


def write_netcdf(grids: Mapping[str, RiverGrid], path: str | os.PathLike[str]) -> None:
    """Write maps of canonical parameters, all on one grid, as a CF-1.8 style NetCDF4 file."""
    if not grids:
        raise ValueError("no maps to write")
    unknown = sorted(set(grids) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"not canonical parameters: {', '.join(unknown)} (known: {', '.join(PARAMETERS)})")
    first = next(iter(grids.values()))
    for name, grid in grids.items():
        if not (np.array_equal(grid.s, first.s) and np.array_equal(grid.n, first.n)):
            raise ValueError(f"{name}: its grid differs from the others'; write one file per grid")
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        _write_frame(nc, first)
        for name, grid in grids.items():
            _write_parameter(nc, name, grid)


def _write_frame(nc: netCDF4.Dataset, grid: RiverGrid) -> None:
    nc.setncatts({
        "Conventions": "CF-1.8", "title": "Whole-river water-quality map in river coordinates (s, n)",
        "source": "riverpatrol", "history": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} riverpatrol mapping",
        "comment": "Ordinary kriging of sonde samples with an anisotropic exponential covariance fitted "
                   "in (s, n); cells outside the water are _FillValue. Method: docs/analysis.md.",
    })
    nc.createDimension("s", grid.s.size)
    nc.createDimension("n", grid.n.size)
    nc.createDimension("nv", 2)
    axes = {"s": (grid.s, grid.s_edges, "chainage along the centerline from its first (upstream) vertex"),
            "n": (grid.n, grid.n_edges,
                  "signed offset from the centerline, positive on the left bank looking downstream")}
    for name, (values, edges, long_name) in axes.items():
        var = nc.createVariable(name, "f8", (name,))
        var.setncatts({"units": "m", "long_name": long_name, "axis": "X" if name == "s" else "Y",
                       "bounds": f"{name}_bnds"})
        var[:] = values
        nc.createVariable(f"{name}_bnds", "f8", (name, "nv"))[:] = np.column_stack([edges[:-1], edges[1:]])
    for name, values, units in (("lon", grid.lon, "degrees_east"), ("lat", grid.lat, "degrees_north")):
        var = nc.createVariable(name, "f8", ("s", "n"), compression="zlib")
        var.setncatts({"units": units, "standard_name": "longitude" if name == "lon" else "latitude",
                       "long_name": f"{'longitude' if name == 'lon' else 'latitude'} of the cell centre (WGS84)"})
        var[:] = values


def _write_parameter(nc: netCDF4.Dataset, name: str, grid: RiverGrid) -> None:
    model = {f"covariance_{k}": v for k, v in asdict(grid.covariance).items()}
    for var_name, data, long_name in ((name, grid.estimate, LONG_NAMES[name]),
                                      (f"{name}_std", grid.std, f"kriging standard deviation of {LONG_NAMES[name]}")):
        var = nc.createVariable(var_name, "f8", ("s", "n"), compression="zlib", fill_value=_FILL)
        var.setncatts({"units": CF_UNITS[name], "long_name": long_name, "coordinates": "lat lon"})
        var[:] = data
    nc[name].setncatts({"ancillary_variables": f"{name}_std", "samples": grid.samples, "bins": grid.bins,
                        **model})


# ---- PNG --------------------------------------------------------------------------------------
def plot_map(frame: RiverFrame, grid: RiverGrid, path: str | os.PathLike[str], *, title: str,
             classes: Sequence[float] | None = None, param: str | None = None,
             track: tuple[ArrayLike, ArrayLike] | None = None) -> None:
    """Draw the map as a PNG: the river in lon/lat beside the straightened reach (estimate, std).

    A reach is some twenty times longer than wide, so in lon/lat the field is a thin ribbon; the
    straightened panels, n stretched against s, show its structure and where it is uncertain.
    ``classes`` are class limits (e.g. one parameter's GB 3838 limits), in any order; ``param``
    names the canonical parameter, for labels and units; ``track`` is the boat's (lon, lat).
    """
    fig = Figure(figsize=(14.0, 7.5), dpi=120, layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[_map_share(frame), 1.7])
    ax_map = left.add_subplot()
    ax_est, ax_std = right.subplots(2, 1, sharex=True)
    cmap, norm = _colours(classes)
    mesh = ax_map.pcolormesh(*_corners_lonlat(frame, grid), grid.estimate, cmap=cmap, norm=norm)
    ax_est.pcolormesh(grid.s_edges, grid.n_edges, grid.estimate.T, cmap=cmap, norm=norm)
    spread = ax_std.pcolormesh(grid.s_edges, grid.n_edges, grid.std.T, cmap="magma")
    _draw_lonlat(ax_map, frame, track)
    _draw_strip(ax_est, frame, grid, "estimate (colours as in the lon/lat map)")
    _draw_strip(ax_std, frame, grid, "kriging standard deviation, dots: boat track")
    _chainage_posts(ax_map, frame, ax_std.get_xticks())
    if track is not None:
        ax_std.plot(*frame.lonlat_to_river(*track), ",", color="w", alpha=0.5)
    label = _label(param)
    bar = right.colorbar(mesh, ax=ax_est, label=label, extend="both" if norm else "neither")
    if norm is not None:
        bar.set_ticks(norm.boundaries)
    right.colorbar(spread, ax=ax_std, label=f"std, {label}")
    ax_std.set_xlabel("chainage s (m), downstream →")
    fig.suptitle(title)
    fig.savefig(path, format="png")


def _corners_lonlat(frame: RiverFrame, grid: RiverGrid) -> tuple[FloatArray, FloatArray]:
    """Lon/lat of the cells' corners, so each cell is drawn as its own quadrilateral."""
    ss, nn = np.meshgrid(np.clip(grid.s_edges, 0.0, frame.length), grid.n_edges, indexing="ij")
    lon, lat = frame.local.to_lonlat(*frame.from_river(ss.ravel(), nn.ravel()))
    return lon.reshape(ss.shape), lat.reshape(ss.shape)


def _map_share(frame: RiverFrame) -> float:
    """Width of the lon/lat panel against the strips': as the reach's own east-west extent needs."""
    extent = np.ptp(frame.xy, axis=0) + 2.0 * float(frame.widths.max())
    return float(np.clip(1.2 * extent[0] / extent[1], 0.5, 1.4))


def _draw_lonlat(ax: Axes, frame: RiverFrame, track: tuple[ArrayLike, ArrayLike] | None) -> None:
    for bank in frame.bank_lines_lonlat():
        ax.plot(bank[:, 0], bank[:, 1], color="0.2", lw=0.7)
    if track is not None:
        ax.plot(*track, color="k", lw=0.3, alpha=0.5)
    lat0 = float(np.mean(frame.centerline_lonlat[:, 1]))
    ax.set_aspect(1.0 / np.cos(np.radians(lat0)))
    ax.margins(0.04)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(axis="x", labelrotation=30)
    ax.set(xlabel="longitude (°E)", ylabel="latitude (°N)",
           title="river in lon/lat" + (", grey: boat track" if track is not None else ""))


def _chainage_posts(ax: Axes, frame: RiverFrame, chainages: FloatArray) -> None:
    """Mark the strips' chainage ticks on the lon/lat map, on the right bank, to tie the views."""
    s = chainages[(chainages >= 0.0) & (chainages <= frame.length)]
    lon, lat = frame.local.to_lonlat(*frame.from_river(s, -frame.width_at(s)))
    east = frame.downstream_unit(s)[:, 1] >= 0.0  # heading north, the right bank lies east
    ax.plot(lon, lat, ".", color="0.3", ms=2)
    for x, y, value, to_east in zip(lon, lat, s, east):
        ax.annotate(f"{value:.0f} m", (x, y), fontsize="x-small", color="0.3", va="center",
                    ha="left" if to_east else "right", xytext=(3 if to_east else -3, 0),
                    textcoords="offset points")


def _draw_strip(ax: Axes, frame: RiverFrame, grid: RiverGrid, what: str) -> None:
    half = frame.width_at(grid.s) / 2.0
    for side in (1.0, -1.0):
        ax.plot(grid.s, side * half, color="0.2", lw=0.7)
    ax.set_xlim(0.0, frame.length)
    ax.set_ylim(-half.max() - 1.0, half.max() + 1.0)
    ax.set(ylabel="n (m), left bank +", title=f"straightened reach: {what}")


def _colours(classes: Sequence[float] | None) -> tuple[Colormap, BoundaryNorm | None]:
    """Continuous viridis, or one colour per class between sorted, de-duplicated limits."""
    if classes is None:
        return colormaps["viridis"], None
    limits = np.unique(np.asarray(classes, float))
    cmap = colormaps["viridis"].resampled(limits.size + 1)
    return cmap, BoundaryNorm(limits, cmap.N, extend="both")


def _label(param: str | None) -> str:
    if param is None:
        return "estimate"
    return f"{param} ({UNITS[param]})" if param in UNITS else param
