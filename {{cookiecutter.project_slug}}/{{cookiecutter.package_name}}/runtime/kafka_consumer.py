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

At the end of a rebalance Faust's recovery resumes the stream partitions, seeks them to
their committed offsets, then clears the streams' queues as it resumes the flow.
Records handed over during the seek are dropped in that clear, their read offsets
already past them, so they are not read again until the next rebalance, and the
partition's commits stand still until then: a worker that takes over partitions with
records waiting leaves some unprocessed. ``RewindingConsumer`` stops the flow for the
seek, and recovery resumes it after the clear.

Faust's fetch loop hands each record to the streams through mode's ``wait_first()``, so
that stopping the flow frees it from a stream whose buffer is full. That call starts
four tasks and cancels three for every record, much of a worker's CPU. On Python 3.12
and later ``RewindingConsumer.wait_first()`` starts the hand-over as an eager task: it
mostly ends at once, and only one that has to wait waits as mode's does. Handing
records over sooner made Faust's seek race above likelier; with the flow stopped for
the seek, no record is handed over during it.

Faust has no setting for the consumer class, so ``ServiceApp`` makes this transport in
the private ``App._new_transport()``. ``tests/runtime/test_kafka_consumer.py`` checks
the seeks; the template's end-to-end tests
``test_a_partition_taken_over_before_its_first_commit_is_read_from_its_start`` and
``test_a_source_topic_created_after_the_worker_started_is_read_within_seconds`` prove
the workarounds against a real broker, where workers without them skipped events.

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

When a rebalance reaches a worker that is stopping, Faust closes its consumer's
client and group coordinator, but schedules that on the app's event loop, while they
run on the consumer thread's own: the worker then hangs until it is killed, or dies of
a segmentation fault under uvloop. ``FetchWaitConsumerThread`` leaves the rebalance to
the consumer, which leaves the group when it stops, moments later.

The transport's consumer and producer also refresh their metadata as
``kafka_metadata.py`` does, and the consumer paces its fetches while records keep
coming as ``fetch_pacing.py`` does.
"""

import asyncio
import sys
from collections.abc import Mapping
from typing import Any, cast

import aiokafka as aiokafka_client
from faust.tables.manager import TableManager
from faust.transport.drivers import aiokafka
from faust.types import TP, AppT
from mode.services import WaitArgT, WaitResults

from . import kafka_metadata
from .fetch_pacing import FetchPacer


class FetchWaitConsumerThread(aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, its consumer waiting ``fetch_max_wait`` s for an empty fetch.

    Its client's metadata refreshes are mended too (``kafka_metadata.py``), its fetches
    paced while records keep coming (``fetch_pacing.py``), and a rebalance during
    shutdown closes nothing from the wrong event loop.
    """

    async def on_start(self) -> None:
        await super().on_start()
        busy_wait = cast(Transport, self.transport).fetch_busy_wait
        if busy_wait and self._consumer is not None:
            FetchPacer(self._consumer._fetcher, busy_wait, self.app.conf.consumer_max_fetch_size)

    def _create_worker_consumer(self, transport: Any) -> aiokafka_client.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        kafka_metadata.mend_metadata_refreshes(consumer._client)
        # What aiokafka's constructor keeps of fetch_max_wait_ms, read when the consumer
        # starts and makes its fetcher; tests/runtime/test_kafka_consumer.py checks it.
        consumer._fetch_max_wait_ms = round(cast(Transport, transport).fetch_max_wait * 1000)
        return consumer

    def close(self) -> None:
        """Close nothing: the consumer leaves the group when this thread stops.

        Faust calls this only for a rebalance that reaches a stopping worker, and would
        close the consumer from the app's event loop, not this thread's.
        """


class RewindingConsumer(aiokafka.Consumer):
    """Seeks uncommitted partitions to their start and changelogs to where recovery read them.

    The flow stops while it seeks, so that no record is handed over to be dropped, and
    each record's hand-over starts eagerly.

    Committed partitions go to their committed offsets, as with aiokafka's consumer.
    """

    def _new_consumer_thread(self) -> aiokafka.AIOKafkaConsumerThread:
        return FetchWaitConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def wait_first(self, *coros: WaitArgT, **options: Any) -> WaitResults:
        """mode's ``wait_first()``, but a first coroutine that ends without waiting ends it.

        Faust's fetch loop hands each record over this way; started eagerly, the
        hand-over mostly ends in that step, and mode's four tasks per record are saved.
        """
        first, *others = coros
        if (
            sys.version_info >= (3, 12)
            and asyncio.iscoroutine(first)
            and self.flow_active
            and asyncio.get_running_loop() is self.loop
            and not (self._stopped.is_set() or self._crashed.is_set())
        ):
            task = asyncio.Task(first, loop=self.loop, eager_start=True)
            if task.done():
                for other in others:
                    if asyncio.iscoroutine(other):
                        other.close()
                # Raises what the hand-over raised, as mode's does.
                return WaitResults([first], [task.result()], False)
            return await super().wait_first(task, *others, **options)
        return await super().wait_first(*coros, **options)

    async def perform_seek(self) -> None:
        # Stopped before the seek: records handed over meanwhile would be dropped from
        # the streams' queues when recovery resumes the flow after it, past their read
        # offsets. Recovery resumes it; getmany() calls this with the flow stopped already.
        self.stop_flow()
        await super().perform_seek()

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


class Transport(aiokafka.Transport):
    """The aiokafka transport with ``RewindingConsumer``, fetches waiting ``fetch_max_wait`` s.

    While records keep coming, fetches wait ``fetch_busy_wait`` s (0: not paced). Its
    consumer's and producer's metadata refreshes are mended (``kafka_metadata.py``).
    """

    Consumer = RewindingConsumer
    Producer = kafka_metadata.Producer

    def __init__(self, url: Any, app: AppT, fetch_max_wait: float, fetch_busy_wait: float) -> None:
        super().__init__(url, app)
        self.fetch_max_wait = fetch_max_wait
        self.fetch_busy_wait = fetch_busy_wait
