from pathlib import Path

import pytest

from support import REPO, write_cookiecutter_config


def pytest_configure(config: pytest.Config) -> None:
    # pytest-cookies bakes the template in the current directory unless told otherwise.
    if config.option.template == ".":
        config.option.template = str(REPO)


@pytest.fixture(scope="session")
def cookiecutter_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user config that keeps cookiecutter's replay files out of the home directory."""
    return write_cookiecutter_config(tmp_path_factory.mktemp("cookiecutter-home"))
