from aiohttp.test_utils import TestClient, TestServer

from {{ cookiecutter.package_name }}.app import app


async def test_metrics_are_served_in_prometheus_format() -> None:
    async with TestClient(TestServer(await app.web.wsgi())) as client:
        response = await client.get("/metrics")

        assert response.status == 200
        body = await response.text()
    assert "# TYPE faust_messages_received_total counter" in body
    assert "# TYPE dead_letters_total counter" in body
