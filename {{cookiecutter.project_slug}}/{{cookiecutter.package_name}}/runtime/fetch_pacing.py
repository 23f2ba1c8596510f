"""Fetches paced while records keep coming: fewer and fuller, for a bounded wait.

Kafka's consumer asks the broker for at least one byte by default, so while events
trickle in at a steady rate every fetch comes back with the few that arrived since the
last one, and the next goes out at once: many small fetches, each a request, a
response and a hand-over from the consumer thread, much of a steadily loaded worker's
CPU. While a fetch in the last second brought records, ``FetchPacer``
asks the broker to hold each fetch up to ``busy_wait`` seconds, unless it already has
``busy_bytes`` to return. An idle consumer keeps its own settings, so that the first
event after a quiet spell comes back at once and an idle worker fetches no more often.

aiokafka reads both from its fetcher for every fetch it sends; the fetcher has no
public way to set them, nor to learn what a fetch brought, so the pacer wraps the
fetcher's ``_proc_fetch_request()``, which says whether a fetch brought records.
``tests/runtime/test_fetch_pacing.py`` checks both.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Any

# How long after the last fetch that brought records the consumer counts as busy.
BUSY_FOR = 1.0


class FetchPacer:
    """Switches ``fetcher`` between its own wait and minimum size and the busy ones."""

    def __init__(self, fetcher: Any, busy_wait: float, busy_bytes: int) -> None:
        self.fetcher = fetcher
        self.idle = (fetcher._fetch_max_wait_ms, fetcher._fetch_min_bytes)
        self.busy = (round(busy_wait * 1000), busy_bytes)
        self.records_at = float("-inf")
        fetch: Callable[..., Awaitable[bool]] = fetcher._proc_fetch_request

        async def paced(*args: Any) -> bool:
            brought = await fetch(*args)
            self.fetched(brought, time.monotonic())
            return brought

        fetcher._proc_fetch_request = paced

    def fetched(self, brought: bool, now: float) -> None:
        """Set the next fetch's wait and minimum size, after one that ``brought`` records or not."""
        if brought:
            self.records_at = now
        wait, size = self.busy if now - self.records_at < BUSY_FOR else self.idle
        self.fetcher._fetch_max_wait_ms, self.fetcher._fetch_min_bytes = wait, size
