"""Avro values in the Confluent wire format, against the in-memory registry of conftest.py."""

import struct
from typing import Any

from dataclasses_avroschema.faust import AvroRecord

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.avro import avro_serializer

from tests.fake_schema_registry import FakeSchemaRegistry
from tests.test_dead_letters import message

# A topic of no sub-app, so that no other test registers schemas under its subject.
ORDERS = "avro-test.orders"


class Order(AvroRecord):
    id: str
    amount: float


orders_topic = app.topic(ORDERS, value_type=Order, value_serializer=avro_serializer(ORDERS, Order))


async def test_a_value_is_a_zero_byte_its_schema_id_and_the_avro_body(
    schema_registry: FakeSchemaRegistry,
) -> None:
    order = Order(id="o1", amount=2.5)

    data, _ = orders_topic.prepare_value(order, None)

    magic, schema_id = struct.unpack(">bI", data[:5])
    # Registered under the topic's value subject, as Confluent's serializers do.
    assert (magic, [schema_id]) == (0, schema_registry.subjects[f"{ORDERS}-value"])
    assert data[5:] == order.serialize()
    assert (await orders_topic.decode(message(data, topic=ORDERS))).value == order


async def test_values_that_are_not_avro_of_a_known_schema_become_dead_letters(
    schema_registry: FakeSchemaRegistry, dead_letters: list[tuple[str, dict[str, Any]]]
) -> None:
    unknown_id = len(schema_registry.schemas) + 1
    unknown_schema = struct.pack(">bI", 0, unknown_id) + b"\x04o1"
    json = b'{"id": "o1", "amount": 2.5}'

    for value in (json, unknown_schema):
        await orders_topic.decode(message(value, topic=ORDERS))

    assert [(topic, sent["value"]) for topic, sent in dead_letters] == [
        (f"{ORDERS}.dlq", json),
        (f"{ORDERS}.dlq", unknown_schema),
    ]
    assert [sent["headers"]["dlq.error"].decode() for _, sent in dead_letters] == [
        "ValueDecodeError: message does not start with magic byte",
        f"ValueDecodeError: unable to fetch schema with id {unknown_id}",
    ]
