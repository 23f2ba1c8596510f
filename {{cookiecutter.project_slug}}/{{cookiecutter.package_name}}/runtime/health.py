"""Health endpoints for the platform that runs the worker.

Liveness: the web server answers, so the event loop is not blocked, and no partition
is stalled (``stalls.py``): a worker that holds partitions with lag whose committed
offsets stopped advancing fails it, so that the platform restarts it. Readiness: a
broker is reachable (``broker_watch.py``) and the worker holds its partitions and
processes them, so a rolling update may move on.
"""

from faust import web
from faust.tables.manager import TableManager
from faust.types import AppT

from .broker_watch import BrokerWatch
from .stalls import StallWatch


def not_ready_because(worker: AppT) -> str | None:
    """Why ``worker`` cannot process events now, or ``None`` when it can."""
    if worker.should_stop:
        return "shutting down"
    brokers = getattr(worker, "broker_watch", None)
    if isinstance(brokers, BrokerWatch) and (unreachable := brokers.unreachable_because()):
        return unreachable
    if worker.rebalancing_count == 0:
        return "waiting for its first partition assignment"
    if worker.rebalancing:
        return "rebalancing"
    tables = worker.tables
    if isinstance(tables, TableManager) and not tables.recovery.completed.is_set():
        return "recovering tables from their changelogs"
    return None


def stalled(worker: AppT) -> StallWatch | None:
    """The worker's ``StallWatch`` while it finds partitions stuck, else ``None``."""
    watch = getattr(worker, "stall_watch", None)
    return watch if isinstance(watch, StallWatch) and watch.stuck else None


class Liveness(web.View):
    """``/health/live/``: 200 while the worker runs and no partition stalls, else 503 and which."""

    async def get(self, request: web.Request) -> web.Response:
        watch = stalled(self.app)
        if watch is None:
            return self.json({"status": "ok"})
        return self.json(
            {
                "status": "stalled",
                "reason": watch.stalled_because(),
                "partitions": [str(entry) for entry in watch.stuck],
            },
            status=503,
        )


class Readiness(web.View):
    """``/health/ready/``: 200 once the worker processes its partitions, else 503 and why."""

    async def get(self, request: web.Request) -> web.Response:
        reason = not_ready_because(self.app)
        if reason is None:
            return self.json({"status": "ready"})
        return self.json({"status": "not ready", "reason": reason}, status=503)
