"""Avro records in the Confluent Schema Registry wire format.

A value on the wire is a zero byte, the 4-byte id of its writer's schema in the
registry, then the Avro body. A topic's codec registers its model's schema under the
subject ``<topic>-value`` (Confluent's default naming) the first time it writes, and
reads each value with the schema that wrote it, resolved against the model's own: a
field added with a default is read by old and new readers alike.
"""

import faust
from dataclasses_avroschema.faust import AvroRecord
from schema_registry.client import SchemaRegistryClient
from schema_registry.client.schema import AvroSchema
from schema_registry.serializers.faust import Serializer
from schema_registry.serializers.message_serializer import AvroMessageSerializer


def avro_serializer(
    registry: SchemaRegistryClient, topic: str, model: type[AvroRecord]
) -> faust.Codec:
    """The value codec of ``topic``: writes ``model``'s schema and reads any compatible one.

    Faust's codecs are synchronous: the first request for a schema holds up the worker
    for one round trip to the registry.
    """
    schema = AvroSchema(model.avro_schema())
    # fastavro resolves the writer's schema against the parsed reader schema, which is
    # what the serializer needs here despite its AvroSchema annotation.
    serializer = AvroMessageSerializer(registry, reader_schema=schema.schema)  # type: ignore[arg-type]
    return Serializer(f"{topic}-value", schema, serializer)
