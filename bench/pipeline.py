"""Benchmark: the baked service's example pipeline against the same pipeline in raw aiokafka.

One command (see README.md, "Benchmark")::

    .venv/bin/python bench/pipeline.py            # 3 repetitions, about 4 minutes on 2 cores
    .venv/bin/python bench/pipeline.py --baseline ../before   # and another checkout beside it

It bakes the template with its default answers, builds the wheel and installs it into
a fresh uv venv (``bake_and_install`` of ``tests/support/``, as the e2e tier does), then, in every
repetition, on a Kafka broker of its own (``kafka_test_broker/broker.py``, fresh topics of 4
partitions; the sink topics stamp records with the broker's LogAppendTime):

1. the worker (``<pkg> worker``) started with empty topics: start -> "Worker ready",
   then its idle RSS (VmRSS) after a few seconds; the seed's single-file example
   (``tests/support/scripts/seed_myapp.py``) start -> ready the same way;
2. the same N events loaded into both source topics;
3. (a) raw aiokafka: consume ``bench.events``, enrich as ``enrich()`` does (validate,
   running count per key in a dict), produce to ``bench.enriched``, commit after the
   sends are acknowledged (at-least-once); (b) the worker on ``page_views.events``;
   msgs/s = distinct events / span of the sink's LogAppendTimes;
4. with each pipeline still running, once it is idle again: end-to-end latency at a
   fixed rate (sink LogAppendTime minus the moment the producer sent the event), p50, p99.

With ``--baseline <checkout>`` it also bakes that checkout (a worktree of an earlier
commit, say) and runs every repetition for both, alternating which goes first, so that
the two columns of the table come from one run on the same machine.

It prints a table (median and min-max over the repetitions) and writes JSON to
``bench/results/<UTC time>.json`` (or ``--output``). The parts that talk to Kafka run
under the baked venv's Python, which has aiokafka: ``python pipeline.py client ...``.
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
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from report import Metric, describe, load_average, now, print_table, summarize, write_results

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PARTITIONS = 4
KEYS = 100
APP = "page_views"  # the default answer of `apps`
RAW_SOURCE, RAW_SINK = "bench.events", "bench.enriched"
BAKED_SOURCE, BAKED_SINK, BAKED_SUMMARIES = f"{APP}.events", f"{APP}.enriched", f"{APP}.batch-summaries"


# --- Kafka side: run by the baked venv's Python (aiokafka) ------------------------------


def event(run: str, number: int) -> dict[str, Any]:
    return {"id": f"{run}-{number}", "key": f"k{number % KEYS}", "amount": float(number % 10 + 1)}


async def create_topics(bootstrap: str, sources: list[str], sinks: list[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        stamped = {"message.timestamp.type": "LogAppendTime"}
        await admin.create_topics(
            [NewTopic(name, PARTITIONS, 1) for name in sources]
            + [NewTopic(name, PARTITIONS, 1, topic_configs=stamped) for name in sinks]
        )
        for _ in range(150):
            described = await admin.describe_topics(sources + sinks)
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


async def raw_pipeline(bootstrap: str, source: str, sink: str, group: str, max_records: int) -> None:
    """(a): consume, enrich with a per-key count, produce, commit once the sends are acked."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    # acks="all" as Faust's producer_acks=-1 default.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    counts: defaultdict[str, int] = defaultdict(int)
    await producer.start()
    await consumer.start()
    ready = False
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=max_records)
            if not ready and consumer.assignment():
                ready = True
                print(json.dumps({"ready": True}), flush=True)
            futures = []
            for messages in batches.values():
                for message in messages:
                    try:
                        value = json.loads(message.value)
                        item = {"id": str(value["id"]), "key": str(value["key"]), "amount": float(value["amount"])}
                        if item["amount"] < 0:
                            raise ValueError(f"amount must not be negative, got {item['amount']}")
                    except (ValueError, KeyError, TypeError):
                        futures.append(await producer.send(f"{source}.dlq", message.value, key=message.key))
                        continue
                    counts[item["key"]] += 1
                    enriched = {**item, "key_count": counts[item["key"]]}
                    futures.append(await producer.send(sink, json.dumps(enriched).encode(), key=message.key))
            if futures:
                await asyncio.gather(*futures)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


