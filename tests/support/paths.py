"""Where the template, its checkout and the scripts that baked venvs run are."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
# The checkout of the template that the tests bake.
REPO = HERE.parent.parent
TEMPLATE = REPO / "{{cookiecutter.project_slug}}"
# The per-app template inside every baked project.
APP_TEMPLATE = ".app-template"
# Run by a baked venv's Python (they import aiokafka or faust, which the template's venv has not).
SCRIPTS = HERE / "scripts"
KAFKA_CLIENT = SCRIPTS / "kafka_client.py"
SEED_APP = SCRIPTS / "seed_myapp.py"
