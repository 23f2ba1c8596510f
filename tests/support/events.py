"""The default bake's pipeline seen from Kafka: its topics, events made up, produced, read back and judged.

Every helper goes through scripts/kafka_client.py under the baked venv's Python.
"""

from __future__ import annotations

import functools
import json
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .baking import Installed
from .commands import say, wait_for_output
from .paths import KAFKA_CLIENT
from .workers import Worker

APP = "page_views"  # the default answer of `apps`
PARTITIONS = 4  # the default answer of `topic_partitions`
EVENTS = f"{APP}.events"
ENRICHED = f"{APP}.enriched"
SUMMARIES = f"{APP}.batch-summaries"


def make_events(count: int, keys: int = 10, run: str | None = None, first: int = 0) -> list[dict[str, Any]]:
    """Events with ids and keys of one run only, so other tests' events cannot count."""
    run = run or uuid.uuid4().hex[:8]
    return [
        {"id": f"{run}-{number}", "key": f"{run}-k{number % keys}", "amount": float(number % 7 + 1)}
        for number in range(first, first + count)
    ]


def event_lines(events: list[dict[str, Any]]) -> str:
    return "".join(json.dumps({"key": event["key"], "value": event}) + "\n" for event in events)


def create_topics(baked: Installed, bootstrap: str) -> None:
    """What the `topics` service of the baked docker-compose.yml does before the worker starts."""
    baked.kafka_client(
        "create-topics", "--bootstrap", bootstrap, "--partitions", str(PARTITIONS), EVENTS, ENRICHED, SUMMARIES
    )


def ready_worker(baked: Installed, bootstrap: str, start_worker: Callable[..., Worker], **options: Any) -> Worker:
    """What `docker compose up` does: the topics, then a worker, started and ready."""
    create_topics(baked, bootstrap)
    worker = start_worker(bootstrap, **options)
    worker.ready()
    return worker


def produce(baked: Installed, bootstrap: str, events: list[dict[str, Any]]) -> None:
    (answer,) = baked.kafka_client("produce", "--bootstrap", bootstrap, "--topic", EVENTS, stdin=event_lines(events))
    assert answer["sent"] == len(events)


@dataclass
class Producer:
    """scripts/kafka_client.py producing in the background, its output in ``log``."""

    process: subprocess.Popen[bytes]
    log: Path

    def wait_started(self, timeout: float = 60) -> None:
        """Wait until it has connected: it sends as soon as its topic exists."""
        read = functools.partial(self.log.read_text, errors="replace")
        wait_for_output(self.process, read, "started: sending to", timeout, name="the producer")

    def finish(self, timeout: float = 60) -> None:
        """Wait until it has sent every event; fail with what it printed if it did not."""
        assert self.process.wait(timeout=timeout) == 0, self.log.read_text(errors="replace")


@contextmanager
def streaming(
    baked: Installed, bootstrap: str, events: list[dict[str, Any]], rate: float | None, root: Path
) -> Iterator[Producer]:
    """A producer sending ``events`` to EVENTS, ``rate`` a second (None: at once); killed if running at the end."""
    stream = root / f"stream-{uuid.uuid4().hex[:8]}.jsonl"
    stream.write_text(event_lines(events), encoding="utf-8")
    log = stream.with_suffix(".log")
    command = [str(baked.python), str(KAFKA_CLIENT), "produce", "--bootstrap", bootstrap, "--topic", EVENTS]
    with stream.open("rb") as stdin, log.open("wb") as stdout:
        process = subprocess.Popen(
            command if rate is None else [*command, "--rate", str(rate)],
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Producer(process, log)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def consume(
    baked: Installed,
    bootstrap: str,
    topic: str,
    tmp_path: Path,
    *,
    ids: list[str] | None = None,
    total: float | None = None,
    count: int | None = None,
    timeout: float = 60,
    linger: float = 0,
) -> list[dict[str, Any]]:
    """The values on ``topic`` from the beginning: until every id, a ``count`` field total of
    ``total`` or ``count`` records came out (then ``linger`` seconds more), or ``timeout``."""
    args = ["consume", "--bootstrap", bootstrap, "--topic", topic, "--timeout", str(timeout), "--linger", str(linger)]
    if ids is not None:
        id_file = tmp_path / f"ids-{uuid.uuid4().hex[:8]}.txt"
        id_file.write_text("\n".join(ids), encoding="utf-8")
        args += ["--until-ids", str(id_file)]
    if total is not None:
        args += ["--until-sum", f"count={total}"]
    if count is not None:
        args += ["--count", str(count)]
    began = time.monotonic()
    records = baked.kafka_client(*args, timeout=timeout + linger + 60)
    say(f"read {len(records)} records of {topic} in {time.monotonic() - began:.1f} s")
    return [record["value"] for record in records]


@dataclass(frozen=True)
class Tally:
    """What scripts/kafka_client.py's ``tally`` found on a topic; times in seconds since the epoch."""

    records: int
    found: int
    missing: int
    missing_sample: list[str]
    duplicates: int
    first: float | None
    last: float | None
    first_since: float | None


def tally(
    baked: Installed,
    bootstrap: str,
    topic: str,
    events: list[dict[str, Any]] | list[str],
    root: Path,
    *,
    since: float = 0.0,
    timeout: float = 120,
    linger: float = 2,
) -> Tally:
    """Read ``topic`` until every event (or id) came out: the counts, and when the first and last came out.

    ``first_since``: the first record at or after ``since``, whichever event it was.
    """
    ids = root / f"ids-{uuid.uuid4().hex[:8]}.txt"
    with ids.open("w", encoding="utf-8") as file:
        for event in events:
            file.write(f"{event if isinstance(event, str) else event['id']}\n")
    args = ["--ids", str(ids), "--since-ms", str(int(since * 1000)), "--timeout", str(timeout)]
    began = time.monotonic()
    (answer,) = baked.kafka_client(
        "tally", "--bootstrap", bootstrap, "--topic", topic, *args, "--linger", str(linger), timeout=timeout + 120
    )
    say(f"tallied {answer['records']} records of {topic} in {time.monotonic() - began:.1f} s")

    def seconds(name: str) -> float | None:
        return None if answer[name] is None else answer[name] / 1000

    return Tally(
        records=answer["records"],
        found=answer["found"],
        missing=answer["missing"],
        missing_sample=answer["missing_sample"],
        duplicates=answer["duplicates"],
        first=seconds("first_ms"),
        last=seconds("last_ms"),
        first_since=seconds("first_since_ms"),
    )


def enriched_of(values: list[dict[str, Any]], events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The enriched records of ``events``, by id (more than one per id means duplicates)."""
    wanted = {event["id"] for event in events}
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for value in values:
        if value.get("id") in wanted:
            found[value["id"]].append(value)
    return found


def true_counts(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(event["key"] for event in events)


def assert_counts_continue(found: dict[str, list[dict[str, Any]]], events: list[dict[str, Any]]) -> None:
    """Each event came out once, and each key's counts run 1..n over all of them."""
    assert set(found) == {event["id"] for event in events}
    duplicates = {event_id: len(copies) for event_id, copies in found.items() if len(copies) > 1}
    assert not duplicates, f"{len(duplicates)} ids came out more than once"
    by_key: dict[str, list[int]] = defaultdict(list)
    for copies in found.values():
        by_key[copies[0]["key"]].append(copies[0]["key_count"])
    assert {key: sorted(counts) for key, counts in by_key.items()} == {
        key: list(range(1, count + 1)) for key, count in true_counts(events).items()
    }
