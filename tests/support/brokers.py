"""The Kafka broker of the e2e tier and the benchmarks: kafka_test_broker/broker.py, started for a test."""

from typing import Any

import pytest

from kafka_test_broker.broker import KAFKA_VERSION, Broker, BrokerError, Cluster

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


def start_cluster(label: str, size: int = 3, **options: Any) -> Cluster:
    """A started cluster of ``size`` brokers; fails the test with a node's log if it cannot start."""
    cluster = Cluster(size, **options)
    try:
        cluster.start()
    except BrokerError as exc:
        pytest.fail(f"the Kafka cluster did not start:\n{exc}", pytrace=False)
    say(f"{label} Kafka {KAFKA_VERSION} cluster of {size} on {cluster.bootstrap}: {cluster.timings['total']:.1f} s")
    return cluster
