"""The dashboard in a real browser (Debian's Chromium through Playwright) against `riverpatrol serve`:
start a patrol at speedup, watch the boat, the video and the sonde, review a finding, switch the
language, download the report. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.station.conftest import ARTIFACTS, Station

pytestmark = pytest.mark.browser
SPEEDUP = 30  # the short reach's ~10 min patrol in about 20 s


def _video_signature(page: Any) -> str:
    """The stamped bar at the top of the current video frame, as a string of its pixels."""
    return page.evaluate("""() => {
        const img = document.getElementById('video-mjpeg');
        if (!img.naturalWidth) return '';
        const canvas = document.createElement('canvas');
        canvas.width = 240; canvas.height = 22;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0, 240, 22, 0, 0, 240, 22);
        return Array.from(ctx.getImageData(0, 0, 240, 22).data).join(',');
    }""")


def _changes(read: Any, timeout_s: float = 30.0) -> tuple[Any, Any]:
    first = read()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = read()
        if now and now != first:
            return first, now
    raise AssertionError(f"did not change from {first!r:.80}")


def test_watch_a_patrol_review_a_finding_and_download_the_report(page: Any, server: Station, short_scenario: dict,
                                                                 tmp_path: Path) -> None:
    scenario = tmp_path / "short-reach.json"
    scenario.write_text(json.dumps(short_scenario))
    page.wait_for_selector("#scenario-select option", state="attached")
    page.set_input_files("#scenario-file", str(scenario))
    page.fill("#speedup", str(SPEEDUP))
    page.click("#btn-start")
    page.wait_for_function("document.getElementById('patrol-status').textContent === '巡查中'")

    position = lambda: page.text_content("#live-position")  # noqa: E731
    before, after = _changes(lambda: (position() or "–").replace("–", ""))
    assert before != after  # the boat moved
    conductivity = lambda: page.text_content("#sonde-table td[data-param=conductivity]") if page.query_selector(  # noqa: E731
        "#sonde-table td[data-param=conductivity]") else ""
    _changes(conductivity)  # sonde readings update
    page.wait_for_function("document.getElementById('video-mjpeg').naturalWidth > 0", timeout=30_000)
    _changes(lambda: _video_signature(page))  # video frames arrive and advance (their stamps differ)
    assert page.text_content("#live-link").startswith("正常")
    page.screenshot(path=str(ARTIFACTS / "live.png"))

    page.wait_for_function("document.getElementById('patrol-status').textContent === '已完成'", timeout=120_000)
    page.wait_for_selector("#findings-table tbody tr")
    page.wait_for_function("""() => {  // the evidence plot, the sonar snippet and the camera frame arrive
        const images = [...document.querySelectorAll('#findings-table tbody tr:first-child img')];
        return images.length === 3 && images.every((i) => i.complete && i.naturalWidth > 0);
    }""", timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "finished.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept("zhang"))
    page.click("#findings-table tbody tr:first-child button[data-action=confirm]")
    page.wait_for_function("document.querySelector('#findings-table tbody tr:first-child .status').textContent === '已确认'")
    finding_id = page.get_attribute("#findings-table tbody tr:first-child", "data-finding")
    trail = json.load(urllib.request.urlopen(f"{server.base}/api/findings/{finding_id}/reviews"))
    assert [(r["action"], r["operator"]) for r in trail] == [("confirm", "zhang")]

    page.click("#btn-lang")
    assert page.text_content("h1") == "River patrol station"
    page.wait_for_function("document.querySelector('#findings-table tbody tr:first-child .status').textContent === 'confirmed'")
    page.screenshot(path=str(ARTIFACTS / "english.png"), full_page=True)

    with page.expect_download(timeout=120_000) as download:
        page.click("#btn-report")
    saved = tmp_path / "report.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-"


def test_after_the_station_is_killed_and_restarted_the_page_catches_up_without_gaps(
        page: Any, server: Station, short_scenario: dict) -> None:
    body = json.dumps({**short_scenario, "name": "killed"}).encode()
    boundary = "riverpatrol-test"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.json\"\r\n"
            f"Content-Type: application/json\r\n\r\n").encode() + body + (
            f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"speedup\"\r\n\r\n5\r\n--{boundary}--\r\n").encode()
    request = urllib.request.Request(f"{server.base}/api/patrols/upload", form,
                                     {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    patrol_id = json.load(urllib.request.urlopen(request))["id"]
    page.goto(f"{server.base}/?patrol={patrol_id}")
    page.wait_for_function("window.rp.layers.track.getLatLngs().length > 50", timeout=60_000)
    server.stop(kill=True)  # mid-patrol, no chance to clean up
    drawn_before = page.evaluate("window.rp.layers.track.getLatLngs().length")
    server.start()
    page.wait_for_function("document.getElementById('patrol-status').classList.contains('interrupted')", timeout=60_000)
    stored = json.load(urllib.request.urlopen(f"{server.base}/api/patrols/{patrol_id}/track"))
    samples = json.load(urllib.request.urlopen(f"{server.base}/api/patrols/{patrol_id}/samples"))
    assert len(stored) >= drawn_before  # nothing the browser was shown was lost
    page.wait_for_function(f"window.rp.layers.track.getLatLngs().length === {sum(p[1] is not None for p in stored)}")
    assert page.evaluate("window.rp.samples.map((s) => s.t)") == [s["t"] for s in samples]  # no gap, no repeat
    page.screenshot(path=str(ARTIFACTS / "after-restart.png"))
