"""Service settings: the one place that reads the environment.

Every field can be set by an environment variable of the same name in upper case
(``KAFKA_BROKER``, ``WEB_PORT``…) or in a ``.env`` file; the defaults work against
the local ``docker compose`` stack.
"""

import sys
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Typed, validated configuration of the worker."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Names the Kafka consumer group: changing it starts from scratch.
    app_id: str = "{{ cookiecutter.project_slug }}"
    kafka_broker: str = {{ cookiecutter.kafka_broker|quoted }}
    # Partitions of every topic and table: the most workers that can share the load.
    topic_partitions: int = Field(default={{ cookiecutter.topic_partitions }}, ge=1)
    # Copies of each topic the worker creates; a production cluster wants 3.
    topic_replication_factor: int = Field(default=1, ge=1)
    # Off where the cluster's administrators create every topic.
    topic_allow_declare: bool = True
    web_port: int = Field(default={{ cookiecutter.web_port }}, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "{{ cookiecutter.log_level }}"
    # Table storage: "memory://" rebuilds tables from their changelog topics on start.
    store: str = "memory://"
    batch_size: int = Field(default=100, ge=1)
    batch_window_seconds: float = Field(default=5.0, gt=0)
    report_interval_seconds: float = Field(default=60.0, gt=0)
    # The worker's event loop. uvloop (libuv) spends less CPU per message than asyncio's
    # own loop; it is not made for Windows, where "asyncio" is the default.
    event_loop: Literal["uvloop", "asyncio"] = "asyncio" if sys.platform == "win32" else "uvloop"


settings = Settings()
