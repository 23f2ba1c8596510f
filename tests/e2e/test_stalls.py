"""A stream that stalls while the worker stays up: liveness fails within STALL_TIMEOUT, and only then.

The worker runs with a test-only agent beside the service's, from a shim in its working
directory (never part of what a team ships): it reads ``stall.events`` and, per event,
does nothing, sleeps (slow but progressing), or awaits something that never comes.
Run with ``pytest tests/e2e/test_stalls.py -s`` to see the figures.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from support import HealthSample, Installed, Worker, Workers, create_topics, say

pytestmark = pytest.mark.e2e

STALL_TOPIC = "stall.events"
STALL_TIMEOUT = 12.0
SLOW_SECONDS = 1.5

STALLING_AGENT = """
import asyncio

from {package}.__main__ import main
from {package}.app import app
from {package}.settings import settings

stall_events = app.topic("{topic}", partitions=settings.topic_partitions, internal=True)


@app.agent(stall_events)
async def stall_on_request(values):
    async for value in values:
        if value["do"] == "slow":
            await asyncio.sleep({slow})
        elif value["do"] == "stall":
            await asyncio.Event().wait()  # never set: the agent hangs here


main()
"""


def send(baked: Installed, bootstrap: str, what: str, count: int, key: str = "one-partition") -> None:
    lines = "".join(json.dumps({"key": key, "value": {"do": what, "n": n}}) + "\n" for n in range(count))
    (answer,) = baked.kafka_client("produce", "--bootstrap", bootstrap, "--topic", STALL_TOPIC, stdin=lines)
    assert answer["sent"] == count


def lag_of(worker: Worker, topic: str) -> dict[int, float]:
    lags = {}
    for line in worker.get_text("/metrics").splitlines():
        match = re.fullmatch(r'faust_consumer_lag\{partition="(\d+)",topic="([^"]+)"\} (\S+)', line)
        if match and match[2] == topic:
            lags[int(match[1])] = float(match[3])
    return lags


def failures(samples: list[HealthSample], since: float = 0.0) -> list[HealthSample]:
    return [sample for sample in samples if sample.at >= since and sample.live != 200]


def test_liveness_fails_when_a_stream_stalls_and_only_then(
    baked: Installed, fresh_kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    bootstrap = fresh_kafka_bootstrap
    create_topics(baked, bootstrap)
    baked.kafka_client("create-topics", "--bootstrap", bootstrap, "--partitions", "4", STALL_TOPIC)
    shim = tmp_path / "stalling_agent.py"
    shim.write_text(STALLING_AGENT.format(package=baked.package, topic=STALL_TOPIC, slow=SLOW_SECONDS))
    worker = start_worker(
        bootstrap, command=[str(baked.python), shim.name, "worker"], files=[shim], STALL_TIMEOUT=str(STALL_TIMEOUT)
    )
    worker.ready()
    with worker.sampling_health() as samples:
        # Idle for longer than the timeout: no lag, no stall.
        time.sleep(STALL_TIMEOUT + 3)
        assert not failures(samples), failures(samples)[:3]

        # Slow but progressing, for longer than the timeout: every event takes 1.5 s, so the
        # partition has lag all along, and its committed offset moves every few seconds.
        slow_count = int((STALL_TIMEOUT + 6) / SLOW_SECONDS)
        slow_began = time.time()
        send(baked, bootstrap, "slow", slow_count)
        deadline = time.monotonic() + slow_count * SLOW_SECONDS + 30
        while True:
            lags = lag_of(worker, STALL_TOPIC)
            if lags and not any(lags.values()) and time.time() > slow_began + slow_count * SLOW_SECONDS:
                break
            assert time.monotonic() < deadline, (lags, worker.tail())
            time.sleep(0.5)
        slow_took = time.time() - slow_began
        assert not failures(samples), failures(samples)[:3]
        say(f"{slow_count} slow events over {slow_took:.1f} s (stall timeout {STALL_TIMEOUT:.0f} s): live throughout")

        # A real stall: the agent awaits what never comes, with events behind it.
        stall_sent = time.time()
        send(baked, bootstrap, "stall", 1)
        send(baked, bootstrap, "nothing", 20)
        deadline = time.monotonic() + STALL_TIMEOUT + 40
        while not failures(samples, since=stall_sent):
            assert time.monotonic() < deadline, (samples[-3:], worker.tail())
            time.sleep(0.2)
        failed: HealthSample = failures(samples, since=stall_sent)[0]
    failed_after = failed.at - stall_sent
    body: Any = failed.live_body
    assert failed.live == 503 and body["status"] == "stalled", failed
    (stuck,) = body["partitions"]
    partition = int(re.match(rf"{re.escape(STALL_TOPIC)}\[(\d+)\]", stuck)[1])  # type: ignore[index]
    # Within the threshold (plus the check's period and a commit interval), never before it.
    assert STALL_TIMEOUT - 4 <= failed_after <= STALL_TIMEOUT + 25, failed_after
    lag = lag_of(worker, STALL_TOPIC)
    assert lag.get(partition, 0) >= 20, lag
    (logged,) = [line for line in worker.output.splitlines() if "Stalled:" in line]
    assert f"{STALL_TOPIC}[{partition}]" in logged, logged
    # The rest of the service goes on: its own agents are not stuck.
    assert all(f"{STALL_TOPIC}[" in entry for entry in body["partitions"]), body
    say(
        f"stall detected {failed_after:.1f} s after the stalling event (STALL_TIMEOUT={STALL_TIMEOUT:.0f} s): "
        f"liveness {failed.live} {body}; faust_consumer_lag {lag}; log: {logged.split('] ', 3)[-1]}"
    )
