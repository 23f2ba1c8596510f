"""The Kafka transport: a consumer that never skips a partition it has not committed, and
waits ``CONSUMER_FETCH_MAX_WAIT`` for an empty fetch, not Faust's fixed 1.5 s.

Faust (faust-streaming 0.15.3) drops the records it fetched while its flow was stopped
for a rebalance and seeks back to the committed offsets to read them again. A partition
that has no committed offset yet (a worker died before its first commit, and another
took the partition over) is left where the dropped records moved it: its backlog is
never processed. faust-streaming issue #216 reports records skipped across a rebalance
too. ``RewindingConsumer`` seeks such a partition back to its start, where a
consumer with no committed offset begins reading.

Changelog partitions have no committed offsets at all: Faust's table recovery reads
them from offsets it keeps itself. Records of a changelog dropped that way (fetched
just after recovery placed the partition, before the flow resumed) would leave
recovery waiting for records it will never see, so those partitions go back to where
recovery has read them.

Faust has no setting for the consumer class, so ``ServiceApp`` makes this transport in
the private ``App._new_transport()``. ``tests/runtime/test_kafka_consumer.py`` checks
the seeks; the template's end-to-end test
``test_a_partition_taken_over_before_its_first_commit_is_read_from_its_start`` proves
the workaround against a real broker, where a survivor without it skipped the backlog.

A fetch asks for the partitions of one broker that hold no fetched records yet. While
the streams are still taking the records of the last fetch (100 ms and more under
load), aiokafka fetches the others alone: a quiet partition, such as the partition of
Faust's leader topic that every worker reads, and nothing else. The broker holds such a
fetch until data comes or the fetch's maximum wait passes, and the busy partitions,
drained meanwhile, wait for it too. Each such fetch brings more records than the
streams take in 100 ms, so under steady load it happens again and again: with Faust's
1.5 s, events waited seconds at half of a worker's capacity. ``AIOKafkaConsumerThread``
hard-codes that wait, so ``FetchWaitConsumerThread`` sets aiokafka's before its
consumer starts.

Faust's fetch loop hands each record to the streams with mode's ``wait_first()``, so
that stopping the flow for a rebalance frees it from a stream whose buffer is full.
That call makes four tasks for every record, one to hand it over and three to wait for
events, and cancels three: much of a worker's CPU. ``RewindingConsumer.wait_first()``
makes the one task and waits for the events without tasks of their own. The hand-over
starts in the loop's next turn, as with mode's: started at once, it raced Faust's seeks
back to the committed offsets after a rebalance, and a partition's commits stopped.
"""

import asyncio
import inspect
from collections.abc import Coroutine, Mapping
from typing import Any, cast

import aiokafka as aiokafka_client
from faust.tables.manager import TableManager
from faust.transport.drivers import aiokafka
from faust.types import TP, AppT
from mode.services import WaitArgT, WaitResults
from mode.utils.locks import Event

# Faust's flow events are asyncio's, mode's services stop and crash on its own.
WaitedEvent = asyncio.Event | Event
EVENT_WAITS = {asyncio.Event.wait.__code__, Event.wait.__code__}


