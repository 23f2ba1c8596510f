from collections.abc import Mapping

import pytest
from faust.tables.manager import TableManager
from faust.transport.drivers import aiokafka
from faust.types import TP

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.kafka_consumer import RewindingConsumer

EVENTS = TP("orders.events", 0)
COMMITTED = TP("orders.events", 1)
CHANGELOG = TP("orders-changelog", 0)


async def test_a_partition_never_committed_is_sought_back_to_its_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What Kafka answers for three assigned partitions, as aiokafka reports it.
    async def seek_to_committed(self: aiokafka.Consumer) -> Mapping[TP, int | None]:
        return {EVENTS: None, COMMITTED: 42, CHANGELOG: None}

    sought: dict[TP, int] = {}

    async def seek(self: aiokafka.Consumer, partition: TP, offset: int) -> None:
        sought[partition] = offset

    monkeypatch.setattr(aiokafka.Consumer, "seek_to_committed", seek_to_committed)
    monkeypatch.setattr(aiokafka.Consumer, "seek", seek)
    monkeypatch.setattr(TableManager, "changelog_topics", property(lambda self: {CHANGELOG.topic}))
    consumer = app.consumer
    assert isinstance(consumer, RewindingConsumer)

    committed = await consumer.seek_to_committed()

    # aiokafka itself seeks the committed partition; table recovery places the changelog.
    assert sought == {EVENTS: 0}
    assert committed == {EVENTS: None, COMMITTED: 42, CHANGELOG: None}
