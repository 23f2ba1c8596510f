"""The Kafka transport, with a consumer that never skips a partition it has not committed.

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
"""

from collections.abc import Mapping

from faust.tables.manager import TableManager
from faust.transport.drivers import aiokafka
from faust.types import TP


class RewindingConsumer(aiokafka.Consumer):
    """Seeks uncommitted partitions to their start and changelogs to where recovery read them.

    Committed partitions go to their committed offsets, as with aiokafka's consumer.
    """

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
    """The aiokafka transport with ``RewindingConsumer``."""

    Consumer = RewindingConsumer
