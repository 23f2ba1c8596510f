"""Metadata refreshes that come when needed: the worker never waits minutes for a topic.

An aiokafka client (0.14.0) keeps its cluster metadata fresh in one task, which waits
until a refresh is asked for, or ``metadata_max_age_ms`` (5 minutes in Faust) passes,
then asks a broker for the metadata of the topics it tracks. Two ways this held the
worker up, both mended by ``synchronize_metadata()``, which is that task otherwise:

- A topic the consumer subscribes to that does not exist yet (created later, where
  administrators create topics and ``TOPIC_ALLOW_DECLARE=false``; or created by the
  worker itself but not yet in the broker's answer). The group's partitions are
  assigned without it, and nothing asks for a refresh: the worker took the topic's
  partitions when the next periodic refresh found it, up to 5 minutes later. While a
  tracked topic is missing, the task refreshes every ``MISSING_TOPIC_REFRESH``
  seconds, and aiokafka's coordinator rebalances the group once the topic appears.
- If the list of tracked topics changes while a periodic refresh runs (the group's
  leader sets it at every assignment, then waits for a refresh), the task went back
  to its wait without finishing: the waiting assignment waited for the next periodic
  refresh. The task refreshes again at once, also for topics added to the list in
  place, as the producer adds the topics it sends to.

aiokafka has no setting for the client's class, nor for the task:
``mend_metadata_refreshes()`` replaces the task's method on one client before it
starts, and the transport does so for the worker's consumer and producer.
``tests/runtime/test_kafka_metadata.py`` runs the task against aiokafka's client; the
template's end-to-end test
``test_a_source_topic_created_after_the_worker_started_is_read_within_seconds``
proves it against a real broker, where a worker without it read nothing within 60 s.
"""

import asyncio
import functools
from typing import Any

from faust.transport.drivers import aiokafka

# Seconds between refreshes while a tracked topic is missing: the most that Kafka's Java
# client waits between them (retry.backoff.max.ms).
MISSING_TOPIC_REFRESH = 1.0


async def synchronize_metadata(client: Any) -> None:
    """Refresh ``client``'s metadata when asked, and every ``metadata_max_age_ms``.

    Every ``MISSING_TOPIC_REFRESH`` seconds instead while a topic it tracks is missing.
    """
    loop, cluster = asyncio.get_running_loop(), client.cluster
    while True:
        missing = any(cluster.partitions_for_topic(topic) is None for topic in client._topics)
        wait = MISSING_TOPIC_REFRESH if missing else client._metadata_max_age_ms / 1000
        await asyncio.wait([client._md_update_waiter], timeout=wait)
        if client._md_update_fut is None:
            client._md_update_fut = loop.create_future()
        # Again at once while the topics changed meanwhile. A copy: the producer adds
        # topics to the client's set in place.
        topics: set[str] | None = None
        while topics != client._topics:
            topics = set(client._topics)
            updated = await client._metadata_update(cluster, topics)
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
