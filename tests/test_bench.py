"""The benchmark scripts' own arithmetic: medians and spreads, files, pytest's figures, pipeline.py's checks."""

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import pipeline
import report
from bake import pytest_figures
from soak import metric_total, slope_per_hour


def test_summarize_takes_median_and_spread_of_each_metric() -> None:
    runs = [
        {"raw": {"msgs_per_s": 30.0}, "ratio": 0.1},
        {"raw": {"msgs_per_s": 10.0}, "ratio": None},
        {"raw": {"msgs_per_s": 20.0}},
    ]
    metrics = [("raw", ("raw", "msgs_per_s")), ("ratio", ("ratio",)), ("absent", ("baked", "msgs_per_s"))]

    summary = report.summarize(runs, metrics)

    assert summary == {
        "raw": {"median": 20.0, "min": 10.0, "max": 30.0},
        # Repetitions without a value do not count; a metric no repetition has is left out.
        "ratio": {"median": 0.1, "min": 0.1, "max": 0.1},
    }


def test_results_are_written_under_the_start_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    written = report.write_results({"started": "2026-11-27T05:06:39+00:00", "runs": []}, None, prefix="bake-")

    assert written == tmp_path / "bake-2026-11-27T050639+0000.json"
    assert json.loads(written.read_text())["runs"] == []


@pytest.mark.parametrize(
    ("output", "figures"),
    [
        ("....\n48 passed in 1.66s\n", {"tests_passed": 48, "pytest_reported_s": 1.66}),
        ("47 passed, 1 warning in 12.03s", {"tests_passed": 47, "pytest_reported_s": 12.03}),
    ],
)
def test_pytest_figures_come_from_the_summary_line(output: str, figures: dict[str, float]) -> None:
    assert pytest_figures(output) == figures


@pytest.mark.parametrize("output", ["", "1 failed in 0.5s", "48 passed"])
def test_pytest_figures_refuse_other_output(output: str) -> None:
    with pytest.raises(RuntimeError, match="not a pytest summary line"):
        pytest_figures(output)


def test_the_soak_fits_the_rss_growth_per_hour() -> None:
    # 2 MiB more every 10 minutes, with noise that cancels out: 12 MiB an hour.
    samples = [(minutes * 60.0, 100 + minutes / 5 + (0.5 if minutes % 20 else -0.5)) for minutes in range(0, 61, 10)]

    assert slope_per_hour(samples) == pytest.approx(12.0, abs=1.5)
    assert slope_per_hour([(0.0, 80.0), (600.0, 80.0)]) == 0.0
    assert slope_per_hour([(0.0, 80.0)]) == 0.0


def test_the_soak_adds_up_a_metric_over_its_labels() -> None:
    page = "\n".join(
        [
            "# TYPE faust_consumer_lag gauge",
            'faust_consumer_lag{partition="0",topic="page_views.events"} 3.0',
            'faust_consumer_lag{partition="1",topic="page_views.events"} 4.0',
            'faust_consumer_lag{partition="0",topic="page_views.enriched"} 100.0',
        ]
    )

    assert metric_total(page, "faust_consumer_lag", topic="page_views.events") == 7.0
    assert metric_total(page, "faust_consumer_lag") == 107.0
    assert metric_total(page, "faust_events_total") == 0.0


# --- bench/pipeline.py: what it computes without Kafka ---------------------------------


def test_the_true_counts_are_those_the_events_have() -> None:
    counts = pipeline.true_counts(1_050)

    assert len(counts) == pipeline.KEYS
    assert sum(counts.values()) == 1_050
    made = Counter(pipeline.event("r", number)["key"] for number in range(1_050))
    assert counts == dict(made)


def enriched(run: str, number: int, key_count: int) -> bytes:
    return json.dumps({**pipeline.event(run, number), "key_count": key_count}).encode()


