"""Soak: the baked worker under a steady stream for a long while; does its memory grow?

By hand, not in CI (see README.md, "Soak")::

    .venv/bin/python bench/soak.py                      # 20 minutes at 1,000 events/s
    .venv/bin/python bench/soak.py --minutes 5 --rate 500

It bakes the default answers and installs the wheel into a fresh uv venv (as the e2e
tier does), starts a broker of ``kafka_test_broker/`` and ``<pkg> worker`` with its
default settings, and sends events at ``--rate`` a second for ``--minutes``. Every 10 s
it records the worker's resident memory (VmRSS), the events it has received, its lag
(the sum of ``faust_consumer_lag``) and whether ``/health/live/`` answers 200. At the
end: RSS over time, its growth per hour (a least-squares line through the samples after
the first quarter, once the buffers and caches have filled), the largest lag, and whether
the worker caught up. Results go to ``bench/results/soak-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from report import load_average, now, write_results

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SAMPLE_EVERY = 10.0


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    """The least-squares slope of (seconds, value) samples, per hour."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if not spread:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread * 3600


def metric_total(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` in a Prometheus text page whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends the run as Ctrl-C does, through the clean-up below."""
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="events per second")
    parser.add_argument("--output", help="results file (default: bench/results/soak-<time>.json)")
    args = parser.parse_args()

    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    import support
    from kafka_test_broker.broker import kill_with_parent
    from support.paths import KAFKA_CLIENT

    count = int(args.minutes * 60 * args.rate)
    report: dict[str, Any] = {
        "started": now(),
        "minutes": args.minutes,
        "rate": args.rate,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_before": load_average(),
    }
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        root = Path(tmp)
        (root / "bake").mkdir()
        baked = support.bake_and_install({}, root / "bake", support.write_cookiecutter_config(root), wheel=True)
        kafka = support.Broker()
        kafka.start()
        workers = support.Workers(baked, root, settings={})
        producer = None
        try:
            support.create_topics(baked, kafka.bootstrap)
            worker = workers(kafka.bootstrap)
            worker.ready(timeout=120)
            run = uuid.uuid4().hex[:8]
            command = [str(baked.python), str(KAFKA_CLIENT), "produce", "--bootstrap", kafka.bootstrap]
            command += ["--topic", support.EVENTS, "--generate", f"{run}:{count}:100", "--rate", str(args.rate)]
            log = (root / "producer.log").open("wb")
            producer = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=kill_with_parent)
            began = time.monotonic()
            samples: list[dict[str, float]] = []
            while True:
                page = worker.get_text("/metrics")
                sample = {
                    "seconds": round(time.monotonic() - began, 1),
                    "rss_mb": round(worker.vm_status("VmRSS") / 1024, 1),
                    "received": metric_total(page, "faust_messages_received_per_topic_total", topic=support.EVENTS),
                    "lag": metric_total(page, "faust_consumer_lag", topic=support.EVENTS),
                    "live": worker.status("/health/live/")[0],
                }
                samples.append(sample)
                print(json.dumps(sample), flush=True)
                if producer.poll() is not None:
                    break
                time.sleep(SAMPLE_EVERY)
            assert producer.returncode == 0, (root / "producer.log").read_text()
            # Let the worker catch up, then the last look.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and samples[-1]["received"] < count:
                time.sleep(2)
                page = worker.get_text("/metrics")
                samples[-1]["received"] = metric_total(
                    page, "faust_messages_received_per_topic_total", topic=support.EVENTS
                )
            settled = [s for s in samples if s["seconds"] >= samples[-1]["seconds"] / 4]
            report.update(
                {
                    "events": count,
                    "samples": samples,
                    "rss_mb_first": samples[0]["rss_mb"],
                    "rss_mb_peak": round(worker.vm_status("VmHWM") / 1024, 1),
                    "rss_mb_last": samples[-1]["rss_mb"],
                    "rss_mb_growth_per_hour": round(slope_per_hour([(s["seconds"], s["rss_mb"]) for s in settled]), 1),
                    "lag_max": max(s["lag"] for s in samples),
                    "caught_up": samples[-1]["received"] >= count,
                    "not_live_samples": sum(1 for s in samples if s.get("live", 200) != 200),
                }
            )
            stop_began = time.monotonic()
            report["exit_code"] = worker.terminate(timeout=90)
            report["stopped_after_sigterm_s"] = round(time.monotonic() - stop_began, 1)
        finally:
            if producer is not None and producer.poll() is None:
                producer.kill()
            workers.kill_all()
            kafka.stop()
    report["load_after"] = load_average()
    profile = " ".join(f"{s['rss_mb']:.0f}" for s in report["samples"][:: max(1, len(report["samples"]) // 12)])
    print(
        f"\nsoak: {report['events']} events at {args.rate:.0f}/s for {args.minutes:.0f} min; RSS MiB over time: "
        f"{profile}; first {report['rss_mb_first']}, peak {report['rss_mb_peak']}, last {report['rss_mb_last']}; "
        f"growth {report['rss_mb_growth_per_hour']} MiB/h after the first quarter; "
        f"largest lag {report['lag_max']:.0f}; "
        f"load average before {report['load_before']}, after {report['load_after']}"
    )
    output = write_results(report, args.output, prefix="soak-")
    print(f"results: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
