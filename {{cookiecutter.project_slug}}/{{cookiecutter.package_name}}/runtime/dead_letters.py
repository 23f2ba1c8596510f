"""Dead letters: a message the service cannot process goes to ``<topic>.dlq``.

Faust acknowledges a message it cannot deserialize and drops it without a word, and an
exception in an agent stops the agent. Here both become dead letters instead: the
original bytes, with why and where they failed in the headers, so the stream goes on
and nothing is lost.
"""

import logging
from typing import Any, Literal

import faust
from faust.types import AppT, Message
from prometheus_client import Counter

logger = logging.getLogger(__name__)

DEAD_LETTERS = Counter(
    "dead_letters",
    "Messages sent to a dead-letter topic, by source topic and reason.",
    ["topic", "reason"],
)

# Why a message failed, and the headers of its dead letter: the service's AsyncAPI document
# describes both from here.
Reason = Literal["undecodable key", "undecodable value", "processing failed"]
HEADERS = {
    "dlq.reason": "Why the message failed.",
    "dlq.error": "The exception: its type, a colon, and its message.",
    "dlq.topic": "The topic the message was read from.",
    "dlq.partition": "Its partition there, in decimal.",
    "dlq.offset": "Its offset in that partition, in decimal.",
}


def dead_letter_topic_name(topic: str) -> str:
    """The dead-letter topic of ``topic``."""
    return f"{topic}.dlq"


def dead_letter_headers(message: Message, error: BaseException, reason: Reason) -> dict[str, bytes]:
    """Why and where ``message`` failed, as Kafka headers of its dead letter."""
    return {
        "dlq.reason": reason.encode(),
        "dlq.error": f"{type(error).__name__}: {error}".encode(),
        "dlq.topic": message.topic.encode(),
        "dlq.partition": str(message.partition).encode(),
        "dlq.offset": str(message.offset).encode(),
    }


async def send_dead_letter(
    app: AppT, message: Message, error: BaseException, reason: Reason
) -> None:
    """Send the original key and value of ``message`` to its topic's dead-letter topic."""
    topic = app.topic(dead_letter_topic_name(message.topic), key_type=bytes, value_type=bytes)
    await topic.send(
        key=message.key,
        value=message.value,
        headers=dead_letter_headers(message, error, reason),
    )
    DEAD_LETTERS.labels(message.topic, reason).inc()
    logger.warning(
        "%s[%d]@%d sent to %s: %s: %s",
        message.topic,
        message.partition,
        message.offset,
        topic.get_topic_name(),
        reason,
        error,
    )


async def dead_letter(event: faust.EventT[Any] | None, error: BaseException) -> None:
    """Dead-letter the event an agent failed to process."""
    assert event is not None, "dead_letter() needs the stream's current event"
    await send_dead_letter(event.app, event.message, error, "processing failed")


class DeadLetteringTopic(faust.Topic):
    """A topic whose undecodable or invalid messages become dead letters."""

    async def on_key_decode_error(self, exc: Exception, message: Message) -> None:
        await send_dead_letter(self.app, message, exc, "undecodable key")

    async def on_value_decode_error(self, exc: Exception, message: Message) -> None:
        await send_dead_letter(self.app, message, exc, "undecodable value")
