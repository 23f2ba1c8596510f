{%- set avro = cookiecutter.message_format == "avro" -%}
"""The AsyncAPI document of the service's topics, from topics and an agent of this module."""

import typing
from collections.abc import AsyncIterator
from typing import Any

import faust
import pytest
from aiohttp.test_utils import TestClient, TestServer

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.asyncapi import asyncapi_document
from {{ cookiecutter.package_name }}.runtime.dead_letters import HEADERS, Reason
from {{ cookiecutter.package_name }}.runtime.keys import keep_key
from {{ cookiecutter.package_name }}.runtime.records import Record

PACKAGE = "{{ cookiecutter.package_name }}"
# Topics of no sub-app, so that no sub-app's agents touch them.
ORDERS = "{{ cookiecutter.project_slug }}.asyncapi-test"
RECEIPTS = f"{ORDERS}-receipts"
TOTALS = f"{ORDERS}-totals"
HERE = "tests.runtime.test_asyncapi"


class Order(Record):
    """An order, as the shop sends it."""

    id: str
    total: float


class Receipt(Record):
    """What the customer gets for an order."""

    order_id: str


orders_topic = app.topic(ORDERS, key_type=str, value_type=Order, partitions=3, replicas=2)
receipts_topic = app.topic(RECEIPTS, key_type=str, value_type=Receipt)
totals_topic = app.topic(TOTALS, value_type=Order)
order_counts = app.Table(f"{ORDERS}-counts", default=int)


@app.agent(orders_topic, sink=[keep_key(receipts_topic), totals_topic])
async def confirm_orders(orders: faust.StreamT[Order]) -> AsyncIterator[Receipt]:
    """Confirm each order with a receipt."""
    async for order in orders:
        yield Receipt(order_id=order.id)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document(app)


def resolve(document: dict[str, Any], reference: str) -> Any:
    """What a local ``$ref`` of the document points to."""
    assert reference.startswith("#/"), reference
    target: Any = document
    for part in reference[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references(value)]
    return []


def test_each_topic_is_a_channel_with_its_record_and_key(document: dict[str, Any]) -> None:
    channel = document["channels"][ORDERS]

    assert channel["address"] == ORDERS
    assert channel["bindings"]["kafka"] == {
        "partitions": 3,
        "replicas": 2,
        "bindingVersion": "0.5.0",
    }
    message = channel["messages"]["Order"]
    assert message["summary"] == "An order, as the shop sends it."
    assert message["payload"] == {"$ref": f"#/components/schemas/{HERE}.Order"}
    assert message["bindings"]["kafka"]["key"] == {"type": "string"}


def test_a_sink_that_keeps_the_key_says_where_it_comes_from(document: dict[str, Any]) -> None:
    receipt = document["channels"][RECEIPTS]["messages"]["Receipt"]
    total = document["channels"][TOTALS]["messages"]["Order"]

    assert receipt["bindings"]["kafka"]["key"] == {
        "type": "string",
        "description": f"The key of the {ORDERS} record it came from.",
    }
    # A topic declared without a key_type gets records without a key.
    assert total["bindings"]["kafka"]["key"]["type"] == "null"


def test_the_agent_receives_and_sends_and_dead_letters_go_on(document: dict[str, Any]) -> None:
    agent = f"{HERE}.confirm_orders"
    operations = document["operations"]

    assert operations[agent] == {
        "action": "receive",
        "summary": "Confirm each order with a receipt.",
        "channel": {"$ref": f"#/channels/{ORDERS}"},
        "messages": [{"$ref": f"#/channels/{ORDERS}/messages/Order"}],
    }
    assert operations[f"{agent}.to.{RECEIPTS}"]["action"] == "send"
    assert operations[f"{agent}.to.{TOTALS}"]["action"] == "send"
    assert operations[f"{ORDERS}.dead-letters"]["channel"] == {"$ref": f"#/channels/{ORDERS}.dlq"}
    # Only the topics an agent reads have dead letters.
    assert f"{RECEIPTS}.dlq" not in document["channels"]


def test_dead_letters_are_the_original_message_with_the_headers_that_say_why(
    document: dict[str, Any],
) -> None:
    reference = document["channels"][f"{ORDERS}.dlq"]["messages"]["DeadLetter"]["$ref"]
    dead_letter = resolve(document, reference)

    headers = dead_letter["headers"]
    assert headers["required"] == list(HEADERS)
    assert headers["properties"]["dlq.reason"]["enum"] == list(typing.get_args(Reason))
    assert dead_letter["contentType"] == "application/octet-stream"


def test_a_records_schema_is_a_component(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"][f"{HERE}.Order"]
{%- if avro %}

    assert schema == {
        "schemaFormat": "application/vnd.apache.avro+json;version=1.9.0",
        "schema": Order.avro_schema_to_python(),
    }
{%- else %}

    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["id", "total"]
{%- endif %}


def test_a_topic_declared_again_is_noted_once() -> None:
    noted = len(app.declared_topics)

    # As dead letters declare their topic on every send.
    for _ in range(3):
        app.topic(ORDERS, key_type=str, value_type=Order)

    assert len(app.declared_topics) == noted


def test_tables_changelogs_are_no_channels(document: dict[str, Any]) -> None:
    assert order_counts.changelog_topic.get_topic_name() not in document["channels"]


def test_every_reference_points_into_the_document(document: dict[str, Any]) -> None:
    found = references(document)

    assert found
    for reference in found:
        assert resolve(document, reference) is not None, reference


async def test_the_web_server_serves_the_document(document: dict[str, Any]) -> None:
    async with TestClient(TestServer(await app.web.wsgi())) as client:
        response = await client.get("/asyncapi.json")

        assert response.status == 200
        assert await response.json() == document


def test_every_sub_apps_agents_and_topics_are_in_it(document: dict[str, Any]) -> None:
    # The sub-apps' agents, found by autodiscovery; this module's are not the service's.
    agents = [agent for name, agent in app.agents.items() if name.startswith(f"{PACKAGE}.")]

    assert agents
    for agent in agents:
        name = agent.name.removeprefix(f"{PACKAGE}.")
        assert document["operations"][name]["action"] == "receive"
        for topic in agent.channel.topics:
            assert topic in document["channels"]
            assert f"{topic}.dlq" in document["channels"]
