"""A whole-river map as a PNG: the river in lon/lat beside the straightened reach (estimate, std).

Drawn on a fixed layout (no layout engine: it measured every label of every axis again on each
save) with the straightened panels as images of the regular (s, n) grid, so a map of a 10 km reach
takes a fraction of a second."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, Colormap
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from riverpatrol.analysis.mapping import FloatArray, RiverGrid
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.scenario import UNITS

_BOTTOM, _TOP, _LEFT, _RIGHT = 0.09, 0.89, 0.05, 0.93  # figure fractions round the panels
_GAP = 0.045  # between the lon/lat panel and the strips, and between the strips
_PNG_COMPRESSION = 1  # zlib level: at the default (6) encoding took a quarter of the drawing time


def plot_map(frame: RiverFrame, grid: RiverGrid, path: str | os.PathLike[str], *, title: str,
             classes: Sequence[float] | None = None, param: str | None = None,
             track: tuple[ArrayLike, ArrayLike] | None = None,
             track_sn: tuple[ArrayLike, ArrayLike] | None = None) -> None:
    """Draw the map as a PNG: the river in lon/lat beside the straightened reach (estimate, std).

    A reach is some twenty times longer than wide, so in lon/lat the field is a thin ribbon; the
    straightened panels, n stretched against s, show its structure and where it is uncertain.
    ``classes`` are class limits (e.g. one parameter's GB 3838 limits), in any order; ``param``
    names the canonical parameter, for labels and units; ``track`` is the boat's (lon, lat), and
    ``track_sn`` the same in river coordinates if the caller has them (else projected from ``track``).
    """
    MapFigure(frame, grid, classes=classes, track=track, track_sn=track_sn).save(grid, path, title=title, param=param)


class MapFigure:
    """One figure for the maps of several parameters on one grid (``plot_map`` for one): axes,
    ticks, banks and the track are made once, and each map swaps in its values, colour scales and
    labels before it is saved. matplotlib's axes and ticks cost more to make than to draw."""

    def __init__(self, frame: RiverFrame, grid: RiverGrid, *, classes: Sequence[float] | None = None,
                 track: tuple[ArrayLike, ArrayLike] | None = None,
                 track_sn: tuple[ArrayLike, ArrayLike] | None = None) -> None:
        self.fig = fig = Figure(figsize=(14.0, 7.5), dpi=120)
        share = _map_share(frame)
        map_width = (_RIGHT - _LEFT - _GAP) * share / (share + 1.7)
        strip_left = _LEFT + map_width + _GAP + 0.02
        strip_width = _RIGHT - strip_left - 0.04
        strip_height = (_TOP - _BOTTOM - _GAP) / 2.0
        ax_map = fig.add_axes((_LEFT + 0.02, _BOTTOM, map_width - 0.02, _TOP - _BOTTOM))
        ax_std = fig.add_axes((strip_left, _BOTTOM, strip_width, strip_height))
        ax_est = fig.add_axes((strip_left, _BOTTOM + strip_height + _GAP, strip_width, strip_height), sharex=ax_std)
        cmap, norm = _colours(classes)
        self.mesh = ax_map.pcolormesh(*_corners_lonlat(frame, grid), grid.estimate, cmap=cmap, norm=norm)
        extent = (grid.s_edges[0], grid.s_edges[-1], grid.n_edges[0], grid.n_edges[-1])
        strip = {"origin": "lower", "extent": extent, "aspect": "auto", "interpolation": "nearest"}
        self.estimate = ax_est.imshow(grid.estimate.T, cmap=cmap, norm=norm, **strip)
        self.spread = ax_std.imshow(grid.std.T, cmap="magma", **strip)
        _draw_lonlat(ax_map, frame, track)
        _draw_strip(ax_est, frame, grid, "estimate (colours as in the lon/lat map)")
        _draw_strip(ax_std, frame, grid, "kriging standard deviation, dots: boat track")
        ax_est.tick_params(labelbottom=False)
        _chainage_posts(ax_map, frame, ax_std.get_xticks())
        if track_sn is None and track is not None:
            track_sn = frame.lonlat_to_river(*track)
        if track_sn is not None:
            ax_std.plot(*track_sn, ",", color="w", alpha=0.5)
        bar_left = strip_left + strip_width + 0.01
        self.bar = fig.colorbar(self.mesh, cax=fig.add_axes((bar_left, _BOTTOM + strip_height + _GAP, 0.012, strip_height)),
                                extend="both" if norm else "neither")
        if norm is not None:
            self.bar.set_ticks(norm.boundaries)
        self.std_bar = fig.colorbar(self.spread, cax=fig.add_axes((bar_left, _BOTTOM, 0.012, strip_height)))
        ax_std.set_xlabel("chainage s (m), downstream →")
        self.title = fig.suptitle("")
        self._continuous = norm is None

    def save(self, grid: RiverGrid, path: str | os.PathLike[str], *, title: str, param: str | None = None) -> None:
        """Write ``grid`` (on the figure's grid) as a PNG titled ``title``."""
        self.mesh.set_array(grid.estimate)
        self.estimate.set_data(grid.estimate.T)
        self.spread.set_data(grid.std.T)
        if self._continuous:
            self.mesh.autoscale()
            self.estimate.set_clim(self.mesh.get_clim())
        self.spread.autoscale()
        label = _label(param)
        self.bar.set_label(label)
        self.std_bar.set_label(f"std, {label}")
        self.title.set_text(title)
        self.fig.savefig(path, format="png", pil_kwargs={"compress_level": _PNG_COMPRESSION})


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
    for bank in _bank_lines(frame):
        ax.plot(*bank, color="0.2", lw=0.7)
    if track is not None:
        ax.plot(*track, color="k", lw=0.3, alpha=0.5)
    lat0 = float(np.mean(frame.centerline_lonlat[:, 1]))
    ax.set_aspect(1.0 / np.cos(np.radians(lat0)))
    ax.margins(0.04)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(axis="x", labelrotation=30)
    ax.set(xlabel="longitude (°E)", ylabel="latitude (°N)",
           title="river in lon/lat" + (", grey: boat track" if track is not None else ""))


def _bank_lines(frame: RiverFrame, step_m: float = 5.0) -> list[tuple[FloatArray, FloatArray]]:
    """Both banks in lon/lat as each centerline segment offsets them (a corner drawn as a chord):
    a line to draw, not the exact boundary, which costs a projection of every bank point."""
    ends = np.concatenate([frame.vertex_s[1:-1] - 1e-6, frame.vertex_s])
    s = np.union1d(np.arange(0.0, frame.length, step_m), np.clip(ends, 0.0, frame.length))
    half = frame.width_at(s) / 2.0
    return [frame.local.to_lonlat(*frame.from_river(s, side * half)) for side in (1.0, -1.0)]


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
