"""The seed tutorial's single-file Faust app, run as ``faust -A seed_myapp worker -l info``.

One record type, one topic, an agent that prints each greeting and forwards it to a
sink topic, and a timer that sends a greeting every five seconds. The broker comes
from KAFKA_BROKER (default: the local docker compose broker), the web port from WEB_PORT.
"""

import os

import faust

app = faust.App(
    "myapp",
    broker=os.environ.get("KAFKA_BROKER", "kafka://localhost:9092"),
    web_port=int(os.environ.get("WEB_PORT", "6066")),
    store="memory://",
)


class Greeting(faust.Record, serializer="json"):
    from_name: str
    to_name: str


greetings_topic = app.topic("myapp.greetings", value_type=Greeting)
processed_topic = app.topic("myapp.greetings-processed", value_type=Greeting)


@app.agent(greetings_topic, sink=[processed_topic])
async def greet(greetings):
    async for greeting in greetings:
        print(f"Hello from {greeting.from_name} to {greeting.to_name}")
        yield greeting


@app.timer(interval=5.0)
async def send_greeting():
    await greetings_topic.send(value=Greeting(from_name="Faust", to_name="you"))
