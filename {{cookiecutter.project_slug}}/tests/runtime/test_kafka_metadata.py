import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.metadata import MetadataResponse_v0

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime import kafka_consumer, kafka_metadata

# Long enough that no test sees a second periodic refresh.
HOUR_MS = 3_600_000


class Refreshes:
    """A client that is never started, answered by a broker that has the topics of ``existing``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.existing: set[str] = set()
        # The topics each refresh asked for.
        self.topics: list[set[str]] = []
        self.started = asyncio.Event()
        # Every refresh waits for this, so that a test can act while one runs.
        self.go_on = asyncio.Event()
        client._metadata_update = self.update

    async def update(self, cluster: Any, topics: set[str]) -> bool:
        self.topics.append(set(topics))
        # Only the first wait is short: it starts a periodic refresh.
        self.client._metadata_max_age_ms = HOUR_MS
        self.started.set()
        await self.go_on.wait()
        found = [(0, topic, [(0, 0, 0, [0], [0])]) for topic in sorted(topics & self.existing)]
        cluster.update_metadata(MetadataResponse_v0(brokers=[(0, "127.0.0.1", 9)], topics=found))
        return True


@contextlib.asynccontextmanager
async def periodic_refresh(mend: Callable[[Any], Any]) -> AsyncIterator[Refreshes]:
    """A periodic refresh under way on aiokafka's client, made ready by ``mend``."""
    client = mend(AIOKafkaClient(bootstrap_servers="127.0.0.1:9", metadata_max_age_ms=10))
    refreshes = Refreshes(client)
    task = asyncio.create_task(client._md_synchronizer())
    try:
        await refreshes.started.wait()
        yield refreshes
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def aiokafkas(client: Any) -> Any:
    return client


async def test_a_refresh_asked_for_as_the_topics_change_finishes_with_them() -> None:
    async with periodic_refresh(kafka_metadata.mend_metadata_refreshes) as refreshes:
        # As the consumer group's leader does at an assignment, then waits for it.
        asked = refreshes.client.set_topics(["events"])
        refreshes.go_on.set()

        assert await asyncio.wait_for(asked, timeout=5) is True
        assert refreshes.topics == [set(), {"events"}]


async def test_a_topic_added_in_place_during_a_refresh_is_refreshed_too() -> None:
    async with periodic_refresh(kafka_metadata.mend_metadata_refreshes) as refreshes:
        # As the producer adds a topic it sends to.
        asked = refreshes.client.add_topic("enriched")
        refreshes.go_on.set()

        assert await asyncio.wait_for(asked, timeout=5) is True
        assert refreshes.topics == [set(), {"enriched"}]


async def test_a_missing_topic_is_refreshed_until_it_appears(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kafka_metadata, "MISSING_TOPIC_REFRESH", 0.01)
    async with periodic_refresh(kafka_metadata.mend_metadata_refreshes) as refreshes:
        refreshes.existing = {"enriched"}
        # Subscribed as the consumer subscribes, without asking for a refresh.
        refreshes.client._topics = {"events", "enriched"}
        refreshes.go_on.set()

        await asyncio.sleep(0.3)
        missing = len(refreshes.topics)
        refreshes.existing.add("events")
        await asyncio.sleep(0.1)
        appeared = len(refreshes.topics)
        await asyncio.sleep(0.3)

        assert missing > 5
        assert refreshes.client.cluster.partitions_for_topic("events") == {0}
        assert len(refreshes.topics) == appeared


async def test_aiokafkas_own_task_still_leaves_that_refresh_waiting() -> None:
    """When this fails, aiokafka finishes such refreshes itself: kafka_metadata.py can go."""
    async with periodic_refresh(aiokafkas) as refreshes:
        asked = refreshes.client.set_topics(["events"])
        refreshes.go_on.set()

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asked, timeout=0.5)
        assert refreshes.topics == [set()]


async def test_the_workers_consumer_and_producer_refresh_with_the_mended_task() -> None:
    transport = app.transport
    assert isinstance(transport, kafka_consumer.Transport)
    consumer = app.consumer
    assert isinstance(consumer, kafka_consumer.RewindingConsumer)
    producer = app.producer
    assert isinstance(producer, kafka_metadata.Producer)

    # Made, never started: nothing reaches a broker.
    made = [
        consumer._new_consumer_thread()._create_worker_consumer(transport),
        producer._new_producer(),
    ]

    try:
        for client in (made[0]._client, made[1].client):
            assert client._md_synchronizer.func is kafka_metadata.synchronize_metadata
            assert client._md_synchronizer.args == (client,)
    finally:
        for made_one in made:
            await made_one.stop()
