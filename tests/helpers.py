"""Small helpers shared by the fast and the slow tier."""

import glob
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from cookiecutter.main import cookiecutter

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["tomllib"]

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "{{cookiecutter.project_slug}}"
APP_TEMPLATE = ".app-template"
# Tools installed with the dev group sit beside the interpreter running the tests.
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Path of a command-line tool of the dev group (ruff, uv...)."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    assert found, f"{name} is not installed: install the dev group (see README.md)"
    return found


def run(
    *command: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; on failure show the command and all it printed."""
    args = [str(part) for part in command]
    result = subprocess.run(
        args,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert result.returncode == 0, (
            f"`{' '.join(args)}` exited {result.returncode} in {cwd or Path.cwd()}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return result


def find_python(version: str) -> str | None:
    """An interpreter of Python `version` (e.g. "3.12") on PATH or under pyenv, or None."""
    candidates = [shutil.which(f"python{version}")]
    roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()
        roots.insert(0, root)
    for root in filter(None, roots):
        candidates += sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in filter(None, candidates):
        # pyenv's shims exist for every version but fail for those not selected.
        probe = [candidate, "-c", "import sys; print('{}.{}'.format(*sys.version_info))"]
        result = subprocess.run(probe, capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip() == version:
            return candidate
    return None


# Runs a command in the Debian forky root that forky-root/provide makes: Pythons the host
# lacks (3.14) come from there, and run only there (forky's glibc is newer than the host's).
FORKY_RUN = REPO / "forky-root" / "run"


def in_forky_root(version: str) -> bool:
    """Whether the forky root has Python `version` and runs here (it needs root)."""
    probe = [str(FORKY_RUN), "--", f"python{version}", "-c", "import sys; print('{}.{}'.format(*sys.version_info))"]
    result = subprocess.run(probe, capture_output=True, text=True, check=False)
    return result.returncode == 0 and result.stdout.strip() == version


def unavailable(message: str) -> NoReturn:
    """Skip a test that lacks something .ci/run provides; in CI, which provides it, fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_python(version: str) -> None:
    """Python `version`, on this machine or in the forky root, or the test goes no further."""
    if not (find_python(version) or in_forky_root(version)):
        unavailable(f"no Python {version} on this machine nor in the forky root: run forky-root/provide (as root)")


def project_files(project: Path) -> Iterator[Path]:
    """Every file of a baked project, as paths relative to it, in a stable order."""
    for path in sorted(project.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(project)


def in_app_template(relative: Path) -> bool:
    return relative.parts[0] == APP_TEMPLATE


SUPPORTED: list[str] = json.loads((REPO / "cookiecutter.json").read_text(encoding="utf-8"))["python_version"]


def available(preferred: list[str]) -> str:
    """The first Python version of `preferred` with an interpreter here, else the running one's."""
    for version in preferred:
        if find_python(version):
            return version
    return "{}.{}".format(*sys.version_info)


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

    def run(
        self, command: str, *args: str, check: bool = True, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        # The venv's tools come first on PATH, as after `source .venv/bin/activate`.
        venv = {"PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(self.bin.parent)}
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


def bake_and_install(answers: dict[str, Any], output_dir: Path, config_file: Path, template: Path = REPO) -> Installed:
    """Bake `answers` of `template` and install the project with its dev extra into a fresh uv venv.

    `template` is this checkout unless a benchmark bakes another one beside it.
    """
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
    installed = install_with_dev_extra(project, answers)
    print(
        f"\n[{project.name}, apps={answers.get('apps', 'default')}] Python {answers['python_version']}: "
        f"bake {baked - started:.1f} s, venv and install {time.perf_counter() - baked:.1f} s"
    )
    return installed


def install_with_dev_extra(project: Path, answers: dict[str, Any]) -> Installed:
    """Install a baked `project` with its dev extra into a fresh uv venv, as `make install` does.

    The venv's Python is that of the `python_version` answer (the default answer if none).
    """
    version = answers.get("python_version", SUPPORTED[0])
    python, uv, prefix = find_python(version), tool("uv"), []
    if python is None and in_forky_root(version):
        # The root's Python runs only there, so uv and the project's tools do too, with the
        # project's directory bound at its own path.
        python, uv, prefix = f"/usr/bin/python{version}", "uv", [str(FORKY_RUN), "--bind", str(project.parent), "--"]
    env = {"UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}
    run(*prefix, uv, "venv", "--python", python or sys.executable, ".venv", cwd=project, env=env)
    venv_python = project / ".venv" / "bin" / "python"
    install = [uv, "pip", "install", "--python", venv_python, "-e", ".[dev]"]
    run(*prefix, *install, cwd=project, env=env, timeout=900)
    context = json.loads(json.dumps(answers))
    context.setdefault("apps", "page_views")
    context["package_name"] = project.name.replace("-", "_")
    return Installed(project=project, context=context, bin=venv_python.parent, prefix=prefix)
