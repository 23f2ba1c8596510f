import inspect
import types

import pytest
from aiokafka.consumer.fetcher import Fetcher
from faust.transport.drivers import aiokafka

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime import kafka_consumer
from {{ cookiecutter.package_name }}.runtime.fetch_pacing import BUSY_FOR, FetchPacer
from {{ cookiecutter.package_name }}.settings import settings

MIB = 1024**2


def fetcher(brought: list[bool]) -> types.SimpleNamespace:
    """aiokafka's fetcher as the pacer sees it, with Kafka's own wait and minimum size."""

    async def fetch(*args: object) -> bool:
        return brought.pop(0)

    return types.SimpleNamespace(
        _fetch_max_wait_ms=100, _fetch_min_bytes=1, _proc_fetch_request=fetch
    )


def wait_and_size(paced: types.SimpleNamespace) -> tuple[int, int]:
    return paced._fetch_max_wait_ms, paced._fetch_min_bytes


def test_fetches_wait_while_records_come_and_not_once_they_stop() -> None:
    paced = fetcher([])
    pacer = FetchPacer(paced, busy_wait=0.01, busy_bytes=MIB)

    pacer.fetched(False, now=5.0)
    assert wait_and_size(paced) == (100, 1)
    pacer.fetched(True, now=10.0)
    assert wait_and_size(paced) == (10, MIB)
    # A fetch that brings nothing while records came a moment ago: still busy.
    pacer.fetched(False, now=10.0 + BUSY_FOR / 2)
    assert wait_and_size(paced) == (10, MIB)
    pacer.fetched(False, now=10.0 + BUSY_FOR)
    assert wait_and_size(paced) == (100, 1)


async def test_the_pacer_learns_from_every_fetch_the_fetcher_makes() -> None:
    paced = fetcher([True])
    FetchPacer(paced, busy_wait=0.01, busy_bytes=MIB)

    assert await paced._proc_fetch_request("assignment", 0, "request") is True

    assert wait_and_size(paced) == (10, MIB)


async def test_the_worker_consumer_paces_its_fetches_as_its_settings_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    consumer = app.consumer
    assert isinstance(consumer, kafka_consumer.RewindingConsumer)
    thread = consumer._new_consumer_thread()
    paced = fetcher([True])

    async def start(self: aiokafka.AIOKafkaConsumerThread) -> None:
        self._consumer = types.SimpleNamespace(_fetcher=paced)

    monkeypatch.setattr(aiokafka.AIOKafkaConsumerThread, "on_start", start)

    await thread.on_start()
    await paced._proc_fetch_request()

    busy_wait = round(settings.consumer_fetch_busy_wait * 1000)
    assert wait_and_size(paced) == (busy_wait, app.conf.consumer_max_fetch_size)


def test_aiokafka_reads_the_wait_and_size_for_every_fetch() -> None:
    # Where the fetcher builds each fetch request, and what its fetch returns; a release
    # that reads them elsewhere, or returns something else, leaves fetches unpaced.
    built = inspect.getsource(Fetcher._get_actions_per_node)
    assert "self._fetch_max_wait_ms," in built
    assert "self._fetch_min_bytes," in built
    assert "return needs_wakeup" in inspect.getsource(Fetcher._proc_fetch_request)
