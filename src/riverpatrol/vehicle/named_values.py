"""Sonde readings over MAVLink as NAMED_VALUE_FLOAT, the way ArduPilot boats forward them.

A Lua script on the autopilot (``gcs:send_named_float(name, value)``) or a companion computer
sends each reading under a name of at most 10 characters; ``time_boot_ms`` is when it was taken,
so the readings of one sample share it. The ``wq_`` prefix keeps water quality apart from any
other named values an autopilot sends.
"""

from __future__ import annotations

SONDE_NAMES: dict[str, str] = {
    "temperature": "wq_temp", "ph": "wq_ph", "do": "wq_do", "conductivity": "wq_cond", "turbidity": "wq_turb",
    "nh3n": "wq_nh3n", "codmn": "wq_codmn", "cod": "wq_cod", "tp": "wq_tp",
}
PARAMETER_OF: dict[str, str] = {name: parameter for parameter, name in SONDE_NAMES.items()}
