"""Adding a sub-app to a baked service later, with the command its README gives."""

import hashlib
from pathlib import Path

import pytest

from support import SUPPORTED, Installed, available, bake_and_install, project_files

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["json", "avro"], ids=lambda value: f"message_format={value}")
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, cookiecutter_config: Path
) -> Installed:
    answers = {"python_version": available(SUPPORTED), "message_format": request.param}
    return bake_and_install(answers, tmp_path_factory.mktemp("add-app"), cookiecutter_config)


def snapshot(project: Path) -> dict[Path, str]:
    return {
        path: hashlib.sha256((project / path).read_bytes()).hexdigest()
        for path in project_files(project)
        if path.parts[0] not in {".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
        and not path.parts[0].endswith(".egg-info")
    }


def test_make_app_renders_a_sub_app_that_passes_every_check(service: Installed) -> None:
    before = snapshot(service.project)

    result = service.run("make", "app", "NAME=orders")

    assert "orders.events orders.enriched orders.batch-summaries" in result.stdout
    added = set(snapshot(service.project)) - set(before)
    package = service.context["package_name"]
    # The new sub-app speaks the format the service was baked with.
    avro_tests = {"tests/orders/test_models.py"} if service.context["message_format"] == "avro" else set()
    assert {path.as_posix() for path in added} == avro_tests | {
        f"{package}/orders/{module}.py" for module in ("__init__", "agents", "models", "views")
    } | {
        f"tests/orders/{module}.py"
        for module in ("__init__", "conftest", "test_agents", "test_integration", "test_views")
    }
    assert all(before[path] == digest for path, digest in snapshot(service.project).items() if path in before)
    summary = service.run("pytest", "-q", "-p", "no:cacheprovider").stdout.strip().splitlines()[-1]
    assert "failed" not in summary and "error" not in summary, summary
    service.run("ruff", "check", "--no-cache", ".")
    service.run("ruff", "format", "--check", "--no-cache", ".")
    service.run("mypy")
    agents = service.run("faust", "-A", f"{package}.app", "agents").stdout
    assert "@orders.agents.enrich_events" in agents
    assert "@orders.agents.summarize_batches" in agents


@pytest.mark.parametrize(
    ("name", "error"),
    [("page_views", "exists already"), ("class", "is not allowed"), ("settings", "clashes with")],
)
def test_make_app_refuses_a_bad_name_and_changes_nothing(service: Installed, name: str, error: str) -> None:
    before = snapshot(service.project)

    result = service.run("make", "app", f"NAME={name}", check=False)

    assert result.returncode != 0
    assert f"ERROR: app_name: '{name}' {error}" in result.stderr
    assert snapshot(service.project) == before
