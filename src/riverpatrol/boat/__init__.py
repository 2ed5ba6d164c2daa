"""The boat side on real links: ``riverpatrol boat --config boat.toml``."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from riverpatrol.boat.config import BoatConfig, ConfigError, load_config
from riverpatrol.boat.runner import AutopilotFeed, BoatError, BoatProcess, BoatSummary
from riverpatrol.scenario import Scenario

__all__ = ["AutopilotFeed", "BoatConfig", "BoatError", "BoatProcess", "BoatSummary", "ConfigError", "load_config", "run_boat"]


def run_boat(config: BoatConfig, river: Scenario, *, autopilot: AutopilotFeed | None = None,
             patrol: bool = False, speedup: float = 1.0,
             report: Callable[[str], None] = lambda _: None) -> BoatSummary:
    """Run until the patrol is done, the config's duration is up or SIGINT/SIGTERM; the log is
    closed cleanly either way."""

    async def main() -> BoatSummary:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        process = BoatProcess(config, river, autopilot=autopilot, patrol=patrol, speedup=speedup, report=report)
        return await process.run(stop)

    return asyncio.run(main())
