from aiohttp.test_utils import TestClient, TestServer

from {{ cookiecutter.package_name }}.app import app


async def test_liveness_answers_ok() -> None:
    async with TestClient(TestServer(await app.web.wsgi())) as client:
        response = await client.get("/health/live/")

        assert response.status == 200
        assert await response.json() == {"status": "ok"}
