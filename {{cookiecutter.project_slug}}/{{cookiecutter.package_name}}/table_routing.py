"""Keeps ``@app.table_route`` answering after the worker sends to a new topic.

aiokafka's producer fetches metadata for every topic until it first sends to a topic
it has not seen (a new sink, a first dead letter); from then on it refreshes only the
topics it has sent to. The tables' changelog topics drop out, and the partition lookup
behind ``table_route`` fails until the next table update. Naming them to the producer
once the worker runs keeps them in every refresh.
"""

from faust.transport.drivers.aiokafka import Producer

from .app import app


# Faust declares @app.task as returning a bare Callable, which mypy cannot check.
@app.task  # type: ignore[untyped-decorator]
async def keep_changelog_metadata() -> None:
    producer = app.producer
    if isinstance(producer, Producer):
        client = producer._ensure_producer().client
        for table in app.tables.values():
            client.add_topic(table.changelog_topic.get_topic_name())
