"""What the benchmarks share: the checkouts they compare, medians and spreads, the table, the JSON file.

Standard library only: ``pipeline.py`` also runs under a baked project's venv.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

# A metric: its label in the table, and the path of keys to its value in one repetition's dict.
Metric = tuple[str, tuple[str, ...]]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def describe(checkout: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(checkout), "describe", "--always", "--dirty"], capture_output=True, text=True
    ).stdout.strip()


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def summarize(runs: list[dict[str, Any]], metrics: Iterable[Metric]) -> dict[str, dict[str, float]]:
    """Median, min and max of each metric over the repetitions that have a value for it."""
    summary = {}
    for label, path in metrics:
        values = []
        for run in runs:
            value: Any = run
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, (int, float)):
                values.append(float(value))
        if values:
            summary[label] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    return summary


def stats_cell(stats: dict[str, float] | None) -> str:
    if stats is None:
        return f"{'-':>30}"
    return f"{stats['median']:.2f} ({stats['min']:.2f}-{stats['max']:.2f})".rjust(30)


def print_table(summaries: dict[str, dict[str, dict[str, float]]], metrics: Iterable[Metric]) -> None:
    """One row per metric, one column (median (min-max)) per checkout."""
    print(f"{'metric':30}" + "".join(f"{label:>30}" for label in summaries))
    for metric, _ in metrics:
        print(f"{metric:30}" + "".join(stats_cell(summary.get(metric)) for summary in summaries.values()))


def write_results(report: dict[str, Any], output: str | None, prefix: str = "") -> Path:
    """Write ``report`` as JSON to ``output``, or to bench/results/<prefix><UTC start time>.json."""
    path = Path(output) if output else RESULTS / f"{prefix}{report['started'].replace(':', '')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path
