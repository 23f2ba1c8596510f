"""message_format=avro: a baked worker reads and writes Avro through a schema registry.

The registry is the stand-in of tests/support/schema_registry.py (why not a real
one: see there); the broker is the real Kafka of the tier. The baked project's own
integration tests produce Avro events in the Confluent wire format as another
service would, read what the worker enriched, and check that bytes which are not
Avro become dead letters while the stream goes on.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import SUPPORTED, SchemaRegistry, available, bake_and_install, passed_count, run_integration_tests

pytestmark = pytest.mark.e2e


@pytest.fixture
def schema_registry() -> Iterator[SchemaRegistry]:
    with SchemaRegistry() as registry:
        yield registry


def test_an_avro_worker_processes_events_through_the_schema_registry(
    fresh_kafka_bootstrap: str, schema_registry: SchemaRegistry, tmp_path: Path, cookiecutter_config: Path
) -> None:
    answers = {"message_format": "avro", "python_version": available(SUPPORTED)}
    service = bake_and_install(answers, tmp_path, cookiecutter_config)

    # A broker of its own: Avro on the shared one's topics would break the JSON tests' reads.
    env = {"KAFKA_BROKER": f"kafka://{fresh_kafka_bootstrap}", "SCHEMA_REGISTRY_URL": schema_registry.url}
    summary = run_integration_tests(service, env)
    # The pipeline, and dead letters with their metrics.
    assert passed_count(summary) == 2, summary

    # The test's producer registered the events' schema, and the worker the schemas of what
    # it sent on, under the subjects Confluent's serializers use: one schema each, the same
    # Event schema from both sides. (A batch summary may not have been sent yet.)
    registered = {subject: len(ids) for subject, ids in schema_registry.subjects.items()}
    assert {"page_views.events-value": 1, "page_views.enriched-value": 1}.items() <= registered.items()
    assert set(registered.values()) == {1}
