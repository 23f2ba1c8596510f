"""A throwaway Apache Kafka broker for the end-to-end tests, run from Maven Central's jars.

No Docker, no download site: Maven resolves the jars that ``kafka_test_broker/pom.xml`` names
(``org.apache.kafka:kafka_2.13``, the version the baked docker-compose.yml pins) into
``~/.m2``, and this module runs one combined broker and controller in KRaft mode on free
loopback ports, with its data and log in a temporary directory that it removes on stop.

By hand, in the foreground until Ctrl-C::

    python kafka_test_broker/broker.py              # free ports, prints the bootstrap address
    python kafka_test_broker/broker.py --port 9092  # where a baked project's default KAFKA_BROKER points

From Python (the e2e tests' ``kafka_bootstrap`` fixture, the benchmarks)::

    from kafka_test_broker.broker import Broker

    with Broker() as broker:
        ...  # broker.bootstrap == "127.0.0.1:PORT"

Standard library only: needs ``java`` (17+) and ``mvn`` on PATH. Readiness is a real
Kafka Metadata request over the wire that must list the broker, not an open port.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from pathlib import Path
from types import TracebackType

POM = Path(__file__).resolve().parent / "pom.xml"
HOST = "127.0.0.1"
LOG_TAIL_LINES = 100

# Settings of a single-node test cluster; the listeners, node id and log.dirs are added per run.
TEST_SETTINGS = {
    "process.roles": "broker,controller",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name": "PLAINTEXT",
    # One broker holds one replica of Kafka's internal topics.
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    # Consumer groups form at once instead of waiting for more members.
    "group.initial.rebalance.delay.ms": "0",
    "num.partitions": "4",
    "auto.create.topics.enable": "true",
}

LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
"""


class BrokerError(RuntimeError):
    """The broker could not be resolved, formatted or started; the message has its log."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cookiecutter-faust-service" / "kafka"


def classpath(pom: Path = POM) -> str:
    """The broker's classpath, resolved by Maven once per version of the pom.

    The jars stay in Maven's local repository (``~/.m2``); the classpath itself is cached
    under ``~/.cache`` keyed on the pom's hash, and resolved again if a jar has gone.
    """
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / f"classpath-{digest}.txt"
    if cached.is_file():
        text = cached.read_text(encoding="utf-8").strip()
        if text and all(Path(jar).is_file() for jar in text.split(os.pathsep)):
            return text
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("mvn is not on PATH: Maven resolves the Kafka broker's jars (apt-get install maven)")
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    command = [
        mvn,
        "-q",
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "dependency:build-classpath",
        f"-Dmdep.outputFile={partial}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not partial.is_file():
        raise BrokerError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    partial.replace(cached)
    return cached.read_text(encoding="utf-8").strip()


def java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise BrokerError("java is not on PATH: the Kafka broker needs Java 17 or later")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def random_cluster_id() -> str:
    """A cluster id as Kafka's ``Uuid.randomUuid()`` prints it (never starting with '-')."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def kill_with_parent() -> None:
    """In the child before exec: die if the process that started it dies (Linux only)."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


# --- Readiness: a Kafka Metadata request (v4, non-flexible) over a plain socket. ---


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        data += chunk
    return data


def _request(sock: socket.socket, api_key: int, version: int, correlation_id: int, body: bytes) -> bytes:
    client_id = b"e2e-broker-probe"
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    message = header + body
    sock.sendall(struct.pack(">i", len(message)) + message)
    (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
    response = _recv_exactly(sock, size)
    (answered,) = struct.unpack(">i", response[:4])
    if answered != correlation_id:
        raise ConnectionError(f"correlation id {answered}, expected {correlation_id}")
    return response[4:]


def metadata_brokers(host: str, port: int, timeout: float = 5.0) -> list[tuple[int, str, int]]:
    """The live brokers (node id, host, port) that a Metadata request to ``host:port`` lists."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        # Metadata v4: all topics (null array), no auto-creation.
        response = _request(sock, api_key=3, version=4, correlation_id=1, body=struct.pack(">i?", -1, False))
    offset = 4  # throttle_time_ms
    (count,) = struct.unpack_from(">i", response, offset)
    offset += 4
    brokers = []
    for _ in range(count):
        node_id, host_len = struct.unpack_from(">ih", response, offset)
        offset += 6
        broker_host = response[offset : offset + host_len].decode()
        offset += host_len
        (broker_port, rack_len) = struct.unpack_from(">ih", response, offset)
        offset += 6 + max(rack_len, 0)
        brokers.append((node_id, broker_host, broker_port))
    return brokers


