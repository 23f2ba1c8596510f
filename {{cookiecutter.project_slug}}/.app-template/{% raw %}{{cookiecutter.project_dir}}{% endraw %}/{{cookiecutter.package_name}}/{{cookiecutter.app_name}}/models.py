{%- set avro = cookiecutter.message_format == "avro" -%}
{%- set record = "AvroRecord" if avro else 'faust.Record, serializer="json"' -%}
{%- if avro -%}
"""Records on the {{ cookiecutter.app_name }} topics, serialized as Avro (see ``runtime/avro.py``).

Each record's Avro schema follows from its fields. Change them compatibly: add a field
only with a default, and remove only a field that has one.
"""

from dataclasses_avroschema.faust import AvroRecord
{%- else -%}
"""Records on the {{ cookiecutter.app_name }} topics, serialized as JSON."""

import faust
{%- endif %}


class Event({{ record }}, validation=True):
    """What producers publish to ``{{ cookiecutter.app_name }}.events``, keyed by key."""

    id: str
    key: str
    amount: float

{%- if cookiecutter.full_example %}


class EnrichedEvent({{ record }}):
    """An event with how many events its key had seen, for downstream services."""

    id: str
    key: str
    amount: float
    key_count: int


class BatchSummary({{ record }}):
    """One batch of enriched events, summarised."""

    count: int
    total_amount: float
    distinct_keys: int
{%- endif %}
