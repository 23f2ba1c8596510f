"""Slow tier: install curated bakes in fresh virtualenvs and run their own checks.

Each combination is baked and installed once (module-scoped fixture); every test
below then runs one of the baked project's tools in that virtualenv.
"""

import re
import time
from pathlib import Path

import pytest
import yaml

from support import SUPPORTED, Installed, assert_valid_asyncapi, available, bake_and_install, require_python

pytestmark = pytest.mark.slow

NEWEST = max(SUPPORTED, key=lambda version: int(version.split(".")[1]))

# The default answers on the newest Python found, and on the newest offered (3.14, which
# this machine has only in the forky root of forky-root/provide); several apps on the
# oldest; Avro and Kubernetes manifests on another.
CURATED = [
    pytest.param({"python_version": available(SUPPORTED)}, id="defaults"),
    pytest.param({"python_version": NEWEST}, id=f"defaults-{NEWEST}"),
    pytest.param(
        {
            "apps": "orders,page_views",
            "license": "Apache-2.0",
            "ci": "gitlab",
            "table_store": "rocksdb",
            "python_version": available(SUPPORTED[::-1]),
        },
        id="two-apps-apache-gitlab-rocksdb",
    ),
    pytest.param(
        {
            "apps": "orders,page_views",
            "message_format": "avro",
            "kubernetes": True,
            "worker_replicas": 2,
            "python_version": available(SUPPORTED[1:]),
        },
        id="avro-two-apps-kubernetes",
    ),
]


@pytest.fixture(scope="module", params=CURATED)
def installed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, cookiecutter_config: Path
) -> Installed:
    require_python(request.param["python_version"])
    return bake_and_install(request.param, tmp_path_factory.mktemp("slow"), cookiecutter_config)


def test_venv_runs_the_chosen_python(installed: Installed) -> None:
    result = installed.run("python", "-c", "import sys; print('{}.{}'.format(*sys.version_info))")
    assert result.stdout.strip() == installed.context["python_version"]


def test_baked_tests_pass(installed: Installed) -> None:
    started = time.perf_counter()
    result = installed.run("pytest", "-q", "-p", "no:cacheprovider")
    print(f"\nbaked pytest: {time.perf_counter() - started:.1f} s: {result.stdout.strip().splitlines()[-1]}")
    summary = result.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed, summary
    assert int(passed.group(1)) >= 1
    assert not re.search(r"\d+ (failed|error)", summary), summary


def test_mypy_passes(installed: Installed) -> None:
    installed.run("mypy")


def test_ruff_passes(installed: Installed) -> None:
    installed.run("ruff", "check", "--no-cache", ".")
    installed.run("ruff", "format", "--check", "--no-cache", ".")


def test_faust_lists_every_apps_agents(installed: Installed) -> None:
    result = installed.run("faust", "-A", f"{installed.context['package_name']}.app", "agents")
    # The first sub-app is the full example, the others lean.
    first, *others = installed.apps
    expected = [f"@{first}.agents.{agent}" for agent in ("enrich_events", "summarize_batches")]
    expected += [f"@{app}.agents.process_events" for app in others]
    for agent in expected:
        assert agent in result.stdout, result.stdout


def expected_channels(apps: list[str]) -> set[str]:
    """The topics of the example (the first app) and of the lean apps, and the dead letters of those read."""
    first, *others = apps
    channels = {f"{first}.{topic}" for topic in ("events", "enriched", "batch-summaries", "events.dlq", "enriched.dlq")}
    return channels | {f"{app}.{topic}" for app in others for topic in ("events", "events.dlq")}


def test_make_asyncapi_writes_a_valid_document_of_every_apps_topics(installed: Installed) -> None:
    installed.run("make", "asyncapi")

    document = yaml.safe_load((installed.project / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert_valid_asyncapi(document)
    assert set(document["channels"]) == expected_channels(installed.apps)
    assert document["info"]["title"] == installed.project.name


def test_console_script_offers_the_worker(installed: Installed) -> None:
    result = installed.run(installed.context["package_name"], "--help")
    assert re.search(r"^\s+worker\b", result.stdout, re.MULTILINE), result.stdout
