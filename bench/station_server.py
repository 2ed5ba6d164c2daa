"""A station for the station benchmarks: `riverpatrol serve`'s app under uvicorn on a free loopback
port, with a throwaway data directory and SQLite store; stopped (patrols included) on exit."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


@contextmanager
def running_station() -> Iterator[int]:
    """Yields the port the station listens on."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RIVERPATROL_DATA_DIR"] = tmp
        os.environ.pop("RIVERPATROL_DATABASE_URL", None)
        from riverpatrol.station.server import create_app
        from riverpatrol.station.store import Store

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(Store()), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            yield port
        finally:
            server.should_exit = True
            thread.join(60)
