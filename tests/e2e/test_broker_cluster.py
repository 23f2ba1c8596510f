"""A three-broker KRaft cluster loses the broker that leads the most partitions, mid-stream.

The production shape the baked README's settings recommend: every topic in three copies
(``TOPIC_REPLICATION_FACTOR=3``), writes acknowledged by two (``min.insync.replicas=2``).
After the leader election the worker goes on with nothing lost. Marked ``multi_broker``
to run alone (``pytest -m multi_broker -s``), which shows the pause.
"""

from __future__ import annotations

import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from support import (
    APP,
    ENRICHED,
    EVENTS,
    PARTITIONS,
    SUMMARIES,
    Installed,
    Workers,
    make_events,
    say,
    start_cluster,
    streaming,
    tally,
    true_counts,
)

pytestmark = [pytest.mark.e2e, pytest.mark.multi_broker]

SETTINGS = {"log.message.timestamp.type": "LogAppendTime"}


def test_losing_the_busiest_of_three_brokers_loses_nothing(
    baked: Installed, start_worker: Workers, tmp_path: Path
) -> None:
    cluster = start_cluster("three-broker", settings=SETTINGS)
    try:
        bootstrap = cluster.bootstrap
        baked.kafka_client(
            *("create-topics", "--bootstrap", bootstrap, "--partitions", str(PARTITIONS), "--replication", "3"),
            *(EVENTS, ENRICHED, SUMMARIES),
        )
        brokers = ";".join(f"kafka://{node.bootstrap}" for node in cluster.nodes)
        worker = start_worker(bootstrap, KAFKA_BROKER=brokers, TOPIC_REPLICATION_FACTOR="3")
        worker.ready(timeout=120)

        events = make_events(4500, keys=16)
        stream = streaming(baked, bootstrap, events, rate=300, root=tmp_path)
        with worker.sampling_health() as samples, stream as producer:
            deadline = time.monotonic() + 120
            while sum(worker.get(f"/{APP}/counts/").get(key, 0) for key in true_counts(events)) < 1000:
                assert time.monotonic() < deadline, worker.tail()
                time.sleep(0.1)
            (leaders,) = baked.kafka_client("leaders", "--bootstrap", bootstrap)
            led = Counter(leader for partitions in leaders.values() for leader in partitions.values())
            busiest, count = led.most_common(1)[0]
            cluster.node(busiest).kill()
            killed_at = time.time()
            producer.finish(timeout=120)
        counted = tally(baked, bootstrap, ENRICHED, events, tmp_path, since=killed_at, timeout=600)
        assert counted.missing == 0, f"events lost: {counted}"
        assert worker.process is not None and worker.process.poll() is None, worker.tail()
        assert all(sample.live == 200 for sample in samples), [s for s in samples if s.live != 200][:3]
        # Two brokers of three still answer: never unreachable.
        assert not [sample for sample in samples if "unreachable" in sample.reason]

        records = baked.kafka_client(
            *("consume", "--bootstrap", bootstrap, "--topic", ENRICHED, "--count", str(len(events))),
            *("--timeout", "60", "--linger", "1"),
        )
        wanted = {event["id"] for event in events}
        stamps = sorted(
            record["timestamp"] / 1000
            for record in records
            if isinstance(record["value"], dict) and record["value"].get("id") in wanted
        )
        after = [stamp for stamp in stamps if stamp >= killed_at - 1]
        pause, began = max(((later - earlier, earlier) for earlier, later in pairwise(after)), default=(0.0, 0.0))
        say(
            f"broker {busiest} killed, leading {count} of {sum(led.values())} partitions "
            f"({dict(sorted(led.items()))}): longest pause in the enriched output {pause:.1f} s, "
            f"{began - killed_at:+.1f} s from the kill (an event every {1000 / 300:.1f} ms otherwise); "
            f"{counted.duplicates} duplicates of {len(events)}; readiness "
            f"{sorted({sample.ready for sample in samples})}"
        )
        assert worker.terminate(timeout=30) == 0, worker.tail()
    finally:
        cluster.stop()
