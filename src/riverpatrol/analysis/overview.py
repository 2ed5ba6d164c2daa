"""The one-picture overview of a patrol: the river coloured by GB 3838 class per segment, the
boat's track, and the suspected outfalls with their ranks. What a river chief looks at first."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from riverpatrol.analysis.segments import CLASS_COLOURS
from riverpatrol.analysis.standards import CLASS_NAMES_EN

TRACK_POINTS = 2000  # the track drawn through at most this many of its points: on a 10 km reach
# patrolled both ways they are 10 m apart, about a pixel, and placing the legend tests every point drawn

def plot_overview(segments: dict[str, Any], track_lonlat: tuple[Any, Any], findings: dict[str, Any],
                  path: Path, *, title: str) -> None:
    """PNG of class-coloured segments (GeoJSON), the track and ranked findings (GeoJSON)."""
    fig = Figure(figsize=(9, 9), dpi=110)
    ax = fig.add_subplot()
    rings = [Polygon(f["geometry"]["coordinates"][0], closed=True) for f in segments["features"]]
    ax.add_collection(PatchCollection(rings, facecolors=[f["properties"]["fill"] for f in segments["features"]],
                                      edgecolors="#555555", linewidths=0.3))
    seen = {f["properties"]["class"] for f in segments["features"]}
    lon, lat = (np.asarray(a)[:: max(1, len(a) // TRACK_POINTS)] for a in track_lonlat)
    ax.plot(lon, lat, color="#0d47a1", linewidth=0.9, label="track", zorder=3)
    for rank, feature in enumerate(findings["features"], start=1):
        flon, flat = feature["geometry"]["coordinates"]
        conf = feature["properties"]["confidence"]
        ax.plot(flon, flat, marker="v", markersize=11, color="#d50000", markeredgecolor="white", zorder=4)
        ax.annotate(f"#{rank} {conf:.2f}", (flon, flat), textcoords="offset points", xytext=(8, 4),
                    fontsize=9, color="#b71c1c", weight="bold")
    handles = [Patch(facecolor=CLASS_COLOURS[c], edgecolor="#555555", label=CLASS_NAMES_EN[c]) for c in sorted(seen)]
    handles.append(Line2D([], [], color="#0d47a1", label="boat track"))
    handles.append(Line2D([], [], marker="v", color="#d50000", linestyle="", label="suspected outfall"))
    ax.legend(handles=handles, loc="best", fontsize=8)
    ax.set_aspect(1.0 / math.cos(math.radians(float(np.mean(lat)))))  # metres east = metres north
    ax.autoscale_view()
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(title)
    ax.ticklabel_format(useOffset=False)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.07, top=0.95)  # fixed: a layout engine measures every label
    fig.savefig(path, pil_kwargs={"compress_level": 1})  # fast zlib: the default level took longer than drawing
