{%- set avro = cookiecutter.message_format == "avro" -%}
{% if not avro -%}
import json
{% endif -%}
from typing import Any

{% if not avro -%}
import pytest
{% endif -%}
from faust.types import TopicT

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.records import Record, json_schema

from tests.runtime.messages import message

# A topic of no sub-app, so that its values meet no other test's.
READINGS = "{{ cookiecutter.project_slug }}.records-test"


class Place(Record):
    name: str


class Reading(Record):
    """A meter reading."""

    meter: str
    value: float
    place: Place | None = None
    tags: list[str] | None = None


readings_topic = app.topic(READINGS, value_type=Reading)


def wire(topic: TopicT, record: Reading) -> bytes:
    data, _ = topic.prepare_value(record, None)
    assert isinstance(data, bytes)
    return data


def test_a_record_is_exactly_its_fields() -> None:
    reading = Reading(meter="m1", value=2.5, place=Place(name="hall"))

    assert reading.to_representation() == {
        "meter": "m1",
        "value": 2.5,
        "place": reading.place,
        "tags": None,
    }
{%- if not avro %}
    assert json.loads(wire(readings_topic, reading)) == {
        "meter": "m1",
        "value": 2.5,
        "place": {"name": "hall"},
        "tags": None,
    }


@pytest.mark.parametrize(
    "value",
    [
        b'{"meter": "m1", "value": 2.5}',
        # What Faust services that keep Faust's metadata send.
        b'{"meter": "m1", "value": 2.5, "__faust": {"ns": "elsewhere.models.Reading"}}',
    ],
    ids=["plain", "with-faust-metadata"],
)
async def test_values_with_or_without_fausts_metadata_are_read(value: bytes) -> None:
    event = await readings_topic.decode(message(value, topic=READINGS))

    assert event.value == Reading(meter="m1", value=2.5)
{%- else %}


async def test_a_record_reads_back_from_its_avro_value() -> None:
    reading = Reading(meter="m1", value=2.5, place=Place(name="hall"))

    event = await readings_topic.decode(message(wire(readings_topic, reading), topic=READINGS))

    assert event.value == reading
{%- endif %}


def test_the_json_schema_allows_the_fields_only() -> None:
    schema: dict[str, Any] = json_schema(Reading)

    assert schema["additionalProperties"] is False
    assert schema["required"] == ["meter", "value"]
    assert schema["properties"]["value"]["type"] == "number"
    assert schema["description"] == "A meter reading."
    # A record among the fields is a schema of its own.
    assert schema["$defs"]["Place"]["required"] == ["name"]
    assert {"$ref": "#/$defs/Place"} in schema["properties"]["place"]["anyOf"]
