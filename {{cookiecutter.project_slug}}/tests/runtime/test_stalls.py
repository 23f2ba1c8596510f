import logging

import pytest
from faust.types import TP

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.stalls import StallDetector, StallWatch

EVENTS = TP("{{ cookiecutter.project_slug }}.events", 0)
OTHER = TP("{{ cookiecutter.project_slug }}.events", 1)
ENRICHED = TP("{{ cookiecutter.project_slug }}.enriched", 0)
TIMEOUT = 60.0


def assigned(*tps: TP, timeout: float = TIMEOUT) -> StallDetector:
    """A detector that saw ``tps`` assigned to a worker that has fetched nothing of them yet."""
    detector = StallDetector(timeout)
    assert detector.observe(-1.0, set(tps), {}, {}) == []
    return detector


def test_a_partition_with_lag_and_no_commit_for_the_timeout_is_stuck() -> None:
    detector = assigned(EVENTS)

    assert detector.observe(0.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120}) == []
    assert detector.observe(59.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 130}) == []
    (stuck,) = detector.observe(60.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 130})

    assert (stuck.tp, stuck.committed, stuck.end, stuck.seconds) == (EVENTS, 100, 130, 60.0)
    assert str(stuck) == f"{EVENTS.topic}[0] (committed 100, end 130, 60 s)"


def test_a_slow_partition_whose_commits_advance_is_not_stuck() -> None:
    detector = assigned(EVENTS)

    for step in range(20):
        # Always behind, but every 50 s a commit.
        committed = 100 + step
        assert detector.observe(step * 50.0, {EVENTS}, {EVENTS: committed}, {EVENTS: 500}) == []


@pytest.mark.parametrize(
    ("committed", "ends"),
    [({EVENTS: 120}, {EVENTS: 120}), ({}, {})],
    ids=["caught-up", "nothing-fetched"],
)
def test_a_partition_without_lag_is_never_stuck(
    committed: dict[TP, int], ends: dict[TP, int]
) -> None:
    detector = assigned(EVENTS)

    for minute in range(10):
        assert detector.observe(minute * 60.0, {EVENTS}, committed, ends) == []


def test_lag_after_a_quiet_spell_counts_from_when_the_partition_was_last_caught_up() -> None:
    detector = assigned(EVENTS)
    detector.observe(0.0, {EVENTS}, {EVENTS: 120}, {EVENTS: 120})
    detector.observe(500.0, {EVENTS}, {EVENTS: 120}, {EVENTS: 120})

    assert detector.observe(501.0, {EVENTS}, {EVENTS: 120}, {EVENTS: 130}) == []
    assert detector.observe(559.0, {EVENTS}, {EVENTS: 120}, {EVENTS: 130}) == []
    (stuck,) = detector.observe(561.0, {EVENTS}, {EVENTS: 120}, {EVENTS: 130})
    assert stuck.seconds == 60.0


def test_fetched_but_never_committed_is_stuck_after_the_timeout() -> None:
    detector = assigned(EVENTS)

    assert detector.observe(0.0, {EVENTS}, {}, {EVENTS: 10}) == []
    (stuck,) = detector.observe(61.0, {EVENTS}, {}, {EVENTS: 10})

    assert stuck.committed is None
    assert "committed none yet" in str(stuck)


def test_time_while_the_worker_is_not_ready_does_not_count() -> None:
    detector = assigned(EVENTS)
    detector.observe(0.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120})

    # Rebalancing, recovering, or no broker: for longer than the timeout.
    assert detector.observe(30.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120}, paused=True) == []
    assert detector.observe(200.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120}, paused=True) == []
    # Ready again: the clock starts at the last paused look.
    assert detector.observe(259.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120}) == []
    assert len(detector.observe(260.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120})) == 1


def test_a_partition_that_moved_away_and_back_starts_a_new_clock() -> None:
    detector = assigned(EVENTS, OTHER)
    detector.observe(0.0, {EVENTS, OTHER}, {EVENTS: 100}, {EVENTS: 120})
    detector.observe(30.0, {OTHER}, {EVENTS: 100}, {EVENTS: 120})

    # Back, and new messages fetched: the clock starts then.
    detector.reassigned({EVENTS, OTHER}, {EVENTS: 100}, {EVENTS: 120})
    assert detector.observe(70.0, {EVENTS, OTHER}, {EVENTS: 100}, {EVENTS: 130}) == []
    assert detector.observe(129.0, {EVENTS, OTHER}, {EVENTS: 100}, {EVENTS: 130}) == []
    assert len(detector.observe(130.0, {EVENTS, OTHER}, {EVENTS: 100}, {EVENTS: 130})) == 1


def test_only_stuck_partitions_are_named() -> None:
    detector = assigned(EVENTS, ENRICHED)
    offsets = {EVENTS: 100, ENRICHED: 7}
    detector.observe(0.0, {EVENTS, ENRICHED}, offsets, {EVENTS: 120, ENRICHED: 7})

    stuck = detector.observe(61.0, {EVENTS, ENRICHED}, offsets, {EVENTS: 120, ENRICHED: 9})

    # ENRICHED was caught up at the last look: its clock starts now.
    assert [entry.tp for entry in stuck] == [EVENTS]


