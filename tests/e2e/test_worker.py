"""The baked service's worker against a real Kafka broker, started as its Dockerfile starts it.

Run with ``pytest tests/e2e -s`` to see the timings. Every test uses keys and a
consumer group (APP_ID) of its own; the ones that judge whole topics (batch
summaries) get a broker of their own too.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import (
    APP,
    ENRICHED,
    EVENTS,
    PARTITIONS,
    QUIET_LEVELS,
    REPO,
    SEED_APP,
    SUMMARIES,
    Installed,
    Worker,
    Workers,
    assert_counts_continue,
    consume,
    create_topics,
    enriched_of,
    make_events,
    produce,
    ready_worker,
    say,
    start_broker,
    streaming,
    true_counts,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def timed(request: pytest.FixtureRequest) -> Iterator[None]:
    began = time.monotonic()
    yield
    say(f"{request.node.name}: {time.monotonic() - began:.1f} s (with its own broker and workers)")


def metric(worker: Worker, name: str, **labels: str) -> list[float]:
    """The values of ``name`` in the worker's /metrics whose labels include ``labels``."""
    values = []
    for line in worker.get_text("/metrics").splitlines():
        match = re.fullmatch(rf"{name}{{(.*)}} (\S+)", line)
        if match and all(f'{label}="{value}"' in match[1] for label, value in labels.items()):
            values.append(float(match[2]))
    return values


@pytest.mark.parametrize(
    "how",
    [
        pytest.param(None, id="console-script"),
        pytest.param(("faust", "-A", "{package}.app", "worker", "-l", "info"), id="faust-A"),
        pytest.param(("python", "-m", "{package}", "worker", "-l", "info"), id="python-m"),
    ],
)
def test_worker_starts_and_stops_on_sigterm(
    baked: Installed, kafka_bootstrap: str, start_worker: Workers, how: tuple[str, ...] | None
) -> None:
    """Each way the README gives to start a worker: the Dockerfile's, Faust's CLI, the module."""
    create_topics(baked, kafka_bootstrap)
    command = None if how is None else [part.format(package=baked.package) for part in how]
    worker = start_worker(kafka_bootstrap, command=command)
    worker.ready()
    assert worker.get("/health/live/") == {"status": "ok"}
    # "Worker ready" comes once the partitions are assigned and the tables recovered.
    assert worker.get("/health/ready/") == {"status": "ready"}
    assert worker.terminate(timeout=10) == 0, worker.tail()


