"""kcat, the Kafka client of librdkafka (C), as a team on another stack would use it.

Debian's ``kcat`` package; .ci/run installs it. Keys and values go in as text lines
``key|value``; records come out as kcat's JSON envelopes (``-J``), one a line, with
``key``, ``payload``, ``partition`` and ``headers`` (made a dict here).
"""

import json
import shutil
import time
from collections.abc import Iterable
from typing import Any

from .commands import run
from .forky_root import unavailable


def kcat() -> str:
    found = shutil.which("kcat")
    if found is None:
        unavailable("no kcat: apt-get install kcat (.ci/run does)")
    return found


def kcat_produce(bootstrap: str, topic: str, records: Iterable[tuple[str, str]]) -> None:
    """Send each (key, value) to ``topic``, hashing keys to partitions as Java's clients do."""
    lines = "".join(f"{key}|{value}\n" for key, value in records)
    # librdkafka's own default partitioner hashes keys otherwise than Kafka's Java clients.
    run(kcat(), "-P", "-b", bootstrap, "-t", topic, "-K", "|", "-X", "partitioner=murmur2_random", input=lines)


def kcat_consume(bootstrap: str, topic: str, count: int | None = None, timeout: float = 90) -> list[dict[str, Any]]:
    """The first ``count`` records of ``topic`` (waiting for them), or, without ``count``, those there now.

    kcat gives up at once on a topic that does not exist yet (a dead-letter topic before
    its first letter): it is asked again until ``timeout``.
    """
    until = ["-c", str(count)] if count is not None else ["-e"]
    command = [kcat(), "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-J", "-q", *until]
    deadline = time.monotonic() + timeout
    while (result := run(*command, timeout=timeout, check=False)).returncode != 0:
        assert "Unknown topic or partition" in result.stderr, result.stderr
        assert time.monotonic() < deadline, f"no topic {topic} after {timeout} s"
        time.sleep(0.5)
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    for record in records:
        headers = record.get("headers") or []
        record["headers"] = dict(zip(headers[::2], headers[1::2], strict=True))
    return records
