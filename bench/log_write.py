"""Patrol log write throughput: PatrolLogWriter against bare sqlite3 executemany of the same rows.

Builds one realistic patrol's columns (default 2500 s: 5 Hz positions, 1 Hz sonde, 10 Hz 72-sector
ranging, 5 Hz 2 x 500-bin sonar), writes them through PatrolLogWriter in batches of ``--batch-s``
simulated seconds, then writes the SAME rows, pre-built as tuples (so the baseline pays no column
conversion), with plain ``executemany`` into the same schema with the same pragmas, one transaction
per batch as well. Best of ``--repeat`` runs each. Target: writer rate / bare rate >= 0.5.

    .venv/bin/python bench/log_write.py [--duration-s 2500] [--batch-s 10] [--repeat 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from riverpatrol.patrollog import PatrolLogWriter
from riverpatrol.patrollog import schema

RATES_HZ = {schema.POSITION: 5, schema.SONDE: 1, schema.RANGING: 10, schema.SONAR: 5}
SECTORS, BINS, INCREMENT_DEG, MIN_CM, MAX_CM, RANGE_M = 72, 500, 5.0, 20, 5000, 30.0
SONDE_PARAMS = ("temperature", "ph", "do", "conductivity", "turbidity", "nh3n")

Call = tuple[str, dict[str, Any], str, list[tuple[Any, ...]]]  # kind, writer kwargs, SQL, rows


def patrol(duration_s: float, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """Plausible sensor columns for one patrol (values only need realistic types and sizes)."""
    def times(kind: str) -> np.ndarray:
        return np.arange(0.0, duration_s, 1.0 / RATES_HZ[kind])

    t = times(schema.POSITION)
    ranging_t, sonar_t, sonde_t = times(schema.RANGING), times(schema.SONAR), times(schema.SONDE)
    distances = rng.integers(MIN_CM, MAX_CM + 2, (ranging_t.size, SECTORS)).astype(np.uint16)
    distances[rng.random(distances.shape) < 0.7] = MAX_CM + 1  # mostly open water
    return {
        schema.POSITION: dict(t=t, lon=121.49 + np.cumsum(rng.normal(0, 1e-5, t.size)),
                              lat=31.24 + np.cumsum(rng.normal(0, 1e-5, t.size)),
                              sog=rng.uniform(1.5, 2.5, t.size), cog=rng.uniform(0, 360, t.size),
                              heading=rng.uniform(0, 360, t.size)),
        schema.SONDE: dict(t=sonde_t, values={p: rng.normal(5, 1, sonde_t.size) for p in SONDE_PARAMS}),
        schema.RANGING: dict(t=ranging_t, heading=rng.uniform(0, 360, ranging_t.size), distances_cm=distances,
                             increment_deg=INCREMENT_DEG, min_cm=MIN_CM, max_cm=MAX_CM),
        schema.SONAR: dict(t=sonar_t, range_m=RANGE_M,
                           port=rng.integers(0, 256, (sonar_t.size, BINS), dtype=np.uint8),
                           starboard=rng.integers(0, 256, (sonar_t.size, BINS), dtype=np.uint8)),
    }


def blobs(a: np.ndarray) -> list[bytes]:
    return [row.tobytes() for row in a]


def bare_rows(kind: str, c: dict[str, Any]) -> tuple[str, list[tuple[Any, ...]]]:
    """The SQL and row tuples a hand-written writer would hand to executemany for this batch."""
    n = c["t"].size
    if kind == schema.POSITION:
        cols = [c[k].tolist() for k in ("t", "lon", "lat", "sog", "cog", "heading")]
        return schema.insert_sql(kind), list(zip(*cols))
    if kind == schema.SONDE:
        sql = schema.insert_sql(kind, ("t", *SONDE_PARAMS))
        return sql, list(zip(c["t"].tolist(), *(c["values"][p].tolist() for p in SONDE_PARAMS)))
    if kind == schema.RANGING:
        return schema.insert_sql(kind), list(zip(c["t"].tolist(), c["heading"].tolist(), [INCREMENT_DEG] * n,
                                                 [MIN_CM] * n, [MAX_CM] * n, blobs(c["distances_cm"].astype("<u2"))))
    return schema.insert_sql(kind), list(zip(c["t"].tolist(), [RANGE_M] * n, blobs(c["port"]), blobs(c["starboard"])))


def batches(columns: dict[str, dict[str, Any]], duration_s: float, batch_s: float) -> list[Call]:
    """Cut the patrol into per-``batch_s`` writer calls, kinds interleaved as a simulator would."""
    calls: list[Call] = []
    for start in np.arange(0.0, duration_s, batch_s):
        for kind, c in columns.items():
            lo, hi = np.searchsorted(c["t"], [start, start + batch_s])
            part = {k: (v[lo:hi] if isinstance(v, np.ndarray) else
                        {p: a[lo:hi] for p, a in v.items()} if isinstance(v, dict) else v) for k, v in c.items()}
            calls.append((kind, part, *bare_rows(kind, part)))
    return calls


def run_writer(path: Path, calls: list[Call]) -> tuple[float, float]:
    writer = PatrolLogWriter(path, {"bench": "log_write"})
    methods: dict[str, Callable[..., None]] = {schema.POSITION: writer.positions, schema.SONDE: writer.sonde,
                                               schema.RANGING: writer.scans, schema.SONAR: writer.pings}
    start = time.perf_counter()
    for kind, kwargs, _, _ in calls:
        methods[kind](**kwargs)
    wrote = time.perf_counter()
    writer.close()
    return wrote - start, time.perf_counter() - wrote


def run_bare(path: Path, calls: list[Call]) -> tuple[float, float]:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for sql in (*schema.PRAGMAS, "BEGIN", *schema.DDL, "COMMIT"):
            db.execute(sql)
        start = time.perf_counter()
        for _, _, sql, rows in calls:
            db.execute("BEGIN")
            db.executemany(sql, rows)
            db.execute("COMMIT")
        wrote = time.perf_counter()
        for sql in ("BEGIN", *schema.INDEXES, "COMMIT", "PRAGMA wal_checkpoint(TRUNCATE)"):
            db.execute(sql)
    finally:
        db.close()
    return wrote - start, time.perf_counter() - wrote


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=2500.0, help="simulated patrol length")
    parser.add_argument("--batch-s", type=float, default=10.0, help="simulated seconds per writer call")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the logs (default: temp dir)")
    args = parser.parse_args()

    columns = patrol(args.duration_s, np.random.default_rng(1))
    calls = batches(columns, args.duration_s, args.batch_s)
    counts = {kind: c["t"].size for kind, c in columns.items()}
    records = sum(counts.values())
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        runs: dict[str, list[tuple[float, float]]] = {"writer": [], "bare": []}
        for i in range(args.repeat):
            runs["writer"].append(run_writer(Path(tmp) / f"writer{i}.db", calls))
            runs["bare"].append(run_bare(Path(tmp) / f"bare{i}.db", calls))
        size_mb = (Path(tmp) / "writer0.db").stat().st_size / 1e6
    (w_write, w_close), (b_write, b_close) = (min(runs[k]) for k in ("writer", "bare"))

    print(f"patrol {args.duration_s:g} s: {records:,} records "
          f"({', '.join(f'{n:,} {k}' for k, n in counts.items())}); log {size_mb:.1f} MB; "
          f"{len(calls):,} writer calls of {args.batch_s:g} s; best of {args.repeat}")
    print(f"PatrolLogWriter (numpy columns in): {records / w_write:>12,.0f} records/s  "
          f"(write {w_write:.3f} s, close {w_close:.3f} s)")
    print(f"bare sqlite3 executemany (tuples):  {records / b_write:>12,.0f} records/s  "
          f"(write {b_write:.3f} s, finalise {b_close:.3f} s)")
    print(f"ratio writer/bare: {b_write / w_write:.2f} (target >= 0.5)")
    budget = args.duration_s / 1000
    print(f"writer write+close {w_write + w_close:.3f} s = {100 * (w_write + w_close) / budget:.0f}% "
          f"of the 1000x real-time budget ({budget:g} s for the whole simulation)")


if __name__ == "__main__":
    main()
