"""The Kafka broker of the e2e tier and the benchmarks: kafka_test_broker/broker.py, started for a test."""

from typing import Any

import pytest

from kafka_test_broker.broker import KAFKA_VERSION, Broker, BrokerError

from .commands import say


def start_broker(label: str, **options: Any) -> Broker:
    """A started broker; fails the test with the broker's log if it cannot start."""
    kafka = Broker(**options)
    try:
        kafka.start()
    except BrokerError as exc:
        pytest.fail(f"the Kafka broker did not start:\n{exc}", pytrace=False)
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in kafka.timings.items())
    say(f"{label} Kafka {KAFKA_VERSION} broker on {kafka.bootstrap}: {timings}")
    return kafka
