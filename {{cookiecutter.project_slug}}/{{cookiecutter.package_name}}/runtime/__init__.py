"""The runtime every sub-app runs on: kept by the template, not by the team.

``ServiceApp`` (the ``faust.App`` that ``app.py`` creates) attaches it all through
Faust's extension points: the worker's settings, dead letters, the health, metrics and
AsyncAPI views (with a watch on the brokers and on stalled streams), broker credentials,
the log format, table routing across workers, a Kafka consumer that reads every
partition it takes over, and Kafka clients that find a new topic within a second. The
sub-apps' records derive from ``records.Record`` (plain values), ``keys.keep_key()``
keeps a record's key, and ``batches`` lets an agent that takes batches write a table
once per key and batch.
{%- if cookiecutter.message_format == "avro" %}
Avro records travel in the Confluent Schema Registry wire format.
{%- endif %}

Template updates (``cruft update``) maintain these modules and their tests in
``tests/runtime/``: change them only to fix something here for good, and expect to
merge that change with the next update. Tune the runtime with its settings
(``RuntimeSettings``) instead, and put the service's own code in its sub-apps.
"""

from .faust_app import ServiceApp

__all__ = ["ServiceApp"]
