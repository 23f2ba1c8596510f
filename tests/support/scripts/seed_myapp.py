"""The seed tutorial's single-file Faust app, run as ``faust -A seed_myapp worker -l info``.

As in the tutorial: a record type, the ``test`` topic (made beforehand with 4
partitions), an agent that takes the stream in batches, prints each greeting and
sends it on (``sink=``), and a timer that sends a greeting every five seconds. The
tutorial's agent sinks into its own source topic; this one sinks into
``test-greeted``, so that messages do not circle back and multiply. The broker
comes from KAFKA_BROKER and the web port from WEB_PORT, with the tutorial's values
as defaults.
"""

import os

import faust

app = faust.App(
    "myapp",
    broker=os.environ.get("KAFKA_BROKER", "kafka://localhost:9092"),
    web_port=int(os.environ.get("WEB_PORT", "6066")),
)


class Greeting(faust.Record):
    from_name: str
    to_name: str


topic = app.topic("test", value_type=Greeting)
greeted = app.topic("test-greeted", value_type=Greeting)


@app.agent(topic, sink=[greeted])
async def hello(greetings):
    async for batch in greetings.take(10, within=1.0):
        for greeting in batch:
            print(f"Hello from {greeting.from_name} to {greeting.to_name}")
            yield greeting


@app.timer(interval=5.0)
async def example_sender():
    await hello.send(value=Greeting(from_name="Faust", to_name="you"))
