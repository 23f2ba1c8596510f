"""The baked project's own integration tests, run against the real broker.

A team runs them with ``pytest -m integration`` and KAFKA_BROKER pointing at a broker
(its CI does so with a Kafka service container); here they get a real Kafka 4.1.1.
"""

import re
import time
from pathlib import Path

import pytest

import helpers

pytestmark = pytest.mark.e2e


def run_integration_tests(service: helpers.Installed, env: dict[str, str]) -> str:
    """Run ``pytest -m integration`` in the baked project; its summary line, which must show no failure."""
    began = time.monotonic()
    result = service.run("python", "-m", "pytest", "-m", "integration", "-q", "-p", "no:cacheprovider", env=env)
    summary = result.stdout.strip().splitlines()[-1]
    print(f"\n[e2e] baked integration tests ({', '.join(service.apps)}): {summary}, {time.monotonic() - began:.1f} s")
    assert not re.search(r"\d+ (failed|error)", summary), summary
    return summary


def passed_count(summary: str) -> int:
    passed = re.search(r"(\d+) passed", summary)
    return int(passed.group(1)) if passed else 0


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({}, id="defaults"),
        pytest.param({"apps": "orders,page_views", "license": "Apache-2.0"}, id="two-apps"),
    ],
)
def test_baked_integration_tests_pass_against_a_real_broker(
    answers: dict[str, str],
    kafka_bootstrap: str,
    tmp_path: Path,
    cookiecutter_config: Path,
) -> None:
    answers = {**answers, "python_version": helpers.available(helpers.SUPPORTED)}
    service = helpers.bake_and_install(answers, tmp_path, cookiecutter_config)

    summary = run_integration_tests(service, {"KAFKA_BROKER": f"kafka://{kafka_bootstrap}"})
    # The example sub-app's two: the pipeline, and dead letters with their metrics. A lean
    # sub-app has no integration tests of its own.
    assert passed_count(summary) == 2, summary
