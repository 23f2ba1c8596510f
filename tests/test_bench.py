"""The benchmark scripts' own arithmetic: medians and spreads, files, pytest's figures."""

import json
from pathlib import Path

import pytest

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
