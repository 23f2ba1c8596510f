"""Benchmark: the baked service's example pipeline beside the same work in raw aiokafka and in its peers.

One command (see README.md, "Benchmark")::

    .venv/bin/python bench/pipeline.py                        # every variant, 3 repetitions
    .venv/bin/python bench/pipeline.py --only raw,baked --count 20000 --repeat 1
    .venv/bin/python bench/pipeline.py --baseline ../before   # another checkout as a second baked
    .venv/bin/python bench/pipeline.py --only baked,baseline --baseline . --baseline-env LOG_LEVEL=warn

It bakes the template with its default answers and installs it into a fresh uv venv
(``bake_and_install`` of ``tests/support/``), makes a uv venv of its own for each peer
(``QUIX`` and ``FASTSTREAM`` below, the versions tested), then, in every repetition, starts
one Kafka broker (``kafka_test_broker/broker.py``) and runs every variant on it, one after
the other, the order rotated by one place per repetition. Each variant gets the same N
events (``id``, ``key`` of 100, ``amount``) preloaded into a source topic of its own, of 4
partitions; its sink topics stamp records with the broker's LogAppendTime.

The variants (``VARIANTS``; ``--only`` picks some):

- ``raw``: the baked example's work on aiokafka with orjson and uvloop
  (``variants/raw.py``): validate, count per key, a changelog record per update to a
  compacted topic on the event's partition, the enriched event under its key, and a
  second consumer summarising batches of ``BATCH_SIZE`` (or ``BATCH_WINDOW`` s) events;
  commits once the sends are acknowledged;
- ``baked``: ``<pkg> worker`` with its default settings (``enrich_events`` with its Table
  and ``summarize_batches``); before its run it also gives start -> "Worker ready" and the
  idle RSS on empty topics, and the seed tutorial's single-file app's the same way;
- ``baseline`` (with ``--baseline <checkout>``): that checkout baked and run as ``baked``,
  with ``--baseline-env`` on top of ``--worker-env`` (``--baseline .`` and a setting: that
  setting against the defaults, side by side);
- ``raw-simple`` and ``faust-minimal``: consume, enrich, produce, no table, no second stage,
  on aiokafka and on Faust (``variants/faust_minimal.py``, the baked venv's Faust): the
  framework's own cost per event;
- ``quix`` and ``faststream``: the same work on Quix Streams and FastStream
  (``variants/quix_app.py``, ``variants/faststream_app.py``: their docstrings say what
  differs).

For each variant, the figures of one repetition:

- **CPU seconds per 1,000 events**, the primary figure: utime+stime (with the children's)
  from ``/proc/<pid>/stat`` of the variant's process and its descendants, read once it
  is ready (its consumers have their partitions; its start-up is left out) with the backlog
  waiting, and again once every output of both stages is out (all N events enriched, the
  summaries covering N) and it has been idle (under 0.15 CPU s over 1 s) for a second; its
  idle rate, measured over ``IDLE_SECONDS`` after that, times the interval is subtracted;
- msgs/s: distinct events / the span of the enriched sink's LogAppendTimes;
- the ratio of its CPU per event to ``raw``'s in the same repetition (issue 15's target for
  ``baked``: 4 or less);
- correctness, checked by reading everything back: all N events enriched, the highest
  ``key_count`` of each key equal to that key's true count, summaries covering N events
  (the variants with a second stage), the changelog records it wrote; a variant that
  loses an event fails the run;
- latency: events sent at half its msgs/s of this run (``--latency-fraction``; at most
  ``LATENCY_RATE_CAP``; or every variant at ``--latency-rate``, to compare settings at
  one rate) for ``--latency-seconds``; end-to-end = the sink's LogAppendTime
  minus the moment of sending; p50, p99, each second's p50, and the CPU per 1,000 events
  at that steady rate, where fetches are small.

``--profile DIR`` records py-spy samples of each variant's backlog and latency runs
(collapsed stacks, ``DIR/<repetition>-<variant>-<phase>.txt``); its CPU figures then
include the sampling's cost.

It prints a table (median and min-max over the repetitions, one column per variant)
with the load average before and after, and writes JSON to ``bench/results/<UTC time>.json``
(or ``--output``) with an SVG chart of the CPU per 1,000 events beside it. The parts that
talk to Kafka run under the baked venv's Python, which has aiokafka:
``python pipeline.py client ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from report import Metric, describe, load_average, now, print_table, summarize, write_results

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VARIANT_SCRIPTS = HERE / "variants"
PARTITIONS = 4
KEYS = 100
APP = "page_views"  # the default answer of `apps`
# The baked settings' defaults (settings.py: batch_size, batch_window_seconds), used by every variant.
BATCH_SIZE, BATCH_WINDOW = 100, 5.0
# The peers' versions this benchmark was written and run with.
QUIX = ["quixstreams==3.28.1", "orjson"]
FASTSTREAM = ["faststream[kafka]==0.7.8", "orjson", "uvloop"]
VARIANTS = ["raw", "baked", "raw-simple", "faust-minimal", "quix", "faststream"]
IDLE_SECONDS = 3.0
LATENCY_RATE_CAP = 10_000.0


# --- Kafka side: run by the baked venv's Python (aiokafka) ------------------------------


def event(run: str, number: int) -> dict[str, Any]:
    return {"id": f"{run}-{number}", "key": f"k{number % KEYS}", "amount": float(number % 10 + 1)}


def true_counts(count: int) -> dict[str, int]:
    """How many of ``count`` events ``event()`` makes under each key."""
    counts: defaultdict[str, int] = defaultdict(int)
    for number in range(min(count, KEYS)):
        counts[f"k{number}"] = count // KEYS + (1 if number < count % KEYS else 0)
    return dict(counts)


async def create_topics(
    bootstrap: str, plain: list[str], stamped: list[str], compacted: list[str], reset: bool
) -> None:
    """Create the topics (``reset``: delete them first), and wait until the broker has them all."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    names = plain + stamped + compacted
    try:
        if reset:
            existing = [name for name in await admin.list_topics() if name in names]
            if existing:
                await admin.delete_topics(existing)
            for _ in range(150):
                if not set(existing) & set(await admin.list_topics()):
                    break
                await asyncio.sleep(0.2)
        new = (
            [NewTopic(name, PARTITIONS, 1) for name in plain]
            + [
                NewTopic(name, PARTITIONS, 1, topic_configs={"message.timestamp.type": "LogAppendTime"})
                for name in stamped
            ]
            + [NewTopic(name, PARTITIONS, 1, topic_configs={"cleanup.policy": "compact"}) for name in compacted]
        )
        for _ in range(50):
            try:
                await admin.create_topics(new)
                break
            except TopicAlreadyExistsError:
                # A deleted topic may still be on its way out.
                await asyncio.sleep(0.3)
        for _ in range(150):
            described = await admin.describe_topics(names)
            if all(topic.get("error_code") == 0 and topic.get("partitions") for topic in described):
                break
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def load(bootstrap: str, topic: str, count: int, run: str) -> None:
    """Send ``count`` events as fast as the producer goes (not measured)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=262_144)
    await producer.start()
    try:
        futures = []
        for number in range(count):
            value = event(run, number)
            futures.append(await producer.send(topic, json.dumps(value).encode(), key=value["key"].encode()))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


@dataclass
class Tally:
    """What came out of a variant, read back from its topics."""

    count: int
    run: str
    seen: set[str] = field(default_factory=set)
    records: int = 0
    first: int | None = None
    last: int | None = None
    highest: dict[str, int] = field(default_factory=dict)
    summarized: int = 0
    summaries: int = 0

    def enriched(self, raw: bytes, timestamp: int) -> None:
        self.records += 1
        value = json.loads(raw)
        if not str(value.get("id", "")).startswith(self.run + "-"):
            return
        self.seen.add(value["id"])
        self.first = timestamp if self.first is None else min(self.first, timestamp)
        self.last = timestamp if self.last is None else max(self.last, timestamp)
        key = value["key"]
        self.highest[key] = max(self.highest.get(key, 0), int(value["key_count"]))

    def summary(self, raw: bytes) -> None:
        self.summaries += 1
        self.summarized += int(json.loads(raw)["count"])

    def problems(self, with_summaries: bool) -> list[str]:
        found = []
        if len(self.seen) < self.count:
            found.append(f"{self.count - len(self.seen)} of {self.count} events did not come out enriched")
        wrong = {key: (self.highest.get(key), true) for key, true in true_counts(self.count).items()}
        wrong = {key: pair for key, pair in wrong.items() if pair[0] != pair[1]}
        if wrong:
            sample = dict(list(wrong.items())[:5])
            found.append(f"{len(wrong)} keys end on a wrong count (highest key_count, true count): {sample}")
        if with_summaries and self.summarized < self.count:
            found.append(f"the summaries cover {self.summarized} of {self.count} events")
        return found

    def report(self) -> dict[str, Any]:
        span = ((self.last or 0) - (self.first or 0)) / 1000
        return {
            "distinct": len(self.seen),
            "records": self.records,
            "span_s": span,
            "msgs_per_s": (len(self.seen) - 1) / span if span > 0 else None,
            "summaries": self.summaries,
            "summarized": self.summarized,
        }


async def observe(bootstrap: str, enriched: str, summaries: str | None, count: int, run: str, timeout: float) -> None:
    """Wait (cheaply) until every output of ``run`` is out, check it, and print what came out."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    deadline = time.monotonic() + timeout
    tally = Tally(count, run)
    try:
        sinks = [TopicPartition(enriched, p) for p in range(PARTITIONS)]
        summary_partitions = [TopicPartition(summaries, p) for p in range(PARTITIONS)] if summaries else []
        partitions = sinks + summary_partitions
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while time.monotonic() < deadline:
            # Poll the end offsets only until the sink can hold them all, so that this
            # process takes little CPU from the pipeline.
            ends = await consumer.end_offsets(partitions)
            if sum(ends[tp] for tp in sinks) >= count:
                while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                    for tp, messages in (await consumer.getmany(timeout_ms=500, max_records=5000)).items():
                        for message in messages:
                            if tp.topic == enriched:
                                tally.enriched(message.value, message.timestamp)
                            else:
                                tally.summary(message.value)
                if len(tally.seen) >= count and (not summaries or tally.summarized >= count):
                    break
            await asyncio.sleep(0.5)
        result = tally.report()
        result["problems"] = tally.problems(bool(summaries))
    finally:
        await consumer.stop()
    print(json.dumps(result), flush=True)


