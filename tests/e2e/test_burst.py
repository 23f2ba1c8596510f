"""A burst: 500,000 events waiting before the worker starts, and a SIGTERM halfway through them.

The worker works the backlog off with bounded memory and no error (no "producer buffer
full"), stops within the Kubernetes termination grace period of the template's
``k8s/deployment.yaml`` when told to, and its successor loses nothing. Run with
``pytest tests/e2e/test_burst.py -s`` to see the figures: messages/s and the RSS.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support import (
    APP,
    ENRICHED,
    EVENTS,
    TEMPLATE,
    Installed,
    Worker,
    Workers,
    create_topics,
    say,
    tally,
)

pytestmark = pytest.mark.e2e

BACKLOG = 500_000
KEYS = 16
STALL_TIMEOUT = 60
# The memory limit of the template's k8s/deployment.yaml: more, and the pod is OOM-killed.
MEMORY_LIMIT_KB = 512 * 1024
GRACE_PERIOD = float(
    re.search(r"terminationGracePeriodSeconds: (\d+)", (TEMPLATE / "k8s" / "deployment.yaml").read_text())[1]  # type: ignore[index]
)
ERRORS = re.compile(r"\[(ERROR|CRITICAL)\]|Traceback|producer buffer full", re.IGNORECASE)


@dataclass
class Progress:
    """The worker's RSS and events received, sampled every second in a thread: (seconds, kB, events)."""

    worker: Worker
    samples: list[tuple[float, int, float]] = field(default_factory=list)
    # Liveness answers other than 200: (seconds, status, body).
    not_live: list[tuple[float, int, object]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def received(self) -> float:
        for line in self.worker.get_text("/metrics", timeout=5).splitlines():
            if line.startswith("faust_messages_received_per_topic_total{") and f'topic="{EVENTS}"' in line:
                return float(line.split()[-1])
        return 0.0

    def run(self) -> None:
        while not self.done.is_set():
            # Not answering yet (starting), or gone (stopped): no sample.
            with contextlib.suppress(OSError, AssertionError):
                self.samples.append((time.monotonic(), self.worker.vm_status("VmRSS"), self.received()))
                live, body = self.worker.status("/health/live/")
                if live not in (200, 0):
                    self.not_live.append((time.monotonic(), live, body))
            self.done.wait(1.0)

    def __enter__(self) -> Progress:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=10)

    def rate(self) -> float:
        """Messages/s between the first sample with events and the last one."""
        moving = [sample for sample in self.samples if sample[2] > 0]
        if len(moving) < 2:
            return 0.0
        (began, _, first), (ended, _, last) = moving[0], moving[-1]
        return (last - first) / (ended - began)

    def rss_profile(self) -> str:
        """RSS in MiB at each tenth of the run."""
        if not self.samples:
            return "-"
        step = max(1, len(self.samples) // 10)
        return " ".join(f"{kb / 1024:.0f}" for _, kb, _ in self.samples[::step])


def test_a_backlog_of_500k_events_is_worked_off_and_a_sigterm_halfway_loses_nothing(
    baked: Installed, fresh_kafka_bootstrap: str, start_worker: Workers, tmp_path: Path
) -> None:
    bootstrap = fresh_kafka_bootstrap
    create_topics(baked, bootstrap)
    run = uuid.uuid4().hex[:8]
    began = time.monotonic()
    (answer,) = baked.kafka_client(
        "produce", "--bootstrap", bootstrap, "--topic", EVENTS, "--generate", f"{run}:{BACKLOG}:{KEYS}", timeout=600
    )
    assert answer["sent"] == BACKLOG
    say(f"{BACKLOG} events preloaded in {time.monotonic() - began:.1f} s")

    group = f"e2e-burst-{run}"
    # The broker's first consumer group makes its offsets topic: aiokafka logs the coordinator's
    # absence meanwhile as an error. A broker in service has that topic; so does this one now.
    baked.kafka_client("committed", "--bootstrap", bootstrap, "--group", f"{group}-warm-up", "--topic", EVENTS)
    # A fifth of the default stall timeout: a long backlog worked off steadily must not trip it,
    # though Faust serves the partitions unevenly (one may wait a minute on a busy machine).
    worker = start_worker(bootstrap, app_id=group, STALL_TIMEOUT=str(STALL_TIMEOUT))
    with Progress(worker) as first:
        worker.ready(timeout=120)
        # Generous: about 70 s on a quiet 2-core machine, over ten times that on a busy one.
        deadline = time.monotonic() + 1800
        while not first.samples or first.samples[-1][2] < BACKLOG / 2:
            assert time.monotonic() < deadline, worker.tail()
            assert worker.process is not None and worker.process.poll() is None, worker.tail()
            time.sleep(0.5)
        peak_first = worker.vm_status("VmHWM")
        stopped_after = stop_time(worker)
    assert stopped_after < GRACE_PERIOD
    output_first = worker.output
    done_first = first.samples[-1][2]

    worker.start()
    with Progress(worker) as second:
        worker.ready(timeout=120)
        ids = [f"{run}-{number}" for number in range(BACKLOG)]
        counted = tally(baked, bootstrap, ENRICHED, ids, tmp_path, timeout=1800)
        peak_second = worker.vm_status("VmHWM")
    assert counted.missing == 0, f"events lost: {counted}"
    counts = worker.get(f"/{APP}/counts/")
    assert sum(count for key, count in counts.items() if key.startswith(run)) >= BACKLOG
    errors = [line for line in (output_first + worker.output).splitlines() if ERRORS.search(line)]
    assert not errors, errors[:10]
    assert not first.not_live and not second.not_live, (first.not_live + second.not_live)[:3]
    peak = max(peak_first, peak_second)
    assert peak < MEMORY_LIMIT_KB, f"peak RSS {peak / 1024:.0f} MiB"
    say(
        f"burst of {BACKLOG}: first worker {first.rate():.0f} msgs/s, SIGTERM at {done_first:.0f} events received, "
        f"exited in {stopped_after:.1f} s (grace period {GRACE_PERIOD:.0f} s); the restarted worker "
        f"{second.rate():.0f} msgs/s; {counted.duplicates} duplicates; peak RSS {peak_first / 1024:.0f} MiB and "
        f"{peak_second / 1024:.0f} MiB (VmHWM); RSS MiB over the first run: {first.rss_profile()}, "
        f"over the second: {second.rss_profile()}"
    )
    assert worker.terminate(timeout=GRACE_PERIOD) == 0, worker.tail()


def stop_time(worker: Worker) -> float:
    began = time.monotonic()
    assert worker.terminate(timeout=GRACE_PERIOD) == 0, worker.tail()
    return time.monotonic() - began
