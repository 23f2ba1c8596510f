"""The Faust app: every sub-app's agents, tables, timers and views register on it."""

from .runtime import ServiceApp
from .settings import settings

app = ServiceApp(
    settings,
    # Imports every module of the package on start-up, so that the agents, timers,
    # views and commands of each sub-app register themselves.
    autodiscover=True,
    origin="{{ cookiecutter.package_name }}",
)