def test_events_flow_through_the_pipeline(
    baked: Installed, fresh_kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    bootstrap = fresh_kafka_bootstrap
    worker = ready_worker(baked, bootstrap, start_worker)

    events = make_events(500)
    began = time.monotonic()
    produce(baked, bootstrap, events)
    values = consume(baked, bootstrap, ENRICHED, tmp_path, ids=[event["id"] for event in events], linger=1)
    say(f"500 events produced and all enriched in {time.monotonic() - began:.1f} s")

    # Every event came out once, with the count of its key so far: 1..n per key.
    found = enriched_of(values, events)
    assert set(found) == {event["id"] for event in events}
    assert all(len(copies) == 1 for copies in found.values()), "duplicates without any failure"
    by_key: dict[str, list[int]] = defaultdict(list)
    for event in events:
        (value,) = found[event["id"]]
        assert (value["key"], value["amount"]) == (event["key"], event["amount"])
        by_key[event["key"]].append(value["key_count"])
    expected = true_counts(events)
    assert {key: sorted(counts) for key, counts in by_key.items()} == {
        key: list(range(1, count + 1)) for key, count in expected.items()
    }
    # Within a key (one partition), counts come out in the order the events went in.
    assert all(counts == sorted(counts) for counts in by_key.values())

    # The counts over HTTP: all of them, and one key through table_route.
    assert worker.get(f"/{APP}/counts/") == dict(expected)
    key, count = expected.most_common(1)[0]
    assert worker.get(f"/{APP}/counts/{key}/") == {"key": key, "count": count}

    # An event POSTed to the worker reaches the topic and comes out enriched.
    posted = {"id": f"posted-{uuid.uuid4().hex[:8]}", "key": key, "amount": 4.5}
    status, answer = worker.post(f"/{APP}/events/", posted)
    assert (status, answer) == (202, {"id": posted["id"]})
    values = consume(baked, bootstrap, ENRICHED, tmp_path, ids=[posted["id"]])
    (value,) = enriched_of(values, [posted])[posted["id"]]
    assert value == {**posted, "key_count": count + 1}
    assert worker.get(f"/{APP}/counts/{key}/") == {"key": key, "count": count + 1}
    status, _ = worker.post(f"/{APP}/events/", {"id": "no-key"})
    assert status == 400

    # The batch summaries account for every event exactly once.
    summaries = consume(baked, bootstrap, SUMMARIES, tmp_path, total=501, linger=2.5)
    assert sum(summary["count"] for summary in summaries) == 501
    assert sum(summary["total_amount"] for summary in summaries) == pytest.approx(
        sum(event["amount"] for event in events) + posted["amount"]
    )
    assert all(1 <= summary["distinct_keys"] <= min(summary["count"], 10) for summary in summaries)
    say(f"{len(summaries)} batch summaries: {[summary['count'] for summary in summaries]}")

    # Faust's metrics, read from its monitor: every event read once, all of them committed
    # (every few seconds) and no lag left. A partition none of the 10 keys went to has no
    # offsets to report; the others' committed offsets, on a fresh topic, add up to 501.
    assert metric(worker, "faust_messages_received_per_topic_total", topic=EVENTS) == [501]
    deadline = time.monotonic() + 15
    while sum(metric(worker, "faust_topic_partition_committed_offset", topic=EVENTS)) < 501:
        assert time.monotonic() < deadline, worker.get_text("/metrics")
        time.sleep(0.5)
    lags = metric(worker, "faust_consumer_lag", topic=EVENTS)
    assert lags and not any(lags), lags

    # table_route still finds the key's partition once the worker has sent to every topic.
    for probe in events[:10]:
        assert worker.get(f"/{APP}/counts/{probe['key']}/")["count"] >= 1

    # The timer reports this worker's share: all 4 partitions, so every count.
    worker.wait_for("501 events under 10 keys", timeout=10)
    assert re.search(r"\d+ events under \d+ keys in this worker's partitions", worker.output)

    assert worker.terminate(timeout=10) == 0, worker.tail()


def test_the_worker_creates_the_topics_it_consumes(
    baked: Installed, fresh_kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    """No `topics` service: the worker declares its topics and processes what arrives."""
    bootstrap = fresh_kafka_bootstrap
    worker = start_worker(bootstrap)
    worker.ready()
    events = make_events(100, keys=4)
    produce(baked, bootstrap, events)
    values = consume(baked, bootstrap, ENRICHED, tmp_path, ids=[event["id"] for event in events])
    assert_counts_continue(enriched_of(values, events), events)
    expected = true_counts(events)
    assert worker.get(f"/{APP}/counts/") == dict(expected)
    # Once the worker has sent to a topic it had not created (batch-summaries, here).
    summaries = consume(baked, bootstrap, SUMMARIES, tmp_path, total=len(events))
    assert sum(summary["count"] for summary in summaries) == len(events)
    # table_route still finds the key's partition after that send (see table_routing.py).
    key, count = expected.most_common(1)[0]
    assert table_route_count(worker, key) == count
    assert worker.terminate(timeout=10) == 0, worker.tail()


def test_a_source_topic_created_after_the_worker_started_is_read_within_seconds(
    baked: Installed, start_worker: Workers, tmp_path: Path
) -> None:
    """Where administrators create the topics (TOPIC_ALLOW_DECLARE=false) and the source comes late.

    aiokafka's consumer refreshed its metadata every 5 minutes only, so the worker took
    the topic's partitions minutes after it appeared (runtime/kafka_metadata.py). The
    broker creates no topic a client asks about, as such clusters are run.

    The events arrive while the worker takes the topic over. Faust handed over records
    during the seek that rebalance ends with, and dropped them from the streams' queues
    after it, past their read offsets: without ``RewindingConsumer.perform_seek`` this test
    lost 3, 86 and 1 of the 3,000 events in 3 runs of 4.
    """
    broker = start_broker("no-auto-create", settings={"auto.create.topics.enable": "false"})
    try:
        bootstrap = broker.bootstrap
        app_id = f"e2e-{uuid.uuid4().hex[:8]}"
        others = [ENRICHED, SUMMARIES, f"{app_id}-{APP}.event-counts-changelog"]
        baked.kafka_client("create-topics", "--bootstrap", bootstrap, "--partitions", str(PARTITIONS), *others)
        leader = f"{app_id}-__assignor-__leader"
        baked.kafka_client("create-topics", "--bootstrap", bootstrap, "--partitions", "1", leader)
        worker = start_worker(bootstrap, app_id=app_id, TOPIC_ALLOW_DECLARE="false")
        worker.ready()
        assert f"Ignoring missing topic: '{EVENTS}'" in worker.output, worker.tail()

        # Faust's table of the partitions it took, then ready again after that rebalance.
        taken = re.compile(rf"\| {re.escape(EVENTS)} +\| \{{0-{PARTITIONS - 1}\}}")

        def took_the_topic(output: str) -> bool:
            found = taken.search(output)
            return found is not None and "Worker ready" in output[found.end() :]

        events = make_events(3000, keys=4)
        # Started first, the producer sends them all once the topic exists: they are there
        # when the worker's next refresh, within a second, finds the topic.
        with streaming(baked, bootstrap, events, rate=None, root=tmp_path) as producer:
            producer.wait_started()
            baked.kafka_client("create-topics", "--bootstrap", bootstrap, "--partitions", str(PARTITIONS), EVENTS)
            created = time.monotonic()
            worker.wait_for(f"{EVENTS} taken", timeout=60, predicate=took_the_topic)
            say(f"the worker took {EVENTS} {time.monotonic() - created:.1f} s after it was created")
            producer.finish()
        ids = [event["id"] for event in events]
        values = consume(baked, bootstrap, ENRICHED, tmp_path, ids=ids)
        assert len(enriched_of(values, events)) == len(events), worker.tail()
        assert worker.terminate(timeout=10) == 0, worker.tail()
    finally:
        broker.stop()


def table_route_count(worker: Worker, key: str) -> int:
    """GET /<app>/counts/<key>/, the view that @app.table_route sends to the key's worker."""
    answer = worker.get(f"/{APP}/counts/{key}/")
    assert answer["key"] == key
    return int(answer["count"])


def test_a_malformed_event_becomes_a_dead_letter_and_the_stream_goes_on(
    baked: Installed, fresh_kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    bootstrap = fresh_kafka_bootstrap
    worker = ready_worker(baked, bootstrap, start_worker)
    before, after = make_events(20, keys=2), make_events(20, keys=2)
    key = before[0]["key"]
    produce(baked, bootstrap, before)
    consume(baked, bootstrap, ENRICHED, tmp_path, ids=[event["id"] for event in before])

    bad = {"key": key, "raw": "not json"}
    baked.kafka_client("produce", "--bootstrap", bootstrap, "--topic", EVENTS, stdin=json.dumps(bad) + "\n")
    (letter,) = baked.kafka_client(
        *("consume", "--bootstrap", bootstrap, "--topic", f"{EVENTS}.dlq"),
        *("--count", "1", "--linger", "1", "--timeout", "30"),
    )
    assert (letter["key"], letter["value"]) == (key, "not json")
    assert letter["headers"]["dlq.topic"] == EVENTS
    assert letter["headers"]["dlq.reason"]
    assert metric(worker, "dead_letters_total", topic=EVENTS) == [1.0]
    # The first dead letter was the first send to a new topic: table_route still works.
    assert table_route_count(worker, key) == true_counts(before)[key]

    # The stream goes on after the dead letter.
    produce(baked, bootstrap, after)
    values = consume(baked, bootstrap, ENRICHED, tmp_path, ids=[event["id"] for event in before + after])
    assert_counts_continue(enriched_of(values, before + after), before + after)
    expected = true_counts(before + after)
    counts = worker.get(f"/{APP}/counts/")
    assert {name: counts.get(name) for name in expected} == dict(expected)
    assert table_route_count(worker, key) == expected[key]
    assert worker.terminate(timeout=10) == 0, worker.tail()


def test_events_sent_while_the_worker_is_down_are_processed_after_restart(
    baked: Installed, kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    worker = ready_worker(baked, kafka_bootstrap, start_worker)
    before = make_events(200, keys=5)
    produce(baked, kafka_bootstrap, before)
    consume(baked, kafka_bootstrap, ENRICHED, tmp_path, ids=[event["id"] for event in before])

    assert worker.terminate(timeout=10) == 0, worker.tail()
    run = before[0]["id"].split("-")[0]
    during = make_events(200, keys=5, run=run, first=len(before))
    produce(baked, kafka_bootstrap, during)

    worker.start()
    worker.ready()
    events = before + during
    values = consume(baked, kafka_bootstrap, ENRICHED, tmp_path, ids=[event["id"] for event in during], linger=2)
    # None lost, none counted twice: the table came back from its changelog, the
    # consumer from its committed offsets.
    assert_counts_continue(enriched_of(values, events), events)
    counts = worker.get(f"/{APP}/counts/")
    assert {key: counts.get(key) for key in true_counts(events)} == dict(true_counts(events))
    assert worker.terminate(timeout=10) == 0, worker.tail()


def test_a_worker_killed_mid_stream_loses_nothing(
    baked: Installed, kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    worker = ready_worker(baked, kafka_bootstrap, start_worker)
    events = make_events(1500, keys=10)
    expected = true_counts(events)
    # A steady stream of about 5 s, killed (SIGKILL, no clean-up) about 1.5 s in.
    with streaming(baked, kafka_bootstrap, events, rate=300, root=tmp_path) as producer:
        deadline = time.monotonic() + 30
        while (processed := sum(worker.get(f"/{APP}/counts/").get(key, 0) for key in expected)) < 300:
            assert time.monotonic() < deadline, worker.tail()
            time.sleep(0.05)
        worker.kill()
        say(f"worker killed with SIGKILL in the middle of the stream, {processed} of 1500 events counted")
        began = time.monotonic()
        worker.start()
        # Its web server (the liveness probe's) answers long before the group lets it in.
        live_after = worker.wait_for("", timeout=60, predicate=lambda _: worker.is_live())
        # Live but not ready: the readiness probe keeps traffic away while it waits.
        status, answer = worker.get_with_status("/health/ready/")
        assert (status, answer["status"]) == (503, "not ready"), answer
        say(f"restarted worker not ready yet: {answer['reason']}")
        worker.ready(timeout=180)
        say(
            f"restarted worker live {live_after:.1f} s and ready {time.monotonic() - began:.1f} s after the kill "
            "(the dead member's session, Faust's broker_session_timeout of 60 s, has to expire first)"
        )
        producer.finish()

    values = consume(baked, kafka_bootstrap, ENRICHED, tmp_path, ids=[event["id"] for event in events], linger=3)
    found = enriched_of(values, events)
    # At least once: every event came out, some maybe twice.
    assert set(found) == {event["id"] for event in events}
    duplicates = sum(len(copies) - 1 for copies in found.values())
    counts = worker.get(f"/{APP}/counts/")
    over = {key: counts.get(key, 0) - count for key, count in expected.items()}
    say(
        f"after kill -9: {duplicates} duplicate enriched records of 1500; the table over-counts by "
        f"{sum(over.values())} in all ({min(over.values())} to {max(over.values())} per key)"
    )
    for key, count in expected.items():
        emitted = [copy["key_count"] for copies in found.values() for copy in copies if copy["key"] == key]
        # Never fewer than the true count, and the table agrees with what it last sent on.
        assert counts.get(key, 0) >= count
        assert counts[key] == max(emitted)
    assert worker.terminate(timeout=10) == 0, worker.tail()


def test_the_seed_tutorials_single_file_app_runs(
    baked: Installed, kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    """`faust -A myapp worker -l info` with the baked venv's Faust: the timer's greeting comes back."""
    # The tutorial makes its topic first: kafka-topics.sh --create --partitions 4 --topic test.
    baked.kafka_client("create-topics", "--bootstrap", kafka_bootstrap, "--partitions", "4", "test")
    worker = start_worker(
        kafka_bootstrap,
        app_id="myapp",
        command=[str(baked.bin / "faust"), "-A", SEED_APP.stem, "worker", "-l", "info"],
        files=[SEED_APP],
    )
    worker.ready()
    # The timer fires every 5 s; Faust logs what the agent prints.
    printed = worker.wait_for("Hello from Faust to you", timeout=20)
    say(f"the agent printed the timer's greeting {printed:.1f} s after start")
    values = consume(baked, kafka_bootstrap, "test-greeted", tmp_path, timeout=30, count=1)
    assert {"from_name": "Faust", "to_name": "you"}.items() <= values[0].items()
    assert worker.terminate(timeout=10) == 0, worker.tail()


def test_json_logs_are_one_object_per_line(baked: Installed, kafka_bootstrap: str, start_worker: Workers) -> None:
    worker = ready_worker(baked, kafka_bootstrap, start_worker, LOG_FORMAT="json")
    assert worker.terminate(timeout=10) == 0, worker.tail()

    # Faust prints its start-up banner as it is; every log record is a JSON object.
    records = [json.loads(line) for line in worker.output.splitlines() if line.startswith("{")]
    assert len(records) > 20
    assert {"time", "level", "logger", "process", "message"} <= set(records[0])
    assert any(record["message"].endswith("Worker ready") for record in records)
    assert not [line for line in worker.output.splitlines() if line.startswith("[20")], "a plain-text log line"


LOG_LEVELS = json.loads((REPO / "cookiecutter.json").read_text(encoding="utf-8"))["log_level"]


@pytest.mark.parametrize("level", [*LOG_LEVELS, "warning"])
def test_the_worker_starts_at_every_offered_log_level(
    baked: Installed, kafka_bootstrap: str, start_worker: Workers, level: str
) -> None:
    """Each answer of `log_level`, and LOG_LEVEL=warning, which Faust's CLI calls warn."""
    create_topics(baked, kafka_bootstrap)
    worker = start_worker(kafka_bootstrap, LOG_LEVEL=level)
    # At warn and above there is no "Worker ready" line to wait for: ready() asks the worker.
    worker.ready(timeout=90)
    assert worker.is_live(), worker.tail()
    assert worker.terminate(timeout=10) == 0, worker.tail()
    assert ("Worker ready" in worker.output) != (level in QUIET_LEVELS), worker.tail()
