from typing import Any

import faust
from faust.types import Message
from prometheus_client import REGISTRY

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.dead_letters import dead_letter_headers


class Order(faust.Record):
    amount: float


def message(value: bytes, topic: str = "orders.events") -> Message:
    return Message(
        topic=topic,
        partition=2,
        offset=41,
        timestamp=0.0,
        timestamp_type=0,
        headers=[],
        key=b"home",
        value=value,
        checksum=None,
    )


def dead_letters_counted(topic: str, reason: str) -> float:
    labels = {"topic": topic, "reason": reason}
    return REGISTRY.get_sample_value("dead_letters_total", labels) or 0.0


def test_headers_say_why_and_where_the_message_failed() -> None:
    headers = dead_letter_headers(message(b"{}"), ValueError("bad amount"), "processing failed")

    assert headers == {
        "dlq.reason": b"processing failed",
        "dlq.error": b"ValueError: bad amount",
        "dlq.topic": b"orders.events",
        "dlq.partition": b"2",
        "dlq.offset": b"41",
    }


async def test_an_undecodable_message_becomes_a_dead_letter(
    dead_letters: list[tuple[str, dict[str, Any]]],
) -> None:
    topic = app.topic("orders.events", value_type=Order)
    before = dead_letters_counted("orders.events", "undecodable value")

    await topic.decode(message(b"{not json"))

    ((dead_letter_topic, sent),) = dead_letters
    assert dead_letter_topic == "orders.events.dlq"
    assert (sent["key"], sent["value"]) == (b"home", b"{not json")
    assert sent["headers"]["dlq.reason"] == b"undecodable value"
    assert sent["headers"]["dlq.offset"] == b"41"
    assert dead_letters_counted("orders.events", "undecodable value") == before + 1
