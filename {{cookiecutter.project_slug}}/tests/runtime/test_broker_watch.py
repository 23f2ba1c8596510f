import asyncio
import logging
import socket
from collections.abc import Iterator

import pytest

from {{ cookiecutter.package_name }}.runtime import broker_watch
from {{ cookiecutter.package_name }}.runtime.broker_watch import (
    BrokerWatch,
    bootstrap_addresses,
    first_error,
)


def test_bootstrap_addresses_read_every_broker_of_the_setting() -> None:
    brokers = "kafka://kafka-0:9093; kafka://kafka-1:9094;kafka-2"

    assert bootstrap_addresses(brokers) == [("kafka-0", 9093), ("kafka-1", 9094), ("kafka-2", 9092)]


@pytest.fixture
def listening() -> Iterator[tuple[str, int]]:
    """An address that accepts connections."""
    server = socket.create_server(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[:2]
    server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_one_broker_that_accepts_is_enough(listening: tuple[str, int]) -> None:
    assert await first_error([("127.0.0.1", closed_port()), listening]) is None


async def test_the_error_names_the_address() -> None:
    port = closed_port()

    error = await first_error([("127.0.0.1", port)])

    assert error is not None
    assert error.startswith(f"127.0.0.1:{port}: ")


async def test_the_watch_says_why_while_no_broker_answers(caplog: pytest.LogCaptureFixture) -> None:
    port = closed_port()
    watch = BrokerWatch(f"kafka://127.0.0.1:{port}")
    assert watch.unreachable_because() is None

    with caplog.at_level(logging.INFO):
        assert await watch.check() is False
        assert await watch.check() is False

    reason = watch.unreachable_because()
    assert reason is not None
    assert reason.startswith("Kafka broker unreachable for 0 s (127.0.0.1:")
    # One line when the outage begins, not one per check.
    assert caplog.text.count("Kafka broker unreachable") == 1


async def test_the_watch_is_reachable_again_when_a_broker_answers(
    listening: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    host, port = listening
    watch = BrokerWatch(f"kafka://{host}:{port}")
    watch.error, watch.unreachable_since = "127.0.0.1:1: Connection refused", 0.0

    with caplog.at_level(logging.INFO):
        assert await watch.check() is True

    assert watch.reachable
    assert watch.unreachable_because() is None
    assert "Kafka broker reachable again" in caplog.text


async def test_waiting_for_the_broker_logs_one_line_and_ends_when_it_answers(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    watch = BrokerWatch(f"kafka://127.0.0.1:{port}")
    monkeypatch.setattr(broker_watch, "CHECK_INTERVAL", 0.05)
    server: list[socket.socket] = []

    async def broker_appears() -> None:
        await asyncio.sleep(0.3)
        server.append(socket.create_server(("127.0.0.1", port)))
        server[0].listen()

    with caplog.at_level(logging.INFO):
        appearing = asyncio.ensure_future(broker_appears())
        assert await asyncio.wait_for(watch.wait_until_reachable(watch), timeout=10) is True
        await appearing
    server[0].close()

    waiting = [record for record in caplog.records if "Waiting for the Kafka" in record.message]
    assert len(waiting) == 1
    assert f"127.0.0.1:{port}" in waiting[0].getMessage()
    assert waiting[0].levelno == logging.WARNING
    assert watch.reachable
