"""Stalled streams: partitions with lag whose committed offsets stopped advancing.

A worker whose agent hangs (an await that never returns, a consumer that stopped
fetching, commits that stopped) keeps its process and web server up, so a liveness
probe that only asks "does it answer" never restarts it. ``StallWatch`` looks, every
few seconds, at each partition the worker holds: one that has messages this worker has
not committed (lag) and whose committed offset has not moved for ``STALL_TIMEOUT``
seconds is stuck, unless another partition of its topic with lag moves meanwhile (one
agent reads them all, and Faust serves them unevenly under a backlog), and
``/health/live/`` fails while any is. So a single partition that stops while the rest
of its topic moves is not told apart from one that waits its turn.

What does not count: a partition without lag (an idle topic, or one caught up); one
whose committed offset moves, however slowly; and any time while the worker is not
ready (waiting for an assignment, rebalancing, recovering tables, shutting down, or
without a reachable broker): the clocks start again once it is ready; and a partition
just assigned, until its offsets move (the monitor still has those it had when it last
moved away). Offsets are those Faust's monitor keeps (``app.monitor``: the last offset
this worker committed and the log end offset it last saw), the figures of
``faust_consumer_lag``; the assignments come from Faust's ``on_partitions_assigned``
signal. Public Faust API only.
"""

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from faust.types import TP, AppT
from mode import Service
from mode.types.signals import BaseSignalT

logger = logging.getLogger(__name__)


@dataclass
class Clock:
    """A partition's committed offset when last seen moving or caught up, and since when.

    ``lagging``: it had lag then. A clock starts at the first look that finds lag, so a
    stall is never reported early; at worst one look late.
    """

    committed: int | None
    since: float
    lagging: bool


@dataclass(frozen=True)
class Stuck:
    """A partition that has lag and whose committed offset has not moved for ``seconds``."""

    tp: TP
    committed: int | None
    end: int
    seconds: float

    def __str__(self) -> str:
        committed = "none yet" if self.committed is None else self.committed
        return (
            f"{self.tp.topic}[{self.tp.partition}] (committed {committed}, end {self.end}, "
            f"{self.seconds:.0f} s)"
        )


