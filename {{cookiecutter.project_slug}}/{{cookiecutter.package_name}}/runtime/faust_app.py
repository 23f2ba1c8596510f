"""``ServiceApp``: the ``faust.App`` of the service, configured from its settings.

It passes Faust its settings as documented constructor arguments and attaches the
runtime through Faust's own extension points: the ``Topic``, ``Router`` and ``Worker``
classes, the Kafka transport, and the health, metrics and AsyncAPI views.
"""

from collections.abc import Iterable
from typing import Any

import faust
import mode.loop
{%- if cookiecutter.message_format == "avro" %}
from dataclasses_avroschema.faust import AvroRecord
{%- endif %}
from faust.types import CodecArg, ModelArg, TopicT, TransportT
from mode import ServiceT
{%- if cookiecutter.message_format == "avro" %}
from schema_registry.client import SchemaRegistryClient
{%- endif %}

from .asyncapi import AsyncAPIDocument
{%- if cookiecutter.message_format == "avro" %}
from .avro import avro_serializer
{%- endif %}
from .broker_watch import BrokerWatch, first_error
from .dead_letters import DeadLetteringTopic
from .health import Liveness, Readiness, not_ready_because
from .kafka_consumer import Transport
from .logs import logging_config
from .metrics import Metrics
from .security import broker_credentials
from .settings import RuntimeSettings
from .stalls import StallWatch
from .table_routing import SourceKeyRouter
from .worker import Worker


class ServiceApp(faust.App):
    """A Faust app built from ``settings``; ``options`` are more of Faust's settings.

    Every topic declared with ``app.topic()`` sends what it cannot deserialize to
    ``<topic>.dlq`` and is in the service's AsyncAPI document; table lookups find the
    worker that holds the key.
{%- if cookiecutter.message_format == "avro" %} A topic whose
    values are ``AvroRecord`` models writes and reads them as Avro in the Confluent
    Schema Registry wire format, with the registry at ``SCHEMA_REGISTRY_URL``.
{%- endif %}
    """

    def __init__(self, settings: RuntimeSettings, **options: Any) -> None:
        # Before the worker makes its event loop, which follows the policy chosen here.
        mode.loop.use("aio" if settings.event_loop == "asyncio" else settings.event_loop)
        # Every topic declared, by names, key and value type: what the AsyncAPI document
        # describes. Once each: dead letters declare their topic again on every send.
        self.declared_topics: dict[tuple[Any, ...], TopicT] = {}
        # Faust has no settings for them; the transport reads them (kafka_consumer.py).
        self.consumer_fetch_max_wait = settings.consumer_fetch_max_wait
        self.consumer_fetch_busy_wait = settings.consumer_fetch_busy_wait
        super().__init__(
            settings.app_id,
            broker=settings.kafka_broker,
            broker_credentials=broker_credentials(settings),
            broker_session_timeout=settings.broker_session_timeout,
            broker_heartbeat_interval=settings.broker_heartbeat_interval,
            topic_partitions=settings.topic_partitions,
            topic_replication_factor=settings.topic_replication_factor,
            topic_allow_declare=settings.topic_allow_declare,
            table_standby_replicas=settings.table_standby_replicas,
            stream_buffer_maxsize=settings.stream_buffer_maxsize,
            consumer_max_fetch_size=settings.consumer_max_fetch_size,
            producer_linger=settings.producer_linger,
            store=settings.store,
            web_port=settings.web_port,
            web_host=settings.web_host,
            logging_config=logging_config(settings.log_format),
            Topic=DeadLetteringTopic,
            Router=SourceKeyRouter,
            Worker=Worker,
            **options,
        )
{%- if cookiecutter.message_format == "avro" %}
        # The client caches ids and schemas, so the registry is asked once per schema.
        self.schema_registry = SchemaRegistryClient(url=settings.schema_registry_url)
{%- endif %}
        # Whether a broker answers (readiness), and whether streams stall (liveness).
        self.broker_watch = BrokerWatch(settings.kafka_broker)
        self.stall_watch = StallWatch(self, settings.stall_timeout, lambda: not_ready_because(self))
        self.page("/health/live/")(Liveness)
        self.page("/health/ready/")(Readiness)
        self.page("/metrics")(Metrics)
        self.page("/asyncapi.json")(AsyncAPIDocument)

    def on_init_dependencies(self) -> Iterable[ServiceT]:
        # mode starts these with the app, before Faust's own services.
        return [self.broker_watch, self.stall_watch, *super().on_init_dependencies()]

    async def on_start(self) -> None:
        await super().on_start()
        if await first_error(self.broker_watch.addresses) is None:
            return
        # No broker yet: Faust's producer would fail to bootstrap and the worker exit.
        # Start the web server first, so that the probes see it live and not ready, and
        # wait; Faust's Kafka services start once a broker answers.
        if self.conf.web_enabled:
            await self.web.maybe_start()
        await self.broker_watch.wait_until_reachable(self)

    def _new_transport(self) -> TransportT:
        # Faust has no setting for the consumer class: this private hook is where the
        # transport is made. Why the consumer is replaced: see kafka_consumer.py.
        return Transport(
            self.conf.broker_consumer,
            self,
            self.consumer_fetch_max_wait,
            self.consumer_fetch_busy_wait,
        )

    def topic(
        self,
        *topics: str,
        value_type: ModelArg | None = None,
        value_serializer: CodecArg | None = None,
        **options: Any,
    ) -> TopicT:
        """Faust's ``app.topic()``, noted for the AsyncAPI document.
{%- if cookiecutter.message_format == "avro" %}

        Records of ``AvroRecord`` models go in the registry's wire format.
        """
        if (
            isinstance(value_type, type)
            and issubclass(value_type, AvroRecord)
            and value_serializer is None
            and len(topics) == 1
        ):
            value_serializer = avro_serializer(self.schema_registry, topics[0], value_type)
{%- else %}"""
{%- endif %}
        topic = super().topic(
            *topics, value_type=value_type, value_serializer=value_serializer, **options
        )
        self.declared_topics.setdefault((*topic.topics, topic.key_type, topic.value_type), topic)
        return topic
