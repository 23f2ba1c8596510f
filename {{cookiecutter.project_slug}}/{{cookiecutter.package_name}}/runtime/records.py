{%- set avro = cookiecutter.message_format == "avro" -%}
"""Records on the wire: exactly their fields, and the schema that documents them.

Faust writes a ``__faust`` field into every record it sends, naming the record's Python
class, unless the class says ``include_metadata=False``. Consumers that are not Faust
would see a field of no use to them, which a strict schema refuses, and renaming a
module would change the wire format. Every record of the service derives from
``Record`` below, which says it once for all of them. Faust reads values with or
without the field alike: the topic's ``value_type`` says what a value is.
{%- if avro %}

Avro writes a record's schema fields only, so the rule holds for Avro values anyway;
``Record`` keeps their Python form (``to_representation()``) plain too.
{%- endif %}
"""

import types
import typing
from typing import Any

import faust
{%- if avro %}
from dataclasses_avroschema.faust import AvroRecord
{%- endif %}
from faust.types import ModelT
from pydantic import ConfigDict, TypeAdapter, create_model


{% if avro -%}
class Record(AvroRecord, abstract=True, include_metadata=False):
    """Base of the service's records: Avro values of exactly their fields."""
{%- else -%}
class Record(faust.Record, abstract=True, serializer="json", include_metadata=False):
    """Base of the service's records: JSON objects of exactly their fields."""
{%- endif %}


def json_schema(value_type: Any, ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """The JSON Schema of a value of ``value_type``: a record, a type, or ``None`` (any value).

    A record's schema allows its fields only (``additionalProperties: false``); records
    among its fields become ``$defs`` of their own, referred to by ``ref_template``.
    """
    if value_type is None:
        return {}
    adapter = TypeAdapter(_pydantic_type(value_type))
    return adapter.json_schema(ref_template=ref_template)


def _pydantic_type(annotation: Any) -> Any:
    """``annotation`` with every Faust record in it replaced by a Pydantic model of its fields."""
    if isinstance(annotation, type) and issubclass(annotation, faust.Record):
        return _pydantic_model(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is None or not args or origin is typing.Literal:
        return annotation
    converted = tuple(_pydantic_type(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[converted]  # noqa: UP007 - the union of a tuple of types
    return origin[converted]


def _pydantic_model(record: type[ModelT]) -> Any:
    # Faust's introspection of a model: its fields' types and defaults (ModelOptions).
    options = record._options
    fields: dict[str, Any] = {
        name: (_pydantic_type(field_type), options.defaults.get(name, ...))
        for name, field_type in options.fields.items()
    }
    return create_model(
        record.__name__,
        __config__=ConfigDict(extra="forbid"),
        __doc__=record.__doc__,
        **fields,
    )
