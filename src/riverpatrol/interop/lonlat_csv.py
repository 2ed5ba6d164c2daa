"""Points as CSV ``lon,lat``, one per line: how operators hand over points and polylines."""

from __future__ import annotations


class LonLatError(ValueError):
    """A line that is not ``lon,lat``; the message names the source and the line."""


def parse_lonlat_csv(text: str, source: str) -> list[tuple[str, float, float]]:
    """Each non-blank line as ``(text as written, lon, lat)``, the text without stray spaces."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        try:
            if len(parts) != 2:
                raise ValueError
            rows.append((f"{parts[0]},{parts[1]}", float(parts[0]), float(parts[1])))
        except ValueError:
            raise LonLatError(f"{source}:{number}: expected 'lon,lat', got {line.strip()!r}") from None
    return rows
