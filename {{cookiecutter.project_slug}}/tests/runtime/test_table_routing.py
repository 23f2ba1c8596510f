import pytest
from aiokafka.partitioner import DefaultPartitioner
from yarl import URL

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.table_routing import (
    SourceKeyRouter,
    held_items,
    partition_of,
)

PARTITIONS = 4
TABLE = "{{ cookiecutter.project_slug }}-routing-test"
counts = app.Table(TABLE, default=int, partitions=PARTITIONS)
CHANGELOG = counts.changelog_topic.get_topic_name()


def assign(monkeypatch: pytest.MonkeyPatch, holders: dict[int, str]) -> None:
    """Give each partition of the table's changelog to the worker at its URL."""

    def table_metadata(table_name: str) -> dict[str, dict[str, list[int]]]:
        assert table_name == counts.name
        metadata: dict[str, dict[str, list[int]]] = {}
        for partition, host in holders.items():
            metadata.setdefault(host, {}).setdefault(CHANGELOG, []).append(partition)
        return metadata

    monkeypatch.setattr(app.router, "table_metadata", table_metadata)


def test_the_app_routes_table_lookups_with_the_source_key_router() -> None:
    assert isinstance(app.router, SourceKeyRouter)


def test_a_key_is_looked_up_where_producers_put_it(monkeypatch: pytest.MonkeyPatch) -> None:
    partitions = list(range(PARTITIONS))
    assign(monkeypatch, {partition: f"http://worker-{partition}:6066" for partition in partitions})
    # The partitioner of Kafka's Java and aiokafka producers, given the raw key.
    producers = DefaultPartitioner()

    for key in ("home", "pricing", "docs", "größe"):
        partition = producers(key.encode(), partitions, partitions)
        assert app.router.key_store(counts.name, key) == URL(f"http://worker-{partition}:6066")


def test_a_partition_no_worker_holds_is_a_key_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assign(monkeypatch, {})

    with pytest.raises(KeyError, match="no worker holds partition"):
        app.router.key_store(counts.name, "home")


def test_held_items_are_those_of_this_workers_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    here, home = str(app.conf.canonical_url), partition_of(b"home", PARTITIONS)
    holders = {p: here if p == home else "http://elsewhere:6066" for p in range(PARTITIONS)}
    assign(monkeypatch, holders)
    keys = ("docs", "pricing", "about")
    elsewhere = next(key for key in keys if partition_of(key.encode(), PARTITIONS) != home)
    # The store directly: setting a table's key outside an agent has no event to follow.
    counts.data.update({"home": 2, elsewhere: 1})
    try:
        assert dict(held_items(counts)) == {"home": 2}
    finally:
        counts.data.clear()