def complete_tally(count: int) -> pipeline.Tally:
    tally = pipeline.Tally(count, "r")
    seen: Counter[str] = Counter()
    for number in range(count):
        key = pipeline.event("r", number)["key"]
        seen[key] += 1
        tally.enriched(enriched("r", number, seen[key]), timestamp=1_000 + number)
    for _ in range(count // 100):
        tally.summary(json.dumps({"count": 100, "total_amount": 1.0, "distinct_keys": 100}).encode())
    return tally


def test_a_complete_output_passes_the_check() -> None:
    tally = complete_tally(1_000)

    assert tally.problems(with_summaries=True) == []
    figures = tally.report()
    assert figures["distinct"] == 1_000
    assert figures["summarized"] == 1_000
    # 999 intervals over 999 ms of LogAppendTime.
    assert figures["msgs_per_s"] == pytest.approx(1_000)


def test_a_variant_that_loses_or_miscounts_events_fails_the_check() -> None:
    tally = pipeline.Tally(1_000, "r")
    for number in range(999):
        tally.enriched(enriched("r", number, 1), timestamp=number)
    # Another run's events in the sink do not count.
    tally.enriched(enriched("other", 999, 10), timestamp=999)

    problems = tally.problems(with_summaries=True)

    assert "1 of 1000 events did not come out enriched" in problems[0]
    assert "100 keys end on a wrong count" in problems[1]
    assert problems[2] == "the summaries cover 0 of 1000 events"
    assert pipeline.Tally(1_000, "r").problems(with_summaries=False)[-1].startswith("100 keys")


def test_the_work_cpu_leaves_out_the_idle_rate() -> None:
    # 12 s of CPU between ready and done, 20 s apart, idling at 0.05 CPU s/s.
    assert pipeline.work_cpu(ready=3.0, done=15.0, interval=20.0, idle_rate=0.05) == pytest.approx(11.0)
    assert pipeline.work_cpu(ready=3.0, done=3.1, interval=20.0, idle_rate=0.05) == 0.0


def test_cpu_seconds_count_a_process_and_its_children() -> None:
    # A child that spends 0.3 s of CPU, however busy the machine is, then exits.
    spin = "import time\nbegan = time.process_time()\nwhile time.process_time() - began < 0.3: pass"
    before = pipeline.cpu_seconds(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", spin])
    try:
        assert child.pid in pipeline.descendants(os.getpid())
    finally:
        child.wait()
    # Once waited for, its CPU is in the parent's cutime and cstime.
    # Clock ticks of 10 ms: allow for rounding.
    assert pipeline.cpu_seconds(os.getpid()) - before >= 0.25


def test_every_repetition_rotates_the_order_of_the_variants() -> None:
    names = ["raw", "baked", "quix"]

    orders = [pipeline.rotated(names, number) for number in (1, 2, 3, 4)]

    assert orders == [names, ["baked", "quix", "raw"], ["quix", "raw", "baked"], names]
    assert pipeline.rotated([], 2) == []


def test_only_picks_known_variants() -> None:
    assert pipeline.parse_only(None, baseline=False) == pipeline.VARIANTS
    assert pipeline.parse_only(None, baseline=True)[-1] == "baseline"
    assert pipeline.parse_only("baked, raw", baseline=False) == ["baked", "raw"]
    with pytest.raises(SystemExit, match="unknown variant"):
        pipeline.parse_only("baseline", baseline=False)


def test_the_command_line_keeps_its_options() -> None:
    args = pipeline.parser().parse_args(
        [
            *("--only", "raw,baked", "--count", "10", "--repeat", "1"),
            *("--baseline", "../b", "--template", "../t", "--worker-env", "BATCH_SIZE=10"),
        ]
    )

    assert (args.only, args.count, args.repeat, args.baseline, args.template) == ("raw,baked", 10, 1, "../b", "../t")
    assert args.worker_env == ["BATCH_SIZE=10"]
    assert (args.latency_fraction, args.profile) == (0.5, None)
    args = pipeline.parser().parse_args(["--latency-fraction", "0.25", "--profile", "spy"])
    assert (args.latency_fraction, args.profile) == (0.25, "spy")


def test_a_profiled_block_records_the_stacks_of_the_process(tmp_path: Path) -> None:
    # A script, not -c: py-spy names each stack's process by its command line, newlines and all.
    spin = tmp_path / "spin.py"
    spin.write_text("import time\nbegan = time.monotonic()\nwhile time.monotonic() - began < 30: sum(range(1000))\n")
    child = subprocess.Popen([sys.executable, str(spin)])
    try:
        with pipeline.profiled(child.pid, None, "unprofiled"):
            pass
        with pipeline.profiled(child.pid, str(tmp_path / "spy"), "1-raw-backlog"):
            began = time.monotonic()
            while time.monotonic() - began < 1.5:
                time.sleep(0.1)
    finally:
        child.kill()
        child.wait()

    assert sorted(path.name for path in tmp_path.rglob("*")) == ["1-raw-backlog.txt", "spin.py", "spy"]
    # Collapsed stacks: "frame;frame;... <samples>", the child's loop among them.
    stacks = (tmp_path / "spy" / "1-raw-backlog.txt").read_text().splitlines()
    assert stacks
    assert all(line.rsplit(" ", 1)[1].isdigit() for line in stacks)
    assert any("<module>" in line for line in stacks)


def test_the_baseline_env_is_the_baseline_workers_alone() -> None:
    args = pipeline.parser().parse_args(
        [*("--baseline", ".", "--worker-env", "BATCH_SIZE=10", "--baseline-env", "LOG_LEVEL=warn")]
    )

    assert pipeline.worker_env(args, "baked") == {"BATCH_SIZE": "10"}
    assert pipeline.worker_env(args, "baseline") == {"BATCH_SIZE": "10", "LOG_LEVEL": "warn"}
    args.baseline_env = ["LOG_LEVEL"]
    with pytest.raises(SystemExit, match="not NAME=VALUE"):
        pipeline.worker_env(args, "baseline")


def test_the_table_and_chart_cover_each_variant() -> None:
    figures = {"cpu_per_1000": 0.9, "cpu_ratio_to_raw": 12.0, "msgs_per_s": 1_000.0}
    repetitions = [
        {"variants": {"raw": {"cpu_per_1000": 0.075, "cpu_ratio_to_raw": 1.0}, "baked": figures}},
        {"variants": {"baked": {**figures, "cpu_per_1000": 1.1}, "raw": {"cpu_per_1000": 0.08}}},
    ]
    runs = pipeline.per_variant(repetitions)
    summary = {name: report.summarize(runs[name], pipeline.METRICS) for name in runs}

    assert list(runs) == ["raw", "baked"]
    assert summary["baked"]["CPU s / 1000 events"] == {"median": 1.0, "min": 0.9, "max": 1.1}
    svg = pipeline.chart(
        {
            "summary": summary,
            "count": 100,
            "partitions": 4,
            "repeat": 2,
            "load_before": [1, 1, 1],
            "load_after": [2, 2, 2],
        }
    )
    assert svg.startswith("<svg") and ">baked<" in svg and ">raw<" in svg and "(12.0x raw)" in svg


def test_the_variants_scripts_are_where_the_benchmark_starts_them() -> None:
    for script in ("raw.py", "faust_minimal.py", "quix_app.py", "faststream_app.py"):
        assert (pipeline.VARIANT_SCRIPTS / script).is_file()
    assert any(pin.startswith("quixstreams==3.") for pin in pipeline.QUIX)
    assert any(pin.startswith("faststream[kafka]==0.") for pin in pipeline.FASTSTREAM)
