"""Adding a sub-app to a baked service later, with the command its README gives."""

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from support import SUPPORTED, Installed, assert_valid_asyncapi, available, bake_and_install, project_files

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


def test_make_app_renders_a_lean_sub_app_that_passes_every_check(service: Installed) -> None:
    before = snapshot(service.project)

    result = service.run("make", "app", "NAME=orders")

    assert "the `topics` service of docker-compose.yml: orders.events\n" in result.stdout
    added = set(snapshot(service.project)) - set(before)
    package = service.context["package_name"]
    # One record, one topic, one agent and a test of it, whatever the message format.
    assert {path.as_posix() for path in added} == {
        f"{package}/orders/{module}.py" for module in ("__init__", "agents", "models")
    } | {f"tests/orders/{module}.py" for module in ("__init__", "test_agents")}
    assert all(before[path] == digest for path, digest in snapshot(service.project).items() if path in before)
    models = (service.project / package / "orders" / "models.py").read_text(encoding="utf-8")
    assert models.count("class ") == 1
    # The new sub-app speaks the format the service was baked with, through the runtime's Record.
    assert "(Record" in models
    assert ("Avro" in models) == (service.context["message_format"] == "avro")
    summary = service.run("pytest", "-q", "-p", "no:cacheprovider").stdout.strip().splitlines()[-1]
    assert "failed" not in summary and "error" not in summary, summary
    tests = service.run("pytest", "-q", "-p", "no:cacheprovider", "tests/orders").stdout.strip().splitlines()[-1]
    assert tests.startswith("1 passed"), tests
    service.run("ruff", "check", "--no-cache", ".")
    service.run("ruff", "format", "--check", "--no-cache", ".")
    service.run("mypy")
    agents = service.run("faust", "-A", f"{package}.app", "agents").stdout
    assert "@orders.agents.process_events" in agents
    assert "@page_views.agents.enrich_events" in agents
    # The AsyncAPI document has the new sub-app's topic, and no file had to change for it.
    service.run("make", "asyncapi")
    document = yaml.safe_load((service.project / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert_valid_asyncapi(document)
    assert {"orders.events", "orders.events.dlq", "page_views.events"} <= set(document["channels"])
    assert document["operations"]["orders.agents.process_events"]["action"] == "receive"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("page_views", "exists already"),
        ("class", "is not allowed"),
        ("settings", "clashes with"),
        ("runtime", "clashes with"),
    ],
)
def test_make_app_refuses_a_bad_name_and_changes_nothing(service: Installed, name: str, error: str) -> None:
    before = snapshot(service.project)

    result = service.run("make", "app", f"NAME={name}", check=False)

    assert result.returncode != 0
    assert f"ERROR: app_name: '{name}' {error}" in result.stderr
    assert snapshot(service.project) == before


def test_starting_fresh_as_the_readme_says_leaves_a_service_that_passes_every_check(
    service: Installed,
) -> None:
    project, package = service.project, service.context["package_name"]
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert f"Delete `{package}/page_views/` and `tests/page_views/`" in readme

    service.run("make", "app", "NAME=shipments")
    shutil.rmtree(project / package / "page_views")
    shutil.rmtree(project / "tests" / "page_views")
    settings = project / package / "settings.py"
    lines = settings.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(number for number, line in enumerate(lines) if line.startswith("    # The page_views example"))
    end = next(number for number, line in enumerate(lines) if "report_interval_seconds" in line)
    settings.write_text("".join(lines[:start] + lines[end + 1 :]), encoding="utf-8")
    service.run("make", "format")

    summary = service.run("pytest", "-q", "-p", "no:cacheprovider").stdout.strip().splitlines()[-1]
    assert "passed" in summary and "failed" not in summary and "error" not in summary, summary
    service.run("ruff", "check", "--no-cache", ".")
    service.run("ruff", "format", "--check", "--no-cache", ".")
    service.run("mypy")
    agents = service.run("faust", "-A", f"{package}.app", "agents").stdout
    assert "@shipments.agents.process_events" in agents
    assert "page_views" not in agents
