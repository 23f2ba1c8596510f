"""End-to-end tier: baked services against a real Apache Kafka broker (kafka_test_broker/broker.py).

The broker runs from Maven Central's jars (needs java 17+ and mvn, no Docker). The
default project is baked once, built into a wheel and installed, not editable, into
a fresh uv venv; its console script runs the worker as the Dockerfile does. The
template's test venv has no Kafka client: tests/support/scripts/kafka_client.py runs
under the baked venv's Python to create topics, produce and consume.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import Installed, Workers, bake_and_install, say, start_broker


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: runs baked services against a real Kafka broker started from Maven Central's jars"
    )
    config.addinivalue_line("markers", "multi_broker: runs against a cluster of three brokers (-m multi_broker)")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """One broker for the session, ``127.0.0.1:PORT``; stopped whatever the tests did."""
    kafka = start_broker("session")
    try:
        yield kafka.bootstrap
    finally:
        kafka.stop()
        say(f"session broker stopped in {kafka.timings.get('stop', 0):.1f} s")


@pytest.fixture
def fresh_kafka_bootstrap() -> Iterator[str]:
    """A broker of the test's own, for assertions over whole topics (a few seconds to start)."""
    kafka = start_broker("fresh")
    try:
        yield kafka.bootstrap
    finally:
        kafka.stop()


@pytest.fixture(scope="session")
def baked(tmp_path_factory: pytest.TempPathFactory, cookiecutter_config: Path) -> Installed:
    """The default project, baked once, installed from its wheel into a venv of its own."""
    return bake_and_install({}, tmp_path_factory.mktemp("e2e-bake"), cookiecutter_config, wheel=True)


@pytest.fixture(scope="session")
def baked_rocksdb(tmp_path_factory: pytest.TempPathFactory, cookiecutter_config: Path) -> Installed:
    """The project baked with table_store=rocksdb, installed from its wheel."""
    root = tmp_path_factory.mktemp("e2e-bake-rocksdb")
    return bake_and_install({"table_store": "rocksdb"}, root, cookiecutter_config, wheel=True)


@pytest.fixture
def start_worker(baked: Installed, tmp_path: Path) -> Iterator[Workers]:
    """``start_worker(bootstrap, app_id=None, **env)`` starts a worker; all are killed after the test."""
    workers = Workers(baked, tmp_path)
    try:
        yield workers
    finally:
        workers.kill_all()
