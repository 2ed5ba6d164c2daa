"""Patrol reports from a patrol directory: PDF pages with Chinese text, and the same in HTML."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from riverpatrol.report import from_directory, write_report
from riverpatrol.report.figures import has_cjk_font


@pytest.fixture(scope="module")
def patrol_dir(patrol_log: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "reach"
    out.mkdir()
    shutil.copy(patrol_log, out / "patrol.sqlite")
    return out


def test_html_report_has_every_section(patrol_dir: Path, tmp_path: Path) -> None:
    data = from_directory(patrol_dir)
    page = write_report(data, tmp_path / "r.html", "en").read_text(encoding="utf-8")
    assert (patrol_dir / "analysis" / "summary.json").is_file()  # made on the way
    for section in ("Water class by segment", "Parameters along the river", "Suspected outfalls and their evidence",
                    "Data quality"):
        assert section in page
    assert page.count("<tr>") >= len(data.segments) + 1
    assert page.count("data:image/png;base64,") >= 3 and "data:image/jpeg;base64," in page
    best = data.findings[0]
    assert f"{best['chainage_m']:.0f} ± " in page


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_pdf_report_renders_with_chinese_text(patrol_dir: Path, tmp_path: Path) -> None:
    pdf = write_report(from_directory(patrol_dir), tmp_path / "r.pdf", "zh")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "分段水质类别" in text and "疑似排口及证据" in text and "数据质量" in text
    assert has_cjk_font()
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, capture_output=True)
    assert len(list(tmp_path.glob("page*.png"))) >= 2


def test_a_report_must_be_pdf_or_html(patrol_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pdf or .html"):
        write_report(from_directory(patrol_dir), tmp_path / "r.docx", "en")
