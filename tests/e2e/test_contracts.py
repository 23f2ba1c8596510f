"""The default bake as a team on another stack sees it: kcat in and out, judged by the service's own contract.

kcat (librdkafka, C) produces plain JSON to the events topic and reads what the worker
publishes; the AsyncAPI document the worker serves says what each record must be.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from support import (
    ENRICHED,
    EVENTS,
    SUMMARIES,
    Installed,
    Workers,
    assert_valid_asyncapi,
    kcat_consume,
    kcat_produce,
    make_events,
    message,
    ready_worker,
    resolve,
    say,
    validator,
)

pytestmark = pytest.mark.e2e


def test_kcat_in_and_out_keyed_plain_records_that_validate_against_the_services_own_schema(
    baked: Installed, fresh_kafka_bootstrap: str, start_worker: Workers
) -> None:
    bootstrap = fresh_kafka_bootstrap
    worker = ready_worker(baked, bootstrap, start_worker)
    document: dict[str, Any] = worker.get("/asyncapi.json")
    assert_valid_asyncapi(document)
    assert sorted(document["channels"]) == sorted([EVENTS, ENRICHED, SUMMARIES, f"{EVENTS}.dlq", f"{ENRICHED}.dlq"])

    events = make_events(40, keys=8)
    kcat_produce(bootstrap, EVENTS, [(event["key"], json.dumps(event)) for event in events])
    inputs = {json.loads(record["payload"])["id"]: record for record in kcat_consume(bootstrap, EVENTS, len(events))}
    outputs = kcat_consume(bootstrap, ENRICHED, len(events))

    enriched = message(document, ENRICHED)
    payload = validator(document, enriched["payload"])
    key = validator(document, enriched["bindings"]["kafka"]["key"])
    fields = set(resolve(document, enriched["payload"]["$ref"])["properties"])
    assert {json.loads(record["payload"])["id"] for record in outputs} == set(inputs)
    for record in outputs:
        value = json.loads(record["payload"])
        source = inputs[value["id"]]
        # Under its input's key, so on its input's partition (both topics have 4).
        assert (record["key"], record["partition"]) == (source["key"], source["partition"])
        key.validate(record["key"])
        # Only the documented fields: the schema allows no other (no __faust).
        assert set(value) == fields, value
        payload.validate(value)
    say(f"kcat read from {ENRICHED}: {outputs[0]['key']} | {outputs[0]['payload']}")

    # The batch summaries: keyed by nothing, as the document says, and every event counted.
    summaries = until_summed(bootstrap, len(events))
    summary = message(document, SUMMARIES)
    summary_payload = validator(document, summary["payload"])
    summary_key = validator(document, summary["bindings"]["kafka"]["key"])
    for record in summaries:
        summary_key.validate(record["key"])
        summary_payload.validate(json.loads(record["payload"]))

    # Bad input goes to the dead-letter topic, as it was, with the documented headers.
    bad_key = events[0]["key"]
    undecodable = "{not json"
    negative = json.dumps({"id": f"{bad_key}-negative", "key": bad_key, "amount": -1.0})
    kcat_produce(bootstrap, EVENTS, [(bad_key, undecodable), (bad_key, negative)])
    letters = kcat_consume(bootstrap, f"{EVENTS}.dlq", 2)
    headers = validator(document, message(document, f"{EVENTS}.dlq")["headers"])
    assert [(record["key"], record["payload"]) for record in letters] == [(bad_key, undecodable), (bad_key, negative)]
    assert [record["headers"]["dlq.reason"] for record in letters] == ["undecodable value", "processing failed"]
    for record in letters:
        headers.validate(record["headers"])
        assert record["headers"]["dlq.topic"] == EVENTS
    assert worker.terminate(timeout=10) == 0, worker.tail()


def until_summed(bootstrap: str, total: int, within: float = 60) -> list[dict[str, Any]]:
    """The batch summaries, once their counts add up to ``total`` (a summary comes every few seconds)."""
    deadline = time.monotonic() + within
    while True:
        summaries = kcat_consume(bootstrap, SUMMARIES)
        counted = sum(json.loads(record["payload"])["count"] for record in summaries)
        if counted >= total or time.monotonic() > deadline:
            assert counted == total, summaries
            return summaries
        time.sleep(1)
