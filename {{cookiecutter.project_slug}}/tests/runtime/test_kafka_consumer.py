import asyncio
import inspect
from collections import Counter
from collections.abc import Mapping

import pytest
from aiokafka import AIOKafkaConsumer
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.transport.consumer import Consumer
from faust.transport.drivers import aiokafka
from faust.types import TP
from mode.utils.locks import Event

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime import kafka_consumer
from {{ cookiecutter.package_name }}.settings import settings

EVENTS = TP("{{ cookiecutter.project_slug }}.events", 0)
COMMITTED = TP("{{ cookiecutter.project_slug }}.events", 1)
CHANGELOG = TP("{{ cookiecutter.project_slug }}-counts-changelog", 0)
STANDBY = TP("{{ cookiecutter.project_slug }}-counts-changelog", 1)


@pytest.fixture
def sought(monkeypatch: pytest.MonkeyPatch) -> dict[TP, int]:
    """The seeks of the consumer, whose four assigned partitions Kafka reports so."""

    async def seek_to_committed(self: aiokafka.Consumer) -> Mapping[TP, int | None]:
        return {EVENTS: None, COMMITTED: 42, CHANGELOG: None, STANDBY: None}

    sought: dict[TP, int] = {}

    async def seek(self: aiokafka.Consumer, partition: TP, offset: int) -> None:
        sought[partition] = offset

    monkeypatch.setattr(aiokafka.Consumer, "seek_to_committed", seek_to_committed)
    monkeypatch.setattr(aiokafka.Consumer, "seek", seek)
    monkeypatch.setattr(TableManager, "changelog_topics", property(lambda self: {CHANGELOG.topic}))
    return sought


def recovery() -> Recovery:
    assert isinstance(app.tables, TableManager)
    return app.tables.recovery


async def test_a_partition_never_committed_is_sought_back_to_its_start(
    sought: dict[TP, int],
) -> None:
    consumer = app.consumer
    assert isinstance(consumer, kafka_consumer.RewindingConsumer)

    committed = await consumer.seek_to_committed()

    # aiokafka itself seeks the committed partition; no recovery reads the changelog.
    assert sought == {EVENTS: 0}
    assert committed == {EVENTS: None, COMMITTED: 42, CHANGELOG: None, STANDBY: None}


async def test_changelog_partitions_go_back_to_where_recovery_read_them(
    sought: dict[TP, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recovery(), "active_tps", {CHANGELOG})
    monkeypatch.setattr(recovery(), "active_offsets", Counter({CHANGELOG: 17}))
    # A standby partition recovery has not read from yet.
    monkeypatch.setattr(recovery(), "standby_tps", {STANDBY})
    monkeypatch.setattr(recovery(), "standby_offsets", Counter({STANDBY: -1}))
    consumer = app.consumer
    assert isinstance(consumer, kafka_consumer.RewindingConsumer)

    await consumer.seek_to_committed()

    assert sought == {EVENTS: 0, CHANGELOG: 17, STANDBY: 0}


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


def consumer() -> kafka_consumer.RewindingConsumer:
    consumer = app.consumer
    assert isinstance(consumer, kafka_consumer.RewindingConsumer)
    return consumer


async def test_a_record_handed_over_at_once_takes_one_task_and_wins() -> None:
    suspend_flow = asyncio.Event()
    tasks: list[int] = []

    async def hand_over() -> str:
        tasks.append(len(asyncio.all_tasks()))
        return "handed over"

    before = len(asyncio.all_tasks())
    handing_over = hand_over()
    waited = await consumer().wait_first(handing_over, suspend_flow.wait())

    assert waited.done == [handing_over]
    assert waited.results == ["handed over"]
    assert not waited.stopped
    # mode's wait_first() runs the hand-over beside three tasks waiting for events.
    assert tasks == [before + 1]
    assert not suspend_flow._waiters


@pytest.mark.parametrize("event_class", [asyncio.Event, Event])
async def test_an_event_set_frees_a_blocked_hand_over_and_cancels_it(
    event_class: type[asyncio.Event | Event],
) -> None:
    suspend_flow = event_class()
    cancelled = asyncio.Event()

    async def hand_over() -> None:
        try:
            await asyncio.Future()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    asyncio.get_running_loop().call_later(0.01, suspend_flow.set)
    suspended = suspend_flow.wait()
    waited = await asyncio.wait_for(consumer().wait_first(hand_over(), suspended), 5)

    assert waited.done == [suspended]
    assert waited.results == [True]
    assert not waited.stopped
    await asyncio.wait_for(cancelled.wait(), 5)
    assert not suspend_flow._waiters


async def test_an_event_set_before_leaves_the_hand_over_its_turn() -> None:
    suspend_flow = asyncio.Event()
    suspend_flow.set()

    async def hand_over() -> str:
        return "handed over"

    waited = await consumer().wait_first(hand_over(), suspend_flow.wait())

    assert waited.results == ["handed over", True]
    assert not waited.stopped


async def test_what_the_hand_over_raises_is_raised() -> None:
    async def hand_over() -> None:
        raise ValueError("undecodable")

    with pytest.raises(ValueError, match="undecodable"):
        await consumer().wait_first(hand_over(), asyncio.Event().wait())


async def test_a_crashed_consumer_ends_the_wait_as_stopped() -> None:
    crashed = consumer()._crashed

    async def hand_over() -> None:
        await asyncio.Future()

    asyncio.get_running_loop().call_later(0.01, crashed.set)
    try:
        waited = await asyncio.wait_for(
            consumer().wait_first(hand_over(), asyncio.Event().wait()), 5
        )
    finally:
        crashed.clear()

    assert waited.stopped
    assert waited.done == []
    assert not crashed._waiters


async def test_waits_for_anything_but_events_go_to_mode() -> None:
    async def hand_over() -> str:
        return "handed over"

    waited = await consumer().wait_first(hand_over(), asyncio.sleep(5))

    assert waited.results == ["handed over"]
    sleeping = asyncio.sleep(0)
    assert kafka_consumer.waited_event(sleeping) is None
    await sleeping


@pytest.mark.parametrize("event_class", [asyncio.Event, Event])
async def test_set_wakes_the_futures_waiting_in_an_events_waiters(
    event_class: type[asyncio.Event | Event],
) -> None:
    """What wait_first() relies on of asyncio's Event and mode's."""
    event = event_class()
    waiting = event.wait()
    assert kafka_consumer.waited_event(waiting) is event
    waiting.close()
    woken = asyncio.get_running_loop().create_future()
    event._waiters.append(woken)

    event.set()

    assert woken.done()


def test_faust_hands_records_over_waiting_for_its_flow_event() -> None:
    """The call wait_first() makes cheaper: a release without it would leave mode's."""
    assert isinstance(consumer().suspend_flow, asyncio.Event)
    assert "self.wait_first(" in inspect.getsource(Consumer._drain_messages)
    assert "self.suspend_flow.wait()" in inspect.getsource(Consumer._drain_messages)
