"""What the template's tests and benchmarks share; test modules import from here only, never from each other.

By concern:

- ``paths``: the checkout, its template, the scripts below;
- ``commands``: the dev group's tools, other Pythons' interpreters, ``run``, ``say``;
- ``baking``: ``bake_and_install`` (as ``make install`` does, or as the image does),
  ``install`` of a project baked otherwise, the installed project, what a bake holds,
  the baked project's integration tests;
- ``forky_root``: Pythons the host lacks (3.14), from the Debian forky root;
- ``brokers``: the throwaway Kafka broker of kafka_test_broker/, started for a test;
- ``workers``: ``<pkg> worker`` processes of a baked service, and their HTTP views;
- ``events``: the default bake's topics, events produced to them and read back, and
  what must hold of what came out;
- ``schema_registry``: a stand-in for Confluent Schema Registry (why a stand-in: see there);
- ``asyncapi``: the official AsyncAPI 3.0 JSON Schema (from npm) and checks of a baked
  service's document and of records against it;
- ``kcat``: kcat, librdkafka's command-line client, producing and consuming as a team on
  another stack would;
- ``scripts/``: not imported here, run by a baked venv's Python, which has aiokafka and
  Faust: ``kafka_client.py`` (topics, produce, consume) and ``seed_myapp.py`` (the seed
  tutorial's single-file app).

The names below are the package's interface: ``from support import run, bake_and_install``.
"""

from .asyncapi import assert_valid_asyncapi, message, resolve, validator
from .baking import (
    SUPPORTED,
    Installed,
    available,
    bake_and_install,
    in_app_template,
    install,
    passed_count,
    project_files,
    run_integration_tests,
    tomllib,
    write_cookiecutter_config,
)
from .brokers import Broker, Cluster, start_broker, start_cluster
from .commands import BIN, find_python, run, say, tool
from .events import (
    APP,
    ENRICHED,
    EVENTS,
    PARTITIONS,
    SUMMARIES,
    assert_counts_continue,
    consume,
    create_topics,
    enriched_of,
    make_events,
    produce,
    ready_worker,
    streaming,
    tally,
    true_counts,
)
from .forky_root import FORKY_RUN, in_forky_root, require_python, unavailable
from .kcat import kcat_consume, kcat_produce
from .paths import APP_TEMPLATE, REPO, SEED_APP, TEMPLATE
from .schema_registry import SchemaRegistry
from .workers import QUIET_LEVELS, HealthSample, Worker, Workers

__all__ = [
    "APP",
    "APP_TEMPLATE",
    "BIN",
    "ENRICHED",
    "EVENTS",
    "FORKY_RUN",
    "PARTITIONS",
    "QUIET_LEVELS",
    "REPO",
    "SEED_APP",
    "SUMMARIES",
    "SUPPORTED",
    "TEMPLATE",
    "Broker",
    "Cluster",
    "HealthSample",
    "Installed",
    "SchemaRegistry",
    "Worker",
    "Workers",
    "assert_counts_continue",
    "assert_valid_asyncapi",
    "available",
    "bake_and_install",
    "consume",
    "create_topics",
    "enriched_of",
    "find_python",
    "in_app_template",
    "in_forky_root",
    "install",
    "kcat_consume",
    "kcat_produce",
    "make_events",
    "message",
    "passed_count",
    "produce",
    "project_files",
    "ready_worker",
    "require_python",
    "resolve",
    "run",
    "run_integration_tests",
    "say",
    "start_broker",
    "start_cluster",
    "streaming",
    "tally",
    "tomllib",
    "tool",
    "true_counts",
    "unavailable",
    "validator",
    "write_cookiecutter_config",
]
