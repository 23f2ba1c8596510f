{% if cookiecutter.full_example -%}
"""Topics, table, agents, timer and command of the {{ cookiecutter.app_name }} sub-app.

``enrich_events`` counts the events of ``{{ cookiecutter.app_name }}.events`` per key
and sends each one on, enriched with its key's count and under its key, to
``{{ cookiecutter.app_name }}.enriched``, where ``summarize_batches`` summarises
them in batches for ``{{ cookiecutter.app_name }}.batch-summaries``.
"""

import logging
import uuid
from collections.abc import AsyncIterator, Sequence

import faust
from faust.cli import AppCommand, option

from ..app import app
from ..runtime.batches import each_event, per_key_writes, take_batches
from ..runtime.dead_letters import dead_letter
from ..runtime.keys import keep_key
from ..runtime.table_routing import held_items
from ..settings import settings
from .models import BatchSummary, EnrichedEvent, Event

logger = logging.getLogger(__name__)

# internal=True: the worker creates the topics it consumes when they are missing (unless
# TOPIC_ALLOW_DECLARE=false); otherwise it reads nothing until someone creates them.
# key_type=str: keys are UTF-8 text; a key that is not becomes a dead letter.
events_topic = app.topic(
    "{{ cookiecutter.app_name }}.events",
    key_type=str,
    value_type=Event,
    partitions=settings.topic_partitions,
    internal=True,
)
enriched_topic = app.topic(
    "{{ cookiecutter.app_name }}.enriched",
    key_type=str,
    value_type=EnrichedEvent,
    partitions=settings.topic_partitions,
    internal=True,
)
batch_summaries_topic = app.topic(
    "{{ cookiecutter.app_name }}.batch-summaries",
    value_type=BatchSummary,
    partitions=settings.topic_partitions,
)

# Sharded like its source topic: each worker keeps the counts of the partitions it
# is assigned, and rebuilds them from the table's changelog topic after a restart.
event_counts = app.Table("{{ cookiecutter.app_name }}.event-counts", default=int)


def enrich(event: Event, key_count: int) -> EnrichedEvent:
    """Return the event as downstream services read it, with its key's running count.

    Raises ``ValueError`` for a negative amount, which no producer may send.
    """
    if event.amount < 0:
        raise ValueError(f"amount must not be negative, got {event.amount}")
    return EnrichedEvent(id=event.id, key=event.key, amount=event.amount, key_count=key_count)


def summarize(batch: Sequence[EnrichedEvent]) -> BatchSummary:
    """Summarise a batch of enriched events."""
    return BatchSummary(
        count=len(batch),
        total_amount=round(sum(event.amount for event in batch), 2),
        distinct_keys=len({event.key for event in batch}),
    )


def sample_events(count: int, keys: Sequence[str] = ("home", "pricing", "docs")) -> list[Event]:
    """Make ``count`` events with unique ids, cycling through ``keys``."""
    run = uuid.uuid4().hex[:8]
    return [
        Event(id=f"{run}-{number}", key=keys[number % len(keys)], amount=float(number % 10 + 1))
        for number in range(count)
    ]


# keep_key(): each enriched event goes out under the key of the event it came from, so a
# key's records stay on one partition, in order, beside the key's input. A topic given to
# sink= as it is would get them without a key, spread over its partitions.
@app.agent(events_topic, sink=[keep_key(enriched_topic)])
async def enrich_events(events: faust.StreamT[Event]) -> AsyncIterator[EnrichedEvent]:
    """Count each event under its key and send it on, enriched, under the same key.

    In batches (at most ``ENRICH_BATCH_SIZE`` events, or what came within
    ``ENRICH_BATCH_WINDOW_SECONDS``): the table's changelog then gets one record per key
    and batch instead of one per event, which costs the worker much of its CPU.
    """
    size, window = settings.enrich_batch_size, settings.enrich_batch_window_seconds
    async for batch in take_batches(events, size, window):
        # Each key's count reaches the table once, when the block ends; read back inside
        # it, a key has the count last set there. each_event() makes each event Faust's
        # current one: keep_key() and the table follow its key and partition.
        with per_key_writes(event_counts) as counts:
            for event, value in each_event(batch):
                # Producers key events by ``key``, so every count lives in the partition
                # that owns its key; a stream keyed otherwise needs ``group_by(Event.key)``.
                try:
                    enriched = enrich(value, counts[value.key] + 1)
                except Exception as exc:
                    # One bad event must not stop the stream: it becomes a dead letter.
                    await dead_letter(event, exc)
                    continue
                counts[value.key] = enriched.key_count
                yield enriched


@app.agent(enriched_topic, sink=[batch_summaries_topic])
async def summarize_batches(
    enriched: faust.StreamT[EnrichedEvent],
) -> AsyncIterator[BatchSummary]:
    """Summarise enriched events in batches: whichever comes first, size or time window.

    A summary goes out without a key, on purpose: its batch holds many keys' events, so
    none is its own, and Kafka spreads records without a key over the partitions.
    """
    async for batch in enriched.take(settings.batch_size, within=settings.batch_window_seconds):
        yield summarize(batch)


# Faust declares @app.timer as returning a bare Callable, which mypy cannot check.
@app.timer(interval=settings.report_interval_seconds)  # type: ignore[untyped-decorator]
async def report_event_counts() -> None:
    """Log this worker's share of the counts: a heartbeat that shows the stream moves."""
    counts = dict(held_items(event_counts))
    logger.info(
        "%d events under %d keys in this worker's partitions",
        sum(counts.values()),
        len(counts),
    )


@app.command(
    option("--count", type=int, default=10, show_default=True, help="How many events to send."),
)
async def send_{{ cookiecutter.app_name }}_events(self: AppCommand, count: int) -> None:
    """Send sample events to {{ cookiecutter.app_name }}.events."""
    for event in sample_events(count):
        await events_topic.send(key=event.key, value=event)
    self.say(f"sent {count} events to {events_topic.get_topic_name()}")
{%- else -%}
"""Topics and agents of the {{ cookiecutter.app_name }} sub-app."""

from collections.abc import AsyncIterator

import faust

from ..app import app
from ..settings import settings
from .models import Event

# internal=True: the worker creates the topic when it is missing (unless
# TOPIC_ALLOW_DECLARE=false); otherwise it reads nothing until someone creates it.
events_topic = app.topic(
    "{{ cookiecutter.app_name }}.events",
    key_type=str,
    value_type=Event,
    partitions=settings.topic_partitions,
    internal=True,
)


@app.agent(events_topic)
async def process_events(events: faust.StreamT[Event]) -> AsyncIterator[Event]:
    """Process each event of ``{{ cookiecutter.app_name }}.events``.

    What the agent yields goes to the topics of its ``sink=`` (none yet); a sink
    ``keep_key(topic)`` (``runtime/keys.py``) sends it under the event's key.
    """
    async for event in events:
        # Your processing here: a call of a plain function the tests can call too.
        yield event
{%- endif %}
