"""Health endpoints for the platform that runs the worker.

Liveness: the web server answers, so the event loop is not blocked. Readiness: the
worker holds its partitions and processes them, so a rolling update may move on.
"""

import faust
from faust import web
from faust.tables.manager import TableManager

from .app import app


def not_ready_because(worker: faust.App) -> str | None:
    """Why ``worker`` cannot process events now, or ``None`` when it can."""
    if worker.should_stop:
        return "shutting down"
    if worker.rebalancing_count == 0:
        return "waiting for its first partition assignment"
    if worker.rebalancing:
        return "rebalancing"
    tables = worker.tables
    if isinstance(tables, TableManager) and not tables.recovery.completed.is_set():
        return "recovering tables from their changelogs"
    return None


@app.page("/health/live/")
class Liveness(web.View):
    """200 while the worker runs; the image's HEALTHCHECK polls it."""

    async def get(self, request: web.Request) -> web.Response:
        return self.json({"status": "ok"})


@app.page("/health/ready/")
class Readiness(web.View):
    """200 once the worker processes its partitions, 503 with the reason until then."""

    async def get(self, request: web.Request) -> web.Response:
        reason = not_ready_because(app)
        if reason is None:
            return self.json({"status": "ready"})
        return self.json({"status": "not ready", "reason": reason}, status=503)
