"""The {{ cookiecutter.app_name }} pipeline against a real broker: ``pytest -m integration``.

The broker is the one of KAFKA_BROKER, as for the worker; ``docker compose up kafka``
provides one on localhost:9092.
"""

import asyncio
import json
import uuid
from collections import defaultdict
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.agents import (
    sample_events,
)

pytestmark = pytest.mark.integration

TOPIC = "{{ cookiecutter.app_name }}"


async def test_events_come_out_enriched_and_counted(
    worker: str, bootstrap_servers: list[str]
) -> None:
    # Keys of this run only, so that earlier events on the topic cannot change the counts.
    run = uuid.uuid4().hex[:8]
    events = sample_events(30, keys=(f"{run}-home", f"{run}-docs", f"{run}-pricing"))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            value = {"id": event.id, "key": event.key, "amount": event.amount}
            await producer.send(f"{TOPIC}.events", json.dumps(value).encode(), event.key.encode())
        await producer.flush()
    finally:
        await producer.stop()

    enriched = await consume(f"{TOPIC}.enriched", bootstrap_servers, {event.id for event in events})

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
    negative = json.dumps({"id": f"{key}-negative", "key": key, "amount": -5.0}).encode()
    good = json.dumps({"id": f"{key}-good", "key": key, "amount": 5.0}).encode()
    counted_before = await dead_letters_counted(worker)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        for value in (undecodable, negative, good):
            await producer.send(f"{TOPIC}.events", value, key.encode())
        await producer.flush()
    finally:
        await producer.stop()

    enriched = await consume(f"{TOPIC}.enriched", bootstrap_servers, {f"{key}-good"})
    dead = await consume_dead_letters(f"{TOPIC}.events.dlq", bootstrap_servers, key.encode(), 2)

    assert enriched[f"{key}-good"]["key_count"] == 1
    assert [(value, headers["dlq.reason"]) for value, headers in dead] == [
        (undecodable, b"undecodable value"),
        (negative, b"processing failed"),
    ]
    assert all(headers["dlq.topic"] == f"{TOPIC}.events".encode() for _, headers in dead)
    assert await dead_letters_counted(worker) >= counted_before + 2


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


async def consume_dead_letters(
    topic: str, bootstrap_servers: list[str], key: bytes, count: int, within: float = 60
) -> list[tuple[bytes, dict[str, bytes]]]:
    """Read ``topic`` from the start until ``count`` dead letters keyed ``key`` came out."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest"
    )
    found: list[tuple[bytes, dict[str, bytes]]] = []

    async def read() -> None:
        async for message in consumer:
            if message.key == key:
                found.append((message.value, dict(message.headers)))
            if len(found) == count:
                return

    await consumer.start()
    try:
        await asyncio.wait_for(read(), within)
    finally:
        await consumer.stop()
    return found


async def consume(
    topic: str, bootstrap_servers: list[str], ids: set[str], within: float = 60
) -> dict[str, dict[str, Any]]:
    """Read ``topic`` from the start until every id in ``ids`` came out, or fail."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest"
    )
    found: dict[str, dict[str, Any]] = {}

    async def read_until_all_found() -> None:
        async for message in consumer:
            assert message.value is not None
            value = json.loads(message.value)
            if value["id"] in ids:
                found[value["id"]] = value
            if len(found) == len(ids):
                return

    await consumer.start()
    try:
        await asyncio.wait_for(read_until_all_found(), within)
    finally:
        await consumer.stop()
    return found
