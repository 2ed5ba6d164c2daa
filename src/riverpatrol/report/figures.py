"""The report's figures (matplotlib, no pyplot state, so the server can draw from any thread).

Chinese labels need a CJK font: Noto Sans CJK (Debian's fonts-noto-cjk) is used where installed,
and a report in English needs nothing beyond matplotlib's own fonts.
"""

from __future__ import annotations

import io
import threading
from functools import cache
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import findSystemFonts, fontManager
from matplotlib.patches import Patch, Polygon

from riverpatrol.analysis.segments import CLASS_COLOURS
from riverpatrol.analysis.standards import CLASS_NAMES_EN, CLASS_NAMES_ZH, GB3838
from riverpatrol.report.data import ReportData
from riverpatrol.scenario import UNITS


def _cjk_font() -> str | None:
    """A CJK sans font's family name, registering Debian's Noto CJK files if the font cache
    predates their installation."""
    for path in findSystemFonts():
        if ("NotoSansCJK-Regular" in path or "NotoSansCJK-Bold" in path) and not any(f.fname == path for f in fontManager.ttflist):
            fontManager.addfont(path)
    return next((f.name for f in fontManager.ttflist if "CJK" in f.name and "Sans" in f.name), None)


@cache  # looking the fonts up takes seconds: only when a figure is first drawn
def fonts() -> dict[str, Any]:
    """matplotlib settings for every figure: the CJK font first where there is one."""
    cjk = _cjk_font()
    return {"font.family": "sans-serif", "font.sans-serif": [*([cjk] if cjk else []), "DejaVu Sans"],
            "font.size": 9, "pdf.fonttype": 42}
WIDE = (7.5, 3.2)
DRAWING = threading.RLock()
"""matplotlib (and the FreeType fonts under it) is not thread-safe: the station draws reports,
evidence and the analysis's maps from several threads, so all of it holds this lock."""


def has_cjk_font() -> bool:
    return "CJK" in fonts()["font.sans-serif"][0]


def class_name(water_class: int, lang: str) -> str:
    return (CLASS_NAMES_ZH if lang == "zh" else CLASS_NAMES_EN)[water_class]


def png(figure: Figure, dpi: int = 130) -> bytes:
    buffer = io.BytesIO()
    with DRAWING, matplotlib.rc_context(fonts()):
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def _figure(size: tuple[float, float]) -> Figure:
    with matplotlib.rc_context(fonts()):
        return Figure(figsize=size, layout="constrained")


def map_figure(data: ReportData, lang: str) -> Figure:
    """Segments filled by class, the boat's track, findings numbered by rank."""
    figure = _figure((7.5, 5.0))
    with matplotlib.rc_context(fonts()):
        ax = figure.add_subplot()
        for seg in data.segments:
            ax.add_patch(Polygon(seg["ring"], closed=True, facecolor=CLASS_COLOURS[seg["class"]], edgecolor="none", alpha=0.85))
        if len(data.track):
            ax.plot(data.track[:, 0], data.track[:, 1], color="#14384f", lw=0.6)
        for f in data.findings:
            ax.plot(f["lon"], f["lat"], "o", ms=11, mfc="#c62828", mec="white")
            ax.annotate(str(f["rank"]), (f["lon"], f["lat"]), ha="center", va="center", color="white", fontsize=7,
                        fontweight="bold")
        lat0 = float(np.mean(data.track[:, 1])) if len(data.track) else 0.0
        ax.set_aspect(1.0 / np.cos(np.radians(lat0)), adjustable="datalim")
        ax.autoscale_view()
        ax.set_xlabel("经度 lon" if lang == "zh" else "longitude")
        ax.set_ylabel("纬度 lat" if lang == "zh" else "latitude")
        present = sorted({seg["class"] for seg in data.segments})
        ax.legend(handles=[Patch(color=CLASS_COLOURS[c], label=class_name(c, lang)) for c in present],
                  loc="best", fontsize=7)
        ax.ticklabel_format(useOffset=False)
    return figure


def parameters_figure(data: ReportData, params: list[str], lang: str) -> Figure:
    """Parameters against chainage, one panel each; points coloured by that item's class, its class
    limits dashed."""
    figure = _figure((7.5, 1.9 * len(params) + 0.4))
    with matplotlib.rc_context(fonts()):
        axes = figure.subplots(len(params), 1, sharex=True, squeeze=False)[:, 0]
        for ax, param in zip(axes, params):
            rows = [s for s in data.samples if param in s["values"] and s["chainage_m"] is not None]
            y = [s["values"][param] for s in rows]
            colours = [CLASS_COLOURS[s["classes"].get(param, 0)] if param in GB3838 else "#14384f" for s in rows]
            ax.scatter([s["chainage_m"] for s in rows], y, s=3, c=colours, linewidths=0)
            limit = GB3838.get(param)
            if limit and limit.kind != "range" and y:
                for k, bound in enumerate(limit.bounds, start=1):
                    if min(y) * 0.5 <= bound <= max(y) * 1.5:
                        ax.axhline(bound, color=CLASS_COLOURS[k], lw=0.8, ls="--")
            ax.set_ylabel(f"{param} ({UNITS[param]})")
        axes[-1].set_xlabel("里程 chainage (m)" if lang == "zh" else "chainage (m)")
    return figure


def evidence_figure(data: ReportData, finding: dict[str, Any], lang: str) -> Figure:
    """The finding's strongest parameter near it, against chainage, with its place and uncertainty."""
    params = finding["evidence"].get("parameters") or {}
    param = max(params, key=lambda p: abs(params[p].get("z", 0.0))) if params else "conductivity"
    figure = _figure((4.2, 2.4))
    with matplotlib.rc_context(fonts()):
        ax = figure.add_subplot()
        near = [s for s in data.samples if s["chainage_m"] is not None and param in s["values"]
                and abs(s["chainage_m"] - finding["chainage_m"]) <= 150.0]
        ax.scatter([s["chainage_m"] for s in near], [s["values"][param] for s in near], s=3, c="#14384f", linewidths=0)
        ax.axvspan(finding["chainage_m"] - finding["uncertainty_m"], finding["chainage_m"] + finding["uncertainty_m"],
                   color="#c62828", alpha=0.15)
        ax.axvline(finding["chainage_m"], color="#c62828", lw=1)
        ax.set_xlabel("里程 chainage (m)" if lang == "zh" else "chainage (m)")
        ax.set_ylabel(f"{param} ({UNITS.get(param, '')})")
    return figure


def sonar_figure(port: np.ndarray, starboard: np.ndarray, range_m: float, lang: str) -> Figure:
    """Side-scan waterfall: port on the left (mirrored), starboard on the right, time upwards."""
    figure = _figure((4.2, 2.4))
    with matplotlib.rc_context(fonts()):
        ax = figure.add_subplot()
        image = np.hstack([port[:, ::-1], starboard])
        ax.imshow(image, cmap="copper", aspect="auto", origin="lower", extent=(-range_m, range_m, 0, len(image)),
                  vmin=0, vmax=max(1.0, float(np.percentile(image, 99.5))))
        ax.set_xlabel("左舷 ← 距离 (m) → 右舷" if lang == "zh" else "port ← range (m) → starboard")
        ax.set_yticks([])
    return figure
