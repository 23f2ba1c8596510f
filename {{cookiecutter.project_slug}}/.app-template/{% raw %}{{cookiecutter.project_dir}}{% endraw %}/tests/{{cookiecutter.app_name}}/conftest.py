from collections.abc import Iterator

import pytest

from {{ cookiecutter.package_name }}.{{ cookiecutter.app_name }}.agents import (
    event_counts,
)


@pytest.fixture(autouse=True)
def empty_event_counts() -> Iterator[None]:
    """Give every test an empty table: the in-memory store outlives a test."""
    event_counts.data.clear()
    yield
    event_counts.data.clear()
