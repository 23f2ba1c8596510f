import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.types import TP

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.health import not_ready_because
from {{ cookiecutter.package_name }}.runtime.stalls import Stuck


def recovery() -> Recovery:
    assert isinstance(app.tables, TableManager)
    return app.tables.recovery


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(await app.web.wsgi())) as client:
        yield client


@pytest.fixture
def processing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the app in the state of a worker that processes its partitions."""
    monkeypatch.setattr(app, "rebalancing_count", 1)
    monkeypatch.setattr(app, "rebalancing", False)
    recovery().completed.set()


async def test_liveness_answers_ok(client: TestClient[Any, Any]) -> None:
    response = await client.get("/health/live/")

    assert response.status == 200
    assert await response.json() == {"status": "ok"}


@pytest.mark.usefixtures("processing")
async def test_readiness_answers_ok_while_processing(client: TestClient[Any, Any]) -> None:
    response = await client.get("/health/ready/")

    assert response.status == 200
    assert await response.json() == {"status": "ready"}


@pytest.mark.usefixtures("processing")
async def test_readiness_answers_503_with_the_reason_while_rebalancing(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "rebalancing", True)

    response = await client.get("/health/ready/")

    assert response.status == 503
    assert await response.json() == {"status": "not ready", "reason": "rebalancing"}


@pytest.mark.usefixtures("processing")
@pytest.mark.parametrize(
    ("attribute", "value", "reason"),
    [
        ("rebalancing_count", 0, "waiting for its first partition assignment"),
        ("rebalancing", True, "rebalancing"),
    ],
)
def test_not_ready_because_names_what_the_worker_waits_for(
    monkeypatch: pytest.MonkeyPatch, attribute: str, value: object, reason: str
) -> None:
    assert not_ready_because(app) is None

    monkeypatch.setattr(app, attribute, value)

    assert not_ready_because(app) == reason


@pytest.mark.usefixtures("processing")
def test_not_ready_while_tables_recover() -> None:
    recovery().completed.clear()

    assert not_ready_because(app) == "recovering tables from their changelogs"


@pytest.mark.usefixtures("processing")
def test_not_ready_while_shutting_down(monkeypatch: pytest.MonkeyPatch) -> None:
    # should_stop is a read-only property of Faust's services: patch it on the class.
    monkeypatch.setattr(type(app), "should_stop", property(lambda _: True))

    assert not_ready_because(app) == "shutting down"


@pytest.mark.usefixtures("processing")
def test_not_ready_while_no_broker_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.broker_watch, "error", "kafka:9092: Connection refused")
    monkeypatch.setattr(app.broker_watch, "unreachable_since", time.monotonic() - 12)

    reason = "Kafka broker unreachable for 12 s (kafka:9092: Connection refused)"
    assert not_ready_because(app) == reason


async def test_liveness_answers_503_naming_the_stuck_partitions(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = Stuck(TP("{{ cookiecutter.project_slug }}.events", 3), 100, 140, 301.0)
    monkeypatch.setattr(app.stall_watch, "stuck", [stuck])

    response = await client.get("/health/live/")

    timeout = app.stall_watch.detector.timeout
    assert response.status == 503
    assert await response.json() == {
        "status": "stalled",
        "reason": f"1 partition(s) with lag and no commit for {timeout:.0f} s",
        "partitions": [f"{stuck.tp.topic}[3] (committed 100, end 140, 301 s)"],
    }
