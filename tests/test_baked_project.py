"""Slow tier: install curated bakes in fresh virtualenvs and run their own checks.

Each combination is baked and installed once (module-scoped fixture); every test
below then runs one of the baked project's tools in that virtualenv.
"""

import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

from helpers import REPO, find_python, run, tool

pytestmark = pytest.mark.slow

SUPPORTED = json.loads((REPO / "cookiecutter.json").read_text(encoding="utf-8"))["python_version"]


def available(preferred: list[str]) -> str:
    """The first Python version of `preferred` with an interpreter here, else the running one's."""
    for version in preferred:
        if find_python(version):
            return version
    return "{}.{}".format(*sys.version_info)


# The default answers on the newest Python found; several apps on the oldest.
CURATED = [
    pytest.param({"python_version": available(SUPPORTED)}, id="defaults"),
    pytest.param(
        {
            "apps": "orders,page_views",
            "license": "Apache-2.0",
            "ci": "gitlab",
            "python_version": available(SUPPORTED[::-1]),
        },
        id="two-apps-apache-gitlab",
    ),
]


@dataclass
class Installed:
    project: Path
    context: dict[str, Any]
    bin: Path

    @property
    def apps(self) -> list[str]:
        return [name.strip() for name in self.context["apps"].split(",")]

    def run(self, command: str, *args: str, check: bool = True) -> Any:
        return run(self.bin / command, *args, cwd=self.project, check=check, timeout=900)


@pytest.fixture(scope="module", params=CURATED)
def installed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, cookiecutter_config: Path
) -> Installed:
    answers: dict[str, Any] = request.param
    version = answers["python_version"]
    python = find_python(version) or sys.executable

    started = time.perf_counter()
    project = Path(
        cookiecutter(
            str(REPO),
            no_input=True,
            extra_context=answers,
            output_dir=str(tmp_path_factory.mktemp("slow")),
            config_file=str(cookiecutter_config),
        )
    )
    baked = time.perf_counter()
    env = {"UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}
    run(tool("uv"), "venv", "--python", python, ".venv", cwd=project, env=env)
    venv_python = project / ".venv" / "bin" / "python"
    run(tool("uv"), "pip", "install", "--python", venv_python, "-e", ".[dev]", cwd=project, env=env, timeout=900)
    done = time.perf_counter()
    print(
        f"\n[{project.name}, apps={answers.get('apps', 'default')}] Python {version} ({python}): "
        f"bake {baked - started:.1f} s, venv and install {done - baked:.1f} s"
    )
    context = json.loads(json.dumps(answers))
    context.setdefault("apps", "page_views")
    context["package_name"] = project.name.replace("-", "_")
    return Installed(project=project, context=context, bin=venv_python.parent)


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
    for app in installed.apps:
        for agent in ("enrich_events", "summarize_batches"):
            assert f"@{app}.agents.{agent}" in result.stdout, result.stdout


def test_console_script_offers_the_worker(installed: Installed) -> None:
    result = installed.run(installed.context["package_name"], "--help")
    assert re.search(r"^\s+worker\b", result.stdout, re.MULTILINE), result.stdout
