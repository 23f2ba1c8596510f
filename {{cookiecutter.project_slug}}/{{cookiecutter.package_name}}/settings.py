"""The service's settings: the one place that reads the environment.

Every field can be set by an environment variable of the same name in upper case
(``BATCH_SIZE``, ``KAFKA_BROKER``…) or in a ``.env`` file. The fields below are the
service's own: add yours here. The worker's (broker, security, topics, web server,
tables, logs) come from ``RuntimeSettings``, which template updates maintain.
"""

from pydantic import Field

from .runtime.settings import RuntimeSettings


class Settings(RuntimeSettings):
    """Typed, validated configuration of the service."""

    # The {{ cookiecutter.apps.split(',')[0].strip() }} example:
    # the most events in an enriched batch and the longest wait for one to fill (the
    # most an event waits while traffic is light); the most events in a batch summary,
    # the longest wait for one, and how often the counts are logged.
    enrich_batch_size: int = Field(default=1000, ge=1)
    enrich_batch_window_seconds: float = Field(default=0.02, gt=0)
    batch_size: int = Field(default=100, ge=1)
    batch_window_seconds: float = Field(default=5.0, gt=0)
    report_interval_seconds: float = Field(default=60.0, gt=0)


settings = Settings()
