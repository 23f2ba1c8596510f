"""The baked example's work on Quix Streams (3.28), in its own venv.

Stage 1: a StreamingDataFrame on ``<prefix>.events`` (JSON) keeps the count of each key
in Quix's state (RocksDB, with its changelog topic), drops an invalid event, and sends the
enriched event to ``<prefix>.enriched`` under the message's key. Stage 2: a second
dataframe of the same Application on ``<prefix>.enriched`` summarises ``--batch-size``
events at a time into ``<prefix>.summaries``.

What differs from the baked example:

- Quix writes its changelog at each checkpoint (``commit_interval``, 5 s by default): the
  latest value of each key changed since the last one, not a record per update. The
  benchmark reports how many changelog records each variant wrote.
- Quix's windows (``tumbling_count_window`` too) are per message key, so none of them is
  a batch across keys; stage 2 buffers events in a plain list instead (``apply`` with
  ``expand=True``), which Quix does not checkpoint, and flushes by size only: a partial
  batch waits for the next event rather than for a time window.
- An invalid event is dropped, not sent to a dead-letter topic.

Prints Quix's own "The application started" line; the benchmark waits for it.
"""

import argparse
import os
import tempfile
from typing import Any

from quixstreams import Application, State


def enrich(value: dict[str, Any], state: State) -> dict[str, Any] | None:
    try:
        amount = float(value["amount"])
        item = {"id": str(value["id"]), "key": str(value["key"]), "amount": amount}
    except (ValueError, KeyError, TypeError):
        return None
    if amount < 0:
        return None
    count = state.get("count", 0) + 1
    state.set("count", count)
    item["key_count"] = count
    return item


class Batches:
    """A buffer of enriched events that yields a summary per ``size`` of them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pending: list[dict[str, Any]] = []

    def __call__(self, value: dict[str, Any]) -> list[dict[str, Any]]:
        self.pending.append(value)
        if len(self.pending) < self.size:
            return []
        batch, self.pending = self.pending, []
        return [
            {
                "count": len(batch),
                "total_amount": round(sum(item["amount"] for item in batch), 2),
                "distinct_keys": len({item["key"] for item in batch}),
            }
        ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    app = Application(
        broker_address=args.bootstrap,
        consumer_group=args.prefix,
        auto_offset_reset="earliest",
        state_dir=os.environ.get("STATE_DIR") or tempfile.mkdtemp(prefix="quix-state-"),
        loglevel="INFO",
    )
    events = app.topic(f"{args.prefix}.events", value_deserializer="json")
    enriched = app.topic(f"{args.prefix}.enriched", value_serializer="json", value_deserializer="json")
    summaries = app.topic(f"{args.prefix}.summaries", value_serializer="json")

    stage1 = app.dataframe(events).apply(enrich, stateful=True).filter(lambda item: item is not None)
    stage1.to_topic(enriched)
    stage2 = app.dataframe(enriched).apply(Batches(args.batch_size), expand=True)
    stage2.to_topic(summaries)
    app.run()


if __name__ == "__main__":
    main()
