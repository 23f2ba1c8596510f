"""The smallest Faust app of the same shape: one agent, ``sink=`` to a topic, no table.

``enrich`` reads ``<prefix>.events`` (plain JSON, values as dicts), adds a running count
per key kept in a dict (not a Table: no changelog), and yields the enriched value to
``<prefix>.enriched`` through ``sink=``, so it goes out without a key. No web server,
no second stage. Run with the baked venv's faust (orjson installed, so Faust's JSON codec
uses it) and uvloop: ``faust -L uvloop -A faust_minimal worker -l info``; the broker and
prefix come from ``KAFKA_BROKER`` and ``BENCH_PREFIX``, the group from ``APP_ID``.
"""

import os
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import faust

PREFIX = os.environ["BENCH_PREFIX"]
app = faust.App(os.environ["APP_ID"], broker=os.environ["KAFKA_BROKER"], web_enabled=False)
enriched_topic = app.topic(f"{PREFIX}.enriched", value_serializer="json")
counts: defaultdict[str, int] = defaultdict(int)


@app.agent(app.topic(f"{PREFIX}.events", key_type=str, value_serializer="json"), sink=[enriched_topic])
async def enrich(events: faust.StreamT[Any]) -> AsyncIterator[dict[str, Any]]:
    async for value in events:
        if float(value["amount"]) < 0:
            continue
        counts[value["key"]] += 1
        yield {**value, "key_count": counts[value["key"]]}
