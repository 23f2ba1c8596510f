"""The {{ cookiecutter.app_name }} pipeline against a real broker: ``pytest -m integration``.

The broker is the one of KAFKA_BROKER, as for the worker; ``docker compose up kafka``
provides one on localhost:9092.
{%- if cookiecutter.message_format == "avro" %} The schema registry is the one of
SCHEMA_REGISTRY_URL (``docker compose up schema-registry``).
{%- endif %}
"""

import asyncio
{%- if cookiecutter.message_format == "json" %}
import json
{%- endif %}
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
{%- if cookiecutter.message_format == "avro" %}
from schema_registry.client import SchemaRegistryClient
from schema_registry.client.schema import AvroSchema
from schema_registry.serializers.message_serializer import AvroMessageSerializer
{%- endif %}

{% if cookiecutter.message_format == "avro" -%}
from {{ cookiecutter.package_name }}.settings import settings
{% endif -%}
from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.agents import (
    sample_events,
)
{%- if cookiecutter.message_format == "avro" %}
from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.models import (
    Event,
)
{%- endif %}

pytestmark = pytest.mark.integration

TOPIC = "{{ cookiecutter.app_name }}"
{%- if cookiecutter.message_format == "avro" %}
# Other services' producers and consumers, speaking the wire format with the registry.
wire_format = AvroMessageSerializer(SchemaRegistryClient(url=settings.schema_registry_url))


def encode(event: dict[str, Any]) -> bytes:
    """An event as a producer of another service sends it."""
    schema = AvroSchema(Event.avro_schema())
    return wire_format.encode_record_with_schema(f"{TOPIC}.events-value", schema, event)


def decode(value: bytes) -> dict[str, Any]:
    decoded = wire_format.decode_message(value)
    assert decoded is not None
    return decoded
{%- else %}


def encode(event: dict[str, Any]) -> bytes:
    """An event as a producer of another service sends it."""
    return json.dumps(event).encode()


def decode(value: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(value)
    return decoded
{%- endif %}


async def test_events_come_out_enriched_and_counted(
    worker: str, bootstrap_servers: list[str]
) -> None:
    # Keys of this run only, so that earlier events on the topic cannot change the counts.
    run = uuid.uuid4().hex[:8]
    events = sample_events(30, keys=(f"{run}-home", f"{run}-docs", f"{run}-pricing"))
    await produce(
        bootstrap_servers,
        f"{TOPIC}.events",
        ((event.key.encode(), encode(event.asdict())) for event in events),
    )

    ids = {event.id for event in events}
    records = await read_until(
        f"{TOPIC}.enriched",
        bootstrap_servers,
        keep=lambda record: decode(record.value)["id"] in ids,
        enough=lambda kept: {decode(record.value)["id"] for record in kept} == ids,
    )

    enriched = {value["id"]: value for value in (decode(record.value) for record in records)}
    counts: dict[str, list[int]] = defaultdict(list)
    for event in events:
        counts[event.key].append(enriched[event.id]["key_count"])
    assert {key: sorted(seen) for key, seen in counts.items()} == {
        key: list(range(1, len(seen) + 1)) for key, seen in counts.items()
    }
    async with aiohttp.ClientSession() as session:
        for key, seen in counts.items():
            async with session.get(f"{worker}/{TOPIC}/counts/{key}/") as response:
                assert response.status == 200
                assert await response.json() == {"key": key, "count": len(seen)}


async def test_bad_messages_become_dead_letters_and_the_stream_goes_on(
    worker: str, bootstrap_servers: list[str]
) -> None:
    key = f"{uuid.uuid4().hex[:8]}-home"
    undecodable = b"{not json"
    negative = encode({"id": f"{key}-negative", "key": key, "amount": -5.0})
    good = encode({"id": f"{key}-good", "key": key, "amount": 5.0})
    counted_before = await dead_letters_counted(worker)

    await produce(
        bootstrap_servers,
        f"{TOPIC}.events",
        [(key.encode(), value) for value in (undecodable, negative, good)],
    )

    # The sink topic's records are not keyed: find the good event by its id.
    (enriched,) = await read_until(
        f"{TOPIC}.enriched",
        bootstrap_servers,
        keep=lambda record: decode(record.value)["id"] == f"{key}-good",
        enough=lambda kept: len(kept) == 1,
    )
    dead = await read_until(
        f"{TOPIC}.events.dlq",
        bootstrap_servers,
        keep=lambda record: record.key == key.encode(),
        enough=lambda kept: len(kept) == 2,
    )
    assert decode(enriched.value)["key_count"] == 1
    assert [(record.value, dict(record.headers)["dlq.reason"]) for record in dead] == [
        (undecodable, b"undecodable value"),
        (negative, b"processing failed"),
    ]
    assert all(dict(record.headers)["dlq.topic"] == f"{TOPIC}.events".encode() for record in dead)
    assert await dead_letters_counted(worker) >= counted_before + 2


async def produce(
    bootstrap_servers: list[str], topic: str, messages: Iterable[tuple[bytes, bytes]]
) -> None:
    """Send (key, value) pairs to ``topic`` and wait until the broker has them all."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send(topic, value, key)
        await producer.flush()
    finally:
        await producer.stop()


async def read_until(
    topic: str,
    bootstrap_servers: list[str],
    keep: Callable[[Any], bool],
    enough: Callable[[list[Any]], bool],
    within: float = 60,
) -> list[Any]:
    """Read ``topic`` from the start, keeping the records ``keep`` accepts, until ``enough``."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest"
    )
    kept: list[Any] = []

    async def read() -> None:
        async for record in consumer:
            if keep(record):
                kept.append(record)
                if enough(kept):
                    return

    await consumer.start()
    try:
        await asyncio.wait_for(read(), within)
    finally:
        await consumer.stop()
    return kept


async def dead_letters_counted(worker: str) -> float:
    """The worker's dead_letters_total for this sub-app's events, from /metrics."""
    async with aiohttp.ClientSession() as session, session.get(f"{worker}/metrics") as response:
        assert response.status == 200
        body = await response.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("dead_letters_total") and f'topic="{TOPIC}.events"' in line
    )
