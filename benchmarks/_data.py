"""A generic wide dataset and template for the benchmarks (nothing report-specific)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

TEMPLATE = {
    "name": "bench-ledger",
    "version": "1.0",
    "description": "One wide table, for benchmarks.",
    "sheets": [
        {
            "name": "Ledger",
            "tables": [
                {
                    "name": "Ledger",
                    "data": "ledger",
                    "key": ["id"],
                    "columns": [
                        {"key": "id", "header": "ID", "type": "integer", "required": True},
                        {"key": "name", "header": "Name", "type": "text"},
                        {"key": "region", "header": "Region", "type": "category", "allowed": ["North", "South", "East", "West"]},
                        {"key": "day", "header": "Day", "type": "date"},
                        {"key": "amount", "header": "Amount", "type": "number", "format": "#,##0.00"},
                        {"key": "share", "header": "Share", "type": "percent", "min": 0, "max": 1},
                        {"key": "units", "header": "Units", "type": "integer", "min": 0},
                        {"key": "note", "header": "Note", "type": "text"},
                    ],
                }
            ],
        }
    ],
}


def frame(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = dt.date(2020, 1, 1)
    return pd.DataFrame(
        {
            "id": np.arange(1, rows + 1),
            "name": [f"customer {i % 997}" for i in range(rows)],
            "region": rng.choice(["North", "South", "East", "West"], rows),
            "day": [start + dt.timedelta(days=int(d)) for d in rng.integers(0, 1500, rows)],
            "amount": np.round(rng.uniform(-1e5, 1e6, rows), 2),
            "share": np.round(rng.uniform(0, 1, rows), 4),
            "units": rng.integers(0, 10_000, rows),
            "note": [f"note {i}" if i % 3 else "" for i in range(rows)],
        }
    )


def write_template(folder: Path) -> Path:
    path = folder / "bench-ledger.yaml"
    path.write_text(yaml.safe_dump(TEMPLATE, sort_keys=False))
    return path


def best(fn: Callable[[], object], repeat: int) -> float:
    """The best of ``repeat`` timed calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
