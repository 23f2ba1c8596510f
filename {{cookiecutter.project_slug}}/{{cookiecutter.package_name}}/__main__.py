"""Faust's command line for this app (``python -m {{ cookiecutter.package_name }}``)."""

from faust.cli.faust import cli

from .app import app
from .settings import settings


def main() -> None:
    """Run a Faust command (``worker``, ``agents``, ``send``…) for this app."""
    # Faust takes its log level from ``--loglevel`` only; LOG_LEVEL sets its default.
    cli.context_settings["default_map"] = {"worker": {"loglevel": settings.log_level}}
    app.main()


if __name__ == "__main__":
    main()
