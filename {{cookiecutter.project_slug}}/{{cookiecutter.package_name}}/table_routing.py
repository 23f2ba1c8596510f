"""What ``@app.table_route`` needs to find the worker that holds a key.

The router hashes a key to its partition as the table's changelog stores the key
(JSON: ``"home"``, quotes included), while producers partition the events, and with
them the table, by the raw key (``home``): with several workers, most lookups would go
to a worker that does not hold the key. ``SourceKeyRouter`` hashes the raw key.

aiokafka's producer also drops the changelog topics from its metadata once it sends to
a topic it has not seen (a new sink, a first dead letter), and the lookup then fails:
``keep_changelog_metadata`` names them to the producer once the worker runs.

A memory table also keeps the keys this worker wrote after their partition moved to
another worker (it forgets only the keys it recovered): ``held_items`` lists the
worker's own share.
"""

from collections.abc import Iterator
from typing import Any

from faust.app.router import Router
from faust.transport.drivers.aiokafka import Producer
from faust.types import CollectionT, TableT
from yarl import URL

from .app import app


class SourceKeyRouter(Router):
    """Hashes a string key as producers send it, so a lookup finds the key's partition."""

    @classmethod
    def _get_serialized_key(cls, table: CollectionT, key: Any) -> bytes:
        if isinstance(key, str):
            return key.encode()
        return super()._get_serialized_key(table, key)


def held_items(table: TableT[Any, Any]) -> Iterator[tuple[Any, Any]]:
    """The items of ``table`` in the partitions this worker holds now, by the router."""
    here = URL(str(app.conf.canonical_url))
    for key, value in table.items():
        try:
            holder = app.router.key_store(table.name, key)
        except KeyError:  # no assignment yet: rebalancing
            continue
        if (holder.host, holder.port) == (here.host, here.port):
            yield key, value


# Faust declares @app.task as returning a bare Callable, which mypy cannot check.
@app.task  # type: ignore[untyped-decorator]
async def keep_changelog_metadata() -> None:
    producer = app.producer
    if isinstance(producer, Producer):
        client = producer._ensure_producer().client
        for table in app.tables.values():
            client.add_topic(table.changelog_topic.get_topic_name())
