import importlib
import json
import logging

from {{ cookiecutter.package_name }}.runtime.logs import logging_config


def test_text_keeps_fausts_own_format() -> None:
    assert logging_config("text") is None


def test_json_writes_one_object_per_line() -> None:
    config = logging_config("json")
    assert config is not None
    # Build the formatter as logging.config does from its "()" factory.
    spec = dict(config["formatters"]["json"])
    module, _, name = spec.pop("()").rpartition(".")
    formatter = getattr(importlib.import_module(module), name)(**spec)
    record = logging.LogRecord("app.agents", logging.INFO, __file__, 1, "%d events", (3,), None)

    line = json.loads(formatter.format(record))

    assert (line["level"], line["logger"], line["message"]) == ("INFO", "app.agents", "3 events")
    assert {"time", "process"} <= set(line)
