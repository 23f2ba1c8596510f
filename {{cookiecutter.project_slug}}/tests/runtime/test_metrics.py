from types import SimpleNamespace
from typing import Any, cast

from aiohttp.test_utils import TestClient, TestServer
from faust.sensors import Monitor
from faust.types import TP
from prometheus_client import CollectorRegistry

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.metrics import FaustCollector

from tests.runtime.messages import message

EVENTS = TP("{{ cookiecutter.project_slug }}.events", 1)
ENRICHED = "{{ cookiecutter.project_slug }}.enriched"
COUNTS = "{{ cookiecutter.project_slug }}-counts"


def collected(monitor: Monitor) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(FaustCollector(monitor))
    return registry


async def test_metrics_are_served_in_prometheus_format() -> None:
    async with TestClient(TestServer(await app.web.wsgi())) as client:
        response = await client.get("/metrics")

        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        body = await response.text()
    assert "# TYPE faust_messages_received_total counter" in body
    assert "# TYPE faust_consumer_lag gauge" in body
    assert "# TYPE dead_letters_total counter" in body


async def test_metrics_speak_openmetrics_to_whoever_asks_for_it() -> None:
    async with TestClient(TestServer(await app.web.wsgi())) as client:
        response = await client.get(
            "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
        )

        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        body = await response.text()
    assert body.endswith("# EOF\n")


def test_messages_events_and_sends_are_counted() -> None:
    monitor = Monitor()
    for offset in range(3):
        monitor.on_message_in(EVENTS, offset, message(b"{}", topic=EVENTS.topic))
    monitor.on_send_initiated(cast(Any, None), ENRICHED, cast(Any, None), 3, 20)

    registry = collected(monitor)

    sample = registry.get_sample_value
    assert sample("faust_messages_received_total") == 3
    assert sample("faust_messages_received_per_topic_total", {"topic": EVENTS.topic}) == 3
    assert sample("faust_messages_sent_total", {"topic": ENRICHED}) == 1


def test_consumer_lag_is_the_end_offset_minus_the_committed_offset() -> None:
    monitor = Monitor()
    elsewhere = TP(EVENTS.topic, 2)
    monitor.track_tp_end_offset(EVENTS, 120)
    monitor.track_tp_end_offset(elsewhere, 7)
    monitor.on_tp_commit({EVENTS: 100})

    registry = collected(monitor)

    partition = {"topic": EVENTS.topic, "partition": "1"}
    assert registry.get_sample_value("faust_topic_partition_end_offset", partition) == 120
    assert registry.get_sample_value("faust_topic_partition_committed_offset", partition) == 100
    assert registry.get_sample_value("faust_consumer_lag", partition) == 20
    # Nothing committed there yet: no lag to tell.
    uncommitted = {"topic": EVENTS.topic, "partition": "2"}
    assert registry.get_sample_value("faust_consumer_lag", uncommitted) is None


def test_table_operations_and_latencies_are_reported() -> None:
    monitor = Monitor()
    table = cast(Any, SimpleNamespace(name=COUNTS))
    monitor.on_table_get(table, "home")
    monitor.on_table_set(table, "home", 1)
    monitor.on_table_set(table, "home", 2)
    monitor.send_latency.extend([0.001, 0.003, 0.002])

    registry = collected(monitor)

    def operations(operation: str) -> float | None:
        labels = {"table": COUNTS, "operation": operation}
        return registry.get_sample_value("faust_table_operations_total", labels)

    assert (operations("get"), operations("set"), operations("delete")) == (1, 2, 0)
    assert registry.get_sample_value("faust_send_latency_seconds") == 0.002
    # No commit yet: the latency is left out rather than reported as zero.
    assert registry.get_sample_value("faust_commit_latency_seconds") is None
