"""Records on the {{ cookiecutter.app_name }} topics, serialized as JSON."""

import faust


class Event(faust.Record, serializer="json", validation=True):
    """What producers publish to ``{{ cookiecutter.app_name }}.events``, keyed by key."""

    id: str
    key: str
    amount: float


class EnrichedEvent(faust.Record, serializer="json"):
    """An event with how many events its key had seen, for downstream services."""

    id: str
    key: str
    amount: float
    key_count: int


class BatchSummary(faust.Record, serializer="json"):
    """One batch of enriched events, summarised."""

    count: int
    total_amount: float
    distinct_keys: int
