{%- set avro = cookiecutter.message_format == "avro" -%}
"""Records on the wire: exactly their fields.

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

{% if avro -%}
from dataclasses_avroschema.faust import AvroRecord
{%- else -%}
import faust
{%- endif %}


{% if avro -%}
class Record(AvroRecord, abstract=True, include_metadata=False):
    """Base of the service's records: Avro values of exactly their fields."""
{%- else -%}
class Record(faust.Record, abstract=True, serializer="json", include_metadata=False):
    """Base of the service's records: JSON objects of exactly their fields."""
{%- endif %}
