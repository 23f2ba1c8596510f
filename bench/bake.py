"""Benchmark: how long a bake takes, and how long the baked project's own tests take.

One command (see README.md, "Benchmark")::

    .venv/bin/python bench/bake.py                          # 5 repetitions, about a minute
    .venv/bin/python bench/bake.py --baseline ../before     # and another checkout beside it

For each checkout, once: a bake with the default answers into a fresh uv venv with the
project and its dev group (``uv sync``, as ``make install`` does), and
one untimed run of each measured command, so that every timed run finds the bytecode
caches a user's second run finds. Then, in every repetition (alternating which checkout
goes first, so that a drift of the machine's load hits both):

- the README's bake command, ``python -m cookiecutter --no-input``: wall time of the new
  process, hooks included;
- the ``cookiecutter()`` call in this process (cookiecutter already imported), as
  pytest-cookies and the tests run it;
- the baked project's ``pytest``: wall time of the process, and the time pytest reports.

The measured commands run without ``PYTHONDONTWRITEBYTECODE``: where it is set (this
machine sets it), every process compiles cookiecutter's, Jinja's and Faust's modules
from source again, which is not what a user's machine does.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter

from report import Metric, describe, load_average, now, print_table, summarize, write_results

REPO = Path(__file__).resolve().parent.parent
# The template's test support package (tests/support/), and kafka_test_broker/ at the root that it imports.
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from support import bake_and_install, run, write_cookiecutter_config  # noqa: E402

# The measured commands write and read bytecode caches, as on a user's machine (an empty
# PYTHONDONTWRITEBYTECODE is as good as none), and see no venv of ours.
ENV = {"PYTHONDONTWRITEBYTECODE": "", "VIRTUAL_ENV": ""}

METRICS: list[Metric] = [
    ("bake, command s", ("command_s",)),
    ("bake, in process s", ("in_process_s",)),
    ("baked pytest, wall s", ("pytest_wall_s",)),
    ("baked pytest, reported s", ("pytest_reported_s",)),
    ("baked tests passed", ("tests_passed",)),
]


def timed(*command: str | Path, cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.perf_counter()
    result = run(*command, cwd=cwd, env=ENV, timeout=900)
    return time.perf_counter() - began, result


def pytest_figures(output: str) -> dict[str, float]:
    """The tests passed and the seconds pytest reports, from the summary line ending ``output``."""
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    passed = re.search(r"\b(\d+) passed\b", summary)
    reported = re.search(r" in ([\d.]+)s\b", summary)
    if not (passed and reported):
        raise RuntimeError(f"not a pytest summary line: {summary!r}")
    return {"tests_passed": int(passed[1]), "pytest_reported_s": float(reported[1])}


class Checkout:
    """One checkout of the template, its scratch directory and its baked, installed project."""

    def __init__(self, label: str, path: Path, scratch: Path) -> None:
        self.label, self.path, self.scratch = label, path, scratch
        scratch.mkdir(parents=True)
        self.config = write_cookiecutter_config(scratch)
        self.bakes = scratch / "bakes"
        # The default answers, with the first of the checkout's Pythons that this machine has.
        installed = bake_and_install({}, scratch, self.config, template=path)
        self.project, self.python, self.python_version = installed.project, installed.python, installed.python_version
        # Untimed, so that every timed run finds the bytecode caches these write.
        self.bake_command()
        self.pytest()

    def bake_command(self) -> float:
        shutil.rmtree(self.bakes, ignore_errors=True)
        command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", self.bakes]
        seconds, _ = timed(*command, "--config-file", self.config, self.path, f"python_version={self.python_version}")
        return seconds

    def bake_in_process(self) -> float:
        shutil.rmtree(self.bakes, ignore_errors=True)
        began = time.perf_counter()
        cookiecutter(
            str(self.path),
            no_input=True,
            extra_context={"python_version": self.python_version},
            output_dir=str(self.bakes),
            config_file=str(self.config),
        )
        return time.perf_counter() - began

    def pytest(self) -> dict[str, float]:
        seconds, result = timed(self.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=self.project)
        return {"pytest_wall_s": seconds, **pytest_figures(result.stdout)}

    def repetition(self) -> dict[str, Any]:
        return {"command_s": self.bake_command(), "in_process_s": self.bake_in_process(), **self.pytest()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions")
    parser.add_argument("--template", help="bake this checkout of the template instead of this one")
    parser.add_argument("--baseline", help="also bake this checkout (another commit's worktree), side by side")
    parser.add_argument("--output", help="JSON results file (default: bench/results/bake-<UTC time>.json)")
    args = parser.parse_args()

    paths = {"template": Path(args.template).resolve() if args.template else REPO}
    if args.baseline:
        paths["baseline"] = Path(args.baseline).resolve()
    header: dict[str, Any] = {
        "started": now(),
        "checkouts": {label: {"path": str(path), "commit": describe(path)} for label, path in paths.items()},
        "repeat": args.repeat,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_before": load_average(),
    }
    began = time.monotonic()
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in paths}
    with tempfile.TemporaryDirectory(prefix="bench-bake-") as tmp:
        checkouts = [Checkout(label, path, Path(tmp) / label) for label, path in paths.items()]
        for checkout in checkouts:
            header["checkouts"][checkout.label]["baked_python"] = checkout.python_version
        for number in range(1, args.repeat + 1):
            for checkout in checkouts if number % 2 else checkouts[::-1]:
                runs[checkout.label].append(checkout.repetition())
                print(f"[{number} {checkout.label}] {runs[checkout.label][-1]}", file=sys.stderr)
    summaries = {label: summarize(label_runs, METRICS) for label, label_runs in runs.items()}
    header["load_after"] = load_average()
    header["seconds"] = round(time.monotonic() - began, 1)

    print(f"\nbaked by Python {header['python']}, {args.repeat} repetitions, {header['seconds']} s")
    commits = ", ".join(f"{label} at {checkout['commit']}" for label, checkout in header["checkouts"].items())
    print(f"median (min-max) of each: {commits}")
    print_table(summaries, METRICS)
    print(f"load average before {header['load_before']}, after {header['load_after']}")
    output = write_results({**header, "summary": summaries, "runs": runs}, args.output, prefix="bake-")
    print(f"results: {output}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
