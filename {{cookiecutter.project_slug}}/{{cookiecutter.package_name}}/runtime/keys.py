"""Keys: a record made from an event goes out under that event's key.

Faust's ``sink=`` sends what an agent yields without a key, so the producer spreads
the records over the partitions: a key's records lose their order and no longer share
a partition with the key's input records. ``keep_key(topic)`` is a sink that sends each
record under the key of the event the agent was processing when it yielded it.
"""

from typing import Any

import faust
from faust.types import TopicT


class KeyedSink:
    """A sink of ``topic`` that keeps the key of each record's source event."""

    def __init__(self, topic: TopicT) -> None:
        self.topic = topic

    async def __call__(self, value: Any) -> None:
        event = faust.current_event()
        # The key exactly as it came, bytes and all; None for an event that had none.
        await self.topic.send(key=None if event is None else event.message.key, value=value)


def keep_key(topic: TopicT) -> KeyedSink:
    """The sink for ``sink=``: ``topic``, each record under the key of the event it came from.

    Meant for agents that yield one record per event: an agent that yields a batch's
    result would send it under the key of the batch's last event.
    """
    return KeyedSink(topic)
