"""table_store=rocksdb: the tables stay on disk across a restart of the worker."""

import re
from pathlib import Path

import pytest

from support import APP, ENRICHED, Installed, Workers, consume, make_events, produce, ready_worker, say, true_counts

pytestmark = pytest.mark.e2e


def test_rocksdb_tables_survive_a_restart(baked_rocksdb: Installed, kafka_bootstrap: str, tmp_path: Path) -> None:
    workers = Workers(baked_rocksdb, tmp_path)
    try:
        worker = ready_worker(baked_rocksdb, kafka_bootstrap, workers)
        before = make_events(300, keys=6)
        produce(baked_rocksdb, kafka_bootstrap, before)
        consume(baked_rocksdb, kafka_bootstrap, ENRICHED, tmp_path, ids=[event["id"] for event in before])
        assert worker.terminate(timeout=10) == 0, worker.tail()

        # The table's RocksDB files, in the worker's data directory under its working directory.
        databases = sorted(path.name for path in worker.cwd.glob("*-data/v*/tables/*.db"))
        say(f"RocksDB files after stop: {databases}")
        assert any(name.startswith(f"{APP}.event-counts") for name in databases), databases

        worker.start()
        worker.ready()
        # Recovery starts reading each changelog partition at its end: RocksDB had it all.
        highwater = offsets(worker.output, "Highwater for active changelog partitions")
        start = offsets(worker.output, "active offsets at start of reading")
        say(f"changelog highwater {highwater}, reading starts at {start}")
        assert sum(highwater.values()) > 0
        assert start == highwater
        counts = worker.get(f"/{APP}/counts/")
        expected = true_counts(before)
        assert {key: counts.get(key) for key in expected} == dict(expected)
        assert worker.terminate(timeout=10) == 0, worker.tail()
    finally:
        workers.kill_all()


def offsets(output: str, title: str) -> dict[int, int]:
    """Partition -> offset, from one of the tables Faust's recovery logs."""
    table = output.split(title, 1)[1].split("\n[", 1)[0]
    return {int(partition): int(offset) for partition, offset in re.findall(r"\|\s*(\d+)\s*\|\s*(-?\d+)\s*\|", table)}
