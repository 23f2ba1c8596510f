"""Scale out: several workers of one baked service share the load and survive each other's loss.

Workers started with the same APP_ID form one Kafka consumer group: the topics'
partitions are split among them, each table partition lives with the worker that
holds its source partition (and comes back from its changelog topic when it moves),
and ``@app.table_route`` forwards a key's lookup to the worker that holds the key.
Run with ``pytest tests/e2e/test_scale_out.py -s`` to see the measured figures; they
are noisy on a small, shared machine.

Every test gets a broker of its own: the checks cover whole tables and topics.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from support import (
    APP,
    ENRICHED,
    EVENTS,
    PARTITIONS,
    Installed,
    Worker,
    Workers,
    assert_counts_continue,
    consume,
    create_topics,
    enriched_of,
    make_events,
    produce,
    say,
    streaming,
    true_counts,
)

pytestmark = pytest.mark.e2e

TABLE = f"{APP}.event-counts"
# Each worker tells the group where its web server is, Faust's canonical URL
# http://WEB_HOST:WEB_PORT (WEB_HOST defaults to the host name), and table_route
# forwards there: on one machine, the loopback address. Faust reads WEB_HOST itself.
GROUP_ENV = {"WEB_HOST": "127.0.0.1"}
# The group notices a worker killed with SIGKILL only when its session expires:
# Faust's broker_session_timeout, 60 s by default. Faust reads these variables
# itself (its settings' env_name), whether or not the service's Settings knows them.
SESSION_TIMEOUT = 10.0
FAST_FAILOVER = {"BROKER_SESSION_TIMEOUT": str(SESSION_TIMEOUT), "BROKER_HEARTBEAT_INTERVAL": "1"}


# --- What the workers say about the group --------------------------------------------


def status_of(worker: Worker, path: str) -> int:
    """The status of GET ``path`` on the worker, 0 when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}{path}", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def assignment(worker: Worker) -> dict[int, set[int]]:
    """The table partitions each member of the group holds, by web port, as ``worker`` knows them.

    Faust's built-in ``/router/`` view: the last assignment, ``{canonical URL: {changelog topic: [partitions]}}``.
    """
    return {
        int(urlsplit(url).port or 0): {partition for partitions in topics.values() for partition in partitions}
        for url, topics in worker.get("/router/").items()
    }


def wait_settled(workers: list[Worker], timeout: float = 90, idle: int = 0) -> dict[int, set[int]]:
    """Wait until every worker is ready and all agree on who holds which partitions: all but ``idle`` of them some."""
    ports = {worker.web_port for worker in workers}
    deadline = time.monotonic() + timeout
    while True:
        views: list[dict[int, set[int]]] = []
        if all(status_of(worker, "/health/ready/") == 200 for worker in workers):
            views = [assignment(worker) for worker in workers]
        first = views[0] if views else {}
        if (
            views
            and all(view == first for view in views)
            and set(first) == ports
            and sum(1 for held in first.values() if not held) == idle
            and sorted(partition for held in first.values() for partition in held) == list(range(PARTITIONS))
        ):
            return first
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- worker on {worker.web_port} ---\n{worker.tail(30)}" for worker in workers)
            raise AssertionError(f"the group did not settle within {timeout:.0f} s: {views}\n{logs}")
        time.sleep(0.2)


def local_counts(worker: Worker) -> dict[str, int]:
    """GET /<app>/counts/: the counts of the partitions this worker holds."""
    return dict(worker.get(f"/{APP}/counts/"))


def key_partitions(baked: Installed, bootstrap: str, group: str) -> dict[str, int]:
    """Each key's table partition, read from the table's changelog topic (keys are JSON there).

    Faust writes a table update to the partition of the event that made it, so this is
    also the partition of the key's events.
    """
    records = baked.kafka_client(
        *("consume", "--bootstrap", bootstrap, "--topic", f"{group}-{TABLE}-changelog"),
        *("--timeout", "30", "--linger", "1"),
    )
    partitions: dict[str, int] = {}
    for record in records:
        key = json.loads(record["key"])
        assert partitions.setdefault(key, record["partition"]) == record["partition"], key
    return partitions