async def changelog_records(bootstrap: str, part: str) -> None:
    """Print the changelog topics whose names hold ``part`` and how many records they have.

    Asked once the variant is idle: Quix writes its changelog at its checkpoints only.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [name for name in await admin.list_topics() if "changelog" in name and part in name]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        logs = [TopicPartition(name, p) for name in topics for p in range(PARTITIONS)]
        records = sum((await consumer.end_offsets(logs)).values()) if logs else 0
    finally:
        await consumer.stop()
    print(json.dumps({"changelog_topics": topics, "changelog_records": records}), flush=True)


async def latency(bootstrap: str, source: str, sink: str, rate: float, seconds: float, warmup: float) -> None:
    """Send events at ``rate``/s for ``seconds``; latency = sink LogAppendTime - send time."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    run = uuid.uuid4().hex[:8]
    total = int(rate * seconds)
    sent_at: dict[str, float] = {}
    latencies: dict[str, float] = {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    try:
        partitions = [TopicPartition(sink, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)

        async def send() -> None:
            began, number = time.monotonic(), 0
            while number < total:
                due = min(total, int((time.monotonic() - began) * rate) + 1)
                while number < due:
                    value = event(run, number)
                    sent_at[value["id"]] = time.time()
                    await producer.send(source, json.dumps(value).encode(), key=value["key"].encode())
                    number += 1
                await asyncio.sleep(0.002)
            await producer.flush()

        sender = asyncio.create_task(send())
        deadline = time.monotonic() + seconds + 60
        while (len(latencies) < total or not sender.done()) and time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=100)).values():
                for message in messages:
                    ident = json.loads(message.value)["id"]
                    if ident in sent_at and ident not in latencies:
                        latencies[ident] = message.timestamp / 1000 - sent_at[ident]
        await sender
    finally:
        await producer.stop()
        await consumer.stop()
    skip = int(rate * warmup)
    measured = sorted(latencies[f"{run}-{n}"] * 1000 for n in range(skip, total) if f"{run}-{n}" in latencies)
    result: dict[str, Any] = {"rate": rate, "sent": total, "received": len(latencies), "measured": len(measured)}
    if measured:
        result["p50_ms"] = measured[len(measured) // 2]
        result["p99_ms"] = measured[min(len(measured) - 1, int(len(measured) * 0.99))]
        result["max_ms"] = measured[-1]
    # The median of each second of sending: shows whether the pipeline keeps up with the rate.
    per_second = max(1, int(rate))
    result["p50_ms_by_second"] = [
        round(statistics.median(chunk), 1)
        for start in range(0, total, per_second)
        if (
            chunk := [
                latencies[f"{run}-{n}"] * 1000 for n in range(start, start + per_second) if f"{run}-{n}" in latencies
            ]
        )
    ]
    print(json.dumps(result), flush=True)


def client(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="pipeline.py client")
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("create-topics")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--plain", action="append", default=[])
    c.add_argument("--stamped", action="append", default=[])
    c.add_argument("--compacted", action="append", default=[])
    c.add_argument("--reset", action="store_true")
    c = commands.add_parser("load")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--run", required=True)
    c = commands.add_parser("observe")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--enriched", required=True)
    c.add_argument("--summaries")
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--run", required=True)
    c.add_argument("--timeout", type=float, default=900)
    c = commands.add_parser("changelog")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--part", required=True, help="a part of the changelog topics' names")
    c = commands.add_parser("latency")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--source", required=True)
    c.add_argument("--sink", required=True)
    c.add_argument("--rate", type=float, required=True)
    c.add_argument("--seconds", type=float, required=True)
    c.add_argument("--warmup", type=float, default=1.0)
    a = parser.parse_args(argv)
    if a.command == "create-topics":
        asyncio.run(create_topics(a.bootstrap, a.plain, a.stamped, a.compacted, a.reset))
    elif a.command == "load":
        asyncio.run(load(a.bootstrap, a.topic, a.count, a.run))
    elif a.command == "observe":
        asyncio.run(observe(a.bootstrap, a.enriched, a.summaries, a.count, a.run, a.timeout))
    elif a.command == "changelog":
        asyncio.run(changelog_records(a.bootstrap, a.part))
    else:
        asyncio.run(latency(a.bootstrap, a.source, a.sink, a.rate, a.seconds, a.warmup))


# --- Orchestration: run by the template's venv (.venv/bin/python) -----------------------


def stat_fields(pid: int) -> list[str]:
    # The command name, in parentheses, may hold spaces: the fields follow its last ")".
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from the parent ids in /proc."""
    children: defaultdict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children[int(stat_fields(int(entry.name))[1])].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its descendants, with the children each has waited for."""
    ticks = 0
    for member in descendants(pid):
        with contextlib.suppress(OSError):
            fields = stat_fields(member)
            # utime, stime, cutime, cstime: fields 14-17 of proc(5), from the state (3) on.
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, timeout: float = 120, below: float = 0.15) -> float:
    """Wait until ``pid`` uses less than ``below`` of a CPU over a second; return the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < below:
            break
    return time.monotonic() - began


def work_cpu(ready: float, done: float, interval: float, idle_rate: float) -> float:
    """CPU seconds of the work: used between ready and done, less the idle rate over that interval."""
    return max(0.0, done - ready - idle_rate * interval)


@contextlib.contextmanager
def profiled(pid: int, directory: str | None, name: str) -> Iterator[None]:
    """Record py-spy samples of ``pid`` (and its children) in the block, if ``directory`` is given.

    Collapsed stacks (``<directory>/<name>.txt``), one line per distinct stack with its
    sample count, for flame graph tools or ``sort -t' ' -k2 -n``.
    """
    if directory is None:
        yield
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    output = Path(directory) / f"{name}.txt"
    command = [
        str(Path(sys.executable).with_name("py-spy")),  # the template venv's (its dev group)
        *("record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--rate", "200"),
        *("--format", "raw", "--output", str(output)),
    ]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        _, errors = spy.communicate(timeout=60)
        if spy.returncode not in (0, -signal.SIGINT) or not output.exists():
            print(f"py-spy of {name} wrote nothing: {errors.decode(errors='replace')[-500:]}", file=sys.stderr)


def rotated(names: list[str], number: int) -> list[str]:
    """The order of the variants in repetition ``number`` (from 1): shifted by one place each time."""
    shift = (number - 1) % len(names) if names else 0
    return names[shift:] + names[:shift]


def parse_only(only: str | None, baseline: bool) -> list[str]:
    known = VARIANTS + (["baseline"] if baseline else [])
    if not only:
        return known
    picked = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in picked if name not in known]
    if unknown:
        raise SystemExit(f"--only: unknown variant(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return picked


@dataclass
class Spec:
    """How to start one variant and where its events go."""

    name: str
    source: str
    enriched: str
    summaries: str | None
    changelog: str | None  # a part of its changelog topics' names
    ready_text: str | None  # None: a baked worker, whose ready() knows (it logs no line at warn)


class Bench:
    def __init__(
        self, args: argparse.Namespace, support: Any, root: Path, baked: dict[str, Any], peers: dict[str, Path]
    ) -> None:
        self.args = args
        self.support = support
        self.root = root
        self.baked = baked  # "baked" (and "baseline"): the installed checkouts
        self.peers = peers  # "quix", "faststream": their venvs' Pythons
        self.python = baked["baked"].python  # the Kafka side runs under it
        self.workers = {
            label: support.Workers(installed, root / label, settings=worker_env(args, label))
            for label, installed in baked.items()
        }

    def client(self, *argv: str, timeout: float = 900) -> dict[str, Any]:
        """Run ``pipeline.py client ...`` under the baked venv; return its last JSON line."""
        result = self.support.run(self.python, __file__, "client", *argv, timeout=timeout)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else {}

    def stop_all(self) -> None:
        for workers in self.workers.values():
            workers.kill_all()

    def spec(self, name: str, app_id: str) -> Spec:
        if name in ("baked", "baseline"):
            return Spec(name, f"{APP}.events", f"{APP}.enriched", f"{APP}.batch-summaries", app_id, None)
        stages = name in ("raw", "quix", "faststream")
        changelog = {
            "raw": f"{name}.counts-changelog",
            "faststream": f"{name}.counts-changelog",
            "quix": f"{name}.events",
        }
        ready = (
            "The application started" if name == "quix" else ("Worker ready" if name == "faust-minimal" else '"ready"')
        )
        return Spec(
            name,
            f"{name}.events",
            f"{name}.enriched",
            f"{name}.summaries" if stages else None,
            changelog.get(name),
            ready,
        )

    def start(self, name: str, bootstrap: str, app_id: str) -> Any:
        workers = self.workers["baked"]
        python = str(self.python)
        batch = ["--batch-size", str(BATCH_SIZE), "--batch-window", str(BATCH_WINDOW)]
        common = ["--bootstrap", bootstrap, "--prefix", name]
        if name in ("baked", "baseline"):
            return self.workers[name](bootstrap, app_id)
        if name == "raw":
            return workers(bootstrap, app_id, command=[python, str(VARIANT_SCRIPTS / "raw.py"), *common, *batch])
        if name == "raw-simple":
            return workers(bootstrap, app_id, command=[python, str(VARIANT_SCRIPTS / "raw.py"), *common, "--simple"])
        if name == "faust-minimal":
            script = VARIANT_SCRIPTS / "faust_minimal.py"
            faust = str(self.baked["baked"].bin / "faust")
            command = [faust, "-L", "uvloop", "-A", script.stem, "worker", "-l", "info"]
            return workers(bootstrap, app_id, command=command, files=[script], BENCH_PREFIX=name)
        if name == "quix":
            command = [
                str(self.peers[name]),
                str(VARIANT_SCRIPTS / "quix_app.py"),
                *common,
                "--batch-size",
                str(BATCH_SIZE),
            ]
            return workers(bootstrap, app_id, command=command, STATE_DIR=str(self.root / f"quix-state-{app_id}"))
        command = [str(self.peers[name]), str(VARIANT_SCRIPTS / "faststream_app.py"), *common, *batch]
        return workers(bootstrap, app_id, command=command)

    def repetition(self, number: int, names: list[str]) -> dict[str, Any]:
        """One repetition: one broker, every variant on it in the order ``names``."""
        say = self.support.say
        result: dict[str, Any] = {"number": number, "order": names, "load_before": load_average(), "variants": {}}
        kafka = self.support.Broker()
        kafka.start()
        try:
            say(f"[{number}] broker {kafka.bootstrap} ready in {kafka.timings['total']:.1f} s, order {names}")
            for name in names:
                result["variants"][name] = self.variant(number, name, kafka.bootstrap)
        finally:
            self.stop_all()
            kafka.stop()
        raw = result["variants"].get("raw", {}).get("cpu_per_1000")
        for figures in result["variants"].values():
            figures["cpu_ratio_to_raw"] = figures["cpu_per_1000"] / raw if raw else None
        result["load_after"] = load_average()
        say(f"[{number}] load {result['load_before']} -> {result['load_after']}")
        return result

    def variant(self, number: int, name: str, bootstrap: str) -> dict[str, Any]:
        args, say = self.args, self.support.say
        app_id = f"bench-{name}-{number}-{uuid.uuid4().hex[:6]}"
        spec = self.spec(name, app_id)
        figures: dict[str, Any] = {"load_before": load_average()}
        topics = ["--plain", spec.source, "--plain", f"{spec.source}.dlq", "--stamped", spec.enriched]
        if spec.summaries:
            topics += ["--stamped", spec.summaries]
        if name in ("raw", "faststream"):
            topics += ["--compacted", f"{name}.counts-changelog"]
        # baked and baseline share the example's topic names: each starts on fresh ones.
        self.client(
            "create-topics",
            "--bootstrap",
            bootstrap,
            *topics,
            *(["--reset"] if spec.name in ("baked", "baseline") else []),
        )

        if spec.name in ("baked", "baseline"):
            self.start_up(number, spec.name, bootstrap, app_id, figures)
        run = uuid.uuid4().hex[:8]
        began = time.monotonic()
        self.client("load", "--bootstrap", bootstrap, "--topic", spec.source, "--count", str(args.count), "--run", run)
        say(f"[{number} {name}] loaded {args.count} events into {spec.source} in {time.monotonic() - began:.1f} s")

        process = self.start(name, bootstrap, app_id)
        figures["ready_s"] = process.ready(120) if spec.ready_text is None else process.wait_for(spec.ready_text, 120)
        pid = process.process.pid
        ready_at, cpu_ready = time.monotonic(), cpu_seconds(pid)
        figures["cpu_startup_s"] = cpu_ready
        observe = [
            "observe",
            "--bootstrap",
            bootstrap,
            "--enriched",
            spec.enriched,
            "--count",
            str(args.count),
            "--run",
            run,
        ]
        if spec.summaries:
            observe += ["--summaries", spec.summaries]
        with profiled(pid, args.profile, f"{number}-{name}-backlog"):
            out = self.client(*observe)
        figures.update(out)
        if out.get("problems"):
            raise RuntimeError(f"{name} failed its check: {'; '.join(out['problems'])}\n{process.tail()}")
        figures["settle_s"] = wait_idle(pid)
        done_at, cpu_done = time.monotonic(), cpu_seconds(pid)
        time.sleep(IDLE_SECONDS)
        idle_rate = (cpu_seconds(pid) - cpu_done) / IDLE_SECONDS
        figures["idle_cpu_per_s"] = idle_rate
        figures["cpu_s"] = work_cpu(cpu_ready, cpu_done, done_at - ready_at, idle_rate)
        figures["cpu_per_1000"] = figures["cpu_s"] / args.count * 1000
        figures["rss_after_mb"] = process.vm_status() / 1024
        if spec.changelog:
            figures.update(self.client("changelog", "--bootstrap", bootstrap, "--part", spec.changelog))

        rate = args.latency_rate or min(LATENCY_RATE_CAP, (out["msgs_per_s"] or 2000) * args.latency_fraction)
        began, cpu_before = time.monotonic(), cpu_seconds(pid)
        with profiled(pid, args.profile, f"{number}-{name}-latency"):
            lat = self.client(
                "latency",
                *("--bootstrap", bootstrap, "--source", spec.source, "--sink", spec.enriched),
                *("--rate", f"{rate:.0f}", "--seconds", str(args.latency_seconds)),
            )
        figures.update({f"latency_{key}": value for key, value in lat.items()})
        # CPU per event at that steady rate, where fetches are small, beside the backlog's.
        cpu = work_cpu(cpu_before, cpu_seconds(pid), time.monotonic() - began, idle_rate)
        figures["latency_cpu_per_1000"] = cpu / max(1, lat.get("received", 0)) * 1000
        process.terminate(timeout=30)
        figures["load_after"] = load_average()
        shown = {
            key: figures.get(key)
            for key in ("cpu_per_1000", "msgs_per_s", "latency_p50_ms", "latency_p99_ms", "changelog_records")
        }
        say(f"[{number} {name}] {json.dumps(shown)}")
        return figures

    def start_up(self, number: int, name: str, bootstrap: str, app_id: str, figures: dict[str, Any]) -> None:
        """Start -> ready and idle RSS on empty topics: the worker, and the seed example's app."""
        worker = self.workers[name](bootstrap, app_id)
        figures["worker_ready_s"] = worker.ready(timeout=120)
        time.sleep(self.args.idle_seconds)
        figures["worker_idle_rss_mb"] = worker.vm_status() / 1024
        worker.terminate(timeout=30)
        if not self.args.no_seed:
            seed_app = self.support.SEED_APP
            bin_dir = self.baked[name].bin
            seed = self.workers[name](
                bootstrap,
                f"seed-{number}-{uuid.uuid4().hex[:6]}",
                command=[str(bin_dir / "faust"), "-A", seed_app.stem, "worker", "-l", "info"],
                files=[seed_app],
            )
            figures["seed_ready_s"] = seed.ready(timeout=120)
            figures["seed_idle_rss_mb"] = seed.vm_status() / 1024
            seed.terminate(timeout=30)


