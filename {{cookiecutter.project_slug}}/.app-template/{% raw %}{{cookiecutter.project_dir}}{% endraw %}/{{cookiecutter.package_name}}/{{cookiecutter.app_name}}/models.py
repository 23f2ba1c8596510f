{%- if cookiecutter.message_format == "avro" -%}
"""Records on the {{ cookiecutter.app_name }} topics, serialized as Avro (see ``runtime/avro.py``).

Each record's Avro schema follows from its fields. Change them compatibly: add a field
only with a default, and remove only a field that has one.
"""
{%- else -%}
"""Records on the {{ cookiecutter.app_name }} topics, serialized as JSON."""
{%- endif %}

from ..runtime.records import Record


class Event(Record, validation=True):
    """What producers publish to ``{{ cookiecutter.app_name }}.events``, keyed by key."""

    id: str
    key: str
    amount: float

{%- if cookiecutter.full_example %}


class EnrichedEvent(Record):
    """An event with how many events its key had seen, for downstream services."""

    id: str
    key: str
    amount: float
    key_count: int


class BatchSummary(Record):
    """One batch of enriched events, summarised."""

    count: int
    total_amount: float
    distinct_keys: int
{%- endif %}
