"""Docker Compose v2, built from its Go module once per version and cached.

``go install github.com/docker/compose/v2/cmd@…`` refuses the module (its go.mod has
``replace`` directives), but building the source that ``go mod download`` fetches works.
That takes about 4 minutes on 2 cores, hence the cache:
``<cache>/compose/<version>/docker-compose``. ``install_plugin()`` links it into a
``DOCKER_CONFIG`` directory, where the ``docker`` CLI finds it as ``docker compose``.

Not Debian's docker-compose 1.29 (it rejects the top-level ``name:`` of the baked file),
nor podman-compose (it ignores ``condition: service_healthy`` with Debian's podman 4.3).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from .engine import EngineError, cache_dir, run, say, which

MODULE = "github.com/docker/compose/v2"
VERSION = "v2.40.3"


def binary_path(version: str = VERSION, cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "compose" / version / "docker-compose"


def _reports(binary: Path, version: str) -> bool:
    """Whether ``binary`` runs and says it is ``version`` (a half-written file does not)."""
    if not binary.is_file():
        return False
    result = run([binary, "version", "--short"], check=False, timeout=60)
    return result.returncode == 0 and result.stdout.strip().lstrip("v") == version.lstrip("v")


def build(version: str = VERSION, cache: Path | None = None) -> Path:
    """The Compose binary of ``version``: the cached one, or built now from the Go module proxy."""
    target = binary_path(version, cache)
    if _reports(target, version):
        return target
    go = which("go")
    if go is None:
        raise EngineError(f"go is not on PATH: Compose {version} is built from its Go module")
    began = time.monotonic()
    # GOTOOLCHAIN=local: build with the Go that is here, never fetch another one.
    env = {"GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly -buildvcs=false"}
    with tempfile.TemporaryDirectory() as outside_any_module:
        downloaded = run([go, "mod", "download", "-json", f"{MODULE}@{version}"], env=env, cwd=Path(outside_any_module))
    source = Path(json.loads(downloaded.stdout)["Dir"])
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".docker-compose.{os.getpid()}")
    # As Compose's Makefile does; -s drops the symbol table the tests never need.
    ldflags = f"-s -w -X {MODULE}/internal.Version={version}"
    run([go, "build", "-trimpath", "-ldflags", ldflags, "-o", partial, "./cmd"], env=env, cwd=source, timeout=1800)
    partial.replace(target)
    if not _reports(target, version):
        raise EngineError(f"{target} does not report version {version} after building it")
    say(f"built Docker Compose {version} in {time.monotonic() - began:.0f} s: {target}")
    return target


def install_plugin(binary: Path, config_dir: Path) -> Path:
    """Make ``binary`` the ``docker compose`` plugin of the CLI configuration in ``config_dir``."""
    plugins = config_dir / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "docker-compose"
    if not (link.is_symlink() and link.resolve() == binary.resolve()):
        link.unlink(missing_ok=True)
        link.symlink_to(binary)
    return link
