"""PatrolLogWriter.attach: a second process adds events to a log another process is writing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from riverpatrol.patrollog import PatrolLog, PatrolLogWriter


def test_two_processes_write_one_log(tmp_path: Path) -> None:
    path = tmp_path / "patrol.sqlite"
    other = textwrap.dedent(f"""
        from riverpatrol.patrollog import PatrolLogWriter
        with PatrolLogWriter.attach({str(path)!r}) as log:
            for i in range(200):
                log.event(float(i), "waypoint_reached", seq=i)
    """)
    with PatrolLogWriter(path, {"source": "test"}) as log:
        child = subprocess.Popen([sys.executable, "-c", other])
        for i in range(200):
            t = np.arange(i * 10, i * 10 + 10, dtype=float)
            log.positions(t, t, t, t, t, t)
        assert child.wait(timeout=60) == 0
    with PatrolLog(path) as read:
        assert read.count("position") == 2000
        assert [e.detail["seq"] for e in read.records("event")] == list(range(200))


def test_attach_needs_an_existing_log(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        PatrolLogWriter.attach(tmp_path / "none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()
