"""The Kafka transport, with a consumer that never skips a partition it has not committed.

Faust drops the records it fetched while its flow was stopped for a rebalance and
seeks back to the committed offsets to read them again. A partition that has no
committed offset yet (a worker died before its first commit, and another took the
partition over) is left where the dropped records moved it: its backlog was never
processed, and never will be. ``RewindingConsumer`` seeks such a partition back to
its start, where a consumer with no committed offset begins reading.
"""

from collections.abc import Mapping

from faust.transport.drivers import aiokafka
from faust.types import TP


class RewindingConsumer(aiokafka.Consumer):
    """Seeks partitions without a committed offset to their start, as others to their commit."""

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        if self.app.conf.consumer_auto_offset_reset == "earliest":
            changelogs = self.app.tables.changelog_topics
            for tp, offset in committed.items():
                # Table recovery positions the changelog partitions itself.
                if not offset and tp.topic not in changelogs:
                    # Offset 0, not the log's start offset: asking the broker for that
                    # would wait out the fetch in flight; below the log's start, the
                    # consumer resets to it.
                    await self.seek(tp, 0)
        return committed


class Transport(aiokafka.Transport):
    """The aiokafka transport with ``RewindingConsumer``."""

    Consumer = RewindingConsumer
