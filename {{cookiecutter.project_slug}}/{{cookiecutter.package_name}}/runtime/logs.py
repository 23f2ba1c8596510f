"""The worker's log format: Faust's coloured text, or one JSON object per line."""

from typing import Any, Literal


def logging_config(log_format: Literal["text", "json"]) -> dict[str, Any] | None:
    """A ``logging.config`` dict that Faust merges into its own, or ``None`` for text."""
    if log_format == "text":
        return None
    return {
        "version": 1,
        # Faust keeps its levels and loggers and takes this handler in place of its own.
        "merge": True,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            },
        },
    }
