"""A small Kafka client for the e2e tests, run by the BAKED project's Python (it has aiokafka).

The template's test venv has no Kafka client, so the tests run this script as a
subprocess of the baked venv's interpreter::

    python kafka_client.py create-topics --bootstrap 127.0.0.1:PORT --partitions 4 TOPIC...
    python kafka_client.py produce --bootstrap ... --topic T [--rate N] < events.jsonl
    python kafka_client.py produce --bootstrap ... --topic T --generate RUN:COUNT:KEYS
    python kafka_client.py consume --bootstrap ... --topic T [--until-ids FILE]
        [--until-sum FIELD=N] [--count M] [--timeout S] [--linger S]
    python kafka_client.py committed --bootstrap ... --group G --topic T
    python kafka_client.py tally --bootstrap ... --topic T --ids FILE [--since-ms MS] [--timeout S] [--linger S]
    python kafka_client.py leaders --bootstrap ... [TOPIC...]

``produce`` reads JSON lines ``{"key": ..., "value": {...}}`` and sends each value as
JSON, keyed by its key (``{"key": ..., "raw": "..."}`` sends the text as it is).
``consume`` reads a topic from the beginning of every partition (no consumer group)
and prints one JSON line per record, ``{"partition", "offset", "timestamp", "key", "value",
"headers"}`` (the timestamp in ms, as the producer set it),
until its stop condition is met, then for ``--linger`` seconds more (to catch
records beyond it); at the timeout it stops anyway, and the tests judge what it printed.
``committed`` prints ``{"<partition>": offset or null}``: the group's committed offsets.
``tally`` reads like ``consume`` until every id of FILE came out (or the timeout), and
prints one line instead of the records, for topics too big to print: how many records,
ids missing and duplicated, and the timestamps (ms) of the first copy of the first and
of the last id out, and of the first record at or after ``--since-ms``.
``leaders`` prints ``{"<topic>": {"<partition>": leader node id}}`` (every topic by default).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


async def create_topics(bootstrap: str, topics: list[str], partitions: int, replication: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(name, partitions, replication) for name in topics if name not in existing]
        if new:
            # Another client may have created one meanwhile (the broker auto-creates topics).
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
        # Wait until the broker's metadata lists every topic with its partitions.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            described = await admin.describe_topics(topics)
            if all(topic.get("error_code") == 0 and topic.get("partitions") for topic in described):
                break
            await asyncio.sleep(0.2)
        else:
            raise SystemExit(f"topics not ready: {described}")
    finally:
        await admin.close()
    print(json.dumps({"created": [topic.name for topic in new], "topics": topics}), flush=True)


def generated(spec: str) -> Iterator[str]:
    """The lines of events that support.events.make_events(count, keys, run) makes, from RUN:COUNT:KEYS."""
    run, count, keys = spec.split(":")
    for number in range(int(count)):
        event = {"id": f"{run}-{number}", "key": f"{run}-k{number % int(keys)}", "amount": float(number % 7 + 1)}
        yield json.dumps({"key": event["key"], "value": event})


async def produce(bootstrap: str, topic: str, rate: float | None, generate: str | None = None) -> None:
    # A generated backlog goes out in full batches; events from stdin one by one, as they come.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5 if generate else 0)
    await producer.start()
    # On stderr, so that stdout stays one JSON line: connected, sending once the topic exists.
    print(f"started: sending to {topic}", file=sys.stderr, flush=True)
    sent = 0
    began = time.monotonic()
    try:
        futures = []
        for line in sys.stdin if generate is None else generated(generate):
            if not line.strip():
                continue
            record = json.loads(line)
            key = record.get("key")
            # "raw": bytes as they are (a malformed message), else "value" as JSON.
            value = record["raw"].encode() if "raw" in record else json.dumps(record["value"]).encode()
            futures.append(await producer.send(topic, value, key=None if key is None else str(key).encode()))
            sent += 1
            if rate:
                # A steady stream, for tests that stop the worker in the middle of it: each
                # event at its time since the first, so that the sends' own time adds no drift.
                await asyncio.sleep(max(0.0, began + sent / rate - time.monotonic()))
        await producer.flush()
        for future in futures:
            await future
    finally:
        await producer.stop()
    print(json.dumps({"sent": sent, "topic": topic}), flush=True)


async def read_from_start(consumer: AIOKafkaConsumer, topic: str, deadline: float) -> list[TopicPartition]:
    """Assign ``consumer`` all of ``topic`` from its first offsets; no partitions if none by ``deadline``."""
    # The topic may not exist yet (the worker creates its sink topics when it first sends).
    while True:
        await consumer._client.force_metadata_update()  # aiokafka has no public refresh
        partitions = consumer.partitions_for_topic(topic)
        if partitions or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assigned = [TopicPartition(topic, partition) for partition in sorted(partitions or ())]
    if assigned:
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
    return assigned


async def consume(
    bootstrap: str,
    topic: str,
    until_ids: set[str] | None,
    until_sum: tuple[str, float] | None,
    count: int | None,
    timeout: float,
    linger: float,
) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    deadline = time.monotonic() + timeout
    try:
        if not await read_from_start(consumer, topic, deadline):
            print(json.dumps({"error": f"no topic {topic}"}), file=sys.stderr, flush=True)
            return

        seen_ids: set[str] = set()
        total = 0.0
        records = 0
        done_at: float | None = None
        while True:
            now = time.monotonic()
            if now > deadline or (done_at is not None and now > done_at + linger):
                break
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            for messages in batches.values():
                for message in messages:
                    value: Any = None
                    if message.value is not None:
                        try:
                            value = json.loads(message.value)
                        except ValueError:  # not JSON (a dead letter): the text as it is
                            value = message.value.decode(errors="replace")
                    key = message.key.decode(errors="replace") if message.key is not None else None
                    headers = {name: raw.decode(errors="replace") for name, raw in message.headers or ()}
                    record = {
                        "partition": message.partition,
                        "offset": message.offset,
                        "timestamp": message.timestamp,  # ms since the epoch, set by the producer
                        "key": key,
                        "value": value,
                    }
                    print(json.dumps({**record, "headers": headers}), flush=False)
                    records += 1
                    if isinstance(value, dict):
                        if until_ids is not None and "id" in value:
                            seen_ids.add(value["id"])
                        if until_sum is not None:
                            total += float(value.get(until_sum[0], 0))
            sys.stdout.flush()
            if done_at is None:
                satisfied = [
                    until_ids is None or until_ids <= seen_ids,
                    until_sum is None or total >= until_sum[1],
                    count is None or records >= count,
                ]
                if all(satisfied):
                    done_at = time.monotonic()
    finally:
        await consumer.stop()


async def committed(bootstrap: str, group: str, topic: str) -> None:
    # Never subscribes, so it does not join the group it asks about.
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # aiokafka has no public refresh
        offsets = {
            str(partition): await consumer.committed(TopicPartition(topic, partition))
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        }
    finally:
        await consumer.stop()
    print(json.dumps(offsets), flush=True)


async def tally(bootstrap: str, topic: str, ids: set[str], since_ms: int, timeout: float, linger: float) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    deadline = time.monotonic() + timeout
    first: dict[str, int] = {}
    records = duplicates = 0
    first_since: int | None = None
    try:
        assigned = await read_from_start(consumer, topic, deadline)
        done_at: float | None = None
        while assigned:
            now = time.monotonic()
            if now > deadline or (done_at is not None and now > done_at + linger):
                break
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for messages in batches.values():
                for message in messages:
                    records += 1
                    if message.timestamp >= since_ms and (first_since is None or message.timestamp < first_since):
                        first_since = message.timestamp
                    try:
                        event_id = json.loads(message.value)["id"]
                    except (ValueError, TypeError, KeyError):
                        continue
                    if event_id not in ids:
                        continue
                    if event_id in first:
                        duplicates += 1
                        first[event_id] = min(first[event_id], message.timestamp)
                    else:
                        first[event_id] = message.timestamp
            if done_at is None and len(first) == len(ids):
                done_at = time.monotonic()
    finally:
        await consumer.stop()
    missing = sorted(ids - set(first))
    print(
        json.dumps(
            {
                "records": records,
                "found": len(first),
                "missing": len(missing),
                "missing_sample": missing[:10],
                "duplicates": duplicates,
                "first_ms": min(first.values(), default=None),
                "last_ms": max(first.values(), default=None),
                "first_since_ms": first_since,
            }
        ),
        flush=True,
    )


async def leaders(bootstrap: str, topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics or await admin.list_topics())
    finally:
        await admin.close()
    print(
        json.dumps(
            {
                topic["topic"]: {str(partition["partition"]): partition["leader"] for partition in topic["partitions"]}
                for topic in described
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    create = commands.add_parser("create-topics")
    create.add_argument("--bootstrap", required=True)
    create.add_argument("--partitions", type=int, required=True)
    create.add_argument("--replication", type=int, default=1)
    create.add_argument("topics", nargs="+")

    send = commands.add_parser("produce")
    send.add_argument("--bootstrap", required=True)
    send.add_argument("--topic", required=True)
    send.add_argument("--rate", type=float, help="events per second (default: as fast as possible)")
    send.add_argument("--generate", help="RUN:COUNT:KEYS: send make_events' events instead of reading stdin")

    read = commands.add_parser("consume")
    read.add_argument("--bootstrap", required=True)
    read.add_argument("--topic", required=True)
    read.add_argument("--until-ids", type=Path, help="a file of ids, one a line: stop once every one came out")
    read.add_argument("--until-sum", help="FIELD=N: stop once the values' FIELD adds up to N")
    read.add_argument("--count", type=int, help="stop after this many records")
    read.add_argument("--timeout", type=float, default=60.0)
    read.add_argument("--linger", type=float, default=0.0, help="read on this long after the stop condition")

    ask = commands.add_parser("committed")
    ask.add_argument("--bootstrap", required=True)
    ask.add_argument("--group", required=True)
    ask.add_argument("--topic", required=True)

    count_ids = commands.add_parser("tally")
    count_ids.add_argument("--bootstrap", required=True)
    count_ids.add_argument("--topic", required=True)
    count_ids.add_argument("--ids", type=Path, required=True, help="a file of ids, one a line")
    count_ids.add_argument("--since-ms", type=int, default=0)
    count_ids.add_argument("--timeout", type=float, default=60.0)
    count_ids.add_argument("--linger", type=float, default=0.0)

    lead = commands.add_parser("leaders")
    lead.add_argument("--bootstrap", required=True)
    lead.add_argument("topics", nargs="*", help="default: every topic, Kafka's own too")

    args = parser.parse_args()
    if args.command == "tally":
        ids = set(args.ids.read_text(encoding="utf-8").split())
        asyncio.run(tally(args.bootstrap, args.topic, ids, args.since_ms, args.timeout, args.linger))
    elif args.command == "leaders":
        asyncio.run(leaders(args.bootstrap, args.topics))
    elif args.command == "committed":
        asyncio.run(committed(args.bootstrap, args.group, args.topic))
    elif args.command == "create-topics":
        asyncio.run(create_topics(args.bootstrap, args.topics, args.partitions, args.replication))
    elif args.command == "produce":
        asyncio.run(produce(args.bootstrap, args.topic, args.rate, args.generate))
    else:
        ids = set(args.until_ids.read_text(encoding="utf-8").split()) if args.until_ids else None
        until_sum = None
        if args.until_sum:
            field, _, number = args.until_sum.partition("=")
            until_sum = (field, float(number))
        asyncio.run(consume(args.bootstrap, args.topic, ids, until_sum, args.count, args.timeout, args.linger))


if __name__ == "__main__":
    main()