class StallDetector:
    """Tells which partitions are stuck, from what one looks at the worker sees each time."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.clocks: dict[TP, Clock] = {}
        # The monitor's (committed, end) of each partition when it was last assigned, until
        # they change. Faust's monitor keeps a partition's offsets after it moves away, so
        # one that comes back would show the lag it had then, which no commit of this
        # worker moves while it has no new messages: it counts once its offsets move.
        self.assigned: dict[TP, tuple[int | None, int | None]] = {}
        # What the last look found held: a partition held throughout keeps its clock.
        self.held: set[TP] = set()

    def reassigned(
        self, tps: Iterable[TP], committed: Mapping[TP, int], ends: Mapping[TP, int]
    ) -> None:
        """``tps`` were just assigned: of those not held at the last look, what the monitor
        says counts once it changes."""
        self.assigned = {tp: (committed.get(tp), ends.get(tp)) for tp in tps if tp not in self.held}

    def observe(
        self,
        now: float,
        held: Iterable[TP],
        committed: Mapping[TP, int],
        ends: Mapping[TP, int],
        paused: bool = False,
    ) -> list[Stuck]:
        """The stuck partitions of ``held`` at ``now``.

        ``committed`` and ``ends`` are the monitor's offsets: what this worker committed
        and the log end offsets it saw with the last messages it fetched. ``paused``: the
        worker is not ready.
        """
        held = set(held)
        # Partitions that moved away: a later assignment starts their clock afresh.
        self.clocks = {tp: clock for tp, clock in self.clocks.items() if tp in held}
        self.held = held
        candidates = []
        for tp in sorted(held):
            if tp in self.assigned:
                if self.assigned[tp] == (committed.get(tp), ends.get(tp)):
                    continue  # nothing fetched or committed since it was assigned
                del self.assigned[tp]
            end = ends.get(tp)
            if end is None:
                # Nothing fetched from it yet: nothing to process, no lag to tell.
                self.clocks.pop(tp, None)
                continue
            offset = committed.get(tp)
            clock = self.clocks.get(tp)
            lagging = offset is None or offset < end
            if (
                paused
                or not lagging
                or clock is None
                or not clock.lagging
                or clock.committed != offset
            ):
                self.clocks[tp] = Clock(offset, now, lagging)
            elif now - clock.since >= self.timeout:
                candidates.append(Stuck(tp, offset, end, now - clock.since))
        # One agent reads all of a topic's partitions, and under a backlog Faust serves them
        # unevenly: one may wait its turn for a minute while the others move. A topic stalls
        # when none of its partitions with lag moves.
        late = {entry.tp for entry in candidates}
        moving = {tp.topic for tp, clock in self.clocks.items() if clock.lagging and tp not in late}
        return [entry for entry in candidates if entry.tp.topic not in moving]


class StallWatch(Service):
    """Runs the ``StallDetector`` on the worker's partitions every few seconds; logs what it finds.

    ``not_ready`` says why the worker is not ready (or ``None``): the clocks stand still then.
    """

    def __init__(
        self,
        app: AppT,
        timeout: float,
        not_ready: Callable[[], str | None],
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.app = app
        self.detector = StallDetector(timeout)
        self.not_ready = not_ready
        # Often enough that a stall is noticed well within the timeout.
        self.interval = min(5.0, timeout / 4)
        self.stuck: list[Stuck] = []
        # Before the streams resume: no message of the new assignment is fetched yet.
        app.on_partitions_assigned.connect(self._on_partitions_assigned)

    async def _on_partitions_assigned(
        self, sender: Any, /, *args: Any, signal: BaseSignalT[Any], **kwargs: Any
    ) -> None:
        # mode's signals call receivers with the sender, then what was sent: the assignment.
        (assigned,) = args
        monitor = self.app.monitor
        self.detector.reassigned(assigned, monitor.tp_committed_offsets, monitor.tp_end_offsets)

    def held_partitions(self) -> set[TP]:
        """The partitions of this worker whose offsets its streams commit (no changelogs)."""
        try:
            assigned = self.app.consumer.assignment()
        except Exception:  # The consumer is not started (yet, or any more).
            return set()
        changelogs = self.app.tables.changelog_topics
        acking = self.app.topics.acks_enabled_for
        return {tp for tp in assigned if tp.topic not in changelogs and acking(tp.topic)}

    def check(self, now: float | None = None) -> list[Stuck]:
        """Look once; the stuck partitions (also kept in ``stuck``)."""
        monitor = self.app.monitor
        stuck = self.detector.observe(
            time.monotonic() if now is None else now,
            self.held_partitions(),
            monitor.tp_committed_offsets,
            monitor.tp_end_offsets,
            paused=self.not_ready() is not None,
        )
        was = {entry.tp for entry in self.stuck}
        if stuck and {entry.tp for entry in stuck} != was:
            logger.error(
                "Stalled: %d partition(s) have lag and their committed offsets have not advanced "
                "for %.0f s, so /health/live/ fails: %s",
                len(stuck),
                self.detector.timeout,
                ", ".join(str(entry) for entry in stuck),
            )
        elif was and not stuck:
            logger.warning("Stall over: every partition's committed offset advances again")
        self.stuck = stuck
        return stuck

    @Service.task
    async def _check_periodically(self) -> None:
        while not self.should_stop:
            await self.sleep(self.interval)
            if not self.should_stop:
                self.check()

    def stalled_because(self) -> str | None:
        """Why liveness fails, or ``None`` while no partition is stuck."""
        if not self.stuck:
            return None
        return (
            f"{len(self.stuck)} partition(s) with lag and no commit for "
            f"{self.detector.timeout:.0f} s"
        )