METRICS: list[Metric] = [
    ("CPU s / 1000 events", ("cpu_per_1000",)),
    ("CPU/event ratio to raw", ("cpu_ratio_to_raw",)),
    ("msgs/s (sink span)", ("msgs_per_s",)),
    ("latency rate events/s", ("latency_rate",)),
    ("latency p50 ms", ("latency_p50_ms",)),
    ("latency p99 ms", ("latency_p99_ms",)),
    ("CPU s / 1000 at latency rate", ("latency_cpu_per_1000",)),
    ("changelog records", ("changelog_records",)),
    ("start-up CPU s", ("cpu_startup_s",)),
    ("idle CPU s per s", ("idle_cpu_per_s",)),
    ("start->ready (backlog) s", ("ready_s",)),
    ("worker start->ready s", ("worker_ready_s",)),
    ("worker idle RSS MB", ("worker_idle_rss_mb",)),
    ("seed start->ready s", ("seed_ready_s",)),
    ("seed idle RSS MB", ("seed_idle_rss_mb",)),
    ("RSS after run MB", ("rss_after_mb",)),
]


def per_variant(repetitions: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The repetitions' figures regrouped by variant, in the order of the first repetition."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for repetition in repetitions:
        for name, figures in repetition["variants"].items():
            runs.setdefault(name, []).append(figures)
    return runs


def chart(report: dict[str, Any]) -> str:
    """An SVG bar chart of CPU s per 1,000 events (median, with a min-max whisker) of each variant."""
    bars = [
        (name, summary["CPU s / 1000 events"], summary.get("CPU/event ratio to raw", {}).get("median"))
        for name, summary in report["summary"].items()
        if "CPU s / 1000 events" in summary
    ]
    top = max((stats["max"] for _, stats, _ in bars), default=1.0) or 1.0
    left, width, height, gap = 130, 460, 22, 10
    scale = width / top
    rows = []
    for number, (name, stats, ratio) in enumerate(bars):
        y = 46 + number * (height + gap)
        middle = y + height / 2
        note = f" ({ratio:.1f}x raw)" if ratio else ""
        colour = "#d98c4a" if name in ("baked", "baseline", "faust-minimal") else "#8fa8c8"
        rows.append(
            f'<text x="{left - 8}" y="{middle + 4}" text-anchor="end">{name}</text>'
            f'<rect x="{left}" y="{y}" width="{stats["median"] * scale:.1f}" height="{height}" fill="{colour}"/>'
            f'<line x1="{left + stats["min"] * scale:.1f}" x2="{left + stats["max"] * scale:.1f}" '
            f'y1="{middle}" y2="{middle}" stroke="black"/>'
            f'<line x1="{left + stats["min"] * scale:.1f}" x2="{left + stats["min"] * scale:.1f}" '
            f'y1="{middle - 5}" y2="{middle + 5}" stroke="black"/>'
            f'<line x1="{left + stats["max"] * scale:.1f}" x2="{left + stats["max"] * scale:.1f}" '
            f'y1="{middle - 5}" y2="{middle + 5}" stroke="black"/>'
            f'<text x="{left + stats["max"] * scale + 6:.1f}" y="{middle + 4}">{stats["median"]:.3f}{note}</text>'
        )
    total = 46 + len(bars) * (height + gap) + 10
    title = (
        f"CPU s per 1,000 events, {report['count']:,} events, {report['partitions']} partitions, "
        f"median (min-max) of {report['repeat']}"
    )
    loads = f"load average before {report['load_before']}, after {report['load_after']}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 170}" height="{total}" '
        f'font-family="sans-serif" font-size="12"><text x="10" y="18">{title}</text>'
        f'<text x="10" y="34" fill="#555">{loads}</text>{"".join(rows)}</svg>\n'
    )


