"""The baked example's work on FastStream (0.7, Kafka through aiokafka), in its own venv.

Stage 1, a batch subscriber of ``<prefix>.events`` (up to 500 records a call, acked after
the handler returns: ``AckPolicy.ACK``, so at least once): per event it validates
(an invalid one goes to ``<prefix>.events.dlq``), counts under the key in a dict,
publishes the new count to the compacted ``<prefix>.counts-changelog`` on the event's
partition and the enriched event to ``<prefix>.enriched`` under the key, and waits for
every publish to be confirmed before it returns. Stage 2, a batch subscriber of
``<prefix>.enriched`` (``max_records=--batch-size``, ``batch_timeout_ms`` from
``--batch-window``), publishes a summary per batch to ``<prefix>.summaries``.

What differs from the baked example: the counts live in a dict (FastStream has no table);
the changelog is written by the handler, not restored on start; a batch of stage 2 is
what one fetch returns, up to ``--batch-size`` records, so a batch can be smaller.

Run with ``python faststream_app.py --bootstrap ... --prefix ...`` under uvloop;
prints ``{"ready": true}`` once both subscribers have their partitions.
"""

import argparse
import asyncio
from typing import Any

import orjson
import uvloop
from aiokafka import ConsumerRebalanceListener
from faststream import AckPolicy, Context, FastStream
from faststream.kafka import KafkaBroker

# FastStream injects the message (with its aiokafka records) into a parameter of this default.
MESSAGE = Context("message")


class Ready(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, assigned: asyncio.Event) -> None:
        self.assigned = assigned

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if assigned:
            self.assigned.set()


def build(bootstrap: str, prefix: str, size: int, window: float) -> tuple[FastStream, list[asyncio.Event]]:
    broker = KafkaBroker(bootstrap, acks="all")
    app = FastStream(broker)
    counts: dict[str, int] = {}
    assigned = [asyncio.Event(), asyncio.Event()]

    @broker.subscriber(
        f"{prefix}.events",
        group_id=prefix,
        batch=True,
        max_records=500,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        listener=Ready(assigned[0]),
    )
    async def enrich_events(events: list[dict[str, Any]], message: Any = MESSAGE) -> None:
        futures = []
        # FastStream has decoded the values; the records give each one's key and partition.
        for value, record in zip(events, message.raw_message, strict=True):
            try:
                item = {"id": str(value["id"]), "key": str(value["key"]), "amount": float(value["amount"])}
                if item["amount"] < 0:
                    raise ValueError("negative amount")
            except (ValueError, KeyError, TypeError):
                futures.append(
                    await broker.publish(record.value, f"{prefix}.events.dlq", key=record.key, no_confirm=True)
                )
                continue
            count = counts.get(item["key"], 0) + 1
            counts[item["key"]] = count
            item["key_count"] = count
            futures.append(
                await broker.publish(
                    str(count).encode(),
                    f"{prefix}.counts-changelog",
                    key=record.key,
                    partition=record.partition,
                    no_confirm=True,
                )
            )
            futures.append(
                await broker.publish(orjson.dumps(item), f"{prefix}.enriched", key=record.key, no_confirm=True)
            )
        await asyncio.gather(*futures)

    @broker.subscriber(
        f"{prefix}.enriched",
        group_id=f"{prefix}-summaries",
        batch=True,
        max_records=size,
        batch_timeout_ms=int(window * 1000),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        listener=Ready(assigned[1]),
    )
    async def summarize_batches(batch: list[dict[str, Any]]) -> None:
        summary = {
            "count": len(batch),
            "total_amount": round(sum(item["amount"] for item in batch), 2),
            "distinct_keys": len({item["key"] for item in batch}),
        }
        await broker.publish(orjson.dumps(summary), f"{prefix}.summaries")

    return app, assigned


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--batch-window", type=float, default=5.0)
    args = parser.parse_args()
    app, assigned = build(args.bootstrap, args.prefix, args.batch_size, args.batch_window)

    async def announce() -> None:
        for event in assigned:
            await event.wait()
        print(orjson.dumps({"ready": True}).decode(), flush=True)

    watcher = asyncio.create_task(announce())
    try:
        await app.run()
    finally:
        watcher.cancel()


if __name__ == "__main__":
    uvloop.run(main())
