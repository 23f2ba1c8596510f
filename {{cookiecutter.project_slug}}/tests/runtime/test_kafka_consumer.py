import asyncio
import inspect
import sys
import types
from collections import Counter
from collections.abc import Mapping

import pytest
from aiokafka import AIOKafkaConsumer
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.transport.drivers import aiokafka
from faust.types import TP

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


def rewinding_consumer() -> kafka_consumer.RewindingConsumer:
    consumer = app.consumer
    assert isinstance(consumer, kafka_consumer.RewindingConsumer)
    return consumer


def recovery() -> Recovery:
    assert isinstance(app.tables, TableManager)
    return app.tables.recovery


async def test_a_partition_never_committed_is_sought_back_to_its_start(
    sought: dict[TP, int],
) -> None:
    consumer = rewinding_consumer()

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
    consumer = rewinding_consumer()

    await consumer.seek_to_committed()

    assert sought == {EVENTS: 0, CHANGELOG: 17, STANDBY: 0}


async def test_no_record_is_handed_over_while_the_consumer_seeks(
    sought: dict[TP, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recovery resumes the streams' partitions, seeks, then clears the streams' queues.

    A record handed over during the seek was dropped in that clear, its read offset
    already past, and so was not read again. The flow stops for the seek; recovery
    resumes it after the clear.
    """
    consumer = rewinding_consumer()
    flowing_at_seek: list[bool] = []
    seek_to_committed = aiokafka.Consumer.seek_to_committed

    async def seek_flowing(self: aiokafka.Consumer) -> Mapping[TP, int | None]:
        flowing_at_seek.append(self.flow_active)
        return await seek_to_committed(self)

    monkeypatch.setattr(aiokafka.Consumer, "seek_to_committed", seek_flowing)
    consumer.resume_flow()
    try:
        await consumer.perform_seek()
        assert flowing_at_seek == [False]
        assert not consumer.flow_active
    finally:
        consumer.resume_flow()
    # Faust's order, which the stop is for: a release that seeks before it resumes the
    # partitions, or clears before it seeks, may not need it.
    resume_streams = inspect.getsource(Recovery._resume_streams)
    order = ["consumer.resume_partitions(", "consumer.perform_seek()", "app.flow_control.resume()"]
    assert sorted(order, key=resume_streams.index) == order


eager = pytest.mark.skipif(sys.version_info < (3, 12), reason="eager tasks: Python 3.12+")


@eager
async def test_a_record_handed_over_without_waiting_starts_no_other_task() -> None:
    consumer = rewinding_consumer()
    handed: list[int] = []

    async def hand_over(offset: int) -> int:
        handed.append(offset)
        return offset

    tasks = len(asyncio.all_tasks())
    handing_over = hand_over(1)
    done, results, stopped = await consumer.wait_first(handing_over, consumer.suspend_flow.wait())

    assert (done, results, stopped) == ([handing_over], [1], False)
    assert handed == [1]
    assert len(asyncio.all_tasks()) == tasks


@eager
async def test_a_hand_over_that_waits_ends_when_the_flow_stops() -> None:
    consumer = rewinding_consumer()
    never = asyncio.Event()

    async def hand_over() -> None:
        await never.wait()

    suspended = consumer.suspend_flow.wait()
    waiting = asyncio.ensure_future(consumer.wait_first(hand_over(), suspended))
    await asyncio.sleep(0)
    assert not waiting.done()
    consumer.stop_flow()
    try:
        done, results, stopped = await asyncio.wait_for(waiting, timeout=5)
    finally:
        consumer.resume_flow()

    assert (done, results, stopped) == ([suspended], [True], False)


@eager
async def test_what_the_hand_over_raises_reaches_the_fetch_loop() -> None:
    consumer = rewinding_consumer()

    async def hand_over() -> None:
        raise LookupError("no such stream")

    with pytest.raises(LookupError, match="no such stream"):
        await consumer.wait_first(hand_over(), consumer.suspend_flow.wait())


async def test_the_worker_consumer_waits_the_fetch_wait_of_its_settings() -> None:
    consumer = rewinding_consumer()
    transport = app.transport
    assert isinstance(transport, kafka_consumer.Transport)

    made = consumer._new_consumer_thread()._create_worker_consumer(transport)

    assert made._fetch_max_wait_ms == round(settings.consumer_fetch_max_wait * 1000) != 1500
    # aiokafka reads the attribute where it makes the fetcher; a release that reads
    # something else there would leave Faust's 1.5 s in place.
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in inspect.getsource(AIOKafkaConsumer.start)


class Closing:
    """A client or coordinator of aiokafka's consumer that notes when it is closed."""

    def __init__(self, name: str, closed: list[str]) -> None:
        self.name, self.closed = name, closed

    async def close(self) -> None:
        self.closed.append(self.name)


async def test_a_rebalance_that_reaches_a_stopping_worker_closes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    consumer = rewinding_consumer()
    thread = consumer._new_consumer_thread()
    closed: list[str] = []
    client = types.SimpleNamespace(
        _closed=False,
        _client=Closing("client", closed),
        _coordinator=Closing("coordinator", closed),
    )
    monkeypatch.setattr(thread, "_consumer", client)
    monkeypatch.setattr(consumer, "_thread", thread)
    stopped = asyncio.Event()
    stopped.set()
    monkeypatch.setattr(app, "_stopped", stopped)
    monkeypatch.setattr(app, "loop", asyncio.get_running_loop())

    # What Faust does with a rebalance once the app stops.
    await app._on_partitions_revoked(set())
    await app._on_partitions_assigned(set())
    await asyncio.sleep(0.01)

    # Faust's own close would have marked the consumer closed, so that its stop later
    # does nothing, and closed both on this loop, not the consumer thread's.
    assert (client._closed, closed) == (False, [])
