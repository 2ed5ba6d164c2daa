"""Instrument units to the canonical units of the scenario contract (spec section 2).

Sondes report in whatever unit they are set to (a Y4000 gives conductivity in mS/cm, an Aqua
TROLL can be set to µS/cm or mS/cm); the patrol log holds the canonical unit only. A unit this
table does not know for a parameter is an error when the register map is loaded, never a silent
factor of one.
"""

from __future__ import annotations

from collections.abc import Callable

CANONICAL: dict[str, str] = {
    "temperature": "degC", "ph": "pH", "do": "mg/L", "conductivity": "uS/cm", "turbidity": "NTU",
    "nh3n": "mg/L", "codmn": "mg/L", "cod": "mg/L", "tp": "mg/L",
}

_SCALE: dict[tuple[str, str], float] = {
    ("conductivity", "uS/cm"): 1.0,
    ("conductivity", "mS/cm"): 1000.0,
    ("conductivity", "S/m"): 10000.0,
    ("do", "mg/L"): 1.0,
    ("do", "ug/L"): 1e-3,
    ("turbidity", "NTU"): 1.0,
    ("ph", "pH"): 1.0,
    ("temperature", "degC"): 1.0,
    **{(p, "mg/L"): 1.0 for p in ("nh3n", "codmn", "cod", "tp")},
    **{(p, "ug/L"): 1e-3 for p in ("nh3n", "codmn", "cod", "tp")},
}
_AFFINE: dict[tuple[str, str], Callable[[float], float]] = {
    ("temperature", "degF"): lambda f: (f - 32.0) * 5.0 / 9.0,
    ("temperature", "K"): lambda k: k - 273.15,
}


class UnitError(ValueError):
    """A unit that cannot be converted to the parameter's canonical unit."""


def converter(parameter: str, unit: str) -> Callable[[float], float]:
    """The function taking ``parameter`` in ``unit`` to its canonical unit."""
    if parameter not in CANONICAL:
        raise UnitError(f"{parameter!r} is not a canonical parameter (known: {', '.join(CANONICAL)})")
    if (parameter, unit) in _AFFINE:
        return _AFFINE[parameter, unit]
    scale = _SCALE.get((parameter, unit))
    if scale is None:
        known = sorted({u for p, u in (*_SCALE, *_AFFINE) if p == parameter})
        raise UnitError(f"{parameter} in {unit!r} cannot be converted to {CANONICAL[parameter]} "
                        f"(known units: {', '.join(known)})")
    return lambda value: value * scale


def from_canonical(parameter: str, unit: str, value: float) -> float:
    """The inverse of ``converter``: what a device set to ``unit`` would report (the emulators)."""
    to = converter(parameter, unit)
    offset = to(0.0)
    gain = to(1.0) - offset
    return (value - offset) / gain