async def sink_throughput(bootstrap: str, topic: str, count: int, run: str, timeout: float) -> None:
    """Wait (cheaply) until ``count`` distinct events of ``run`` reached ``topic``; print the rate."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    records = 0
    first = last = None
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while len(seen) < count and time.monotonic() < deadline:
            # Poll the end offsets only, so that this process takes no CPU from the pipeline.
            ends = await consumer.end_offsets(partitions)
            if sum(ends.values()) < count:
                await asyncio.sleep(0.5)
                continue
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for messages in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                    for message in messages:
                        records += 1
                        ident = json.loads(message.value)["id"]
                        if ident.startswith(run + "-"):
                            seen.add(ident)
                            first = message.timestamp if first is None else min(first, message.timestamp)
                            last = message.timestamp if last is None else max(last, message.timestamp)
            if len(seen) < count:
                await asyncio.sleep(0.5)
    finally:
        await consumer.stop()
    span = ((last or 0) - (first or 0)) / 1000
    rate = (len(seen) - 1) / span if span > 0 else None
    print(json.dumps({"distinct": len(seen), "records": records, "span_s": span, "msgs_per_s": rate}), flush=True)


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
    result: dict[str, Any] = {"sent": total, "received": len(latencies), "measured": len(measured)}
    if measured:
        result["p50_ms"] = measured[len(measured) // 2]
        result["p99_ms"] = measured[min(len(measured) - 1, int(len(measured) * 0.99))]
        result["max_ms"] = measured[-1]
    # The median of each second of sending: shows whether the pipeline keeps up with the rate.
    per_second = int(rate)
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
    c.add_argument("--source", action="append", default=[])
    c.add_argument("--sink", action="append", default=[])
    c = commands.add_parser("load")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--run", required=True)
    c = commands.add_parser("raw")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--group", required=True)
    c.add_argument("--max-records", type=int, default=500)
    c = commands.add_parser("throughput")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--run", required=True)
    c.add_argument("--timeout", type=float, default=300)
    c = commands.add_parser("latency")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--source", required=True)
    c.add_argument("--sink", required=True)
    c.add_argument("--rate", type=float, required=True)
    c.add_argument("--seconds", type=float, required=True)
    c.add_argument("--warmup", type=float, default=1.0)
    a = parser.parse_args(argv)
    if a.command == "create-topics":
        asyncio.run(create_topics(a.bootstrap, a.source, a.sink))
    elif a.command == "load":
        asyncio.run(load(a.bootstrap, a.topic, a.count, a.run))
    elif a.command == "raw":
        asyncio.run(raw_pipeline(a.bootstrap, RAW_SOURCE, RAW_SINK, a.group, a.max_records))
    elif a.command == "throughput":
        asyncio.run(sink_throughput(a.bootstrap, a.topic, a.count, a.run, a.timeout))
    else:
        asyncio.run(latency(a.bootstrap, a.source, a.sink, a.rate, a.seconds, a.warmup))


# --- Orchestration: run by the template's venv (.venv/bin/python) -----------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def wait_idle(pid: int, timeout: float = 90, below: float = 0.15) -> float:
    """Wait until ``pid`` uses less than ``below`` of a CPU over a second; return the seconds waited.

    After the throughput run the worker still has a backlog (``summarize_batches`` reads
    every enriched event again): the latency run must not start on top of it.
    """

    def cpu_seconds() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    began = time.monotonic()
    while time.monotonic() - began < timeout:
        before = cpu_seconds()
        time.sleep(1.0)
        if cpu_seconds() - before < below:
            break
    return time.monotonic() - began


class Variant:
    """One baked template: its venv and the workers started from it."""

    def __init__(self, label: str, baked: Any, workers: Any) -> None:
        self.label = label
        self.baked = baked
        self.workers = workers


class Bench:
    def __init__(self, args: argparse.Namespace, support: Any, variants: list[Variant]) -> None:
        self.args = args
        self.support = support
        self.variants = variants
        # The Kafka side runs under the first variant's venv (aiokafka): the same for all.
        self.baked = variants[0].baked

    def client(self, *argv: str, timeout: float = 600) -> dict[str, Any]:
        """Run ``pipeline.py client ...`` under the baked venv; return its last JSON line."""
        result = self.support.run(self.baked.python, __file__, "client", *argv, timeout=timeout)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else {}

    def stop_all(self) -> None:
        for variant in self.variants:
            variant.workers.kill_all()

    def repetition(self, number: int, variant: Variant) -> dict[str, Any]:
        """One repetition for ``variant``, on a broker of its own: both pipelines, N events each."""
        args, say, worker_of = self.args, self.support.say, variant.workers
        result: dict[str, Any] = {"load_before": load_average()}
        kafka = self.support.Broker()
        kafka.start()
        try:
            bootstrap = kafka.bootstrap
            say(f"[{number} {variant.label}] broker {bootstrap} ready in {kafka.timings['total']:.1f} s")
            self.client(
                "create-topics",
                "--bootstrap",
                bootstrap,
                *("--source", RAW_SOURCE, "--source", BAKED_SOURCE, "--source", BAKED_SUMMARIES),
                *("--sink", RAW_SINK, "--sink", BAKED_SINK),
            )
            app_id = f"bench-{number}-{uuid.uuid4().hex[:6]}"

            # 1. Start -> ready and idle RSS, on empty topics.
            worker = worker_of(bootstrap, app_id)
            result["worker_ready_s"] = worker.ready(timeout=120)
            time.sleep(args.idle_seconds)
            result["worker_idle_rss_mb"] = rss_mb(worker.process.pid)
            worker.terminate(timeout=30)
            if not args.no_seed:
                seed_app = self.support.SEED_APP
                seed = worker_of(
                    bootstrap,
                    f"seed-{number}",
                    command=[str(variant.baked.bin / "faust"), "-A", seed_app.stem, "worker", "-l", "info"],
                    files=[seed_app],
                )
                result["seed_ready_s"] = seed.ready(timeout=120)
                result["seed_idle_rss_mb"] = rss_mb(seed.process.pid)
                seed.terminate(timeout=30)

            # 2. The same N events into both sources.
            run = uuid.uuid4().hex[:8]
            began = time.monotonic()
            for topic in (RAW_SOURCE, BAKED_SOURCE):
                self.client(
                    "load", "--bootstrap", bootstrap, "--topic", topic, "--count", str(args.count), "--run", run
                )
            loaded_in = time.monotonic() - began
            say(f"[{number} {variant.label}] loaded {args.count} events into each source in {loaded_in:.1f} s")

            # 3a + 4a. Raw aiokafka.
            raw = worker_of(
                bootstrap,
                "raw",
                command=[str(self.baked.python), __file__, "client", "raw", "--bootstrap", bootstrap, "--group", "raw"],
            )
            raw.wait_for('"ready"', 60)
            result["raw"] = self.measure(bootstrap, RAW_SOURCE, RAW_SINK, run, raw)
            raw.terminate(timeout=30)

            # 3b + 4b. The worker, again in its consumer group, now with N events waiting.
            worker = worker_of(bootstrap, app_id)
            worker.ready(timeout=120)
            result["baked"] = self.measure(bootstrap, BAKED_SOURCE, BAKED_SINK, run, worker)
            worker.terminate(timeout=30)
        finally:
            self.stop_all()
            kafka.stop()
        raw_rate, baked_rate = result["raw"]["msgs_per_s"], result["baked"]["msgs_per_s"]
        result["ratio"] = baked_rate / raw_rate if raw_rate and baked_rate else None
        result["load_after"] = load_average()
        say(f"[{number} {variant.label}] {json.dumps(result)}")
        return result

    def measure(self, bootstrap: str, source: str, sink: str, run: str, process: Any) -> dict[str, Any]:
        count, args = str(self.args.count), self.args
        out = self.client("throughput", "--bootstrap", bootstrap, "--topic", sink, "--count", count, "--run", run)
        if out["distinct"] < self.args.count:
            raise RuntimeError(f"{sink}: only {out['distinct']} of {count} events came out\n{process.tail()}")
        out["rss_after_mb"] = rss_mb(process.process.pid)
        out["settle_s"] = wait_idle(process.process.pid)
        lat = self.client(
            "latency",
            *("--bootstrap", bootstrap, "--source", source, "--sink", sink),
            *("--rate", str(args.rate), "--seconds", str(args.latency_seconds)),
        )
        out.update({f"latency_{key}": value for key, value in lat.items()})
        self.support.say(f"{sink}: {out}")
        return out


METRICS: list[Metric] = [
    ("raw msgs/s", ("raw", "msgs_per_s")),
    ("baked msgs/s", ("baked", "msgs_per_s")),
    ("ratio baked/raw", ("ratio",)),
    ("raw latency p50 ms", ("raw", "latency_p50_ms")),
    ("raw latency p99 ms", ("raw", "latency_p99_ms")),
    ("baked latency p50 ms", ("baked", "latency_p50_ms")),
    ("baked latency p99 ms", ("baked", "latency_p99_ms")),
    ("worker start->ready s", ("worker_ready_s",)),
    ("seed example start->ready s", ("seed_ready_s",)),
    ("worker idle RSS MB", ("worker_idle_rss_mb",)),
    ("seed example idle RSS MB", ("seed_idle_rss_mb",)),
    ("raw RSS after run MB", ("raw", "rss_after_mb")),
    ("worker RSS after run MB", ("baked", "rss_after_mb")),
]


def chart(report: dict[str, Any]) -> str:
    """An SVG bar chart of msgs/s (median, with a min-max whisker) of each pipeline and checkout."""
    bars = []
    for label, summary in report["summary"].items():
        commit = report["checkouts"][label]["commit"]
        ratio = summary.get("ratio baked/raw", {}).get("median")
        for side in ("raw", "baked"):
            stats = summary.get(f"{side} msgs/s")
            if stats:
                note = f", ratio {ratio:.3f}" if side == "baked" and ratio else ""
                bars.append((f"{label} {commit}: {side}", stats, note))
    top = max(stats["max"] for _, stats, _ in bars)
    left, width, height, gap = 230, 420, 22, 10
    scale = width / top
    rows = []
    for number, (name, stats, note) in enumerate(bars):
        y = 30 + number * (height + gap)
        middle = y + height / 2
        rows.append(
            f'<text x="{left - 8}" y="{middle + 4}" text-anchor="end">{name}</text>'
            f'<rect x="{left}" y="{y}" width="{stats["median"] * scale:.1f}" height="{height}" '
            f'fill="{"#8fa8c8" if name.endswith("raw") else "#d98c4a"}"/>'
            f'<line x1="{left + stats["min"] * scale:.1f}" x2="{left + stats["max"] * scale:.1f}" '
            f'y1="{middle}" y2="{middle}" stroke="black"/>'
            f'<text x="{left + stats["max"] * scale + 6:.1f}" y="{middle + 4}">'
            f"{stats['median']:,.0f} msgs/s{note}</text>"
        )
    total = 30 + len(bars) * (height + gap) + 10
    title = f"{report['count']:,} events, {report['partitions']} partitions, median (min-max) of the repetitions"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 190}" height="{total}" '
        f'font-family="sans-serif" font-size="12"><text x="10" y="18">{title}</text>{"".join(rows)}</svg>\n'
    )


def orchestrate(args: argparse.Namespace) -> int:
    # Only here, under the template's venv: the test support package (tests/support/), and
    # kafka_test_broker/ at the root that it imports.
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    import support

    checkouts = {"template": Path(args.template).resolve() if args.template else REPO}
    if args.baseline:
        checkouts["baseline"] = Path(args.baseline).resolve()
    started = time.monotonic()
    header = {
        "started": now(),
        "checkouts": {label: {"path": str(path), "commit": describe(path)} for label, path in checkouts.items()},
        "count": args.count,
        "partitions": PARTITIONS,
        "latency_rate": args.rate,
        "latency_seconds": args.latency_seconds,
        "worker_env": args.worker_env,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_before": load_average(),
    }
    # The service's default settings (not the e2e tier's short timers), plus --worker-env.
    worker_env = dict(item.split("=", 1) for item in args.worker_env)
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in checkouts}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        variants = []
        for label, checkout in checkouts.items():
            root = Path(tmp) / label
            (root / "bake").mkdir(parents=True)
            config = support.write_cookiecutter_config(root)
            baked = support.bake_and_install({}, root / "bake", config, wheel=True, template=checkout)
            header.setdefault("python", baked.python_version)
            variants.append(Variant(label, baked, support.Workers(baked, root, settings=worker_env)))
        bench = Bench(args, support, variants)
        try:
            for number in range(1, args.repeat + 1):
                # Alternate which goes first, so that a drift of the machine's load hits both.
                for variant in variants if number % 2 else variants[::-1]:
                    runs[variant.label].append(bench.repetition(number, variant))
        finally:
            bench.stop_all()
    summaries = {label: summarize(label_runs, METRICS) for label, label_runs in runs.items()}
    header["load_after"] = load_average()
    header["seconds"] = round(time.monotonic() - started, 1)
    report = {**header, "summary": summaries, "runs": runs}

    print(f"\n{args.count} events, {PARTITIONS} partitions, {args.repeat} repetitions, {header['seconds']} s")
    commits = ", ".join(f"{label} at {describe(path)}" for label, path in checkouts.items())
    print(f"median (min-max) of each: {commits}")
    print_table(summaries, METRICS)
    print(f"load average before {header['load_before']}, after {header['load_after']}")
    output = write_results(report, args.output)
    output.with_suffix(".svg").write_text(chart(report), encoding="utf-8")
    print(f"results: {output} and its chart {output.with_suffix('.svg').name}")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions, each on a fresh broker")
    parser.add_argument("--count", type=int, default=100_000, help="events through each pipeline")
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s of the latency run")
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="length of the latency run")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="wait after ready before reading RSS")
    parser.add_argument("--no-seed", action="store_true", help="skip the seed example's start->ready")
    parser.add_argument("--template", help="bake this checkout of the template instead of this one")
    parser.add_argument(
        "--baseline", help="also bake this checkout (another commit's worktree) and run it side by side"
    )
    parser.add_argument(
        "--worker-env", action="append", default=[], metavar="NAME=VALUE", help="extra environment of the worker"
    )
    parser.add_argument("--output", help="JSON results file (default: bench/results/<UTC time>.json)")
    return orchestrate(parser.parse_args())


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
