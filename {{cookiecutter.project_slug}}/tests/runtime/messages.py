"""Kafka messages as a worker receives them, for tests that decode without a broker."""

from faust.types import Message

EVENTS = "{{ cookiecutter.project_slug }}.events"


def message(value: bytes, topic: str = EVENTS, key: bytes = b"home") -> Message:
    """A message of ``topic``, partition 2, offset 41, keyed ``home`` unless told otherwise."""
    return Message(
        topic=topic,
        partition=2,
        offset=41,
        timestamp=0.0,
        timestamp_type=0,
        headers=[],
        key=key,
        value=value,
        checksum=None,
    )
