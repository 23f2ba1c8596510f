"""The baked project's own integration tests, run against the real broker.

A team runs them with ``pytest -m integration`` and KAFKA_BROKER pointing at a broker
(its CI does so with a Kafka service container); here they get a real Kafka 4.1.1.
"""

from pathlib import Path

import pytest

from support import SUPPORTED, available, bake_and_install, passed_count, run_integration_tests

pytestmark = pytest.mark.e2e


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
    answers = {**answers, "python_version": available(SUPPORTED)}
    service = bake_and_install(answers, tmp_path, cookiecutter_config)

    summary = run_integration_tests(service, {"KAFKA_BROKER": f"kafka://{kafka_bootstrap}"})
    # The example sub-app's two: the pipeline, and dead letters with their metrics. A lean
    # sub-app has no integration tests of its own.
    assert passed_count(summary) == 2, summary
