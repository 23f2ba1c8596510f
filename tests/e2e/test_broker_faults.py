"""Faults of the broker under a running worker: it crashes and comes back; it is not there yet.

Run with ``pytest tests/e2e/test_broker_faults.py -s`` to see the figures. Each test
has a broker of its own, which it kills and starts again on the same data and ports.
The enriched topic takes the broker's time of append (LogAppendTime), so the times
"out" are when the broker had each enriched event.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kafka_test_broker.broker import free_port
from support import (
    APP,
    ENRICHED,
    Installed,
    Workers,
    create_topics,
    make_events,
    produce,
    ready_worker,
    say,
    start_broker,
    tally,
    true_counts,
)

pytestmark = pytest.mark.e2e

BROKER_SETTINGS = {"log.message.timestamp.type": "LogAppendTime"}
OUTAGE = 20.0


def test_the_worker_rides_out_a_broker_crash_and_loses_nothing(
    baked: Installed, start_worker: Workers, tmp_path: Path
) -> None:
    broker = start_broker("crash-and-return", settings=BROKER_SETTINGS)
    try:
        bootstrap = broker.bootstrap
        worker = ready_worker(baked, bootstrap, start_worker)
        # A backlog of several seconds' work, so that the crash comes mid-stream.
        before, after = make_events(20_000, keys=16), make_events(2_000, keys=16)
        with worker.sampling_health() as samples:
            produce(baked, bootstrap, before)
            processed = sum(worker.get(f"/{APP}/counts/").get(key, 0) for key in true_counts(before))
            broker.kill()
            killed_at = time.time()
            say(f"broker killed with SIGKILL, {processed} of {len(before)} events counted")
            # Not ready, and saying why, while the broker is gone; live all along.
            deadline = time.monotonic() + 15
            while not (samples and samples[-1].ready == 503 and "unreachable" in samples[-1].reason):
                assert time.monotonic() < deadline, (samples[-3:], worker.tail())
                time.sleep(0.2)
            noticed = samples[-1]
            time.sleep(max(0.0, killed_at + OUTAGE - time.time()))
            restarted_at = time.time()
            broker.restart()
            # Back once it answers a Metadata request: the JVM takes some seconds to start.
            returned_at = time.time()
            deadline = time.monotonic() + 120
            while not (samples and samples[-1].at > returned_at and samples[-1].ready == 200):
                assert time.monotonic() < deadline, (samples[-3:], worker.tail())
                time.sleep(0.2)
            ready_again = samples[-1].at - returned_at
            produce(baked, bootstrap, after)
            counted = tally(baked, bootstrap, ENRICHED, before + after, tmp_path, since=returned_at, timeout=900)
        assert worker.process is not None and worker.process.poll() is None, worker.tail()
        assert counted.missing == 0, f"events lost: {counted}"
        dead = [sample for sample in samples if sample.live != 200]
        assert not dead, f"liveness failed while the broker was away: {dead[:3]}"
        outage = [sample for sample in samples if killed_at + 3 < sample.at < returned_at]
        assert outage and all(sample.ready == 503 for sample in outage), outage[:3]
        assert counted.first_since is not None and counted.last is not None
        say(
            f"broker restarted {restarted_at - killed_at:.1f} s after the kill, answering again "
            f"{returned_at - killed_at:.1f} s after it: readiness said {noticed.reason!r} "
            f"{noticed.at - killed_at:.1f} s after the kill and was 200 again {ready_again:.1f} s after the "
            f"broker's return; first event out {counted.first_since - returned_at:.1f} s and the last of the "
            f"backlog {counted.last - returned_at:.1f} s after the return; {counted.duplicates} duplicates "
            f"of {len(before) + len(after)}; the worker stayed live throughout"
        )
        assert worker.terminate(timeout=30) == 0, worker.tail()
    finally:
        broker.stop()


def test_a_worker_started_before_its_broker_waits_for_it(
    baked: Installed, start_worker: Workers, tmp_path: Path
) -> None:
    """It waits, live and not ready, logging one line naming the broker; it starts once the broker is there."""
    broker = start_broker("absent-at-start", settings=BROKER_SETTINGS)
    try:
        port = broker.port
        broker.kill()
        bootstrap = f"127.0.0.1:{port}"
        worker = start_worker(bootstrap)
        worker.wait_for("Waiting for the Kafka broker", timeout=60)
        # Live (no restart), not ready, saying why; and still waiting some seconds later.
        worker.wait_for("", timeout=30, predicate=lambda _: worker.is_live())
        status, answer = worker.status("/health/ready/")
        assert status == 503 and bootstrap in answer["reason"], answer
        time.sleep(8)
        assert worker.process is not None and worker.process.poll() is None, worker.tail()
        lines = [line for line in worker.output.splitlines() if "Kafka broker" in line]
        assert len(lines) == 1 and bootstrap in lines[0], lines
        say(f"worker without a broker, waiting: {lines[0].split('] ', 3)[-1]}")

        began = time.time()
        broker.restart()
        worker.ready(timeout=120)
        say(f"the worker was ready {time.time() - began:.1f} s after the broker started")
        create_topics(baked, bootstrap)
        events = make_events(200, keys=4)
        produce(baked, bootstrap, events)
        counted = tally(baked, bootstrap, ENRICHED, events, tmp_path)
        assert counted.missing == 0, counted
        assert worker.terminate(timeout=30) == 0, worker.tail()
    finally:
        broker.stop()


def test_a_worker_waiting_for_its_broker_stops_on_sigterm(baked: Installed, start_worker: Workers) -> None:
    bootstrap = f"127.0.0.1:{free_port()}"
    worker = start_worker(bootstrap)
    worker.wait_for("Waiting for the Kafka broker", timeout=60)
    assert worker.terminate(timeout=30) == 0, worker.tail()
