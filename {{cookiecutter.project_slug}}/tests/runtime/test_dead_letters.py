from typing import Any

import faust
from prometheus_client import REGISTRY

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.dead_letters import (
    HEADERS,
    dead_letter_headers,
)

from tests.runtime.messages import EVENTS, message


class Payload(faust.Record):
    amount: float


def dead_letters_counted(topic: str, reason: str) -> float:
    labels = {"topic": topic, "reason": reason}
    return REGISTRY.get_sample_value("dead_letters_total", labels) or 0.0


def test_headers_say_why_and_where_the_message_failed() -> None:
    headers = dead_letter_headers(message(b"{}"), ValueError("bad amount"), "processing failed")

    assert headers == {
        "dlq.reason": b"processing failed",
        "dlq.error": b"ValueError: bad amount",
        "dlq.topic": EVENTS.encode(),
        "dlq.partition": b"2",
        "dlq.offset": b"41",
    }
    # The headers the AsyncAPI document describes.
    assert list(headers) == list(HEADERS)


async def test_an_undecodable_message_becomes_a_dead_letter(
    dead_letters: list[tuple[str, dict[str, Any]]],
) -> None:
    topic = app.topic(EVENTS, value_type=Payload)
    before = dead_letters_counted(EVENTS, "undecodable value")

    await topic.decode(message(b"{not json"))

    ((dead_letter_topic, sent),) = dead_letters
    assert dead_letter_topic == f"{EVENTS}.dlq"
    assert (sent["key"], sent["value"]) == (b"home", b"{not json")
    assert sent["headers"]["dlq.reason"] == b"undecodable value"
    assert sent["headers"]["dlq.offset"] == b"41"
    assert dead_letters_counted(EVENTS, "undecodable value") == before + 1


async def test_a_key_that_is_not_utf8_becomes_a_dead_letter(
    dead_letters: list[tuple[str, dict[str, Any]]],
) -> None:
    topic = app.topic(EVENTS, key_type=str, value_type=Payload)

    await topic.decode(message(b'{"amount": 1.0}', key=b"\xffhome"))

    ((_, sent),) = dead_letters
    assert (sent["key"], sent["headers"]["dlq.reason"]) == (b"\xffhome", b"undecodable key")
