"""Table lookups that find the worker holding a key: ``SourceKeyRouter`` and ``held_items``.

Producers partition the events, and with them a table's keys, by the raw key (``home``)
with Kafka's default partitioner. Faust's router (faust-streaming 0.15.3) hashes the key
as the changelog stores it instead (JSON: ``"home"``, quotes included), and asks the
producer's metadata for the changelog's partitions, which aiokafka drops once the
producer sends to a topic it has not seen before. With several workers, most lookups
then went to a worker that does not hold the key, or failed; faust-streaming issues
#187 and #514 report the symptom. ``SourceKeyRouter`` hashes the raw key the way
producers do and finds the partition's worker in the group's assignment, with public
Faust API only. ``tests/runtime/test_table_routing.py`` checks it against aiokafka's
partitioner; the template's end-to-end tests of several workers ask each one for every
key.

A memory table also keeps the keys this worker wrote after their partition moved to
another worker (it forgets only the keys it recovered): ``held_items`` lists the
worker's own share.
"""

from collections.abc import Iterator
from typing import Any

from aiokafka.partitioner import murmur2
from faust.app.router import Router
from faust.types import TableT
from yarl import URL


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (Java's, aiokafka's) gives ``key``."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


class SourceKeyRouter(Router):
    """Finds the worker that holds a key by hashing the key as producers send it."""

    def key_store(self, table_name: str, key: Any) -> URL:
        """The web address of the worker whose partition holds ``key``.

        Raises ``KeyError`` while no worker holds that partition (during a rebalance).
        """
        table = self.app.tables[table_name]
        changelog = table.changelog_topic
        raw = key.encode() if isinstance(key, str) else changelog.prepare_key(key, None)[0]
        topic = changelog.get_topic_name()
        partition = partition_of(raw, changelog.partitions or self.app.conf.topic_partitions)
        for host, topics in self.table_metadata(table_name).items():
            if partition in topics.get(topic, ()):
                return URL(host)
        raise KeyError(f"no worker holds partition {partition} of {topic} now")


def held_items(table: TableT[Any, Any]) -> Iterator[tuple[Any, Any]]:
    """The items of ``table`` in the partitions this worker holds now, by the router."""
    here = URL(str(table.app.conf.canonical_url))
    for key, value in table.items():
        try:
            holder = table.app.router.key_store(table.name, key)
        except KeyError:
            continue
        if (holder.host, holder.port) == (here.host, here.port):
            yield key, value
