"""Prometheus metrics at ``/metrics``.

Faust's figures are read when Prometheus scrapes, from the statistics Faust's own
sensor (``app.monitor``) keeps in plain counters on every message anyway. Faust's
Prometheus sensor would update labelled metrics on every message instead, which costs
a worker about a fifth of its throughput. The process's other metrics
(``dead_letters_total`` and any the team adds) are ordinary prometheus_client ones, in
its default registry.
"""

from collections.abc import Iterable, Mapping
from statistics import median

from faust import web
from faust.sensors import Monitor
from faust.types import TP
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder


def _total(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _totals(
    name: str, documentation: str, label: str, values: Mapping[str, float]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _by_partition(name: str, documentation: str, offsets: Mapping[TP, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["topic", "partition"])
    for tp, offset in sorted(offsets.items()):
        family.add_metric([tp.topic, str(tp.partition)], offset)
    return family


def _median_seconds(name: str, documentation: str, recent: Iterable[float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    values = list(recent)
    if values:
        family.add_metric([], median(values))
    return family


class FaustCollector:
    """Faust's statistics, from ``monitor``, as Prometheus metrics."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterable[Metric]:
        monitor = self.monitor
        yield _total(
            "faust_messages_received", "Messages read from Kafka.", monitor.messages_received_total
        )
        yield _totals(
            "faust_messages_received_per_topic",
            "Messages read, by topic.",
            "topic",
            monitor.messages_received_by_topic,
        )
        yield _totals(
            "faust_messages_sent",
            "Messages sent, by topic.",
            "topic",
            monitor.messages_sent_by_topic,
        )
        yield _total("faust_send_errors", "Sends that failed.", monitor.send_errors)
        yield _total("faust_events", "Events the streams processed.", monitor.events_total)
        yield _median_seconds(
            "faust_event_runtime_seconds",
            "Median time from an event entering its stream to its acknowledgement, recent events.",
            monitor.events_runtime,
        )
        yield _median_seconds(
            "faust_send_latency_seconds", "Median latency of recent sends.", monitor.send_latency
        )
        yield _median_seconds(
            "faust_commit_latency_seconds",
            "Median latency of recent offset commits.",
            monitor.commit_latency,
        )
        operations = CounterMetricFamily(
            "faust_table_operations", "Table operations, by table.", labels=["table", "operation"]
        )
        for name, table in sorted(monitor.tables.items()):
            operations.add_metric([name, "get"], table.keys_retrieved)
            operations.add_metric([name, "set"], table.keys_updated)
            operations.add_metric([name, "delete"], table.keys_deleted)
        yield operations
        committed, ends = monitor.tp_committed_offsets, monitor.tp_end_offsets
        yield _by_partition(
            "faust_topic_partition_end_offset", "Log end offset of each partition read.", ends
        )
        yield _by_partition(
            "faust_topic_partition_committed_offset",
            "Offset this worker last committed, by partition.",
            committed,
        )
        yield _by_partition(
            "faust_consumer_lag",
            "Messages not yet committed: log end offset minus committed offset.",
            {tp: end - committed[tp] for tp, end in ends.items() if tp in committed},
        )
        yield _total("faust_rebalances", "Rebalances this worker took part in.", monitor.rebalances)
        yield _totals(
            "faust_http_responses",
            "Responses of the web server, by status.",
            "status",
            {str(int(status)): count for status, count in monitor.http_response_codes.items()},
        )


class ProcessMetrics:
    """The metrics of prometheus_client's default registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scraped(monitor: Monitor) -> CollectorRegistry:
    """What one scrape reports: Faust's statistics from ``monitor`` and the process's metrics."""
    registry = CollectorRegistry()
    registry.register(FaustCollector(monitor))
    registry.register(ProcessMetrics())
    return registry


class Metrics(web.View):
    """``/metrics``: every metric of the worker, in the format Prometheus asks for."""

    async def get(self, request: web.Request) -> web.Response:
        # OpenMetrics or the classic text format, by the Accept header.
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        registry = scraped(self.app.monitor)
        return self.bytes(encode(registry), headers={"Content-Type": content_type})
