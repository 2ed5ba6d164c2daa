"""The dashboard attaching to a boat (the demo's twin behind ``riverpatrol twin serve``), watching
it, its live anomaly signals on the map and in their list, pausing it and letting it go."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from riverpatrol.simulate_mavlink import free_udp_port
from riverpatrol.station.server import SCENARIOS
from tests.station.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture
def boat_port() -> Iterator[int]:
    port = free_udp_port()
    boat = subprocess.Popen([sys.executable, "-m", "riverpatrol", "twin", "serve", str(SCENARIOS / "dongmen-demo.json"),
                             "--mavlink", f"udpout:127.0.0.1:{port}", "--speedup", "30"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield port
    boat.terminate()
    boat.wait(30)


def test_attach_a_boat_see_its_anomaly_signals_pause_and_detach(page: Any, boat_port: int) -> None:
    page.wait_for_selector("#attach-scenario option", state="attached")
    if page.text_content("#btn-lang") == "中文":
        page.click("#btn-lang")  # this test reads the Chinese texts
    page.fill("#attach-url", f"udpin:127.0.0.1:{boat_port}")
    page.select_option("#attach-scenario", "dongmen-demo")
    page.check("#attach-start")
    page.click("#btn-attach")
    page.wait_for_function("document.getElementById('patrol-status').textContent === '巡查中'", timeout=60_000)
    assert page.text_content("#attach-error") == ""
    page.wait_for_selector("#sonde-table td[data-param=nh3n]", timeout=30_000)  # readings over NAMED_VALUE_FLOAT
    assert page.is_enabled("#btn-detach") and page.is_hidden("#video-mjpeg")  # no video over MAVLink
    page.wait_for_selector("#anomaly-table tbody tr", timeout=180_000)
    assert page.query_selector(".anomaly-icon") is not None
    page.screenshot(path=str(ARTIFACTS / "attached.png"), full_page=True, timeout=120_000)

    page.click("#btn-pause", timeout=120_000)  # a busy machine makes the page slow to answer
    page.wait_for_function("document.getElementById('live-mode').textContent === 'HOLD'", timeout=30_000)
    page.click("#btn-detach", timeout=120_000)
    page.wait_for_function("document.getElementById('patrol-status').textContent === '已断开'", timeout=120_000)
    assert page.is_disabled("#btn-detach") and page.is_disabled("#btn-pause")
    page.wait_for_function("document.querySelector('#history-table tbody tr').textContent.includes('MAVLink')")
