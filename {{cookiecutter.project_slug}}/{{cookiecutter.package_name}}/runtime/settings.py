"""The worker's settings: Kafka, security, topics, web server, tables, logs.

``Settings`` in the package's ``settings.py`` extends ``RuntimeSettings``, so each of
these is set like the service's own settings: an environment variable of the same name
in upper case (``KAFKA_BROKER``, ``WEB_PORT``…) or a line in ``.env``.
"""

import sys
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class RuntimeSettings(BaseSettings):
    """Typed, validated configuration of the worker; the defaults fit the local compose stack."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Names the Kafka consumer group: changing it starts from scratch.
    app_id: str = "{{ cookiecutter.project_slug }}"
    kafka_broker: str = {{ cookiecutter.kafka_broker|quoted }}
    # PLAINTEXT for the local stack; a secured cluster wants SASL_SSL (or SSL, mutual TLS).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # TLS files: the CA that signed the brokers' certificates (default: the system's), and
    # the client's certificate and key where the brokers ask for one.
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
{%- if cookiecutter.message_format == "avro" %}
    # Confluent Schema Registry API (Confluent's registry, or a compatible one): where the
    # topics' codecs register the schemas they write and fetch those they read.
    schema_registry_url: str = "http://localhost:8081"
{%- endif %}
    # Partitions of every topic and table: the most workers that can share the load.
    topic_partitions: int = Field(default={{ cookiecutter.topic_partitions }}, ge=1)
    # Copies of each topic the worker creates; a production cluster wants 3.
    topic_replication_factor: int = Field(default=1, ge=1)
    # Off where the cluster's administrators create every topic.
    topic_allow_declare: bool = True
    web_port: int = Field(default={{ cookiecutter.web_port }}, ge=1, le=65535)
    # The address other workers use to forward table lookups here (default: the host
    # name); Kubernetes pods give their IP.
    web_host: str | None = None
    # How long the group waits for a silent worker before moving its partitions: lower
    # fails over sooner after a crash, but a long pause (GC, a slow batch) then looks
    # like a crash too. The broker accepts 6 s and more.
    broker_session_timeout: float = Field(default=60.0, ge=6)
    broker_heartbeat_interval: float = Field(default=3.0, gt=0)
    # Seconds a partition may have lag while its committed offset stands still before
    # /health/live/ fails and the platform restarts the worker (runtime/stalls.py). Longer
    # than the slowest event or batch an agent may legitimately take: a commit follows
    # every acknowledged event within Faust's commit interval (2.8 s).
    stall_timeout: float = Field(default=300.0, ge=10)
    # What bounds the worker's memory however long the backlog (a burst, a catch-up after
    # an outage); each is Faust's setting of the same name.
    # Events each stream holds decoded ahead of its agent. A full buffer pauses fetching
    # from the topic's partitions until it drains to half, so this caps the records
    # in memory per stream; more only adds memory (more did not add throughput).
    stream_buffer_maxsize: int = Field(default=4096, ge=1)
    # Bytes the broker returns per partition and fetch, which the consumer keeps until
    # the streams take them: at most this times the partitions held. At least the
    # largest message; more did not add throughput either.
    consumer_max_fetch_size: int = Field(default=1024**2, ge=1024)
    # Seconds the broker may hold a fetch that finds no new records (Faust fixes 1.5 s).
    # A fetch of quiet partitions alone, sent while the streams take the last records,
    # holds up the busy partitions' next fetch this long (runtime/kafka_consumer.py);
    # less costs an idle worker more fetches per second.
    consumer_fetch_max_wait: float = Field(default=0.1, gt=0, le=30)
    # Seconds the broker may hold a fetch to gather more records while they keep coming
    # (a fetch in the last second brought some; runtime/fetch_pacing.py). Fewer, fuller
    # fetches save a steadily loaded worker much of its CPU; each event may wait this
    # long more. 0: every fetch returns with the first record, as Kafka's default.
    consumer_fetch_busy_wait: float = Field(default=0.01, ge=0, le=1)
    # Seconds the producer waits for more records to send in one request to a partition
    # (Faust's setting of the same name; Faust's default is 0, no wait). Under load, each
    # request then carries many records instead of a few, and the worker spends less CPU
    # per event; each record sent may wait this long more before it leaves.
    producer_linger: float = Field(default=0.005, ge=0)
    # Workers that keep a warm copy of each table partition, to take it over on a move.
    table_standby_replicas: int = Field(default=1, ge=0)
    # The levels Faust's --loglevel takes; "warning" is read as "warn".
    log_level: Literal["debug", "info", "warn", "error"] = "{{ cookiecutter.log_level }}"
    # "json": one JSON object per line, for log collectors; "text" reads better in a terminal.
    log_format: Literal["text", "json"] = "text"
{%- if cookiecutter.table_store == "rocksdb" %}
    # Table storage: RocksDB files in the worker's data directory, so a restarted worker
    # reads only the changelog written since it stopped; "memory://" reads it all.
    store: str = "rocksdb://"
{%- else %}
    # Table storage: "memory://" rebuilds tables from their changelog topics on start;
    # "rocksdb://" (with faust-streaming's rocksdict extra) keeps them on disk.
    store: str = "memory://"
{%- endif %}
    # The worker's event loop. uvloop (libuv) spends less CPU per message than asyncio's
    # own loop; it is not made for Windows, where "asyncio" is the default.
    event_loop: Literal["uvloop", "asyncio"] = "asyncio" if sys.platform == "win32" else "uvloop"

    @field_validator("log_level", mode="before")
    @classmethod
    def _as_faust_names_it(cls, level: object) -> object:
        if isinstance(level, str):
            level = level.lower()
            return "warn" if level == "warning" else level
        return level

    @model_validator(mode="after")
    def _credentials_fit_the_protocol(self) -> Self:
        sasl = self.kafka_security_protocol.startswith("SASL")
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        if self.broker_heartbeat_interval * 3 > self.broker_session_timeout:
            raise ValueError(
                "BROKER_HEARTBEAT_INTERVAL must be at most a third of BROKER_SESSION_TIMEOUT"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together")
        return self
