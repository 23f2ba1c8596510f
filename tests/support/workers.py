"""Workers of a baked service: ``<pkg> worker`` started as the Dockerfile starts it, and asked over HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka_test_broker.broker import free_port, kill_with_parent

from .baking import Installed
from .commands import say, wait_for_output

# The LOG_LEVEL values at which the worker logs no "Worker ready" line.
QUIET_LEVELS = frozenset({"warn", "warning", "error", "crit", "critical"})


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
                preexec_fn=kill_with_parent if sys.platform == "linux" else None,
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
        wait_for_output(self.process, lambda: self.output, text, timeout, name="the worker", predicate=predicate)
        return time.monotonic() - self.started_at

    def ready(self, timeout: float = 90) -> float:
        """Wait until the worker processes its partitions; return the seconds since start."""
        if self.env.get("LOG_LEVEL", "info").lower() in QUIET_LEVELS:
            # Faust logs "Worker ready" at info: a quieter worker is asked over HTTP.
            self.ready_after = self.wait_for("/health/ready/ 200", timeout, lambda _: self.answers_ready())
        else:
            self.ready_after = self.wait_for("Worker ready", timeout)
        say(f"worker {self.env['APP_ID']}: ready {self.ready_after:.1f} s after start")
        return self.ready_after

    def answers_ready(self) -> bool:
        """Whether the worker answers 200 on /health/ready/ now."""
        return self.status("/health/ready/", timeout=2)[0] == 200

    def terminate(self, timeout: float = 10) -> int:
        """SIGTERM, as `docker stop` sends; kill the group and fail if it outlives ``timeout``."""
        began = self.send_sigterm()
        return self.wait_exit(began, timeout)

    def send_sigterm(self) -> float:
        """SIGTERM, and nothing else; the time.monotonic() it was sent."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        return began

    def wait_exit(self, began: float, timeout: float = 10) -> int:
        """The exit code of a worker sent SIGTERM at ``began``; kill it and fail if it outlives ``timeout``."""
        assert self.process is not None
        try:
            code = self.process.wait(max(0.0, began + timeout - time.monotonic()))
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

    def status(self, path: str, timeout: float = 5) -> tuple[int, Any]:
        """GET ``path``: (status, decoded body); (0, the error) when the worker does not answer."""
        try:
            return self.get_with_status(path, timeout=timeout)
        except (OSError, ValueError) as error:
            return 0, repr(error)

    @contextmanager
    def sampling_health(self, interval: float = 0.5) -> Iterator[list[HealthSample]]:
        """Ask /health/live/ and /health/ready/ every ``interval`` seconds in a thread, until the block ends."""
        samples: list[HealthSample] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                at = time.time()
                live, live_body = self.status("/health/live/")
                ready, ready_body = self.status("/health/ready/")
                samples.append(HealthSample(at, live, live_body, ready, ready_body))
                done.wait(interval)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield samples
        finally:
            done.set()
            thread.join(timeout=15)

    def vm_status(self, field: str = "VmRSS") -> int:
        """A field of /proc/<pid>/status in kB (VmRSS: resident memory now; VmHWM: its peak)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise AssertionError(f"no {field} in /proc/{self.process.pid}/status")

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


@dataclass(frozen=True)
class HealthSample:
    """One look at the health views: when (epoch seconds), each view's status (0: no answer) and body."""

    at: float
    live: int
    live_body: Any
    ready: int
    ready_body: Any

    @property
    def reason(self) -> str:
        return str(self.ready_body.get("reason", "")) if isinstance(self.ready_body, dict) else ""


class Workers:
    """Starts `<pkg> worker` as the Dockerfile does; ``kill_all()`` ends whatever still runs."""

    def __init__(self, baked: Installed, root: Path, settings: dict[str, str] | None = None) -> None:
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
    "ENRICH_BATCH_SIZE",
    "ENRICH_BATCH_WINDOW_SECONDS",
    "BATCH_SIZE",
    "BATCH_WINDOW_SECONDS",
    "REPORT_INTERVAL_SECONDS",
}