def holders(baked: Installed, bootstrap: str, group: str, shares: dict[int, set[int]]) -> dict[str, int]:
    """The web port of the worker holding each key, by the group's assignment."""
    owner = {partition: port for port, held in shares.items() for partition in held}
    return {key: owner[partition] for key, partition in key_partitions(baked, bootstrap, group).items()}


LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


def log_times(worker: Worker, text: str, since: float = 0.0) -> list[float]:
    """The times (seconds since the epoch) of the worker's log lines containing ``text``, from ``since`` on."""
    times = []
    for line in worker.output.splitlines():
        match = LOG_TIME.match(line)
        if match and text in line:
            moment = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if moment >= since:
                times.append(moment)
    return times


def new_group(baked: Installed, bootstrap: str) -> str:
    """Create the topics, as the Compose file's `topics` service does; a consumer group of the test's own."""
    create_topics(baked, bootstrap)
    return f"e2e-scale-{uuid.uuid4().hex[:8]}"


# --- Producing and reading ------------------------------------------------------------


def enriched_records(
    baked: Installed, bootstrap: str, events: list[dict[str, Any]], root: Path, linger: float = 2
) -> list[dict[str, Any]]:
    """Every record of the enriched topic, with its timestamp, until each of ``events`` came out."""
    ids = root / f"ids-{uuid.uuid4().hex[:8]}.txt"
    ids.write_text("\n".join(event["id"] for event in events), encoding="utf-8")
    # Generous: after a kill the group waits out the session timeout, and a loaded machine is slow.
    args = ["--until-ids", str(ids), "--timeout", "150", "--linger", str(linger)]
    return baked.kafka_client("consume", "--bootstrap", bootstrap, "--topic", ENRICHED, *args, timeout=240)


def largest_gap(records: list[dict[str, Any]], events: list[dict[str, Any]], after: float) -> tuple[float, float]:
    """The longest pause in the enriched output of ``events`` from ``after`` on: (seconds, when it began)."""
    wanted = {event["id"] for event in events}
    stamps = sorted(
        record["timestamp"] / 1000
        for record in records
        if isinstance(record["value"], dict) and record["value"].get("id") in wanted
    )
    stamps = [stamp for stamp in stamps if stamp >= after] or [after]
    gaps = [(later - earlier, earlier) for earlier, later in pairwise(stamps)]
    return max(gaps, default=(0.0, after))


def assert_at_least_once(
    found: dict[str, list[dict[str, Any]]], events: list[dict[str, Any]], counts: dict[str, int]
) -> int:
    """Every event came out; each key's count is at least the truth and what it last sent on. Duplicates."""
    assert set(found) == {event["id"] for event in events}, "events lost"
    for key, count in true_counts(events).items():
        emitted = [copy["key_count"] for copies in found.values() for copy in copies if copy["key"] == key]
        assert counts.get(key, 0) >= count, (key, counts.get(key), count)
        assert counts[key] == max(emitted), (key, counts[key], max(emitted))
    return sum(len(copies) - 1 for copies in found.values())


# --- The tests --------------------------------------------------------------------------


