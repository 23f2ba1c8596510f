import asyncio
import inspect
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka
from faust.types import TP, Message

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime import kafka_consumer
from {{ cookiecutter.package_name }}.settings import settings

EVENTS = TP("{{ cookiecutter.project_slug }}.events", 0)
COMMITTED = TP("{{ cookiecutter.project_slug }}.events", 1)
CHANGELOG = TP("{{ cookiecutter.project_slug }}-counts-changelog", 0)
STANDBY = TP("{{ cookiecutter.project_slug }}-counts-changelog", 1)
# As Kafka reports the four assigned partitions.
KAFKA_COMMITTED: dict[TP, int | None] = {
    EVENTS: None,
    COMMITTED: 42,
    CHANGELOG: None,
    STANDBY: None,
}


@pytest.fixture
def consumer(monkeypatch: pytest.MonkeyPatch) -> kafka_consumer.RewindingConsumer:
    """The app's consumer, its seek counts and read offsets fresh, its changelog topic set."""
    consumer = app.consumer
    assert isinstance(consumer, kafka_consumer.RewindingConsumer)
    thread = consumer._thread
    assert isinstance(thread, kafka_consumer.FetchWaitConsumerThread)
    monkeypatch.setattr(thread, "_between_fetches", asyncio.Lock())
    monkeypatch.setattr(thread, "seeks", 0)
    monkeypatch.setattr(thread, "fetched_after", 0)
    monkeypatch.setattr(thread, "moved_by", {})
    monkeypatch.setattr(consumer, "_seeks_read", 0)
    monkeypatch.setattr(consumer, "_read_at_seek", {})
    monkeypatch.setattr(consumer, "_read_offset", defaultdict(lambda: None))
    monkeypatch.setattr(TableManager, "changelog_topics", property(lambda self: {CHANGELOG.topic}))
    return consumer


def thread_of(consumer: kafka_consumer.RewindingConsumer) -> kafka_consumer.FetchWaitConsumerThread:
    thread = consumer._thread
    assert isinstance(thread, kafka_consumer.FetchWaitConsumerThread)
    return thread


class KafkaConsumer:
    """What the thread's seek uses of aiokafka's consumer, the seeks it was asked for kept."""

    def __init__(self) -> None:
        self.sought: dict[TP, int] = {}

    async def seek_to_committed(self) -> dict[TP, int | None]:
        return KAFKA_COMMITTED

    def seek(self, partition: TP, offset: int) -> None:
        self.sought[partition] = offset


@pytest.fixture
def kafka(
    consumer: kafka_consumer.RewindingConsumer, monkeypatch: pytest.MonkeyPatch
) -> KafkaConsumer:
    """aiokafka's consumer, as the consumer thread's seeks use it."""
    kafka = KafkaConsumer()
    monkeypatch.setattr(thread_of(consumer), "_ensure_consumer", lambda: kafka)
    return kafka


def recovery() -> Recovery:
    assert isinstance(app.tables, TableManager)
    return app.tables.recovery


async def test_a_partition_never_committed_is_sought_back_to_its_start(
    consumer: kafka_consumer.RewindingConsumer,
) -> None:
    rewinds = consumer.rewinds(KAFKA_COMMITTED, consumer.recovered_offsets())

    # aiokafka itself seeks the committed partition; no recovery reads the changelog.
    assert rewinds == {EVENTS: 0}


async def test_changelog_partitions_go_back_to_where_recovery_read_them(
    consumer: kafka_consumer.RewindingConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recovery(), "active_tps", {CHANGELOG})
    monkeypatch.setattr(recovery(), "active_offsets", Counter({CHANGELOG: 17}))
    # A standby partition recovery has not read from yet.
    monkeypatch.setattr(recovery(), "standby_tps", {STANDBY})
    monkeypatch.setattr(recovery(), "standby_offsets", Counter({STANDBY: -1}))

    rewinds = consumer.rewinds(KAFKA_COMMITTED, consumer.recovered_offsets())

    assert rewinds == {EVENTS: 0, CHANGELOG: 17, STANDBY: 0}


async def test_the_thread_seeks_and_counts_the_partitions_each_seek_moved(
    consumer: kafka_consumer.RewindingConsumer, kafka: KafkaConsumer
) -> None:
    thread = thread_of(consumer)

    committed = await thread._seek_to_committed({CHANGELOG: 17})

    assert committed == KAFKA_COMMITTED
    assert kafka.sought == {EVENTS: 0, CHANGELOG: 17}
    # The standby partition stays where aiokafka has it, as it has no offset.
    assert (thread.seeks, thread.moved_by) == (1, {EVENTS: 1, COMMITTED: 1, CHANGELOG: 1})


