"""What the e2e tier's fixtures and tests share: the broker, the baked project, workers.

The broker runs from Maven Central's jars (Java and Maven needed, no Docker). The
default project is baked once, built into a wheel and installed, not editable, into
a fresh uv venv; its console script runs the worker as the Dockerfile does. The
template's test venv has no Kafka client: ``kafka_client.py`` beside this file runs
under the baked venv's Python to create topics, produce and consume.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helpers import find_python
from kafka_test_broker import broker

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
KAFKA_CLIENT = HERE / "kafka_client.py"
SEED_APP = HERE / "seed_myapp.py"
APP = "page_views"  # the default answer of `apps`
PARTITIONS = 4  # the default answer of `topic_partitions`


def say(message: str) -> None:
    """A line that `pytest -s` shows: the tier's timings."""
    print(f"\n[e2e] {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_broker(label: str, **options: Any) -> Any:
    """A started broker of kafka_test_broker/broker.py; fails the test with the broker's log if it cannot start."""
    kafka = broker.Broker(**options)
    try:
        kafka.start()
    except broker.BrokerError as exc:
        pytest.fail(f"the Kafka broker did not start:\n{exc}", pytrace=False)
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in kafka.timings.items())
    say(f"{label} Kafka {broker.KAFKA_VERSION} broker on {kafka.bootstrap}: {timings}")
    return kafka


# --- The baked project, installed from its wheel ---------------------------------------


def uv_command() -> list[str]:
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return [str(beside)]
    if importlib.util.find_spec("uv") is not None:
        return [sys.executable, "-m", "uv"]
    found = shutil.which("uv")
    assert found, "uv is not installed: install the dev group (see README.md)"
    return [found]


def run(command: Sequence[str | Path], *, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    args = [str(part) for part in command]
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    assert result.returncode == 0, (
        f"`{' '.join(args)}` exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
    return result


@dataclass
class Baked:
    """The default project, baked, built and installed from its wheel into a venv of its own."""

    project: Path
    package: str
    venv: Path
    python_version: str

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def kafka_client(self, *args: str, stdin: str | None = None, timeout: float = 120) -> list[dict[str, Any]]:
        """Run kafka_client.py under the baked venv's Python; return the JSON lines it printed."""
        result = run([self.python, KAFKA_CLIENT, *args], input=stdin, timeout=timeout)
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def bake_and_install(root: Path, answers: dict[str, str] | None = None, template: Path = REPO) -> Baked:
    """Bake the default answers (or these), build the wheel and install it, not editable, in a fresh venv.

    `template` is this checkout unless a benchmark bakes another one beside it.
    """
    from cookiecutter.main import cookiecutter

    options: list[str] = json.loads((template / "cookiecutter.json").read_text(encoding="utf-8"))["python_version"]
    # The default answer if its interpreter is here, else the next one that is.
    version = next((option for option in options if find_python(option)), None)
    assert version, f"no interpreter of any supported Python {options}"
    interpreter = find_python(version)
    assert interpreter

    config = root / "cookiecutter-config.yaml"
    config.write_text(f"cookiecutters_dir: {root / 'templates'}\nreplay_dir: {root / 'replay'}\n", encoding="utf-8")
    began = time.monotonic()
    project = Path(
        cookiecutter(
            str(template),
            no_input=True,
            extra_context={"python_version": version, **(answers or {})},
            output_dir=str(root),
            config_file=str(config),
        )
    )
    baked_at = time.monotonic()
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}
    uv = uv_command()
    dist = root / "dist"
    run([*uv, "build", "--wheel", "--python", interpreter, "--out-dir", dist, project], env=env)
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 1, wheels
    venv = root / "venv"
    run([*uv, "venv", "--python", interpreter, venv], env=env)
    run([*uv, "pip", "install", "--python", venv / "bin" / "python", wheels[0]], env=env)
    say(
        f"baked {project.name} (Python {version}) in {baked_at - began:.1f} s; "
        f"wheel {wheels[0].name} built and installed in {time.monotonic() - baked_at:.1f} s"
    )
    return Baked(project=project, package=project.name.replace("-", "_"), venv=venv, python_version=version)


# --- Workers -------------------------------------------------------------------------


@dataclass
class Worker:
    """One worker process, started in a process group of its own, its output in a file."""

    command: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    web_port: int
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    ready_after: float | None = None
    history: list[str] = field(default_factory=list)

    def start(self) -> Worker:
        assert self.process is None or self.process.poll() is not None, "already running"
        if self.log.exists():
            self.history.append(self.log.read_text(encoding="utf-8", errors="replace"))
        self.ready_after = None
        with self.log.open("wb") as output:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # Dies with the test run even if that is killed before its clean-up.
                preexec_fn=broker.kill_with_parent if sys.platform == "linux" else None,
            )
        return self

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.output.splitlines()[-lines:])

    def wait_for(self, text: str, timeout: float, predicate: Callable[[str], bool] | None = None) -> float:
        """Wait until the output of this run contains ``text``; return the seconds since start."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            output = self.output
            if predicate(output) if predicate else text in output:
                return time.monotonic() - self.started_at
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited {self.process.returncode} before {text!r}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} from the worker within {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.1)

    def ready(self, timeout: float = 90) -> float:
        self.ready_after = self.wait_for("Worker ready", timeout)
        say(f"worker {self.env['APP_ID']}: 'Worker ready' {self.ready_after:.1f} s after start")
        return self.ready_after

    def terminate(self, timeout: float = 10) -> int:
        """SIGTERM, as `docker stop` sends; kill the group and fail if it outlives ``timeout``."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the worker was still running {timeout:.0f} s after SIGTERM:\n{self.tail()}"
            ) from None
        say(f"worker {self.env['APP_ID']}: exited {code} {time.monotonic() - began:.1f} s after SIGTERM")
        return code

    def kill(self) -> None:
        """SIGKILL to the worker's whole process group: no clean-up of any kind."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def get(self, path: str, timeout: float = 10) -> Any:
        """GET a JSON view of the worker; fail with the answer and the worker's log unless 200."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}{path}", timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
            raise AssertionError(f"GET {path}: {error.code} {body}\n{self.tail()}") from None

    def get_with_status(self, path: str, timeout: float = 10) -> tuple[int, Any]:
        """GET a JSON view of the worker, whatever the status: (status, decoded body)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}{path}", timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def is_live(self) -> bool:
        """Whether GET /health/live/ answers 200 now."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/health/live/", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def get_text(self, path: str, timeout: float = 10) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}{path}", timeout=timeout) as response:
            return str(response.read().decode())

    def post(self, path: str, body: Any, timeout: float = 10) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


