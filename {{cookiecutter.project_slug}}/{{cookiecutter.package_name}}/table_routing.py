"""What ``@app.table_route`` needs to find the worker that holds a key.

The router hashes a key to its partition as the table's changelog stores the key
(JSON: ``"home"``, quotes included), while producers partition the events, and with
them the table, by the raw key (``home``): with several workers, most lookups would go
to a worker that does not hold the key. ``SourceKeyRouter`` hashes the raw key.

aiokafka's producer also drops the changelog topics from its metadata once it sends to
a topic it has not seen (a new sink, a first dead letter), and the lookup then fails:
``keep_changelog_metadata`` names them to the producer once the worker runs.
"""

from typing import Any

from faust.app.router import Router
from faust.transport.drivers.aiokafka import Producer
from faust.types import CollectionT

from .app import app


class SourceKeyRouter(Router):
    """Hashes a string key as producers send it, so a lookup finds the key's partition."""

    @classmethod
    def _get_serialized_key(cls, table: CollectionT, key: Any) -> bytes:
        if isinstance(key, str):
            return key.encode()
        return super()._get_serialized_key(table, key)


# Faust declares @app.task as returning a bare Callable, which mypy cannot check.
@app.task  # type: ignore[untyped-decorator]
async def keep_changelog_metadata() -> None:
    producer = app.producer
    if isinstance(producer, Producer):
        client = producer._ensure_producer().client
        for table in app.tables.values():
            client.add_topic(table.changelog_topic.get_topic_name())
