"""The {{ cookiecutter.app_name }} web views, served by aiohttp's test client."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.agents import (
    enrich_events,
    events_topic,
)
from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.models import (
    Event,
)
from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.views import (
    parse_event,
)

EVENTS_URL = "/{{ cookiecutter.app_name }}/events/"
COUNTS_URL = "/{{ cookiecutter.app_name }}/counts/"


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(await app.web.wsgi())) as client:
        yield client


@pytest.fixture
def sent_events(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Capture what would go to the events topic, which needs a broker."""
    sent: list[dict[str, Any]] = []

    async def send(**message: Any) -> None:
        sent.append(message)

    monkeypatch.setattr(events_topic, "send", send)
    return sent


async def count_events(*keys: str) -> None:
    async with enrich_events.test_context(sink=[lambda enriched: None]) as agent:
        for number, key in enumerate(keys):
            await agent.put(Event(id=f"e{number}", key=key, amount=1.0), key=key)


def hold_keys_except(monkeypatch: pytest.MonkeyPatch, *elsewhere: str) -> None:
    """Assign this worker every key's partition but those of ``elsewhere``.

    With no broker there is no partition assignment for the router to read.
    """

    def key_store(table_name: str, key: str) -> URL:
        here = URL(str(app.conf.canonical_url))
        return here.with_port((here.port or 0) + 1) if key in elsewhere else here

    monkeypatch.setattr(app.router, "key_store", key_store)


async def test_counts_view_serves_the_table(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_keys_except(monkeypatch)
    await count_events("home", "home", "docs")

    response = await client.get(COUNTS_URL)

    assert response.status == 200
    assert await response.json() == {"home": 2, "docs": 1}


async def test_counts_view_leaves_out_keys_whose_partition_moved_away(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    await count_events("home", "home", "docs")
    # A rebalance gave the partition of "docs" to another worker.
    hold_keys_except(monkeypatch, "docs")

    response = await client.get(COUNTS_URL)

    assert await response.json() == {"home": 2}


async def test_count_view_serves_one_key_from_the_worker_that_holds_it(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_keys_except(monkeypatch)
    await count_events("home", "home", "docs")

    response = await client.get(f"{COUNTS_URL}home/")

    assert response.status == 200
    assert await response.json() == {"key": "home", "count": 2}


async def test_events_view_sends_a_posted_event_keyed_by_its_key(
    client: TestClient[Any, Any], sent_events: list[dict[str, Any]]
) -> None:
    response = await client.post(EVENTS_URL, json={"id": "e1", "key": "home", "amount": 2.5})

    assert response.status == 202
    assert await response.json() == {"id": "e1"}
    assert sent_events == [{"key": "home", "value": Event(id="e1", key="home", amount=2.5)}]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"id": "e1", "key": "home"}, "missing field(s): amount"),
        ({"id": "e1", "key": "home", "amount": "lots"}, "could not convert"),
        ({"id": "e1", "key": "home", "amount": 1, "colour": "red"}, "unexpected argument"),
        (["e1", "home", 1], "expected a JSON object"),
    ],
)
async def test_events_view_rejects_what_is_not_an_event(
    client: TestClient[Any, Any],
    sent_events: list[dict[str, Any]],
    body: Any,
    error: str,
) -> None:
    response = await client.post(EVENTS_URL, json=body)

    assert response.status == 400
    assert error in (await response.json())["error"]
    assert sent_events == []


def test_parse_event_rejects_invalid_json_shapes() -> None:
    with pytest.raises(ValueError, match="expected a JSON object"):
        parse_event("not an object")
