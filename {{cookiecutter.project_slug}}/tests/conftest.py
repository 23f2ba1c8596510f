import subprocess
import sys

import pytest

from {{ cookiecutter.package_name }}.app import app

# Register every sub-app's agents, tables and views once, as a worker does on start-up.
app.discover()


@pytest.fixture(scope="session")
def cli_agents() -> str:
    """What ``python -m {{ cookiecutter.package_name }} agents`` prints.

    Run once, in a process of its own: Faust's commands close their event loop.
    """
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", "agents"]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return result.stdout