def test_a_partition_waiting_its_turn_while_its_topic_moves_is_not_stuck() -> None:
    detector = assigned(EVENTS, OTHER)
    ends = {EVENTS: 500, OTHER: 500}
    for step in range(10):
        # OTHER's commits move; EVENTS waits for a long while, as under a backlog.
        offsets = {EVENTS: 100, OTHER: 100 + step}
        assert detector.observe(step * 30.0, {EVENTS, OTHER}, offsets, ends) == []


def test_a_topic_whose_partitions_all_stop_names_each_of_them() -> None:
    detector = assigned(EVENTS, OTHER)
    offsets = {EVENTS: 100, OTHER: 50}
    ends = {EVENTS: 500, OTHER: 500}
    detector.observe(0.0, {EVENTS, OTHER}, offsets, ends)
    detector.observe(5.0, {EVENTS, OTHER}, {**offsets, OTHER: 60}, ends)

    # EVENTS has not moved for 60 s, but OTHER moved 55 s ago: not yet.
    assert detector.observe(60.0, {EVENTS, OTHER}, {**offsets, OTHER: 60}, ends) == []
    stuck = detector.observe(65.0, {EVENTS, OTHER}, {**offsets, OTHER: 60}, ends)

    assert [(entry.tp, entry.seconds) for entry in stuck] == [(EVENTS, 65.0), (OTHER, 60.0)]


def watch(ready: bool = True) -> StallWatch:
    return StallWatch(app, TIMEOUT, lambda: None if ready else "rebalancing")


def test_the_watch_reads_the_monitor_and_logs_the_stuck_partitions_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stalls = watch()
    monkeypatch.setattr(stalls, "held_partitions", lambda: {EVENTS})
    monkeypatch.setattr(app.monitor, "tp_committed_offsets", {})
    monkeypatch.setattr(app.monitor, "tp_end_offsets", {})
    stalls.check(now=-1.0)
    monkeypatch.setattr(app.monitor, "tp_committed_offsets", {EVENTS: 100})
    monkeypatch.setattr(app.monitor, "tp_end_offsets", {EVENTS: 120})

    with caplog.at_level(logging.WARNING):
        stalls.check(now=0.0)
        stalls.check(now=61.0)
        stalls.check(now=65.0)

    (line,) = [record.getMessage() for record in caplog.records if "Stalled" in record.message]
    assert f"{EVENTS.topic}[0] (committed 100, end 120, 61 s)" in line
    assert stalls.stalled_because() == "1 partition(s) with lag and no commit for 60 s"

    monkeypatch.setattr(app.monitor, "tp_committed_offsets", {EVENTS: 120})
    with caplog.at_level(logging.WARNING):
        assert stalls.check(now=70.0) == []
    assert "Stall over" in caplog.text
    assert stalls.stalled_because() is None


def test_the_watch_counts_nothing_while_the_worker_is_not_ready(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stalls = watch(ready=False)
    monkeypatch.setattr(stalls, "held_partitions", lambda: {EVENTS})
    monkeypatch.setattr(app.monitor, "tp_committed_offsets", {EVENTS: 100})
    monkeypatch.setattr(app.monitor, "tp_end_offsets", {EVENTS: 120})

    assert stalls.check(now=0.0) == []
    assert stalls.check(now=1000.0) == []


async def test_the_watch_takes_the_offsets_of_an_assignment_as_it_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stalls = watch()
    monkeypatch.setattr(app.monitor, "tp_committed_offsets", {EVENTS: 100})
    monkeypatch.setattr(app.monitor, "tp_end_offsets", {EVENTS: 120})

    # Faust sends app.on_partitions_assigned before the streams resume.
    await app.on_partitions_assigned.send({EVENTS, OTHER})

    assert stalls.detector.assigned == {EVENTS: (100, 120), OTHER: (None, None)}


def test_a_worker_without_a_consumer_holds_nothing() -> None:
    # Not started: the consumer has no assignment to ask.
    assert watch().held_partitions() == set()


def test_a_partition_back_with_the_offsets_it_left_with_counts_once_they_move() -> None:
    detector = assigned(EVENTS)
    detector.observe(0.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120})
    # It moves to another worker, which works its lag off; then it comes back, with no new
    # messages: the monitor still has what this worker last saw of it.
    detector.observe(10.0, set(), {EVENTS: 100}, {EVENTS: 120})
    detector.reassigned({EVENTS}, {EVENTS: 100}, {EVENTS: 120})
    for minute in range(1, 10):
        assert detector.observe(minute * 60.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120}) == []

    # New messages, fetched and never committed: that counts.
    detector.observe(600.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 125})
    assert len(detector.observe(661.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 125})) == 1


def test_a_partition_held_throughout_a_rebalance_keeps_its_clock() -> None:
    detector = assigned(EVENTS)
    detector.observe(0.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120})

    detector.reassigned({EVENTS}, {EVENTS: 100}, {EVENTS: 120})
    detector.observe(30.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120}, paused=True)

    # The rebalance itself does not count; the stall goes on counting after it.
    assert detector.observe(89.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120}) == []
    assert len(detector.observe(90.0, {EVENTS}, {EVENTS: 100}, {EVENTS: 120})) == 1