class FetchWaitConsumerThread(aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, its consumer waiting ``fetch_max_wait`` s for an empty fetch."""

    def _create_worker_consumer(self, transport: Any) -> aiokafka_client.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # What aiokafka's constructor keeps of fetch_max_wait_ms, read when the consumer
        # starts and makes its fetcher; tests/runtime/test_kafka_consumer.py checks it.
        consumer._fetch_max_wait_ms = round(cast(Transport, transport).fetch_max_wait * 1000)
        return consumer


class RewindingConsumer(aiokafka.Consumer):
    """Seeks uncommitted partitions to their start and changelogs to where recovery read them.

    Committed partitions go to their committed offsets, as with aiokafka's consumer.
    """

    def _new_consumer_thread(self) -> aiokafka.AIOKafkaConsumerThread:
        return FetchWaitConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def wait_first(self, *coros: WaitArgT, **options: Any) -> WaitResults:
        """mode's ``wait_first()`` of a coroutine and an event's ``wait()``, with one task.

        As mode's: whichever ends first wins, the coroutine is cancelled unless it ended,
        and a stop or crash of the consumer ends the wait as stopped. Other waits go to
        mode's.
        """
        if len(coros) != 2 or options:
            return await super().wait_first(*coros, **options)
        first, waiting = coros
        event = waited_event(waiting)
        if event is None or not inspect.iscoroutine(first):
            return await super().wait_first(*coros, **options)
        cast(Coroutine[Any, Any, bool], waiting).close()
        stopped, crashed = self._stopped, self._crashed
        task = self.loop.create_task(first)
        try:
            if event.is_set() or stopped.is_set() or crashed.is_set():
                # mode's tasks all take a turn; the hand-over may end in its own.
                await asyncio.sleep(0)
            else:
                await self._first_of(task, (event, stopped, crashed))
        finally:
            if not task.done():
                task.cancel()
        done: list[WaitArgT] = []
        results: list[Any] = []
        if task.done():
            # Raises what the hand-over raised, or CancelledError, as mode's does.
            results.append(task.result())
            done.append(first)
        if event.is_set():
            done.append(waiting)
            results.append(True)
        if done and not (stopped.is_set() or crashed.is_set()):
            return WaitResults(done, results, False)
        return WaitResults([], [], True)

    async def _first_of(self, task: asyncio.Task[Any], events: tuple[WaitedEvent, ...]) -> None:
        """Wait until ``task`` ends or one of ``events`` is set."""
        woken = self.loop.create_future()

        def wake(_: object) -> None:
            if not woken.done():
                woken.set_result(None)

        task.add_done_callback(wake)
        # set() of asyncio's Event and mode's sets the result of each future in their
        # _waiters, where their wait() puts its own; tests/runtime/test_kafka_consumer.py
        # checks it.
        for event in events:
            event._waiters.append(woken)
        try:
            await woken
        finally:
            task.remove_done_callback(wake)
            for event in events:
                event._waiters.remove(woken)

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        changelogs = self.app.tables.changelog_topics
        if self.app.conf.consumer_auto_offset_reset == "earliest":
            for tp, offset in committed.items():
                if not offset and tp.topic not in changelogs:
                    # Offset 0, not the log's start offset: asking the broker for that
                    # would wait out the fetch in flight; below the log's start, the
                    # consumer resets to it.
                    await self.seek(tp, 0)
        recovered = self.recovered_offsets()
        for tp in committed:
            if tp.topic in changelogs and tp in recovered:
                await self.seek(tp, recovered[tp])
        return committed

    def recovered_offsets(self) -> dict[TP, int]:
        """Where table recovery goes on reading each changelog partition it reads."""
        tables = self.app.tables
        if not isinstance(tables, TableManager):
            return {}
        recovery = tables.recovery
        offsets = {tp: recovery.standby_offsets[tp] for tp in recovery.standby_tps}
        offsets.update({tp: recovery.active_offsets[tp] for tp in recovery.active_tps})
        # As recovery seeks: from the last offset it read (-1: none yet, the start).
        return {tp: max(offset, 0) for tp, offset in offsets.items()}


def waited_event(coro: WaitArgT) -> WaitedEvent | None:
    """The event whose ``wait()`` ``coro`` is, not started yet, if it is one."""
    if not inspect.iscoroutine(coro) or coro.cr_code not in EVENT_WAITS:
        return None
    frame = coro.cr_frame
    event = frame.f_locals.get("self") if frame is not None else None
    return event if isinstance(event, asyncio.Event | Event) else None


class Transport(aiokafka.Transport):
    """The aiokafka transport with ``RewindingConsumer``, fetches waiting ``fetch_max_wait`` s."""

    Consumer = RewindingConsumer

    def __init__(self, url: Any, app: AppT, fetch_max_wait: float) -> None:
        super().__init__(url, app)
        self.fetch_max_wait = fetch_max_wait