def test_two_workers_share_the_partitions_and_answer_for_every_key(
    baked: Installed, fresh_kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    bootstrap = fresh_kafka_bootstrap
    group = new_group(baked, bootstrap)
    began = time.monotonic()
    workers = [start_worker(bootstrap, app_id=group, **GROUP_ENV) for _ in range(2)]
    shares = wait_settled(workers)
    say(f"two workers ready and settled {time.monotonic() - began:.1f} s after start: partitions {shares}")

    events = make_events(1000, keys=16)
    expected = true_counts(events)
    produce(baked, bootstrap, events)
    values = consume(baked, bootstrap, ENRICHED, tmp_path, ids=[event["id"] for event in events], linger=2)
    # The happy path: every event once, each key's counts 1..n.
    assert_counts_continue(enriched_of(values, events), events)

    # Each worker's own counts are the keys of its partitions: disjoint, together the truth.
    holder = holders(baked, bootstrap, group, shares)
    assert set(holder) == set(expected)
    for worker in workers:
        own = {key: count for key, count in expected.items() if holder[key] == worker.web_port}
        assert local_counts(worker) == own
    say(f"keys per worker: {sorted(Counter(holder.values()).values())} of {len(expected)}")

    # Every key's count, asked of either worker: table_route answers or forwards.
    answers = {
        (worker.web_port, key): worker.get(f"/{APP}/counts/{key}/")["count"] for worker in workers for key in expected
    }
    wrong = {asked: count for asked, count in answers.items() if count != expected[asked[1]]}
    assert not wrong, f"table_route answered wrong counts: {dict(list(wrong.items())[:4])}"
    say(f"{len(answers)} lookups of /{APP}/counts/<key>/ over both workers: all right")


@pytest.mark.parametrize("standby_replicas", [1, 0], ids=["standby", "no-standby"])
def test_the_survivor_takes_over_from_a_killed_worker(
    baked: Installed, fresh_kafka_bootstrap: str, start_worker: Workers, tmp_path: Path, standby_replicas: int
) -> None:
    bootstrap = fresh_kafka_bootstrap
    group = new_group(baked, bootstrap)
    env = {**GROUP_ENV, **FAST_FAILOVER, "TABLE_STANDBY_REPLICAS": str(standby_replicas)}
    survivor, victim = workers = [start_worker(bootstrap, app_id=group, **env) for _ in range(2)]
    shares = wait_settled(workers)
    moved = shares[victim.web_port]

    events = make_events(1500, keys=16)
    expected = true_counts(events)
    # A steady stream of 5 s; the victim is killed with SIGKILL (no clean-up) once it counted
    # 200, or 2 s into the stream if its partitions drew too few of the 16 keys for that
    # (once in CI: 2 keys, 187 events in all), as long as it counted some.
    with streaming(baked, bootstrap, events, rate=300, root=tmp_path) as producer:
        began = time.monotonic()
        while True:
            counted = sum(local_counts(victim).values())
            if counted >= 200 or (counted and time.monotonic() - began > 2):
                break
            assert time.monotonic() < began + 30, victim.tail()
            time.sleep(0.05)
        moved_keys = set(local_counts(victim))
        victim.kill()
        killed_at = time.time()
        # The survivor ends up holding every partition, ready.
        took_over = wait_settled([survivor], timeout=SESSION_TIMEOUT + 60)
        ready_after = time.time() - killed_at
        producer.finish()
    assert took_over == {survivor.web_port: set(range(PARTITIONS))}

    records = enriched_records(baked, bootstrap, events, tmp_path)
    found = enriched_of([record["value"] for record in records], events)
    counts = local_counts(survivor)
    duplicates = assert_at_least_once(found, events, counts)
    # The moved partitions' counts came from the changelog, not from scratch.
    assert all(counts[key] >= expected[key] for key in moved_keys)

    # When the survivor noticed, got the partitions, had the tables back; when the last event came out.
    noticed = min(log_times(survivor, "Revoking previously assigned partitions", since=killed_at))
    assigned = min(log_times(survivor, "Setting newly assigned partitions", since=noticed))
    recovered = min(log_times(survivor, "Recovery complete", since=assigned))
    last_out = max(min(record["timestamp"] for record in copies_of(records, event_id)) for event_id in found) / 1000
    over = {key: counts[key] - count for key, count in expected.items()}
    say(
        f"kill -9 with table_standby_replicas={standby_replicas}, session timeout {SESSION_TIMEOUT:.0f} s: "
        f"survivor noticed {noticed - killed_at:.1f} s after the kill, assigned all partitions "
        f"{assigned - killed_at:.1f} s, tables recovered {recovered - assigned:.2f} s later, "
        f"ready {ready_after:.1f} s, "
        f"last event out {last_out - killed_at:.1f} s after the kill; moved partitions {sorted(moved)} "
        f"({len(moved_keys)} keys); {duplicates} duplicate enriched records of {len(events)}; "
        f"the table over-counts by {sum(over.values())}"
    )
    # The shorter session timeout took effect: the default would take 60 s.
    assert noticed - killed_at < SESSION_TIMEOUT + 15
    for key, count in counts.items():
        assert survivor.get(f"/{APP}/counts/{key}/") == {"key": key, "count": count}


# The worker, still busy with an event for 3 s when it stops (as an agent awaiting a slow
# call is): Faust waits for it before its consumer leaves the group.
SLOW_STOP = """
import asyncio

import faust

from {package}.__main__ import main

wait_empty = faust.App._consumer_wait_empty


async def busy_for_a_while(self, consumer, logger):
    if self.should_stop:
        await asyncio.sleep(3)
    await wait_empty(self, consumer, logger)


faust.App._consumer_wait_empty = busy_for_a_while
main()
"""


def test_workers_stopped_together_each_exit_by_themselves(
    baked: Installed, fresh_kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    """A scale-down: the first worker to leave starts a rebalance that reaches the others as they stop.

    Faust closed a stopping worker's consumer from the wrong event loop then: it never
    left the group, whose other members waited out its session timeout (60 s) before
    they took its partitions, and in the container tier it hung until killed or died of
    a segmentation fault (runtime/kafka_consumer.py).
    """
    bootstrap = fresh_kafka_bootstrap
    group = new_group(baked, bootstrap)
    shim = tmp_path / "slow_stop.py"
    shim.write_text(SLOW_STOP.format(package=baked.package), encoding="utf-8")
    # Heartbeats every 0.5 s: the busy workers hear of the rebalance while they stop.
    # No standbys: each of the three gets partitions, whatever order they join in
    # (test_a_third_worker_joins_mid_stream_and_nothing_is_lost says why).
    env = {**GROUP_ENV, "BROKER_HEARTBEAT_INTERVAL": "0.5", "TABLE_STANDBY_REPLICAS": "0"}
    quick = start_worker(bootstrap, app_id=group, **env)
    command = [str(baked.python), shim.name, "worker"]
    busy = [start_worker(bootstrap, app_id=group, command=command, files=[shim], **env) for _ in range(2)]
    workers = [quick, *busy]
    wait_settled(workers)

    sent = {worker.web_port: worker.send_sigterm() for worker in workers}
    codes = {worker.web_port: worker.wait_exit(sent[worker.web_port], timeout=15) for worker in workers}
    assert codes == dict.fromkeys(sent, 0), "\n".join(worker.tail(40) for worker in workers)
    for worker in workers:
        stopping = worker.output.partition("Signal received: 15")[2]
        # What the test is for: the rebalance that the quick one's leaving started reached them.
        assert worker is quick or "rebalancing" in stopping, worker.tail(40)
        assert "LeaveGroup request succeeded" in stopping, worker.tail(40)


def copies_of(records: list[dict[str, Any]], event_id: str) -> list[dict[str, Any]]:
    return [record for record in records if isinstance(record["value"], dict) and record["value"].get("id") == event_id]


# The worker, with each fetch of Faust's consumer held open up to 8 s instead of 1 s: a
# fetch that spans the rebalance returns the newly assigned partitions' records while
# Faust's flow is stopped, and Faust drops them. Without RewindingConsumer the survivor
# then skipped the backlog in 6 of 7 such runs; with the 1 s fetch, in about 1 of 20.
HELD_FETCH = """
from faust.transport.drivers import aiokafka

from {package}.__main__ import main

fetch = aiokafka.AIOKafkaConsumerThread._fetch_records


async def held_open(self, consumer, active_partitions, timeout=None, max_records=None):
    return await fetch(self, consumer, active_partitions, timeout=8.0, max_records=max_records)


aiokafka.AIOKafkaConsumerThread._fetch_records = held_open
main()
"""


def test_a_partition_taken_over_before_its_first_commit_is_read_from_its_start(
    baked: Installed, fresh_kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    bootstrap = fresh_kafka_bootstrap
    group = new_group(baked, bootstrap)
    shim = tmp_path / "held_fetch.py"
    shim.write_text(HELD_FETCH.format(package=baked.package), encoding="utf-8")
    command = [str(baked.python), shim.name, "worker"]
    env = {**GROUP_ENV, **FAST_FAILOVER, "TABLE_STANDBY_REPLICAS": "0"}
    survivor, victim = workers = [
        start_worker(bootstrap, app_id=group, command=command, files=[shim], **env) for _ in range(2)
    ]
    moved = wait_settled(workers)[victim.web_port]

    events = make_events(1500, keys=16)
    with streaming(baked, bootstrap, events, rate=300, root=tmp_path) as producer:
        # Killed long before its first commit: Faust commits every 2.8 s.
        deadline = time.monotonic() + 30
        while sum(local_counts(victim).values()) < 20:
            assert time.monotonic() < deadline, victim.tail()
            time.sleep(0.05)
        victim.kill()
        (answer,) = baked.kafka_client("committed", "--bootstrap", bootstrap, "--group", group, "--topic", EVENTS)
        assert all(answer[str(partition)] is None for partition in moved), answer
        wait_settled([survivor], timeout=SESSION_TIMEOUT + 60)
        producer.finish()

    records = enriched_records(baked, bootstrap, events, tmp_path)
    found = enriched_of([record["value"] for record in records], events)
    duplicates = assert_at_least_once(found, events, local_counts(survivor))
    say(f"partitions {sorted(moved)} taken over uncommitted, with fetches held open: {duplicates} duplicates")


@pytest.mark.parametrize(
    ("standby_replicas", "shares"),
    [(1, [0, 2, 2]), (0, [1, 1, 2])],
    ids=["standby-third-worker-idle", "no-standby-third-worker-takes-one"],
)
def test_a_third_worker_joins_mid_stream_and_nothing_is_lost(
    baked: Installed,
    fresh_kafka_bootstrap: str,
    start_worker: Workers,
    tmp_path: Path,
    standby_replicas: int,
    shares: list[int],
) -> None:
    """Faust's assignor is sticky: with standby replicas (its default, 1) it moves no partition
    while no worker holds more than ceil(partitions / workers), so of 4 partitions held 2 + 2
    the third worker gets none (only standbys); with none, it balances down to floor(4 / 3)."""
    bootstrap = fresh_kafka_bootstrap
    group = new_group(baked, bootstrap)
    env = {**GROUP_ENV, "TABLE_STANDBY_REPLICAS": str(standby_replicas)}
    workers = [start_worker(bootstrap, app_id=group, **env) for _ in range(2)]
    wait_settled(workers)

    events = make_events(2400, keys=16)
    # A steady stream of 8 s; the third worker starts once 400 events were counted.
    with streaming(baked, bootstrap, events, rate=300, root=tmp_path) as producer:
        deadline = time.monotonic() + 30
        while sum(sum(local_counts(worker).values()) for worker in workers) < 400:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        joined_at = time.time()
        workers.append(start_worker(bootstrap, app_id=group, **env))
        assigned = wait_settled(workers, idle=shares.count(0))
        settled_after = time.time() - joined_at
        producer.finish()
    assert sorted(len(held) for held in assigned.values()) == shares

    records = enriched_records(baked, bootstrap, events, tmp_path)
    found = enriched_of([record["value"] for record in records], events)
    # Each key's count, from the worker that holds it now.
    holder = holders(baked, bootstrap, group, assigned)
    shares_now = {worker.web_port: local_counts(worker) for worker in workers}
    counts = {key: shares_now[port].get(key, 0) for key, port in holder.items()}
    duplicates = assert_at_least_once(found, events, counts)
    # Each worker lists only the keys it holds now, not those of partitions that moved away.
    stale = {
        (port, key): count for port, share in shares_now.items() for key, count in share.items() if holder[key] != port
    }
    assert not stale, stale
    if not duplicates:
        assert_counts_continue(found, events)

    # The pause: the longest gap in the enriched output after the third worker started,
    # against the log of each worker: partitions revoked -> flow resumed.
    gap, gap_began = largest_gap(records, events, after=joined_at)
    pauses = []
    for worker in workers:
        for revoked in log_times(worker, "Revoking previously assigned partitions", since=joined_at):
            resumed = log_times(worker, "Resuming flow", since=revoked)
            if resumed:
                pauses.append(round(min(resumed) - revoked, 2))
    say(
        f"third worker joined with table_standby_replicas={standby_replicas}: group settled {settled_after:.1f} s "
        f"after its start, partitions per worker {shares}; longest gap in the output {gap:.2f} s "
        f"({gap_began - joined_at:.1f} s after the start; an event every {1000 / 300:.1f} ms otherwise); "
        f"revoked -> resumed per rebalance and worker: {pauses} s; {duplicates} duplicates of {len(events)}"
    )
