{% if cookiecutter.full_example -%}
"""The {{ cookiecutter.app_name }} agents, run without a broker by Faust's ``test_context()``."""

from typing import Any

import pytest

{% if cookiecutter.app_name > "settings" -%}
from {{ cookiecutter.package_name }}.settings import settings
{% endif -%}
from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.agents import (
    enrich,
    enrich_events,
    event_counts,
    sample_events,
    summarize,
    summarize_batches,
)
from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.models import (
    BatchSummary,
    EnrichedEvent,
    Event,
)
{%- if cookiecutter.app_name < "settings" %}
from {{ cookiecutter.package_name }}.settings import settings
{%- endif %}


def test_enrich_carries_the_event_and_its_key_count() -> None:
    event = Event(id="e1", key="home", amount=2.5)

    assert enrich(event, 3) == EnrichedEvent(id="e1", key="home", amount=2.5, key_count=3)


def test_enrich_refuses_a_negative_amount() -> None:
    with pytest.raises(ValueError, match="amount must not be negative"):
        enrich(Event(id="e1", key="home", amount=-1.0), 1)


def test_summarize_counts_amounts_and_distinct_keys() -> None:
    batch = [
        EnrichedEvent(id="e1", key="home", amount=1.1, key_count=1),
        EnrichedEvent(id="e2", key="docs", amount=2.2, key_count=1),
        EnrichedEvent(id="e3", key="home", amount=3.3, key_count=2),
    ]

    assert summarize(batch) == BatchSummary(count=3, total_amount=6.6, distinct_keys=2)


def test_sample_events_have_unique_ids_and_cycle_keys() -> None:
    events = sample_events(7, keys=("a", "b"))

    assert len({event.id for event in events}) == 7
    assert [event.key for event in events] == ["a", "b", "a", "b", "a", "b", "a"]


async def test_enrich_events_counts_per_key_and_sends_enriched_events() -> None:
    sent: list[EnrichedEvent] = []
    events = [
        Event(id="e1", key="home", amount=1.0),
        Event(id="e2", key="docs", amount=2.0),
        Event(id="e3", key="home", amount=3.0),
    ]
    # A sink topic would need a broker: collect what the agent yields instead.
    async with enrich_events.test_context(sink=[sent.append]) as agent:
        for event in events:
            await agent.put(event, key=event.key)

    assert [(event.id, event.key_count) for event in sent] == [("e1", 1), ("e2", 1), ("e3", 2)]
    assert event_counts["home"] == 2
    assert event_counts["docs"] == 1


async def test_enrich_events_dead_letters_what_it_cannot_process_and_goes_on(
    dead_letters: list[tuple[str, dict[str, Any]]],
) -> None:
    sent: list[EnrichedEvent] = []
    async with enrich_events.test_context(sink=[sent.append]) as agent:
        # An event that is dead-lettered yields nothing to wait for.
        await agent.put(Event(id="bad", key="home", amount=-1.0), key="home", wait=False)
        await agent.put(Event(id="good", key="home", amount=1.0), key="home")

    assert [(event.id, event.key_count) for event in sent] == [("good", 1)]
    assert event_counts["home"] == 1
    ((topic, dead), *others) = dead_letters
    assert (topic, others) == ("{{ cookiecutter.app_name }}.events.dlq", [])
    assert dead["headers"]["dlq.reason"] == b"processing failed"
    assert dead["headers"]["dlq.error"] == b"ValueError: amount must not be negative, got -1.0"


async def test_summarize_batches_emits_one_summary_per_full_batch() -> None:
    batch = [
        EnrichedEvent(id=f"e{number}", key=f"k{number % 3}", amount=1.0, key_count=1)
        for number in range(settings.batch_size)
    ]
    summaries: list[BatchSummary] = []
    async with summarize_batches.test_context(sink=[summaries.append]) as agent:
        for event in batch[:-1]:
            await agent.put(event, wait=False)
        # The last event fills the batch: wait for the summary it yields.
        await agent.put(batch[-1])

    assert summaries == [
        BatchSummary(
            count=settings.batch_size,
            total_amount=float(settings.batch_size),
            distinct_keys=3,
        )
    ]


def test_cli_lists_the_agents_autodiscovery_found(cli_agents: str) -> None:
    assert "@{{ cookiecutter.app_name }}.agents.enrich_events" in cli_agents
    assert "@{{ cookiecutter.app_name }}.agents.summarize_batches" in cli_agents
{%- else -%}
"""The {{ cookiecutter.app_name }} agent, run without a broker by Faust's ``test_context()``."""

from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.agents import (
    process_events,
)
from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.models import (
    Event,
)


async def test_process_events_takes_each_event() -> None:
    processed: list[Event] = []
    event = Event(id="e1", key="home", amount=2.5)
    # A sink topic would need a broker: collect what the agent yields instead.
    async with process_events.test_context(sink=[processed.append]) as agent:
        await agent.put(event, key=event.key)

    assert processed == [event]
{%- endif %}
