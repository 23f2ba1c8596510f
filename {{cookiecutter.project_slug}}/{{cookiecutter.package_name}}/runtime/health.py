"""Health endpoints for the platform that runs the worker.

Liveness: the web server answers, so the event loop is not blocked. Readiness: the
worker holds its partitions and processes them, so a rolling update may move on.
"""

from faust import web
from faust.tables.manager import TableManager
from faust.types import AppT


def not_ready_because(worker: AppT) -> str | None:
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


class Liveness(web.View):
    """``/health/live/``: 200 while the worker runs; the image's HEALTHCHECK polls it."""

    async def get(self, request: web.Request) -> web.Response:
        return self.json({"status": "ok"})


class Readiness(web.View):
    """``/health/ready/``: 200 once the worker processes its partitions, else 503 and why."""

    async def get(self, request: web.Request) -> web.Response:
        reason = not_ready_because(self.app)
        if reason is None:
            return self.json({"status": "ready"})
        return self.json({"status": "not ready", "reason": reason}, status=503)
