from collections.abc import AsyncIterator
from typing import Any

import faust
import pytest

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.keys import keep_key
from {{ cookiecutter.package_name }}.runtime.records import Record


class Reading(Record):
    value: float


# Topics and an agent of no sub-app.
READINGS = "{{ cookiecutter.project_slug }}.keys-test"
readings_topic = app.topic(READINGS, value_type=Reading)
doubled_topic = app.topic(f"{READINGS}-doubled", value_type=Reading)


@app.agent(readings_topic)
async def double_readings(readings: faust.StreamT[Reading]) -> AsyncIterator[Reading]:
    async for reading in readings:
        yield Reading(value=reading.value * 2)


@pytest.fixture
def doubled(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Capture what goes to the doubled topic, which needs a broker."""
    sent: list[dict[str, Any]] = []

    async def send(**message: Any) -> None:
        sent.append(message)

    monkeypatch.setattr(doubled_topic, "send", send)
    return sent


async def test_each_record_goes_out_under_the_key_of_its_event(
    doubled: list[dict[str, Any]],
) -> None:
    async with double_readings.test_context(sink=[keep_key(doubled_topic)]) as agent:
        await agent.put(Reading(value=1.0), key=b"meter-1")
        await agent.put(Reading(value=2.0), key=b"meter-2")
        await agent.put(Reading(value=3.0), key=None)

    assert doubled == [
        {"key": b"meter-1", "value": Reading(value=2.0)},
        {"key": b"meter-2", "value": Reading(value=4.0)},
        {"key": None, "value": Reading(value=6.0)},
    ]
