"""A private Docker engine for the container tier: Debian's ``docker.io``, started by hand.

``install()`` installs Debian's docker.io (dockerd, containerd, runc) and debootstrap with
apt-get when either is missing (root only). ``Engine`` runs one ``dockerd`` of its own:
images, containers and volumes in a data root under the cache, so that a second run
finds the images the first one built; its socket, pid file and runtime state in a
temporary directory. It never touches ``/var/run/docker.sock`` or ``/var/lib/docker``,
so a Docker already running on the machine is left alone. The caller stops it::

    engine = Engine()
    engine.start()
    try:
        engine.docker("version")  # or any command with engine.env
    finally:
        engine.stop()

``engine.env`` points the ``docker`` CLI and Compose at this engine and selects the
classic builder: BuildKit would fetch the frontend that ``# syntax=`` names from Docker
Hub, which is not reachable here.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

# Debian's packages and the command each one brings.
PACKAGES = {"docker.io": "dockerd", "debootstrap": "debootstrap"}
SYSTEM_PATHS = ("/usr/sbin", "/sbin")


class EngineError(RuntimeError):
    """The engine could not be installed, started or used; the message says why."""


def cache_dir() -> Path:
    """Where the tier keeps what outlives a run (beside kafka_test_broker/broker.py's classpath cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cookiecutter-faust-service"


def say(message: str) -> None:
    """A line for the log of a CI run or of ``pytest -s``."""
    print(f"[containers] {message}", file=sys.stderr, flush=True)


def which(command: str) -> str | None:
    """A command on PATH or in the system directories a non-login root shell may lack."""
    return shutil.which(command) or shutil.which(command, path=os.pathsep.join(SYSTEM_PATHS))


def run(
    command: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 900,
    check: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; on failure raise with the command and all it printed."""
    args = [str(part) for part in command]
    result = subprocess.run(
        args,
        env=None if env is None else {**os.environ, **env},
        cwd=cwd,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise EngineError(
            f"`{' '.join(args)}` exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return result


def install() -> None:
    """Install Debian's docker.io and debootstrap unless both are there already."""
    missing = [package for package, command in PACKAGES.items() if which(command) is None]
    if not missing:
        return
    if os.geteuid() != 0 or which("apt-get") is None:
        raise EngineError(
            f"{', '.join(missing)} missing: the container tier installs them with apt-get as root "
            f"(apt-get install {' '.join(PACKAGES)})"
        )
    began = time.monotonic()
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], env=env)
    run(["apt-get", "install", "-y", "-q", *missing], env=env)
    say(f"installed {', '.join(missing)} with apt-get in {time.monotonic() - began:.0f} s")


def _terminate_with_parent() -> None:
    """In the child before exec: SIGTERM (a clean shutdown) if the starting process dies."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class Engine:
    """One private dockerd; ``start()`` returns once it answers ``/_ping``."""

    def __init__(self, cache: Path | None = None) -> None:
        self.cache = cache or cache_dir()
        self.data_root = self.cache / "docker"
        # DOCKER_CONFIG: holds the Compose plugin (compose.py), no credentials.
        self.config_dir = self.cache / "docker-config"
        self.run_dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None
        self.timings: dict[str, float] = {}

    @property
    def socket(self) -> Path:
        assert self.run_dir is not None, "the engine is not started"
        return self.run_dir / "docker.sock"

    @property
    def log_file(self) -> Path:
        assert self.run_dir is not None, "the engine is not started"
        return self.run_dir / "dockerd.log"

    @property
    def env(self) -> dict[str, str]:
        """What a ``docker`` or ``docker compose`` command needs to use this engine."""
        return {
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_CONFIG": str(self.config_dir),
            "DOCKER_BUILDKIT": "0",
        }

    def start(self, timeout: float = 60) -> None:
        dockerd = which("dockerd")
        if dockerd is None:
            raise EngineError("dockerd is not installed: call install() first (Debian's docker.io)")
        self.data_root.mkdir(parents=True, exist_ok=True)
        self.config_dir.mkdir(parents=True, exist_ok=True)
        # Two daemons on one data root would corrupt it: the second run waits for none, it fails.
        self._lock = (self.cache / "docker.lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            raise EngineError(f"another run of the container tier uses {self.data_root}") from None
        # A short path: containerd's sockets live under the exec root (108 bytes at most).
        self.run_dir = Path(tempfile.mkdtemp(prefix="cfs-docker-"))
        command = [
            dockerd,
            "--data-root",
            str(self.data_root),
            "--exec-root",
            str(self.run_dir / "exec"),
            "--pidfile",
            str(self.run_dir / "dockerd.pid"),
            "--host",
            f"unix://{self.socket}",
        ]
        began = time.monotonic()
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_terminate_with_parent,
            )
        deadline = began + timeout
        while not self.ping():
            code = self.process.poll()
            if code is not None:
                tail = self.log_tail()
                self.stop()
                raise EngineError(f"dockerd exited {code} while starting\n{tail}")
            if time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise EngineError(f"dockerd did not answer within {timeout:.0f} s\n{tail}")
            time.sleep(0.2)
        self.timings["start"] = time.monotonic() - began
        say(f"dockerd {self.server_version()} ready in {self.timings['start']:.1f} s, data root {self.data_root}")

    def ping(self) -> bool:
        if self.run_dir is None or not self.socket.exists():
            return False
        connection = _UnixHTTPConnection(self.socket, timeout=2)
        try:
            connection.request("GET", "/_ping")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def server_version(self) -> str:
        return self.docker("version", "--format", "{{.Server.Version}}").stdout.strip()

    def command(self, *args: str | Path) -> list[str]:
        """A ``docker`` CLI command line; run it with ``env`` to reach this engine."""
        cli = which("docker")
        if cli is None:
            raise EngineError("no docker CLI on PATH (Debian's docker.io brings one)")
        return [cli, *map(str, args)]

    def docker(
        self, *args: str | Path, cwd: Path | None = None, timeout: float = 900, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the ``docker`` CLI against this engine."""
        return run(self.command(*args), env=self.env, cwd=cwd, timeout=timeout, check=check)

    def log_tail(self, lines: int = 60) -> str:
        if self.run_dir is None or not self.log_file.is_file():
            return "(no dockerd log)"
        text = self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()
        return f"--- last {lines} lines of {self.log_file} ---\n" + "\n".join(text[-lines:])

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM (dockerd stops its containers and containerd), SIGKILL after ``timeout``."""
        process, self.process = self.process, None
        code = None
        if process is not None:
            began = time.monotonic()
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    say(f"dockerd still running {timeout:.0f} s after SIGTERM: killing its process group")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            code = process.returncode
            self.timings["stop"] = time.monotonic() - began
            say(f"dockerd stopped (exit code {code}) in {self.timings['stop']:.1f} s")
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        return code

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
