"""Fixtures of the service's tests. The runtime's come from ``tests/runtime/fixtures.py``."""

pytest_plugins = ["tests.runtime.fixtures"]
