"""Web views of the {{ cookiecutter.app_name }} sub-app, served by each worker."""

from typing import Any

from faust import web
from faust.exceptions import ValidationError

from ..app import app
from ..table_routing import held_items
from .agents import event_counts, events_topic
from .models import Event


def parse_event(body: Any) -> Event:
    """Build an event from a decoded JSON body; raise ``ValueError`` saying what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    missing = [field for field in Event.__annotations__ if field not in body]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    try:
        return Event(**body)
    except (TypeError, ValidationError) as exc:
        raise ValueError(str(exc)) from exc


@app.page("/{{ cookiecutter.app_name }}/counts/")
class EventCounts(web.View):
    """Counts per key of the partitions this worker holds."""

    async def get(self, request: web.Request) -> web.Response:
        return self.json(dict(held_items(event_counts)))


@app.page("/{{ cookiecutter.app_name }}/counts/{key}/")
class EventCount(web.View):
    """The count of one key, asked of whichever worker holds it."""

    # Faust types routed handlers without the URL's parameters, hence the ignore.
    @app.table_route(table=event_counts, match_info="key")  # type: ignore[arg-type]
    async def get(self, request: web.Request, key: str) -> web.Response:
        return self.json({"key": key, "count": event_counts[key]})


@app.page("/{{ cookiecutter.app_name }}/events/")
class Events(web.View):
    """Accept an event over HTTP and publish it to the events topic."""

    async def post(self, request: web.Request) -> web.Response:
        try:
            event = parse_event(await request.json())
        except ValueError as exc:
            return self.error(400, str(exc))
        await events_topic.send(key=event.key, value=event)
        return self.json({"id": event.id}, status=202)
