"""The Faust app shared by every sub-app, configured from ``settings``."""

import faust
import mode.loop

from .dead_letters import DeadLetteringTopic
from .kafka_consumer import Transport
from .logs import logging_config
from .security import broker_credentials
from .settings import settings

# Before the app exists: the worker makes its event loop from the policy chosen here.
mode.loop.use("aio" if settings.event_loop == "asyncio" else settings.event_loop)

app = faust.App(
    settings.app_id,
    broker=settings.kafka_broker,
    broker_credentials=broker_credentials(settings),
    # Imports every module of the package on start-up, so the agents, timers,
    # views and commands of each sub-app register themselves.
    autodiscover=True,
    origin="{{ cookiecutter.package_name }}",
    topic_partitions=settings.topic_partitions,
    topic_replication_factor=settings.topic_replication_factor,
    topic_allow_declare=settings.topic_allow_declare,
    web_port=settings.web_port,
    web_host=settings.web_host,
    broker_session_timeout=settings.broker_session_timeout,
    broker_heartbeat_interval=settings.broker_heartbeat_interval,
    table_standby_replicas=settings.table_standby_replicas,
    logging_config=logging_config(settings.log_format),
    store=settings.store,
    # Every topic of app.topic() sends what it cannot deserialize to "<topic>.dlq".
    Topic=DeadLetteringTopic,
    # Table lookups hash keys as producers send them (see table_routing.py); named, not
    # imported, because that module needs this app.
    Router="{{ cookiecutter.package_name }}.table_routing:SourceKeyRouter",
)

# Faust picks the transport by the broker URL's scheme; this one only changes how the
# consumer seeks after a rebalance (see kafka_consumer.py).
app.transport = Transport(app.conf.broker_consumer, app)
