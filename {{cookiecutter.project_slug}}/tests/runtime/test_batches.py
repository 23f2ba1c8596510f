from collections.abc import AsyncIterator
from typing import Any

import faust
import pytest

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.batches import (
    PerKeyWrites,
    as_current,
    each_event,
    per_key_writes,
    take_batches,
)
from {{ cookiecutter.package_name }}.runtime.records import Record

from tests.runtime.messages import message


class Visit(Record):
    page: str


# A topic, a table and an agent of no sub-app.
VISITS = "{{ cookiecutter.project_slug }}.batches-test"
visits_topic = app.topic(VISITS, key_type=str, value_type=Visit)
visit_counts = app.Table(f"{VISITS}-counts", default=int)


@app.agent(visits_topic)
async def count_visits(visits: faust.StreamT[Visit]) -> AsyncIterator[tuple[str, int, Any]]:
    async for batch in take_batches(visits, 10, 0.05):
        with per_key_writes(visit_counts) as counts:
            for _, visit in each_event(batch):
                counts[visit.page] += 1
                yield visit.page, counts[visit.page], faust.current_event()


@pytest.fixture
def changelog(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int | None, str, int]]:
    """Record what the table sends to its changelog: (partition, key, value)."""
    sent: list[tuple[int | None, str, int]] = []
    send_changelog = visit_counts.send_changelog

    def record(partition: int | None, key: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append((partition, key, value))
        return send_changelog(partition, key, value, *args, **kwargs)

    monkeypatch.setattr(visit_counts, "send_changelog", record)
    return sent


async def test_a_batch_writes_each_key_once_on_the_partition_of_its_events(
    changelog: list[tuple[int | None, str, int]],
) -> None:
    # Keys on their partitions, as producers keying by page put them; one batch of all.
    visits = [("home", 0), ("docs", 1), ("home", 0), ("pricing", 2), ("home", 0), ("docs", 1)]
    yielded: list[tuple[str, int, Any]] = []
    async with count_visits.test_context(sink=[yielded.append]) as agent:
        for page, partition in visits[:-1]:
            await agent.put(Visit(page=page), key=page, partition=partition, wait=False)
        await agent.put(Visit(page="docs"), key="docs", partition=1)

    # Each event saw its key's running count, and was Faust's current event meanwhile.
    assert [(page, count) for page, count, _ in yielded] == [
        ("home", 1),
        ("docs", 1),
        ("home", 2),
        ("pricing", 1),
        ("home", 3),
        ("docs", 2),
    ]
    assert [event.message.partition for _, _, event in yielded] == [p for _, p in visits]
    # One changelog record per key, its last count, on its events' partition.
    assert sorted(changelog) == [(0, "home", 3), (1, "docs", 2), (2, "pricing", 1)]
    assert dict(visit_counts.items()) == {"home": 3, "docs": 2, "pricing": 1}


def test_a_key_set_outside_each_event_is_refused() -> None:
    counts = PerKeyWrites(visit_counts)

    with pytest.raises(RuntimeError, match="inside each_event"):
        counts["home"] = 1


def test_as_current_sets_what_faust_reads_as_the_current_event() -> None:
    # as_current() sets a private context variable of faust.streams, the one Faust's
    # streams set for each event (no public API does): if Faust moved it, tables would
    # write a batch's keys to the partition of its last event, and this test fails.
    received = message(b'{"page": "home"}', topic=VISITS)
    event = faust.Event(app, key="home", value=Visit(page="home"), headers={}, message=received)
    before = faust.current_event()

    with as_current(event):
        assert faust.current_event() is event

    assert faust.current_event() is before
