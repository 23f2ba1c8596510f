"""Fixtures of the runtime, for the service's tests: a pytest plugin of ``tests/conftest.py``."""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

{% if cookiecutter.message_format == "avro" -%}
import httpx
{% endif -%}
import pytest
from yarl import URL

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.dead_letters import DeadLetteringTopic
from {{ cookiecutter.package_name }}.settings import settings
{%- if cookiecutter.message_format == "avro" %}

from tests.runtime.fake_schema_registry import FakeSchemaRegistry
{%- endif %}

PACKAGE = "{{ cookiecutter.package_name }}"

# Unit tests keep tables in memory, whatever store the service runs with.
app.conf.store = URL("memory://")
# Register every sub-app's agents, tables and views once, as a worker does on start-up.
app.discover()


{%- if cookiecutter.message_format == "avro" %}


@pytest.fixture(scope="session", autouse=True)
def schema_registry() -> Iterator[FakeSchemaRegistry]:
    """Schemas registered and read in memory: no registry at SCHEMA_REGISTRY_URL needed."""
    fake = FakeSchemaRegistry()
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.schema_registry.client_kwargs, "transport", httpx.MockTransport(fake))
        yield fake
{%- endif %}


@pytest.fixture(scope="session")
def cli_agents() -> str:
    """What ``python -m {{ cookiecutter.package_name }} agents`` prints.

    Run once, in a process of its own: Faust's commands close their event loop.
    """
    command = [sys.executable, "-m", PACKAGE, "agents"]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return result.stdout


@pytest.fixture
def dead_letters(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Capture what goes to dead-letter topics, which need a broker: (topic, message)."""
    sent: list[tuple[str, dict[str, Any]]] = []

    async def send(topic: DeadLetteringTopic, **message: Any) -> None:
        sent.append((topic.get_topic_name(), message))

    monkeypatch.setattr(DeadLetteringTopic, "send", send)
    return sent


@pytest.fixture(scope="session")
def bootstrap_servers() -> list[str]:
    """The broker of KAFKA_BROKER, in the host:port form of Kafka clients."""
    return [url.strip().split("://", 1)[-1] for url in settings.kafka_broker.split(";")]


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port: int = listener.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A worker started as the image starts it, in a consumer group of its own.

    Yields the base URL of its web server; stops the worker afterwards.
    """
    port = free_port()
    env = {
        **os.environ,
        "APP_ID": f"{settings.app_id}-test-{uuid.uuid4().hex[:8]}",
        "WEB_PORT": str(port),
        "BATCH_WINDOW_SECONDS": "1",
        "REPORT_INTERVAL_SECONDS": "1",
    }
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", PACKAGE, "worker", "--loglevel", "info"],
            cwd=log.parent,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_line(log, "Worker ready", process, timeout=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} from the worker:\n{log.read_text(errors='replace')}")
