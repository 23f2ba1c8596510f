"""The baked example's work written directly on aiokafka, with orjson and uvloop.

``raw``: stage 1 consumes ``<prefix>.events``, validates each event (an invalid one goes
to ``<prefix>.events.dlq``), counts it under its key in a dict, sends the new count to the
compacted ``<prefix>.counts-changelog`` on the event's partition and the enriched event to
``<prefix>.enriched`` under the event's key, then commits once every send is acknowledged
(at least once). Stage 2, a second consumer in the same process, consumes
``<prefix>.enriched`` and sends a summary per batch (``--batch-size`` events, or fewer
once the oldest has waited ``--batch-window`` seconds) to ``<prefix>.summaries``,
committing the offsets of a batch only after its summary is acknowledged.

``raw --simple``: stage 1 only, without the changelog: consume, enrich, produce, commit.

Run by a baked venv's Python (aiokafka, orjson, uvloop). Prints ``{"ready": true}`` once
every consumer has its partitions.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from collections import defaultdict
from typing import Any

import orjson
import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition


class Ready(ConsumerRebalanceListener):  # type: ignore[misc]
    """Sets its event on the first assignment of partitions."""

    def __init__(self) -> None:
        self.assigned = asyncio.Event()

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if assigned:
            self.assigned.set()


def validated(raw: bytes) -> dict[str, Any]:
    value = orjson.loads(raw)
    item = {"id": str(value["id"]), "key": str(value["key"]), "amount": float(value["amount"])}
    if item["amount"] < 0:
        raise ValueError(f"amount must not be negative, got {item['amount']}")
    return item


def consumer(topic: str, group: str, bootstrap: str, listener: Ready) -> AIOKafkaConsumer:
    made = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    made.subscribe([topic], listener=listener)
    return made


async def enrich_events(
    source: AIOKafkaConsumer, producer: AIOKafkaProducer, prefix: str, changelog: bool, stop: asyncio.Event
) -> None:
    counts: defaultdict[str, int] = defaultdict(int)
    while not stop.is_set():
        batches = await source.getmany(timeout_ms=100, max_records=500)
        futures = []
        for messages in batches.values():
            for message in messages:
                try:
                    item = validated(message.value)
                except (ValueError, KeyError, TypeError):
                    futures.append(await producer.send(f"{prefix}.events.dlq", message.value, key=message.key))
                    continue
                counts[item["key"]] += 1
                item["key_count"] = counts[item["key"]]
                if changelog:
                    futures.append(
                        await producer.send(
                            f"{prefix}.counts-changelog",
                            str(item["key_count"]).encode(),
                            key=message.key,
                            partition=message.partition,
                        )
                    )
                futures.append(await producer.send(f"{prefix}.enriched", orjson.dumps(item), key=message.key))
        if futures:
            await asyncio.gather(*futures)
            await source.commit()


async def summarize_batches(
    source: AIOKafkaConsumer, producer: AIOKafkaProducer, prefix: str, size: int, window: float, stop: asyncio.Event
) -> None:
    batch: list[tuple[TopicPartition, int, dict[str, Any]]] = []
    oldest = 0.0
    while not stop.is_set():
        for tp, messages in (await source.getmany(timeout_ms=100, max_records=500)).items():
            for message in messages:
                if not batch:
                    oldest = time.monotonic()
                batch.append((tp, message.offset, orjson.loads(message.value)))
        futures, offsets = [], {}
        while len(batch) >= size or (batch and time.monotonic() - oldest >= window):
            taken, batch = batch[:size], batch[size:]
            oldest = time.monotonic()
            summary = {
                "count": len(taken),
                "total_amount": round(sum(value["amount"] for _, _, value in taken), 2),
                "distinct_keys": len({value["key"] for _, _, value in taken}),
            }
            futures.append(await producer.send(f"{prefix}.summaries", orjson.dumps(summary)))
            for tp, offset, _ in taken:
                offsets[tp] = offset + 1
        if futures:
            await asyncio.gather(*futures)
            await source.commit(offsets)


async def main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    # acks="all" as Faust's producer_acks=-1 default.
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, acks="all")
    first, second = Ready(), Ready()
    stage1 = consumer(f"{args.prefix}.events", args.prefix, args.bootstrap, first)
    stage2 = (
        None if args.simple else consumer(f"{args.prefix}.enriched", f"{args.prefix}-summaries", args.bootstrap, second)
    )
    await producer.start()
    await stage1.start()
    tasks = [asyncio.create_task(enrich_events(stage1, producer, args.prefix, not args.simple, stop))]
    if stage2 is not None:
        await stage2.start()
        tasks.append(
            asyncio.create_task(
                summarize_batches(stage2, producer, args.prefix, args.batch_size, args.batch_window, stop)
            )
        )
    else:
        second.assigned.set()
    try:
        await first.assigned.wait()
        await second.assigned.wait()
        print(orjson.dumps({"ready": True}).decode(), flush=True)
        await asyncio.gather(*tasks)
    finally:
        for made in (stage1, stage2):
            if made is not None:
                await made.stop()
        await producer.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--simple", action="store_true")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--batch-window", type=float, default=5.0)
    uvloop.run(main(parser.parse_args()))
