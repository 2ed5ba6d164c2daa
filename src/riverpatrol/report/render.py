"""Reports out: the same sections as self-contained HTML (images inline) or as A4 PDF pages.

Both are built from one list of blocks (heading, paragraph, table, image), so the two formats
never drift apart. The PDF is laid out with matplotlib (text stays text, in Noto Sans CJK for
Chinese); figures are placed as images.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import matplotlib
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from PIL import Image

from riverpatrol.report import figures
from riverpatrol.report.data import ReportData

Lang = Literal["zh", "en"]
_A4 = (8.27, 11.69)
_MARGIN = 0.06


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Picture:
    data: bytes  # PNG or JPEG
    mime: str
    width: float = 1.0  # share of the page width
    caption: str = ""


Block = Heading | Paragraph | Table | Picture


def write_report(data: ReportData, out: Path, lang: Lang = "zh") -> Path:
    """Write ``out`` as PDF or HTML, by its suffix."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise ValueError(f"{out}: the report is written as .pdf or .html, not {out.suffix or 'no suffix'!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with figures.DRAWING:
        blocks = report_blocks(data, lang)
        if suffix == ".pdf":
            _write_pdf(blocks, out, data.title)
    if suffix != ".pdf":
        out.write_text(_html(blocks, data.title, lang), encoding="utf-8")
    return out


def report_blocks(data: ReportData, lang: Lang) -> list[Block]:
    zh = lang == "zh"

    def w(chinese: str, english: str) -> str:
        return chinese if zh else english

    patrol = data.summary.get("patrol", {})
    blocks: list[Block] = [
        Heading(w(f"河道巡查报告：{data.title}", f"River patrol report: {data.title}")),
        Paragraph(w("开始时间", "Started") + f": {data.meta.get('started_utc') or patrol.get('started_utc') or '–'}  ·  "
                  + w("时长", "Duration") + f": {patrol.get('duration_s', 0) / 60:.1f} min  ·  "
                  + w("水质样本", "Sonde samples") + f": {len(data.samples)}  ·  "
                  + w("疑似排口", "Suspected outfalls") + f": {len(data.findings)}"),
        Picture(figures.png(figures.map_figure(data, lang)), "image/png", 0.9,
                w("河段水质类别（GB 3838-2002）、航迹与疑似排口", "GB 3838-2002 class by segment, track and suspected outfalls")),
        Heading(w("分段水质类别", "Water class by segment")),
        Table([w("起点 (m)", "from (m)"), w("终点 (m)", "to (m)"), w("类别", "class"), w("定类项目", "limiting"),
               w("定类项目均值", "limiting mean"), w("样本数", "samples")],
              [[f"{s['start_m']:.0f}", f"{s['end_m']:.0f}", figures.class_name(s["class"], lang), s["limiting"] or "–",
                ", ".join(f"{p} {s['mean'][p]:.3g}" for p in s["limiting"].split(",") if p in s["mean"]) or "–",
                str(s["samples"])] for s in data.segments]),
        Heading(w("参数沿程变化", "Parameters along the river")),
    ]
    measured = [p for p in ("nh3n", "tp", "codmn", "cod", "do", "ph", "conductivity", "turbidity", "temperature")
                if any(p in s["values"] for s in data.samples)]
    for k in range(0, len(measured), 3):
        blocks.append(Picture(figures.png(figures.parameters_figure(data, measured[k:k + 3], lang)), "image/png", 0.9,
                              w("虚线：GB 3838 各类限值；点色：该项目类别", "dashed: GB 3838 class limits; colour: the item's class")))
    blocks.append(Heading(w("疑似排口及证据", "Suspected outfalls and their evidence")))
    if not data.findings:
        blocks.append(Paragraph(w("本次巡查未发现疑似排口。", "No suspected outfall on this patrol.")))
    for f in data.findings:
        blocks += _finding_blocks(data, f, lang)
    blocks += _quality_blocks(data, lang)
    return blocks


def _finding_blocks(data: ReportData, f: dict, lang: Lang) -> list[Block]:
    zh = lang == "zh"
    bank = {"left": "左岸", "right": "右岸"}.get(f["bank"], f["bank"]) if zh else f["bank"]
    status = {"open": "待核实", "confirmed": "已确认", "dismissed": "已排除"}.get(f["status"], f["status"]) if zh else f["status"]
    params = f["evidence"].get("parameters") or {}
    words = [f"{p} {v['z']:+.0f}σ" for p, v in sorted(params.items(), key=lambda kv: -abs(kv[1].get("z", 0)))[:4]]
    if "sonar" in f["evidence"]:
        words.append(("声呐目标" if zh else "sonar target") + f" ({f['evidence']['sonar']['pings']} pings)")
    if "camera" in f["evidence"]:
        words.append(("摄像变色水体" if zh else "camera: discoloured water") + f" ({f['evidence']['camera']['frames']})")
    blocks: list[Block] = [
        Paragraph(f"#{f['rank']}  " + ("里程" if zh else "chainage") + f" {f['chainage_m']:.0f} ± {f['uncertainty_m']:.1f} m, "
                  + f"{bank}  ·  " + ("置信度" if zh else "confidence") + f" {f['confidence']:.2f}  ·  {status}  ·  "
                  + ", ".join(words) + ("".join(f"; {n}" for n in f["evidence"].get("notes", [])))),
        Picture(figures.png(figures.evidence_figure(data, f, lang)), "image/png", 0.48,
                "水质证据" if zh else "water-quality evidence"),
    ]
    snapshot = data.snapshot(f)
    if snapshot:
        blocks.append(Picture(snapshot, "image/jpeg", 0.48, "摄像画面" if zh else "camera frame"))
    sonar = data.sonar(f)
    if sonar:
        blocks.append(Picture(figures.png(figures.sonar_figure(*sonar, lang)), "image/png", 0.48,
                              "侧扫声呐" if zh else "side-scan sonar"))
    return blocks


def _quality_blocks(data: ReportData, lang: Lang) -> list[Block]:
    zh = lang == "zh"
    quality = data.summary.get("data_quality", {})
    rows = [[p, str(q["samples"]), f"{100 * q['flagged_fraction']:.1f} %",
             ", ".join(f"{k} {v}" for k, v in q.get("flags", {}).items() if k != "N" and v) or "–"]
            for p, q in quality.get("parameters", {}).items()]
    gaps = quality.get("gaps", [])
    return [
        Heading("数据质量" if zh else "Data quality"),
        Table(["参数" if zh else "parameter", "样本" if zh else "samples", "标记比例" if zh else "flagged",
               "HJ 212 标记" if zh else "HJ 212 flags"], rows),
        Paragraph((f"数据中断 {len(gaps)} 处" if zh else f"{len(gaps)} gaps in the sonde record")
                  + "".join(f"; {a:.0f}–{b:.0f} s" for a, b in gaps[:10])),
    ]


# ---- HTML --------------------------------------------------------------------------------------
def _html(blocks: list[Block], title: str, lang: Lang) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f"<h{1 if not parts else 2}>{html.escape(block.text)}</h{1 if not parts else 2}>")
        elif isinstance(block, Paragraph):
            parts.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in block.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            src = f"data:{block.mime};base64,{base64.b64encode(block.data).decode()}"
            parts.append(f'<figure style="width:{block.width * 100:.0f}%"><img src="{src}" alt="">'
                         f"<figcaption>{html.escape(block.caption)}</figcaption></figure>")
    style = ("body{font-family:'Noto Sans CJK SC',system-ui,sans-serif;max-width:60em;margin:2em auto;color:#1d2733}"
             "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccd5dd;padding:2px 6px}"
             "figure{display:inline-block;margin:.5em 1% .5em 0;vertical-align:top}img{width:100%}"
             "figcaption{font-size:12px;color:#5b7083}")
    return (f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")


# ---- PDF ---------------------------------------------------------------------------------------
class _Pages:
    """A cursor down A4 pages: blocks are placed top to bottom, a new page when one is full."""

    def __init__(self, pdf: PdfPages) -> None:
        self.pdf = pdf
        self.figure: Figure | None = None
        self.y = 0.0
        self.row_x = _MARGIN  # side-by-side pictures share a row
        self.row_height = 0.0

    def need(self, height: float) -> None:
        if self.figure is None or self.y - height < _MARGIN:
            self.flush()
            self.figure = Figure(figsize=_A4)
            self.y = 1.0 - _MARGIN

    def flush(self) -> None:
        self.end_row()
        if self.figure is not None:
            self.pdf.savefig(self.figure)
        self.figure = None

    def end_row(self) -> None:
        if self.row_height:
            self.y -= self.row_height + 0.01
        self.row_x, self.row_height = _MARGIN, 0.0

    def text(self, text: str, size: float, bold: bool = False) -> None:
        self.end_row()
        lines = _wrap(text, 95 if size < 11 else 60)
        height = len(lines) * size * 1.5 / 72 / _A4[1]
        self.need(height)
        assert self.figure is not None
        self.figure.text(_MARGIN, self.y, "\n".join(lines), fontsize=size, va="top", weight="bold" if bold else "normal",
                         linespacing=1.4)
        self.y -= height + 0.008

    def table(self, block: Table) -> None:
        self.end_row()
        chunk = 40
        for start in range(0, max(len(block.rows), 1), chunk):
            rows = block.rows[start:start + chunk] or [["–"] * len(block.header)]
            height = (len(rows) + 1) * 0.016
            self.need(height)
            assert self.figure is not None
            ax = self.figure.add_axes((_MARGIN, self.y - height, 1 - 2 * _MARGIN, height))
            ax.axis("off")
            table = ax.table(cellText=rows, colLabels=block.header, loc="upper left", cellLoc="left")
            table.auto_set_font_size(False)
            table.set_fontsize(7.5)
            self.y -= height + 0.012

    def picture(self, block: Picture) -> None:
        image = np.asarray(Image.open(io.BytesIO(block.data)).convert("RGB"))
        caption = 0.018 if block.caption else 0.0
        width = block.width * (1 - 2 * _MARGIN)
        height = width * image.shape[0] / image.shape[1] * _A4[0] / _A4[1] + caption
        if height > 1 - 2 * _MARGIN:  # taller than a page: shrink to fit
            width *= (1 - 2 * _MARGIN - caption) / (height - caption)
            height = 1 - 2 * _MARGIN
        if self.row_x + width > 1 - _MARGIN + 1e-6:
            self.end_row()
        if self.figure is None or self.y - height < _MARGIN:
            self.end_row()
            self.need(height)
        assert self.figure is not None
        ax = self.figure.add_axes((self.row_x, self.y - height + caption, width, height - caption))
        ax.imshow(image)
        ax.axis("off")
        if block.caption:
            self.figure.text(self.row_x, self.y - height + 0.004, block.caption, fontsize=7.5, color="#5b7083")
        self.row_x += width + 0.02
        self.row_height = max(self.row_height, height)


def _write_pdf(blocks: list[Block], out: Path, title: str) -> None:
    with matplotlib.rc_context(figures.fonts()), PdfPages(out, metadata={"Title": title}) as pdf:
        pages = _Pages(pdf)
        for k, block in enumerate(blocks):
            if isinstance(block, Heading):
                pages.text(block.text, 15 if k == 0 else 12, bold=True)
            elif isinstance(block, Paragraph):
                pages.text(block.text, 9)
            elif isinstance(block, Table):
                pages.table(block)
            else:
                pages.picture(block)
        pages.flush()


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns, a CJK character counting two."""
    lines, line, used = [], "", 0
    for char in text:
        cost = 2 if ord(char) > 0x2E80 else 1
        if used + cost > width:
            cut = line.rfind(" ")
            if cut > width // 2:
                lines.append(line[:cut])
                line = line[cut + 1:]
                used = sum(2 if ord(c) > 0x2E80 else 1 for c in line)
            else:
                lines.append(line)
                line, used = "", 0
        line += char
        used += cost
    return [*lines, line]
