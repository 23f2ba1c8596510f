"""message_format=avro: a baked worker reads and writes Avro through a schema registry.

The registry is the stand-in of stand_in_registry.py beside this file (why not a real
one: see there); the broker is the real Kafka of the tier. The baked project's own
integration tests produce Avro events in the Confluent wire format as another
service would, read what the worker enriched, and check that bytes which are not
Avro become dead letters while the stream goes on.
"""

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from stand_in_registry import SchemaRegistry

import helpers

pytestmark = pytest.mark.e2e


@pytest.fixture
def schema_registry() -> Iterator[SchemaRegistry]:
    with SchemaRegistry() as registry:
        yield registry


def test_an_avro_worker_processes_events_through_the_schema_registry(
    kafka_bootstrap: str, schema_registry: SchemaRegistry, tmp_path: Path, cookiecutter_config: Path
) -> None:
    answers = {"message_format": "avro", "python_version": helpers.available(helpers.SUPPORTED)}
    service = helpers.bake_and_install(answers, tmp_path, cookiecutter_config)

    began = time.monotonic()
    result = service.run(
        "python",
        "-m",
        "pytest",
        "-m",
        "integration",
        "-q",
        "-p",
        "no:cacheprovider",
        env={"KAFKA_BROKER": f"kafka://{kafka_bootstrap}", "SCHEMA_REGISTRY_URL": schema_registry.url},
    )
    summary = result.stdout.strip().splitlines()[-1]
    print(f"\n[e2e] avro: baked integration tests: {summary}, {time.monotonic() - began:.1f} s")
    passed = re.search(r"(\d+) passed", summary)
    # The pipeline, and dead letters with their metrics.
    assert passed and int(passed.group(1)) == 2, summary
    assert not re.search(r"\d+ (failed|error)", summary), summary

    # The test's producer registered the events' schema, and the worker the schemas of what
    # it sent on, under the subjects Confluent's serializers use: one schema each, the same
    # Event schema from both sides. (A batch summary may not have been sent yet.)
    registered = {subject: len(ids) for subject, ids in schema_registry.subjects.items()}
    assert {"page_views.events-value": 1, "page_views.enriched-value": 1}.items() <= registered.items()
    assert set(registered.values()) == {1}
