"""Avro values in the Confluent wire format, against the in-memory registry of conftest.py."""

import struct
from typing import Any

from dataclasses_avroschema.faust import AvroRecord

from {{ cookiecutter.package_name }}.app import app

from tests.runtime.fake_schema_registry import FakeSchemaRegistry
from tests.runtime.messages import message

# A topic of no sub-app, so that no other test registers schemas under its subject.
PAYMENTS = "{{ cookiecutter.project_slug }}.avro-test"


class Payment(AvroRecord):
    id: str
    amount: float


# ServiceApp gives a topic of AvroRecord values the registry's wire format.
payments_topic = app.topic(PAYMENTS, value_type=Payment)


async def test_a_value_is_a_zero_byte_its_schema_id_and_the_avro_body(
    schema_registry: FakeSchemaRegistry,
) -> None:
    payment = Payment(id="o1", amount=2.5)

    data, _ = payments_topic.prepare_value(payment, None)

    magic, schema_id = struct.unpack(">bI", data[:5])
    # Registered under the topic's value subject, as Confluent's serializers do.
    assert (magic, [schema_id]) == (0, schema_registry.subjects[f"{PAYMENTS}-value"])
    assert data[5:] == payment.serialize()
    assert (await payments_topic.decode(message(data, topic=PAYMENTS))).value == payment


async def test_values_that_are_not_avro_of_a_known_schema_become_dead_letters(
    schema_registry: FakeSchemaRegistry, dead_letters: list[tuple[str, dict[str, Any]]]
) -> None:
    unknown_id = len(schema_registry.schemas) + 1
    unknown_schema = struct.pack(">bI", 0, unknown_id) + b"\x04o1"
    json = b'{"id": "o1", "amount": 2.5}'

    for value in (json, unknown_schema):
        await payments_topic.decode(message(value, topic=PAYMENTS))

    assert [(topic, sent["value"]) for topic, sent in dead_letters] == [
        (f"{PAYMENTS}.dlq", json),
        (f"{PAYMENTS}.dlq", unknown_schema),
    ]
    assert [sent["headers"]["dlq.error"].decode() for _, sent in dead_letters] == [
        "ValueDecodeError: message does not start with magic byte",
        f"ValueDecodeError: unable to fetch schema with id {unknown_id}",
    ]
