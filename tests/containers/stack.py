"""What the container tier's fixtures and tests share: a baked project's Compose stack.

The stack is driven with the ``docker compose`` commands its README gives, against the
tier's private engine (containers/engine.py), and reached only through the ports it
publishes, on 127.0.0.1. The template's test venv has no Kafka client: Kafka's own tools
run inside the kafka container, and the service is reached over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from containers.engine import Engine

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 1.0) -> T:
    """Call ``probe`` until it returns something other than None; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def readme_command(project: Path, prefix: str) -> list[str]:
    """The first command of the baked README that starts with ``prefix``, as words, comment dropped."""
    for line in (project / "README.md").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith(prefix):
            return line.split("#", 1)[0].split()
    raise AssertionError(f"the baked README gives no `{prefix} …` command")


@dataclass
class Stack:
    """A baked project, its rendered context, and the engine its stack runs on."""

    engine: Engine
    project: Path
    context: dict[str, Any]
    # time.time() before the stack was started: where its container events begin.
    began: float = 0.0

    @property
    def apps(self) -> list[str]:
        return [name.strip() for name in self.context["apps"].split(",")]

    @property
    def compose_file(self) -> dict[str, Any]:
        return yaml.safe_load((self.project / "docker-compose.yml").read_text(encoding="utf-8"))

    def compose(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """``docker compose ARGS`` in the project; on failure, its output, the services' state and logs."""
        result = self.engine.docker("compose", *args, cwd=self.project, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(
                f"`docker compose {' '.join(args)}` exited {result.returncode}\n"
                f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}\n{self.diagnosis()}"
            )
        return result

    def run_readme(self, prefix: str, *extra: str, timeout: float = 900) -> float:
        """Run the README's command that starts with ``prefix`` (plus ``extra``); return its seconds."""
        command = readme_command(self.project, prefix)
        assert command[:2] == ["docker", "compose"], command
        began = time.monotonic()
        self.compose(*command[2:], *extra, timeout=timeout)
        return time.monotonic() - began

    def diagnosis(self) -> str:
        """The services' state and the last lines of their logs, for a failure message."""
        state = self.engine.docker("compose", "--profile", "scale", "ps", "-a", cwd=self.project, check=False)
        logs = self.engine.docker(
            "compose", "--profile", "scale", "logs", "--no-color", "--tail", "60", cwd=self.project, check=False
        )
        return f"--- docker compose ps -a ---\n{state.stdout}{state.stderr}\n--- logs ---\n{logs.stdout}{logs.stderr}"

    def containers(self, *services: str) -> list[dict[str, Any]]:
        """``docker inspect`` of the project's containers (of ``services`` only, if given), all profiles."""
        listed = self.compose("--profile", "scale", "ps", "-a", "--quiet", *services).stdout.split()
        if not listed:
            return []
        return json.loads(self.engine.docker("inspect", *listed).stdout)

    def service_of(self, container: dict[str, Any]) -> str:
        return str(container["Config"]["Labels"]["com.docker.compose.service"])

    def host_port(self, service: str, port: int, index: int = 1) -> int:
        """The host port that ``port`` of the service's ``index``-th container is published on."""
        published = self.compose("port", "--index", str(index), service, str(port)).stdout.strip()
        return int(published.rsplit(":", 1)[1])

    def kafka_tool(self, tool: str, *args: str, timeout: float = 120) -> bytes:
        """One of Kafka's own tools, run in the kafka container as the seed tutorial does; its output."""
        command = ["exec", "-T", "kafka", f"/opt/kafka/bin/{tool}", "--bootstrap-server", "localhost:19092", *args]
        # Bytes: the console consumer prints Avro values as they are.
        result = subprocess.run(
            self.engine.command("compose", *command),
            cwd=self.project,
            env={**os.environ, **self.engine.env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, (
            f"{tool} {' '.join(args)} exited {result.returncode}\n"
            f"{result.stdout.decode(errors='replace')}{result.stderr.decode(errors='replace')}"
        )
        return result.stdout

    @contextlib.contextmanager
    def following_logs(self, containers: set[str], into: Path) -> Iterator[Callable[[], str]]:
        """Follow the logs of ``containers`` into files under ``into``; yield a reader of their last lines.

        For what a container printed before a command that removes it (``down``).
        """
        followers = []
        try:
            for container in sorted(containers):
                sink = (into / f"{container[:12]}.log").open("wb")
                followers.append(
                    (
                        sink,
                        subprocess.Popen(
                            self.engine.command("logs", "--follow", "--timestamps", container),
                            env={**os.environ, **self.engine.env},
                            stdin=subprocess.DEVNULL,
                            stdout=sink,
                            stderr=subprocess.STDOUT,
                        ),
                    )
                )

            def tails(lines: int = 40) -> str:
                text = []
                for sink, _ in followers:
                    sink.flush()
                    logged = Path(sink.name).read_text(encoding="utf-8", errors="replace").splitlines()
                    text.append(f"--- last {lines} lines of {Path(sink.name).stem} ---\n" + "\n".join(logged[-lines:]))
                return "\n".join(text)

            yield tails
        finally:
            for sink, follower in followers:
                follower.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    follower.wait(10)
                sink.close()

    def events_since(self, began: float) -> list[dict[str, Any]]:
        """The engine's container events of this project since ``began`` (a time.time())."""
        result = self.engine.docker(
            "events",
            "--since",
            f"{began:.3f}",
            "--until",
            f"{time.time():.3f}",
            "--filter",
            "type=container",
            "--filter",
            f"label=com.docker.compose.project={self.context['project_slug']}",
            "--format",
            "{{json .}}",
        )
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def http(method: str, port: int, path: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    """A JSON request to 127.0.0.1:``port``; (status, decoded body), whatever the status."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        with contextlib.suppress(ValueError):
            return error.code, json.loads(text)
        return error.code, text


def port_in_use(port: int) -> bool:
    """Whether something on this machine listens on TCP ``port`` (any address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def published_host_ports(compose_file: dict[str, Any]) -> dict[str, int]:
    """The fixed host ports of the compose file's services (``"9092:9092"``), by service."""
    ports = {}
    for name, service in compose_file["services"].items():
        for entry in service.get("ports", []):
            parts = str(entry).split(":")
            if len(parts) >= 2 and parts[-2]:
                ports[f"{name}:{parts[-1]}"] = int(parts[-2])
    return ports


def image_names(project: Path) -> list[str]:
    """The images the baked Dockerfile builds from and docker-compose.yml runs."""
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile, flags=re.M | re.I))
    bases = [name for name in re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.M | re.I) if name not in stages]
    compose = yaml.safe_load((project / "docker-compose.yml").read_text(encoding="utf-8"))
    services = [service["image"] for service in compose["services"].values() if "image" in service]
    return list(dict.fromkeys(bases + services))


def parse_consumer_lines(output: bytes) -> list[tuple[bytes, bytes]]:
    """The (key, value) of each record that ``kafka-console-consumer --property print.key=true`` printed."""
    records = []
    for line in output.split(b"\n"):
        if b"\t" in line:
            key, value = line.split(b"\t", 1)
            records.append((key, value))
    return records


# --- Confluent's wire format and Avro's binary encoding, as much as the baked records use. ---


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, size: int) -> bytes:
        chunk = self.data[self.at : self.at + size]
        assert len(chunk) == size, "the Avro value ends early"
        self.at += size
        return chunk

    def long(self) -> int:
        shift = result = 0
        while True:
            byte = self.take(1)[0]
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return (result >> 1) ^ -(result & 1)

    def read(self, schema: Any) -> Any:
        if isinstance(schema, list):  # a union: the branch's index first
            return self.read(schema[self.long()])
        kind = schema["type"] if isinstance(schema, dict) else schema
        if kind == "record":
            return {field["name"]: self.read(field["type"]) for field in schema["fields"]}
        if kind in ("int", "long"):
            return self.long()
        if kind == "double":
            return struct.unpack("<d", self.take(8))[0]
        if kind == "float":
            return struct.unpack("<f", self.take(4))[0]
        if kind == "boolean":
            return self.take(1) == b"\x01"
        if kind == "null":
            return None
        if kind in ("string", "bytes"):
            raw = self.take(self.long())
            return raw.decode() if kind == "string" else raw
        raise AssertionError(f"no decoder here for the Avro type {schema!r}")


def decode_confluent_avro(value: bytes, schema_of: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    """A record in Confluent's wire format: magic byte 0, the schema's id (4 bytes), the Avro body."""
    assert value[:1] == b"\x00", f"not Confluent's wire format (magic byte {value[:1]!r})"
    (schema_id,) = struct.unpack(">I", value[1:5])
    reader = _Reader(value[5:])
    record = reader.read(schema_of(schema_id))
    assert reader.at == len(reader.data), "bytes left after the record"
    return dict(record)
