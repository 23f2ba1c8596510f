import logging

import pytest
from faust.utils import terminal

from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.runtime.settings import RuntimeSettings
from {{ cookiecutter.package_name }}.runtime.worker import Worker


def test_the_app_runs_its_worker_without_the_spinner() -> None:
    worker_class: object = app.conf.Worker
    assert worker_class is Worker


@pytest.mark.parametrize("level", [logging.WARNING, logging.ERROR])
def test_a_quiet_level_leaves_the_root_logger_at_that_level(level: int) -> None:
    logger = logging.getLogger("test-worker-root")
    logger.addHandler(logging.NullHandler())
    logger.setLevel(level)

    Worker(app, loglevel=level).on_setup_root_logger(logger, level)

    # Faust's own worker would have set DEBUG, to spin its spinner on every record.
    assert logger.level == level
    assert not any(isinstance(handler, terminal.SpinnerHandler) for handler in logger.handlers)


LEVELS = [("warning", "warn"), ("ERROR", "error"), ("Info", "info")]


@pytest.mark.parametrize(("given", "read"), LEVELS)
def test_levels_are_read_as_faust_names_them(given: str, read: str) -> None:
    assert RuntimeSettings.model_validate({"log_level": given}).log_level == read