class Broker:
    """One Kafka broker and controller in KRaft mode on free loopback ports.

    ``start()`` returns once the broker answers a Metadata request listing itself;
    ``stop()`` sends SIGTERM, then SIGKILL after ``stop_timeout`` seconds, and removes
    the data directory. Both raise or print the last lines of the broker's log on failure.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        heap: str = "512m",
        start_timeout: float = 120.0,
        stop_timeout: float = 20.0,
        settings: dict[str, str] | None = None,
        keep: bool = False,
        sasl_users: dict[str, str] | None = None,
    ) -> None:
        self.requested_port = port
        self.heap = heap
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.settings = {**TEST_SETTINGS, **(settings or {})}
        self.keep = keep
        # With users, a second listener asks for SASL: PLAIN or SCRAM-SHA-256/512.
        self.sasl_users = sasl_users or {}
        self.sasl_port = 0
        self.port = 0
        self.controller_port = 0
        self.node_id = 1
        self.workdir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.timings: dict[str, float] = {}

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def sasl_bootstrap(self) -> str:
        """The SASL_PLAINTEXT listener's address; only with ``sasl_users``."""
        assert self.sasl_port, "this broker was started without sasl_users"
        return f"{HOST}:{self.sasl_port}"

    def _sasl_properties(self) -> dict[str, str]:
        if not self.sasl_users:
            return {}
        self.sasl_port = free_port()
        plain_users = " ".join(f'user_{name}="{password}"' for name, password in self.sasl_users.items())
        return {
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port},"
            f"SASL_PLAINTEXT://{HOST}:{self.sasl_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port},SASL_PLAINTEXT://{HOST}:{self.sasl_port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config": (
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
            ),
            "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
        }

    def _scram_credentials(self) -> list[str]:
        """StorageTool options that create every user's SCRAM credentials with the cluster."""
        return [
            option
            for name, password in self.sasl_users.items()
            for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512")
            for option in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
        ]

    @property
    def log_file(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "broker.log"

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        began = time.monotonic()
        cp = classpath()
        self.timings["classpath"] = time.monotonic() - began
        # A free port can be taken between choosing and binding it: choose again then.
        attempts = 1 if self.requested_port else 3
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(cp)
                break
            except BrokerError:
                self._stop_process()
                in_use = self._log_mentions("Address already in use")
                self._remove_workdir()
                if attempt == attempts or not in_use:
                    raise
        self.timings["total"] = time.monotonic() - began

    def _start_once(self, cp: str) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="kafka-e2e-"))
        self.port = self.requested_port or free_port()
        self.controller_port = free_port()
        self._write_config()
        began = time.monotonic()
        self._format(cp)
        self.timings["format"] = time.monotonic() - began
        self._launch(cp)

    def _properties(self) -> dict[str, str]:
        # A node of a Cluster names every voter instead (controller.quorum.voters, a static quorum).
        quorum = (
            {}
            if "controller.quorum.voters" in self.settings
            else {"controller.quorum.bootstrap.servers": f"{HOST}:{self.controller_port}"}
        )
        return {
            "node.id": str(self.node_id),
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
            **quorum,
            "log.dirs": str(self.data_dir),
            **self.settings,
            **self._sasl_properties(),
        }

    @property
    def data_dir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "data"

    def _write_config(self) -> None:
        assert self.workdir is not None
        config = self.workdir / "server.properties"
        config.write_text("".join(f"{key}={value}\n" for key, value in self._properties().items()), encoding="utf-8")
        log4j = self.workdir / "log4j2.properties"
        log4j.write_text(LOG4J2.format(log=self.log_file), encoding="utf-8")

    def _jvm(self, cp: str) -> list[str]:
        assert self.workdir is not None
        return [
            java(),
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.properties'}",
            "-cp",
            cp,
        ]

    def _format(self, cp: str, cluster_id: str | None = None, standalone: bool = True) -> None:
        assert self.workdir is not None
        result = subprocess.run(
            [
                *self._jvm(cp),
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                cluster_id or random_cluster_id(),
                "--config",
                str(self.workdir / "server.properties"),
                *(["--standalone"] if standalone else []),
                *self._scram_credentials(),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BrokerError(f"formatting the storage failed ({result.returncode}):\n{result.stdout}{result.stderr}")

    def _launch(self, cp: str, wait: bool = True) -> None:
        """Run the broker on the formatted data directory; with ``wait``, until it answers."""
        assert self.workdir is not None
        began = time.monotonic()
        # Appends: a restarted broker's console follows the earlier run's.
        with (self.workdir / "stdout.log").open("ab") as output:
            self.process = subprocess.Popen(
                [*self._jvm(cp), "kafka.Kafka", str(self.workdir / "server.properties")],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
                preexec_fn=kill_with_parent if sys.platform == "linux" else None,
            )
        if wait:
            self.wait_ready(began)

    def wait_ready(self, began: float | None = None) -> None:
        """Return once the broker answers a Metadata request that lists itself; raise if it cannot."""
        assert self.process is not None
        began = time.monotonic() if began is None else began
        deadline = began + self.start_timeout
        last_error: Exception | None = None
        while True:
            code = self.process.poll()
            if code is not None:
                raise BrokerError(f"the broker exited with {code} while starting\n{self.log_tail()}")
            try:
                if any(port == self.port for _, _, port in metadata_brokers(HOST, self.port, timeout=2)):
                    break
            except (OSError, struct.error) as exc:
                last_error = exc
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"no metadata from {self.bootstrap} within {self.start_timeout:.0f} s "
                    f"(last error: {last_error!r})\n{self.log_tail()}"
                )
            time.sleep(0.2)
        self.timings["ready"] = time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL, as a crashed broker dies: no clean shutdown; its data and ports stay for ``restart()``."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self, wait: bool = True) -> None:
        """Start a killed or stopped broker again, on the same data directory and ports."""
        assert self.workdir is not None and self.process is None, "restart() follows kill()"
        self._launch(classpath(), wait=wait)

    def _log_mentions(self, text: str) -> bool:
        if self.workdir is None:
            return False
        for name in ("broker.log", "stdout.log"):
            path = self.workdir / name
            if path.is_file() and text in path.read_text(encoding="utf-8", errors="replace"):
                return True
        return False

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the broker's log (and of its console, if it printed anything)."""
        if self.workdir is None:
            return "(no broker log)"
        parts = []
        for name in ("broker.log", "stdout.log"):
            path = self.workdir / name
            if path.is_file() and path.stat().st_size:
                with path.open(encoding="utf-8", errors="replace") as handle:
                    tail = "".join(deque(handle, maxlen=lines))
                parts.append(f"--- last {lines} lines of {path} ---\n{tail}")
        return "\n".join(parts) or f"(the broker wrote no log in {self.workdir})"

    def stop(self) -> int | None:
        """Stop the broker (SIGTERM, then SIGKILL) and remove its directory; return its exit code."""
        code = self._stop_process()
        self._remove_workdir()
        return code

    def _stop_process(self) -> int | None:
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            began = time.monotonic()
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                print(
                    f"kafka broker: no exit {self.stop_timeout:.0f} s after SIGTERM, killing it\n{self.log_tail()}",
                    file=sys.stderr,
                )
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            self.timings["stop"] = time.monotonic() - began
        return process.returncode

    def _remove_workdir(self) -> None:
        if self.workdir is not None and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


# A production-shaped cluster: three copies of everything, writes acknowledged by two.
CLUSTER_SETTINGS = {
    "offsets.topic.replication.factor": "3",
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
    "share.coordinator.state.topic.replication.factor": "3",
    "share.coordinator.state.topic.min.isr": "2",
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
}


class Cluster:
    """``size`` brokers, each also a controller, in one KRaft quorum on free loopback ports.

    ``nodes[i]`` is a ``Broker`` of node id ``i + 1``: ``kill()`` and ``restart()`` it as a
    single broker. ``start()`` returns once every node answers a Metadata request;
    ``stop()`` stops them all and removes their directories.
    """

    def __init__(
        self,
        size: int = 3,
        *,
        heap: str = "384m",
        start_timeout: float = 180.0,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.nodes = [
            Broker(heap=heap, start_timeout=start_timeout, settings={**CLUSTER_SETTINGS, **(settings or {})})
            for _ in range(size)
        ]
        self.timings: dict[str, float] = {}

    @property
    def bootstrap(self) -> str:
        """Every node's address, comma-separated, as Kafka's clients take them."""
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> Broker:
        return self.nodes[node_id - 1]

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        began = time.monotonic()
        cp = classpath()
        cluster_id = random_cluster_id()
        try:
            for number, node in enumerate(self.nodes, start=1):
                node.node_id = number
                node.workdir = Path(tempfile.mkdtemp(prefix=f"kafka-e2e-node{number}-"))
                node.port, node.controller_port = free_port(), free_port()
            voters = ",".join(f"{node.node_id}@{HOST}:{node.controller_port}" for node in self.nodes)
            for node in self.nodes:
                node.settings["controller.quorum.voters"] = voters
                node._write_config()
                node._format(cp, cluster_id, standalone=False)
            self.timings["format"] = time.monotonic() - began
            # All at once: none answers before a majority of the quorum is up.
            for node in self.nodes:
                node._launch(cp, wait=False)
            for node in self.nodes:
                node.wait_ready(began)
        except BrokerError:
            self.stop()
            raise
        self.timings["total"] = time.monotonic() - began

    def stop(self) -> None:
        """Kill every node and remove its directory: with a node gone, the rest could not shut down cleanly."""
        for node in self.nodes:
            node.kill()
            node.stop()


def _interrupt(signum: int, frame: object) -> None:
    """Stop cleanly on SIGTERM as on Ctrl-C."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=None, help="listen on 127.0.0.1:PORT (default: a free port)")
    parser.add_argument("--keep", action="store_true", help="keep the data and log directory after stopping")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _interrupt)
    broker = Broker(args.port, keep=args.keep)
    try:
        broker.start()
    except BrokerError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        broker.stop()
        return 130
    try:
        print(
            f"Kafka {KAFKA_VERSION} ready in {broker.timings['total']:.1f} s on {broker.bootstrap}\n"
            f"  KAFKA_BROKER=kafka://{broker.bootstrap}\n"
            f"  log: {broker.log_file}\n"
            "Ctrl-C stops it.",
            flush=True,
        )
        while broker.process is not None and broker.process.poll() is None:
            time.sleep(0.5)
        print(f"the broker exited by itself\n{broker.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        code = broker.stop()
        print(f"stopped (exit code {code})", file=sys.stderr)


def _kafka_version() -> str:
    text = POM.read_text(encoding="utf-8")
    start = text.index("<kafka.version>") + len("<kafka.version>")
    return text[start : text.index("</kafka.version>", start)]


KAFKA_VERSION = _kafka_version()

if __name__ == "__main__":
    sys.exit(main())