class Workers:
    """Starts `<pkg> worker` as the Dockerfile does; ``kill_all()`` ends whatever still runs."""

    def __init__(self, baked: Baked, root: Path, settings: dict[str, str] | None = None) -> None:
        self.baked = baked
        self.root = root
        # Short timers by default, so tests see the timer and batches within seconds.
        self.settings = E2E_SETTINGS if settings is None else settings
        self.started: list[Worker] = []

    def __call__(
        self,
        bootstrap: str,
        app_id: str | None = None,
        command: list[str] | None = None,
        files: Sequence[Path] = (),
        **extra: str,
    ) -> Worker:
        """Start a worker on ``bootstrap`` in consumer group ``app_id`` (a new one by default).

        ``command`` replaces `<pkg> worker`; ``files`` are copied into its working directory.
        """
        app_id = app_id or f"e2e-{uuid.uuid4().hex[:8]}"
        cwd = self.root / f"worker-{len(self.started)}"
        cwd.mkdir()
        for path in files:
            shutil.copy(path, cwd / path.name)
        port = free_port()
        # Only this worker's settings: none leaks in from the shell that runs the tests.
        env = {key: value for key, value in os.environ.items() if key not in IGNORED_ENV}
        env.update(
            {
                "PATH": f"{self.baked.bin}{os.pathsep}{os.environ.get('PATH', '')}",
                "PYTHONUNBUFFERED": "1",
                "KAFKA_BROKER": f"kafka://{bootstrap}",
                "WEB_PORT": str(port),
                "APP_ID": app_id,
                **self.settings,
                **extra,
            }
        )
        worker = Worker(
            command=command or [str(self.baked.bin / self.baked.package), "worker"],
            env=env,
            cwd=cwd,
            log=cwd / "worker.log",
            web_port=port,
        )
        self.started.append(worker)
        return worker.start()

    def kill_all(self) -> None:
        for worker in self.started:
            worker.kill()


E2E_SETTINGS = {"REPORT_INTERVAL_SECONDS": "1", "BATCH_WINDOW_SECONDS": "1", "LOG_LEVEL": "info"}

IGNORED_ENV = {
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "APP_ID",
    "KAFKA_BROKER",
    "WEB_PORT",
    "STORE",
    "TOPIC_PARTITIONS",
    "LOG_LEVEL",
    "BATCH_SIZE",
    "BATCH_WINDOW_SECONDS",
    "REPORT_INTERVAL_SECONDS",
}
