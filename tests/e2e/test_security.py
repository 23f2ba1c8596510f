"""Broker credentials from the environment, against a Kafka that asks for SASL."""

import time
from collections.abc import Iterator

import pytest

from support import Workers, say, start_broker

pytestmark = pytest.mark.e2e

USERS = {"orders-service": "correct horse battery staple"}


@pytest.fixture(scope="module")
def sasl_kafka() -> Iterator[str]:
    """A broker whose second listener asks for SASL (PLAIN, SCRAM-SHA-256/512)."""
    kafka = start_broker("SASL", sasl_users=USERS)
    try:
        yield kafka.sasl_bootstrap
    finally:
        kafka.stop()


def credentials(mechanism: str, password: str) -> dict[str, str]:
    return {
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM": mechanism,
        "KAFKA_SASL_USERNAME": "orders-service",
        "KAFKA_SASL_PASSWORD": password,
    }


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
def test_a_worker_with_the_right_credentials_processes(sasl_kafka: str, start_worker: Workers, mechanism: str) -> None:
    worker = start_worker(sasl_kafka, **credentials(mechanism, USERS["orders-service"]))
    say(f"worker ready on SASL ({mechanism}) in {worker.ready():.1f} s")
    assert worker.get("/health/ready/") == {"status": "ready"}
    assert worker.terminate(timeout=10) == 0, worker.tail()


def test_wrong_credentials_fail_fast_with_a_clear_error(sasl_kafka: str, start_worker: Workers) -> None:
    began = time.monotonic()
    worker = start_worker(sasl_kafka, **credentials("SCRAM-SHA-512", "wrong password"))
    assert worker.process is not None
    code = worker.process.wait(timeout=60)
    say(f"worker with a wrong password exited {code} after {time.monotonic() - began:.1f} s")

    assert code != 0
    assert "Authentication failed during authentication due to invalid credentials" in worker.output
    assert "Worker ready" not in worker.output
    assert USERS["orders-service"] not in worker.output
