"""Batches of events: ``take_batches``, ``each_event`` and ``per_key_writes``.

An agent that processes ``stream.take_events(...)`` batches spends less CPU per event
than one that takes events one at a time, most of it because a table written per event
sends a changelog record per event, and per batch it can send one per key.

Faust finds a key's table partition, and ``keep_key`` the key of a record an agent
yields, from the stream's current event; in a batch that is the batch's last event,
whose partition and key are another event's. ``each_event(batch)`` makes each event
current in its turn, so table lookups, ``keep_key`` and everything else that asks
Faust for the current event see that event. ``per_key_writes(table)`` collects a
batch's writes and sets each key once, when the block ends, as the event that last
wrote it: its changelog record goes to that event's partition, where Faust puts it
when it writes per event, and the table's store keeps the key in that partition too.

``take_events`` acknowledges a batch's events once the agent has processed the whole
batch, so a crash in between processes the batch again (at least once).
"""

import contextlib
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, cast

import faust
from faust import streams
from faust.types import EventT, StreamT, TableT


def take_batches(
    stream: StreamT[Any], size: int, within: float
) -> AsyncIterator[Sequence[EventT[Any]]]:
    """The events of ``stream`` in batches: at most ``size``, or what came within ``within`` s.

    Faust's ``stream.take_events()``, which its ``StreamT`` type does not declare.
    """
    return cast("faust.Stream[Any]", stream).take_events(size, within=within)


@contextlib.contextmanager
def as_current(event: EventT[Any]) -> Iterator[EventT[Any]]:
    """Make ``event`` Faust's current event (what ``faust.current_event()`` returns) in the block.

    Faust has no public way to set it: the stream sets this context variable of
    ``faust.streams`` for every event it yields (faust-streaming 0.15.3).
    ``tests/runtime/test_batches.py`` checks that Faust still reads it from there.
    """
    variable = streams._current_event
    previous = variable.get(None)
    variable.set(weakref.ref(event))
    try:
        yield event
    finally:
        # Not reset(token): a generator closed late may end the block in another context.
        variable.set(previous)


def each_event(batch: Iterable[EventT[Any]]) -> Iterator[tuple[EventT[Any], Any]]:
    """Each event of ``batch`` and its value, the event Faust's current one meanwhile."""
    for event in batch:
        with as_current(event):
            yield event, event.value


class PerKeyWrites:
    """Reads through to ``table``; keeps writes, which ``write()`` sets there, once per key."""

    def __init__(self, table: TableT[Any, Any]) -> None:
        self.table = table
        self.pending: dict[Any, tuple[Any, EventT[Any]]] = {}

    def __getitem__(self, key: Any) -> Any:
        pending = self.pending.get(key)
        return self.table[key] if pending is None else pending[0]

    def __setitem__(self, key: Any, value: Any) -> None:
        event = faust.current_event()
        if event is None:
            raise RuntimeError("per_key_writes: set a key inside each_event(batch)")
        # Re-inserted, so that keys reach the table in the order of their last writes.
        self.pending.pop(key, None)
        self.pending[key] = (value, event)

    def write(self) -> None:
        """Set each key kept since the last write in ``table``, as the event that wrote it last."""
        pending, self.pending = self.pending, {}
        for key, (value, event) in pending.items():
            with as_current(event):
                self.table[key] = value


@contextlib.contextmanager
def per_key_writes(table: TableT[Any, Any]) -> Iterator[PerKeyWrites]:
    """A view of ``table`` whose writes reach it once per key, when the block ends.

    Meant for the body of a batch's loop: a key read back inside the block has the
    value last written to it there.
    """
    writes = PerKeyWrites(table)
    try:
        yield writes
    finally:
        writes.write()
