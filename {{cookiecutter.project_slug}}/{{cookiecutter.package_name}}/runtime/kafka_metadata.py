"""Metadata refreshes that finish: the worker's Kafka clients never wait minutes for one.

An aiokafka client (0.14.0) keeps its cluster metadata fresh in one task, which waits
until a refresh is asked for, or ``metadata_max_age_ms`` (5 minutes in Faust) passes,
then refreshes the metadata of the topics it tracks. If that list of topics changes
while a periodic refresh runs, the task goes back to its wait without finishing the
refresh, and whoever asked for one meanwhile waits for the next periodic refresh. The
consumer group's leader changes the list at every assignment and then waits for the
refresh before it assigns partitions; a worker that took its partitions while a topic
was still being created then took the topic minutes late, or never within a test's
two minutes. ``synchronize_metadata()`` is that task, refreshing again at once when
the list changed, and including topics added to the list in place, as the producer
adds the topics it sends to.

aiokafka has no setting for the client's class, nor for the task:
``mend_metadata_refreshes()`` replaces the task's method on one client before it
starts, and the transport does so for the worker's consumer and producer.
``tests/runtime/test_kafka_metadata.py`` runs the task against aiokafka's client.
"""

import asyncio
import functools
from typing import Any

from faust.transport.drivers import aiokafka


async def synchronize_metadata(client: Any) -> None:
    """Refresh ``client``'s metadata when asked, or every ``metadata_max_age_ms``."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.wait([client._md_update_waiter], timeout=client._metadata_max_age_ms / 1000)
        if client._md_update_fut is None:
            client._md_update_fut = loop.create_future()
        # Again at once while the topics changed meanwhile. A copy: the producer adds
        # topics to the client's set in place.
        topics: set[str] | None = None
        while topics != client._topics:
            topics = set(client._topics)
            updated = await client._metadata_update(client.cluster, topics)
        # A request from now on wakes the next refresh.
        client._md_update_waiter = loop.create_future()
        client._md_update_fut.set_result(updated)
        client._md_update_fut = None


def mend_metadata_refreshes(client: Any) -> Any:
    """Make ``client`` (an ``AIOKafkaClient``, not yet started) refresh with the task above."""
    # bootstrap() starts the task as self._md_synchronizer(): the instance's own wins.
    client._md_synchronizer = functools.partial(synchronize_metadata, client)
    return client


class Producer(aiokafka.Producer):
    """Faust's aiokafka producer, its client's metadata refreshes mended."""

    def _new_producer(self, transactional_id: str | None = None) -> Any:
        producer = super()._new_producer(transactional_id)
        mend_metadata_refreshes(producer.client)
        return producer
