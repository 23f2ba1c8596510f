"""Container tier: baked projects' images built and their Compose stacks run, as a user would.

The engine is Debian's docker.io, run as a private dockerd (containers/engine.py) with
Compose built from its Go module (containers/compose.py) and the classic builder. No
image registry is reachable, so the base images are local stand-ins under the names the
baked files use (containers/images.py). Everything is cached under
``~/.cache/cookiecutter-faust-service``: a second run rebuilds nothing it does not need to.
The engine is stopped once the tier's tests are done, whatever they did.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

from containers import compose
from containers.engine import Engine, EngineError, install, say
from containers.images import StandIns
from stack import Stack, image_names, port_in_use, published_host_ports
from support import REPO, SUPPORTED, available, find_python, run, tool

# The defaults, and the combination that adds the most services, volumes and images:
# two sub-apps, Avro through the schema registry, RocksDB tables on volumes, the oldest Python.
COMBINATIONS = [
    pytest.param({"python_version": available(SUPPORTED)}, id="defaults"),
    pytest.param(
        {
            "apps": "orders,payments",
            "message_format": "avro",
            "table_store": "rocksdb",
            "python_version": available(SUPPORTED[::-1]),
        },
        id="avro-rocksdb-two-apps",
    ),
]


@pytest.fixture(scope="package")
def engine() -> Iterator[Engine]:
    """The tier's dockerd, with Compose; every project's stack and then dockerd stopped at the end."""
    began = time.monotonic()
    docker = Engine()
    try:
        install()
        compose.install_plugin(compose.build(), docker.config_dir)
        docker.start()
    except EngineError as exc:
        pytest.fail(str(exc), pytrace=False)
    say(f"engine and Compose ready in {time.monotonic() - began:.0f} s")
    try:
        yield docker
    finally:
        try:
            # Whatever a test left running: each project down with its volumes, all profiles.
            listed = docker.docker("compose", "ls", "--all", "--format", "json", check=False).stdout
            for project in json.loads(listed or "[]"):
                docker.docker("compose", "--project-name", project["Name"], "down", "--volumes", check=False)
            # Layers of worker images that a newer build replaced.
            docker.docker("image", "prune", "--force", check=False)
        finally:
            docker.stop()
            say(f"container tier: {time.monotonic() - began:.0f} s from start to dockerd stopped")


def bake(answers: dict[str, Any], root: Path) -> tuple[Path, dict[str, Any]]:
    """Bake ``answers``; the project and the whole context cookiecutter rendered it with."""
    config = root / "cookiecutter-config.yaml"
    config.write_text(f"cookiecutters_dir: {root / 'templates'}\nreplay_dir: {root / 'replay'}\n", encoding="utf-8")
    project = Path(
        cookiecutter(str(REPO), no_input=True, extra_context=answers, output_dir=str(root), config_file=str(config))
    )
    (replay,) = (root / "replay").glob("*.json")
    return project, json.loads(replay.read_text(encoding="utf-8"))["cookiecutter"]


@pytest.fixture(scope="module", params=COMBINATIONS)
def stack(request: pytest.FixtureRequest, engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A bake whose stack the README's ``docker compose up --build`` started (with ``--wait``).

    Brought down with its volumes afterwards, replicas included, whatever the tests did.
    """
    project, context = bake(request.param, tmp_path_factory.mktemp("containers-bake"))
    # The quick start's `make install` writes the uv.lock that the image installs from.
    python = find_python(context["python_version"]) or sys.executable
    run(tool("uv"), "lock", "--python", python, cwd=project, env={"UV_PYTHON_DOWNLOADS": "never"}, timeout=600)
    label = "[{apps} {message_format} {table_store} Python {python_version}]".format(**context)
    began = time.monotonic()
    try:
        StandIns(engine, find_python).ensure(image_names(project))
    except EngineError as exc:
        pytest.fail(str(exc), pytrace=False)
    say(f"{label} stand-in images ready in {time.monotonic() - began:.0f} s")
    stack = Stack(engine, project, context)
    ports = published_host_ports(stack.compose_file)
    busy = [f"{where} on host port {port}" for where, port in ports.items() if port_in_use(port)]
    if busy:
        pytest.fail(f"ports the stack publishes are taken on this machine: {', '.join(busy)}", pytrace=False)
    stack.began = time.time()
    try:
        seconds = stack.run_readme("docker compose up --build", "--wait", timeout=1200)
        say(f"{label} docker compose up --build --wait: {seconds:.0f} s")
        yield stack
    finally:
        stack.compose("--profile", "scale", "down", "--volumes", "--remove-orphans", check=False)