async def test_a_seek_waits_for_the_fetch_in_progress(
    consumer: kafka_consumer.RewindingConsumer,
    kafka: KafkaConsumer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    thread = thread_of(consumer)
    fetch_may_end = asyncio.Event()

    async def fetch_records(self: Any, *args: Any, **kwargs: Any) -> dict[TP, list[Any]]:
        await fetch_may_end.wait()
        return {EVENTS: []}

    monkeypatch.setattr(aiokafka.AIOKafkaConsumerThread, "_fetch_records", fetch_records)
    fetch = asyncio.create_task(thread._fetch_records(None, None))
    await asyncio.sleep(0)
    seek = asyncio.create_task(thread._seek_to_committed({}))
    await asyncio.sleep(0.01)
    assert kafka.sought == {}

    fetch_may_end.set()
    await asyncio.gather(fetch, seek)

    # The fetch returned before the seek, so it counts no seek.
    assert (thread.fetched_after, thread.seeks, kafka.sought) == (0, 1, {EVENTS: 0})


def fetched(
    monkeypatch: pytest.MonkeyPatch,
    thread: kafka_consumer.FetchWaitConsumerThread,
    *records: Message,
) -> None:
    """Faust's fetch returns ``records``, fetched when the thread had made its seeks so far."""

    async def getmany(self: Any, *_: Any) -> AsyncIterator[tuple[TP, Message]]:
        thread.fetched_after = thread.seeks
        for record in records:
            yield record.tp, record

    monkeypatch.setattr(faust_consumer.Consumer, "getmany", getmany)


def seeks_to(
    monkeypatch: pytest.MonkeyPatch,
    thread: kafka_consumer.FetchWaitConsumerThread,
    committed: dict[TP, int | None],
    may_end: asyncio.Event | None = None,
) -> None:
    """The thread's seek moves the partitions of ``committed`` there, after ``may_end``."""

    async def seek_to_committed(self: Any) -> Mapping[TP, int | None]:
        thread.seeks += 1
        thread.moved_by.update(dict.fromkeys(committed, thread.seeks))
        if may_end is not None:
            await may_end.wait()
        return committed

    monkeypatch.setattr(
        kafka_consumer.FetchWaitConsumerThread, "seek_to_committed", seek_to_committed
    )


def record(tp: TP, offset: int) -> Message:
    return Message(
        topic=tp.topic,
        partition=tp.partition,
        offset=offset,
        timestamp=0.0,
        timestamp_type=0,
        headers=[],
        key=b"home",
        value=b"{}",
        checksum=None,
    )


async def handed_over(consumer: kafka_consumer.RewindingConsumer) -> list[tuple[TP, int]]:
    """The records Faust's fetch loop takes, each marked read as it does."""
    taken = []
    async for tp, taken_message in consumer.getmany(timeout=1.0):
        taken.append((tp, taken_message.offset))
        consumer._read_offset[tp] = taken_message.offset
    return taken


async def test_records_fetched_before_a_seek_moved_their_partition_are_not_handed_over(
    consumer: kafka_consumer.RewindingConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = thread_of(consumer)
    fetched(monkeypatch, thread, record(EVENTS, 5), record(COMMITTED, 7))
    # A seek moved the first partition after the fetch.
    monkeypatch.setattr(thread, "moved_by", {EVENTS: 1})

    assert await handed_over(consumer) == [(COMMITTED, 7)]


async def test_a_seek_during_a_hand_over_keeps_the_read_offset_it_reset(
    consumer: kafka_consumer.RewindingConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = thread_of(consumer)
    fetched(monkeypatch, thread, record(EVENTS, 10), record(EVENTS, 11), record(COMMITTED, 50))
    seeks_to(monkeypatch, thread, {EVENTS: 3})
    taken = []
    async for tp, taken_message in consumer.getmany(timeout=1.0):
        taken.append((tp, taken_message.offset))
        if not consumer._seeks_read:
            # A rebalance ends while the first record is handed over.
            await consumer.perform_seek()
        consumer._read_offset[tp] = taken_message.offset

    # Read from offset 3 again, not dropped up to 10; the partition the seek left alone goes on.
    assert consumer._read_offset[EVENTS] == 3
    assert taken == [(EVENTS, 10), (COMMITTED, 50)]


async def test_records_fetched_after_a_seek_wait_until_faust_resets_its_read_offsets(
    consumer: kafka_consumer.RewindingConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = thread_of(consumer)
    consumer._read_offset[EVENTS] = 10
    seek_may_end = asyncio.Event()
    seeks_to(monkeypatch, thread, {EVENTS: 3}, seek_may_end)
    seek = asyncio.create_task(consumer.perform_seek())
    await asyncio.sleep(0)
    # Fetched from where the thread's seek moved the partition.
    fetched(monkeypatch, thread, record(EVENTS, 3))
    reads_at_hand_over = []

    async def take() -> None:
        async for tp, _ in consumer.getmany(timeout=1.0):
            reads_at_hand_over.append(consumer._read_offset[tp])

    taking = asyncio.create_task(take())
    await asyncio.sleep(0.01)
    assert reads_at_hand_over == []

    seek_may_end.set()
    await asyncio.gather(seek, taking)

    # Faust hands a record over from its read offset on: 3 now, not 10.
    assert reads_at_hand_over == [3]


async def test_the_worker_consumer_waits_the_fetch_wait_of_its_settings() -> None:
    consumer = app.consumer
    assert isinstance(consumer, kafka_consumer.RewindingConsumer)
    transport = app.transport
    assert isinstance(transport, kafka_consumer.Transport)

    made = consumer._new_consumer_thread()._create_worker_consumer(transport)

    assert made._fetch_max_wait_ms == round(settings.consumer_fetch_max_wait * 1000) != 1500
    # aiokafka reads the attribute where it makes the fetcher; a release that reads
    # something else there would leave Faust's 1.5 s in place.
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in inspect.getsource(AIOKafkaConsumer.start)
