"""Liveness: the worker's web server answers, so its event loop is not blocked."""

from faust import web

from .app import app


@app.page("/health/live/")
class Liveness(web.View):
    """Answers 200 while the worker runs; the Dockerfile's HEALTHCHECK polls it."""

    async def get(self, request: web.Request) -> web.Response:
        return self.json({"status": "ok"})
