"""Slow tier: the baked README's quick start, as written, on every offered Python.

Each bake is fresh from cookiecutter, so its directory is not a git repository yet. The
README's commands run one by one, in a shell, with uv (the dev group's) on PATH; the
image's install is then replayed from the Dockerfile's own lines, from the uv.lock the
quick start wrote.
"""

import os
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from support import BIN, FORKY_RUN, SUPPORTED, find_python, in_forky_root, require_python, run, tomllib

pytestmark = pytest.mark.slow


def quick_start(readme: str) -> list[str]:
    """The commands of the first shell block under the README's "Quick start" heading."""
    section = readme.split("\n## Quick start\n", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "no shell block in the Quick start"
    return [line for line in block[1].splitlines() if line.strip()]


@pytest.fixture(scope="module", params=SUPPORTED, ids=lambda version: f"python={version}")
def started(request: pytest.FixtureRequest, cookies_session: Any) -> tuple[Path, str]:
    """A fresh bake for one offered Python, after the README's quick start; and its interpreter."""
    version = request.param
    require_python(version)
    result = cookies_session.bake(extra_context={"python_version": version})
    assert result.exception is None, result.exception
    project: Path = result.project_path
    assert not (project / ".git").exists()
    python, prefix = find_python(version), []
    if python is None and in_forky_root(version):
        python, prefix = f"/usr/bin/python{version}", [str(FORKY_RUN), "--bind", str(project.parent), "--"]
    assert python
    # The machine's uv, as a user would have it; never a download of Python.
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "UV_PYTHON": python, "UV_PYTHON_DOWNLOADS": "never"}
    env["VIRTUAL_ENV"] = ""
    readme = (project / "README.md").read_text(encoding="utf-8")
    for command in quick_start(readme):
        began = time.perf_counter()
        result = run(*prefix, "bash", "-euo", "pipefail", "-c", command, cwd=project, env=env, timeout=900)
        print(f"\n[quick start, Python {version}] {command}: {time.perf_counter() - began:.1f} s")
        if command.startswith("make install"):
            assert "Not a git repository" in result.stdout, result.stdout
    return project, python


def test_the_quick_start_writes_a_lock_of_the_whole_tree(started: tuple[Path, str]) -> None:
    project, _ = started
    lock = tomllib.loads((project / "uv.lock").read_text(encoding="utf-8"))
    locked = {package["name"]: package for package in lock["package"]}
    # The direct dependencies and what they pull in, each at one version.
    assert {"faust-streaming", "aiokafka", "mode-streaming", "pydantic", "pytest"} <= set(locked)
    assert all("version" in package for name, package in locked.items() if name != project.name)


def build_stage(dockerfile: str) -> list[tuple[str, str]]:
    """The build stage's instructions (name, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    instructions = [line.split(None, 1) for line in joined.splitlines() if line.strip() and not line.startswith("#")]
    froms = [number for number, (name, _) in enumerate(instructions) if name == "FROM"]
    assert len(froms) == 2, froms
    return [(name, arguments) for name, arguments in instructions[froms[0] + 1 : froms[1]]]


def test_the_dockerfile_installs_what_the_lock_pins(started: tuple[Path, str], tmp_path: Path) -> None:
    project, python = started
    if python.startswith("/usr/bin/python3.14"):
        pytest.skip("replayed with the host's Pythons; the image's Python 3.14 is the container tier's")
    # The image's Python is a fresh venv of that version here; its /src and /venv are ours.
    image_python = tmp_path / "image-python"
    run(sys.executable, "-m", "uv", "venv", "--seed", "--python", python, image_python)
    src, venv = tmp_path / "src", tmp_path / "venv"
    # That Python first on PATH, and the one uv takes, as the image's only one would be.
    env = {
        "PATH": f"{image_python / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "UV_PYTHON": str(image_python / "bin" / "python"),
        "VIRTUAL_ENV": "",
    }
    workdir = project
    for name, arguments in build_stage((project / "Dockerfile").read_text(encoding="utf-8")):
        if name == "ENV":
            for pair in shlex.split(arguments):
                key, value = pair.split("=", 1)
                env[key] = value.replace("/venv", str(venv))
        elif name == "WORKDIR":
            assert arguments == "/src"
            workdir = src
            src.mkdir()
        elif name == "COPY":
            *sources, target = arguments.split()
            destination = workdir / target
            for source in sources:
                run("cp", "-r", project / source, destination)
        elif name == "RUN":
            run("bash", "-c", arguments, cwd=workdir, env=env, timeout=900)
    frozen = run(sys.executable, "-m", "uv", "pip", "freeze", "--python", venv / "bin" / "python").stdout
    installed = dict(line.split("==", 1) for line in frozen.splitlines() if "==" in line)
    lock = tomllib.loads((project / "uv.lock").read_text(encoding="utf-8"))
    runtime = {package["name"]: package["version"] for package in lock["package"] if "version" in package}
    assert installed["faust-streaming"] == runtime["faust-streaming"]
    assert installed["aiokafka"] == runtime["aiokafka"]
    # No dev group in the image, and the service itself as a built package, not a link.
    assert "pytest" not in installed and "mypy" not in installed
    version = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    package = project.name.replace("-", "_")
    (site_packages,) = venv.glob("lib/python*/site-packages")
    assert (site_packages / f"{package}-{version}.dist-info").is_dir()
    assert (site_packages / package / "__init__.py").is_file()
    assert not [path for path in site_packages.glob("*.pth") if package in path.name or "editable" in path.name]


def test_a_python_older_than_the_service_needs_gets_one_clear_line(cookies: Any) -> None:
    newest, older = max(SUPPORTED), min(SUPPORTED)
    interpreter = find_python(older)
    if interpreter is None:
        pytest.skip(f"no Python {older} here to play the too-old interpreter")
    # The bake needs no interpreter of its Python: the refusal comes first.
    project = cookies.bake(extra_context={"python_version": newest}).project_path
    required = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "UV_PYTHON": interpreter, "UV_PYTHON_DOWNLOADS": "never"}

    result = run("make", "install", cwd=project, env={**env, "VIRTUAL_ENV": ""}, check=False)

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert f"Python {older}" in errors[0] and f"Python requirement: `{required}`" in errors[0], errors
    # Nothing was resolved or installed before the refusal.
    assert not (project / "uv.lock").exists() and not (project / ".venv").exists()
