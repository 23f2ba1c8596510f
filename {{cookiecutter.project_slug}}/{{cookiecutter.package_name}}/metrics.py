"""Prometheus metrics at ``/metrics``, found by the app's autodiscovery.

Faust's own (``faust_messages_received_total``, ``faust_events_runtime_ms``, commit
latency, ``faust_topic_partition_end_offset`` and ``faust_topic_partition_offset_commited``,
whose difference is the consumer lag) and the service's (``dead_letters_total``).
"""

from faust.sensors.prometheus import setup_prometheus_sensors

from .app import app

setup_prometheus_sensors(app, pattern="/metrics", name_prefix="faust")