def peer_venv(support: Any, root: Path, name: str, requirements: list[str], python: str) -> Path:
    """A uv venv of ``requirements`` for one peer; its Python."""
    venv = root / f"venv-{name}"
    env = {"UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": str(venv)}
    uv = support.tool("uv")
    support.run(uv, "venv", "--quiet", "--python", python, venv, env=env)
    support.run(uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", *requirements, env=env)
    return venv / "bin" / "python"


def settings(items: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` items as a dict; an item without ``=`` is refused."""
    for item in items:
        if "=" not in item:
            raise SystemExit(f"pipeline.py: {item!r} is not NAME=VALUE")
    return dict(item.split("=", 1) for item in items)


def worker_env(args: argparse.Namespace, label: str) -> dict[str, str]:
    """The baked worker's settings beyond its defaults: --worker-env, and --baseline-env for the baseline."""
    return {**settings(args.worker_env), **(settings(args.baseline_env) if label == "baseline" else {})}


def orchestrate(args: argparse.Namespace) -> int:
    # Only here, under the template's venv: the test support package (tests/support/), and
    # kafka_test_broker/ at the root that it imports.
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    import support

    names = parse_only(args.only, bool(args.baseline))
    checkouts = {"baked": Path(args.template).resolve() if args.template else REPO}
    if args.baseline:
        checkouts["baseline"] = Path(args.baseline).resolve()
    started = time.monotonic()
    header: dict[str, Any] = {
        "started": now(),
        "checkouts": {label: {"path": str(path), "commit": describe(path)} for label, path in checkouts.items()},
        "variants": names,
        "count": args.count,
        "repeat": args.repeat,
        "partitions": PARTITIONS,
        "keys": KEYS,
        "batch": {"size": BATCH_SIZE, "window_s": BATCH_WINDOW},
        "latency_seconds": args.latency_seconds,
        "latency_fraction": args.latency_fraction,
        "latency_rate": args.latency_rate,
        "latency_rate_cap": LATENCY_RATE_CAP,
        "worker_env": args.worker_env,
        "baseline_env": args.baseline_env,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_before": load_average(),
    }
    repetitions: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        baked = {}
        for label, checkout in checkouts.items():
            root = Path(tmp) / label
            (root / "bake").mkdir(parents=True)
            config = support.write_cookiecutter_config(root)
            baked[label] = support.bake_and_install({}, root / "bake", config, wheel=True, template=checkout)
        header["python"] = baked["baked"].python_version
        interpreter = support.find_python(baked["baked"].python_version)
        assert interpreter, f"no Python {baked['baked'].python_version} for the peers' venvs"
        peers = {}
        for name, requirements in (("quix", QUIX), ("faststream", FASTSTREAM)):
            if name in names:
                peers[name] = peer_venv(support, Path(tmp), name, requirements, interpreter)
        header["peers"] = {"quix": QUIX, "faststream": FASTSTREAM}
        bench = Bench(args, support, Path(tmp), baked, peers)
        try:
            for number in range(1, args.repeat + 1):
                repetitions.append(bench.repetition(number, rotated(names, number)))
        finally:
            bench.stop_all()
    runs = per_variant(repetitions)
    summaries = {name: summarize(runs[name], METRICS) for name in names if name in runs}
    header["load_after"] = load_average()
    header["seconds"] = round(time.monotonic() - started, 1)
    report = {**header, "summary": summaries, "repetitions": repetitions}

    print(f"\n{args.count} events, {PARTITIONS} partitions, {args.repeat} repetitions, {header['seconds']} s")
    # As baked, at the start: the checkout may have moved on since.
    commits = ", ".join(f"{label} at {out['commit']}" for label, out in header["checkouts"].items())
    print(f"median (min-max) of each: {commits}")
    print_table(summaries, METRICS)
    print(f"load average before {header['load_before']}, after {header['load_after']}")
    for repetition in repetitions:
        loads = f"load {repetition['load_before']} -> {repetition['load_after']}"
        print(f"repetition {repetition['number']}: {', '.join(repetition['order'])}, {loads}")
    output = write_results(report, args.output)
    output.with_suffix(".svg").write_text(chart(report), encoding="utf-8")
    print(f"results: {output} and its chart {output.with_suffix('.svg').name}")
    return 0


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    made.add_argument("--repeat", type=int, default=3, help="repetitions, each on a fresh broker")
    made.add_argument("--count", type=int, default=100_000, help="events through each variant")
    made.add_argument("--only", help=f"a comma-separated list of variants (default: all of {','.join(VARIANTS)})")
    made.add_argument("--latency-seconds", type=float, default=10.0, help="length of each latency run")
    made.add_argument(
        "--latency-fraction", type=float, default=0.5, help="latency runs at this fraction of the variant's msgs/s"
    )
    made.add_argument(
        "--latency-rate",
        type=float,
        help="latency runs at this many events/s for every variant instead (settings compared at one rate)",
    )
    made.add_argument("--idle-seconds", type=float, default=5.0, help="wait after ready before reading RSS")
    made.add_argument("--no-seed", action="store_true", help="skip the seed example's start->ready")
    made.add_argument("--template", help="bake this checkout of the template instead of this one")
    made.add_argument("--baseline", help="also bake this checkout (another commit's worktree) as variant baseline")
    made.add_argument(
        "--worker-env", action="append", default=[], metavar="NAME=VALUE", help="extra environment of the baked worker"
    )
    made.add_argument(
        "--baseline-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of the baseline's worker only (with --baseline .: one setting side by side)",
    )
    made.add_argument("--profile", metavar="DIR", help="py-spy each variant's backlog and latency runs into DIR")
    made.add_argument("--output", help="JSON results file (default: bench/results/<UTC time>.json)")
    return made


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client(sys.argv[2:])
        return 0
    return orchestrate(parser().parse_args())


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
