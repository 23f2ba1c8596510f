"""Baking the template, installing a baked project into a venv of its own, and what a bake holds."""

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter

from .commands import BIN, find_python, run, say, tool
from .forky_root import FORKY_RUN, in_forky_root
from .paths import APP_TEMPLATE, KAFKA_CLIENT, REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["tomllib"]


def supported_pythons(template: Path = REPO) -> list[str]:
    """The Python versions that ``template`` offers, its default first."""
    options: list[str] = json.loads((template / "cookiecutter.json").read_text(encoding="utf-8"))["python_version"]
    return options


SUPPORTED = supported_pythons()


def available(preferred: list[str]) -> str:
    """The first Python version of `preferred` with an interpreter here, else the running one's."""
    for version in preferred:
        if find_python(version):
            return version
    return "{}.{}".format(*sys.version_info)


def write_cookiecutter_config(directory: Path) -> Path:
    """A cookiecutter user config that keeps its replay files and template clones in ``directory``."""
    config = directory / "cookiecutter-config.yaml"
    config.write_text(
        f"cookiecutters_dir: {directory / 'templates'}\nreplay_dir: {directory / 'replay'}\n", encoding="utf-8"
    )
    return config


def project_files(project: Path) -> Iterator[Path]:
    """Every file of a baked project, as paths relative to it, in a stable order."""
    for path in sorted(project.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(project)


def in_app_template(relative: Path) -> bool:
    return relative.parts[0] == APP_TEMPLATE


@dataclass
class Installed:
    """A baked project with its own virtualenv, as a user would set it up."""

    project: Path
    context: dict[str, Any]
    bin: Path
    # What every command is run through: forky-root/run for a venv inside the forky root.
    prefix: list[str] = field(default_factory=list)

    @property
    def apps(self) -> list[str]:
        return [name.strip() for name in self.context["apps"].split(",")]

    @property
    def package(self) -> str:
        return str(self.context["package_name"])

    @property
    def python_version(self) -> str:
        return str(self.context["python_version"])

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def run(
        self, command: str, *args: str, check: bool = True, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` (the venv's own if it has one) in the project, the venv activated."""
        # The venv's tools come first on PATH, as after `source .venv/bin/activate`, then
        # the dev group's (uv, which the Makefile runs).
        path = os.pathsep.join([str(self.bin), str(BIN), os.environ["PATH"]])
        venv = {"PATH": path, "VIRTUAL_ENV": str(self.bin.parent)}
        # lexists: in a forky root's venv, bin/python links to a path only the root has.
        return run(
            *self.prefix,
            self.bin / command if os.path.lexists(self.bin / command) else command,
            *args,
            cwd=self.project,
            env={**venv, **(env or {})},
            check=check,
            timeout=900,
        )

    def kafka_client(self, *args: str, stdin: str | None = None, timeout: float = 120) -> list[dict[str, Any]]:
        """Run scripts/kafka_client.py under the venv's Python (aiokafka); the JSON lines it printed."""
        result = run(self.python, KAFKA_CLIENT, *args, input=stdin, timeout=timeout)
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def bake_and_install(
    answers: Mapping[str, Any],
    output_dir: Path,
    config_file: Path,
    *,
    wheel: bool = False,
    template: Path = REPO,
) -> Installed:
    """Bake ``answers`` of ``template`` into ``output_dir`` and install the project into a fresh uv venv, its ``.venv``.

    By default the project is installed as ``make install`` does (``uv sync``: the dev
    group, the service editable, uv.lock written), for its own tests and linters; with
    ``wheel``, as the Dockerfile installs it: what uv.lock pins, without the dev group,
    the service as a built wheel (``uv sync --locked --no-dev --no-editable``).
    Without a ``python_version`` answer: the first of the template's Pythons that has an
    interpreter here. ``template`` is this checkout unless a benchmark bakes another one.
    """
    answers = dict(answers)
    if "python_version" not in answers:
        answers["python_version"] = available(supported_pythons(template))
    started = time.perf_counter()
    project = Path(
        cookiecutter(
            str(template),
            no_input=True,
            extra_context=answers,
            output_dir=str(output_dir),
            config_file=str(config_file),
        )
    )
    baked = time.perf_counter()
    installed = install(project, answers, wheel=wheel)
    how = "installed from uv.lock as the image is" if wheel else "installed as make install does"
    say(
        f"baked {project.name} (apps={answers.get('apps', 'default')}, Python {answers['python_version']}) "
        f"in {baked - started:.1f} s; {how} in {time.perf_counter() - baked:.1f} s",
        tag="bake",
    )
    return installed


def install(project: Path, answers: Mapping[str, Any], *, wheel: bool = False) -> Installed:
    """Install the baked ``project`` into a fresh uv venv, its ``.venv``, as ``bake_and_install`` does.

    The venv's Python is that of the ``python_version`` answer (the template's default if
    none): the host's, or else the forky root's, where uv and every command then run.
    """
    version = answers.get("python_version", SUPPORTED[0])
    python, uv, prefix = find_python(version), tool("uv"), []
    if python is None and in_forky_root(version):
        # The project's directory is bound at its own path, so paths mean the same inside.
        python, uv, prefix = f"/usr/bin/python{version}", "uv", [str(FORKY_RUN), "--bind", str(project.parent), "--"]
    python = python or sys.executable
    env = {"UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}
    sync = [*prefix, uv, "sync", "--python", python]
    if wheel:
        run(*prefix, uv, "lock", "--python", python, cwd=project, env=env, timeout=900)
        run(*sync, "--locked", "--no-dev", "--no-editable", cwd=project, env=env, timeout=900)
    else:
        run(*sync, cwd=project, env=env, timeout=900)
    venv_python = project / ".venv" / "bin" / "python"
    context = json.loads(json.dumps(answers))
    context.setdefault("apps", "page_views")
    context["package_name"] = project.name.replace("-", "_")
    return Installed(project=project, context=context, bin=venv_python.parent, prefix=prefix)


def run_integration_tests(service: Installed, env: dict[str, str]) -> str:
    """Run ``pytest -m integration`` in the baked project; its summary line, which must show no failure."""
    began = time.monotonic()
    result = service.run("python", "-m", "pytest", "-m", "integration", "-q", "-p", "no:cacheprovider", env=env)
    summary: str = result.stdout.strip().splitlines()[-1]
    say(f"baked integration tests ({', '.join(service.apps)}): {summary}, {time.monotonic() - began:.1f} s")
    assert not re.search(r"\d+ (failed|error)", summary), summary
    return summary


def passed_count(summary: str) -> int:
    passed = re.search(r"(\d+) passed", summary)
    return int(passed.group(1)) if passed else 0
