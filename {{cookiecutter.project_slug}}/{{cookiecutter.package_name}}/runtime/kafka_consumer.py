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

Faust seeks every partition back to its committed offset when a rebalance ends, and
resets the offsets it has read to match, while its fetch loop goes on handing over
the records of a fetch made before. The handing-over in progress then marks its
offset read again, after the reset, and the records fetched again from the committed
offset are dropped as read already: that partition's commit never moves again.
Fetched just after the seek but before the reset, records are dropped the same way.
So the consumer thread seeks between fetches, never during one, and
``RewindingConsumer`` hands over no record of a fetch older than the seek that moved
its partition, holds records fetched after a seek until Faust has reset its read
offsets, and puts back the reset offset of a partition whose record was in hand.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import aiokafka as aiokafka_client
from faust.tables.manager import TableManager
from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka
from faust.types import TP, AppT, Message


class FetchWaitConsumerThread(aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread: fetches wait ``fetch_max_wait`` s, seeks come between fetches.

    ``seeks`` counts the seeks to the committed offsets, ``fetched_after`` is that count
    when the last fetch returned, and ``moved_by`` gives the seek that last moved each
    partition. They change on the thread's loop; the consumer's loop only reads them.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        self._between_fetches = asyncio.Lock()
        self.seeks = 0
        self.fetched_after = 0
        self.moved_by: dict[TP, int] = {}

    def _create_worker_consumer(self, transport: Any) -> aiokafka_client.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # What aiokafka's constructor keeps of fetch_max_wait_ms, read when the consumer
        # starts and makes its fetcher; tests/runtime/test_kafka_consumer.py checks it.
        consumer._fetch_max_wait_ms = round(cast(Transport, transport).fetch_max_wait * 1000)
        return consumer

    async def _fetch_records(self, *args: Any, **kwargs: Any) -> RecordMap:
        async with self._between_fetches:
            records = await super()._fetch_records(*args, **kwargs)
            self.fetched_after = self.seeks
        return records

    async def seek_to_committed(self) -> Mapping[TP, int]:
        consumer = cast(RewindingConsumer, self.consumer)
        # Read on the consumer's loop, where recovery changes them.
        recovered = consumer.recovered_offsets()
        return cast(Mapping[TP, int], await self.call_thread(self._seek_to_committed, recovered))

    async def _seek_to_committed(self, recovered: Mapping[TP, int]) -> Mapping[TP, int]:
        kafka = self._ensure_consumer()
        async with self._between_fetches:
            committed = await kafka.seek_to_committed()
            # The partitions aiokafka has moved: those with a committed offset above 0.
            moved = {tp for tp, offset in committed.items() if offset and offset > 0}
            rewinds = cast(RewindingConsumer, self.consumer).rewinds(committed, recovered)
            for tp, offset in rewinds.items():
                kafka.seek(tp, offset)
            self.seeks += 1
            self.moved_by.update(dict.fromkeys(moved | rewinds.keys(), self.seeks))
        return cast(Mapping[TP, int], committed)


class RewindingConsumer(aiokafka.Consumer):
    """Seeks uncommitted partitions to their start and changelogs to where recovery read them.

    Committed partitions go to their committed offsets, as with aiokafka's consumer.
    Records fetched before a seek that moved their partition are not handed over.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Seeks whose read offsets Faust has reset, and those offsets as it set them.
        self._seeks_read = 0
        self._read_at_seek: dict[TP, int | None] = {}
        self._seeking = 0
        self._seeks_read_changed = asyncio.Event()

    def _new_consumer_thread(self) -> aiokafka.AIOKafkaConsumerThread:
        return FetchWaitConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def perform_seek(self) -> None:
        thread = cast(FetchWaitConsumerThread, self._thread)
        self._seeking += 1
        try:
            await super().perform_seek()
            self._read_at_seek = dict(self._read_offset)
        finally:
            self._seeking -= 1
            self._seeks_read = thread.seeks
            # Wakes the fetch loop if it waits; a later wait waits for the next seek.
            self._seeks_read_changed.set()
            self._seeks_read_changed.clear()

    # Faust's signature, and Faust passes timeout= by name.
    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:  # noqa: ASYNC109
        thread = cast(FetchWaitConsumerThread, self._thread)
        fetched_after: int | None = None
        async for tp, message in super().getmany(timeout):
            if fetched_after is None:
                fetched_after = thread.fetched_after
            while fetched_after > self._seeks_read and self._seeking:
                # Fetched after a seek whose read offsets Faust has yet to reset.
                await self._seeks_read_changed.wait()
            if thread.moved_by.get(tp, 0) > fetched_after:
                # Fetched before a seek moved its partition: fetched again from there.
                continue
            seeks_read = self._seeks_read
            yield tp, message
            # Faust has handed the record over and marked its offset read.
            if self._seeks_read != seeks_read and thread.moved_by.get(tp, 0) > fetched_after:
                self._read_offset[tp] = self._read_at_seek.get(tp)

    def rewinds(
        self, committed: Mapping[TP, int | None], recovered: Mapping[TP, int]
    ) -> dict[TP, int]:
        """Where the partitions without a committed offset go, of those ``committed`` has."""
        changelogs = self.app.tables.changelog_topics
        rewinds = {}
        if self.app.conf.consumer_auto_offset_reset == "earliest":
            # Offset 0, not the log's start offset: asking the broker for that would
            # wait out the fetch in flight; below the log's start, the consumer resets
            # to it.
            rewinds = {
                tp: 0
                for tp, offset in committed.items()
                if not offset and tp.topic not in changelogs
            }
        rewinds.update(
            {tp: recovered[tp] for tp in committed if tp.topic in changelogs and tp in recovered}
        )
        return rewinds

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


class Transport(aiokafka.Transport):
    """The aiokafka transport with ``RewindingConsumer``, fetches waiting ``fetch_max_wait`` s."""

    Consumer = RewindingConsumer

    def __init__(self, url: Any, app: AppT, fetch_max_wait: float) -> None:
        super().__init__(url, app)
        self.fetch_max_wait = fetch_max_wait
