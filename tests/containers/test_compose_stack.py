"""The baked Compose stack, run as the baked README says: built, started, used, scaled, stopped.

One stack per combination (conftest.py), shared by this module's tests in their order:
the last two scale it out and bring it down.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from containers.engine import say
from kafka_test_broker import broker
from stack import (
    Stack,
    decode_confluent_avro,
    http,
    parse_consumer_lines,
    readme_command,
    wait_for,
)

pytestmark = pytest.mark.containers

WORKERS = ("worker", "worker-replica")


def test_every_service_ends_healthy_or_completed(stack: Stack) -> None:
    services = stack.compose_file["services"]
    started = [name for name, service in services.items() if "profiles" not in service]
    containers = {stack.service_of(container): container for container in stack.containers()}
    assert sorted(containers) == sorted(started)
    for name, container in containers.items():
        state = container["State"]
        if "healthcheck" in services[name] or container["Config"].get("Healthcheck"):
            assert (state["Status"], state.get("Health", {}).get("Status")) == ("running", "healthy"), name
        else:
            # A one-shot service (the topics) must have done its work.
            assert (state["Status"], state["ExitCode"]) == ("exited", 0), (name, stack.compose("logs", name).stdout)


def test_services_start_in_the_order_depends_on_gives(stack: Stack) -> None:
    config = json.loads(stack.compose("config", "--format", "json").stdout)
    events = stack.events_since(stack.began)
    first: dict[tuple[str, str], int] = {}
    for event in events:
        key = (event["Actor"]["Attributes"]["com.docker.compose.service"], event["Action"])
        first.setdefault(key, event["timeNano"])
    checked = 0
    for name, service in config["services"].items():
        if "profiles" in service:
            continue
        for dependency, how in (service.get("depends_on") or {}).items():
            ready = {"service_healthy": "health_status: healthy", "service_completed_successfully": "die"}
            assert how["condition"] in ready, how
            after = first.get((dependency, ready[how["condition"]]))
            assert after is not None, f"{dependency} never reached {how['condition']}"
            assert first[(name, "start")] >= after, f"{name} started before {dependency} was {how['condition']}"
            checked += 1
    assert checked, "no depends_on in the compose file"


def test_the_worker_runs_as_the_images_unprivileged_user(stack: Stack) -> None:
    (container,) = stack.containers("worker")
    image = json.loads(stack.engine.docker("image", "inspect", container["Image"]).stdout)[0]
    user = image["Config"]["User"]
    uid = user.split(":")[0]
    assert uid not in ("", "0", "root"), f"the image runs as {user!r}"
    # The worker itself (PID 1 of its container), not only a shell started beside it.
    status = stack.compose("exec", "-T", "worker", "cat", "/proc/1/status").stdout
    real, effective = next(line.split()[1:3] for line in status.splitlines() if line.startswith("Uid:"))
    assert real == effective == uid
    say(f"worker image user {user}; PID 1 runs as uid {effective}")


def test_a_crash_in_native_code_logs_the_python_traceback(stack: Stack) -> None:
    # The image's environment (PYTHONFAULTHANDLER): a segmentation fault, as a C
    # extension or RocksDB can cause, prints where Python was before the process dies.
    crash = "import ctypes; ctypes.string_at(0)"
    result = stack.compose("exec", "-T", "worker", "python", "-c", crash, check=False)
    assert result.returncode != 0
    assert "Fatal Python error: Segmentation fault" in result.stderr, result.stderr
    assert 'File "<string>", line 1' in result.stderr, result.stderr


def post_event(stack: Stack, app: str, key: str) -> dict[str, Any]:
    event = {"id": uuid.uuid4().hex, "key": key, "amount": 2.5}
    status, body = http("POST", stack.host_port("worker", stack.context["web_port"]), f"/{app}/events/", event)
    assert status in (200, 202) and body == {"id": event["id"]}, (status, body)
    return event


def counted(port: int, app: str, key: str) -> Any:
    """The count answer for ``key`` once it is not 0, else None."""
    status, body = http("GET", port, f"/{app}/counts/{key}/")
    return body if status == 200 and body.get("count") else None


def test_an_event_posted_over_http_comes_back_in_the_counts(stack: Stack) -> None:
    port = stack.host_port("worker", stack.context["web_port"])
    # The example sub-app, the first: the lean ones have no views.
    for app in stack.apps[:1]:
        key = f"home-{uuid.uuid4().hex[:8]}"
        post_event(stack, app, key)
        began = time.monotonic()
        answer = wait_for(
            f"a count for {key} from /{app}/counts/", lambda app=app, key=key: counted(port, app, key), 120
        )
        say(f"{app}: POSTed event counted after {time.monotonic() - began:.1f} s: {answer}")
        assert answer == {"key": key, "count": 1}


def test_kafkas_console_consumer_shows_the_enriched_record(stack: Stack) -> None:
    avro = stack.context["message_format"] == "avro"

    def schema(schema_id: int) -> dict[str, Any]:
        status, body = http("GET", stack.host_port("schema-registry", 8081), f"/schemas/ids/{schema_id}")
        assert status == 200, body
        return dict(json.loads(body["schema"]))

    # The example sub-app's pipeline: the lean ones have no enriched topic.
    for app in stack.apps[:1]:
        event = post_event(stack, app, f"console-{uuid.uuid4().hex[:8]}")

        def find_record(app: str = app, event: dict[str, Any] = event) -> dict[str, Any] | None:
            output = stack.kafka_tool(
                "kafka-console-consumer.sh",
                *("--topic", f"{app}.enriched", "--from-beginning", "--timeout-ms", "5000"),
                *("--property", "print.key=true"),
            )
            for _, value in parse_consumer_lines(output):
                record = decode_confluent_avro(value, schema) if avro else json.loads(value)
                if record.get("id") == event["id"]:
                    return dict(record)
            return None

        record = wait_for(f"{app}.enriched record of event {event['id']}", find_record, 240, interval=0)
        say(f"{app}.enriched, read by kafka-console-consumer.sh in the kafka container: {record}")
        assert {name: record[name] for name in event} == event
        assert record["key_count"] == 1


def test_kafka_answers_the_host_on_the_port_it_publishes(stack: Stack) -> None:
    # The address Kafka advertises to the host is the one its clients go on to use.
    port = stack.host_port("kafka", 9092)
    brokers = broker.metadata_brokers("127.0.0.1", port)
    assert [(host, advertised) for _, host, advertised in brokers] == [("localhost", port)]


def test_the_topics_service_made_every_topic_with_the_chosen_partitions(stack: Stack) -> None:
    output = stack.kafka_tool("kafka-topics.sh", "--describe").decode()
    partitions = {}
    for line in output.splitlines():
        fields = dict(item.split(": ", 1) for item in line.split("\t") if ": " in item)
        if "PartitionCount" in fields:
            partitions[fields["Topic"]] = int(fields["PartitionCount"])
    example, *lean = stack.apps
    topics = [f"{example}.{topic}" for topic in ("events", "enriched", "batch-summaries")]
    for topic in [*topics, *(f"{app}.events" for app in lean)]:
        assert partitions.get(topic) == int(stack.context["topic_partitions"]), (topic, partitions)


def group_members(stack: Stack) -> list[dict[str, Any]]:
    """The consumer group's members and their partitions, from Kafka's kafka-consumer-groups tool."""
    output = stack.kafka_tool(
        "kafka-consumer-groups.sh", "--describe", "--group", stack.context["project_slug"], "--members", "--verbose"
    ).decode()
    lines = [line.split() for line in output.splitlines() if line.strip()]
    header = next(line for line in lines if "CONSUMER-ID" in line)
    members = []
    for line in lines[lines.index(header) + 1 :]:
        row = dict(zip(header, line, strict=False))
        assignment: dict[str, set[int]] = {}
        for part in row.get("CURRENT-ASSIGNMENT", "-").split(";"):
            if ":" in part:
                topic, numbers = part.split(":")
                assignment[topic] = {int(number) for number in numbers.split(",")}
        members.append({"id": row["CONSUMER-ID"], "host": row["HOST"], "assignment": assignment})
    return members


def replicas(stack: Stack) -> int:
    """How many worker-replica containers the README's scale-out command asks for."""
    command = readme_command(stack.project, "docker compose --profile scale up")
    if "--scale" in command:
        service, number = command[command.index("--scale") + 1].split("=")
        assert service == "worker-replica", command
        return int(number)
    return int(stack.compose_file["services"]["worker-replica"].get("deploy", {}).get("replicas", 1))


def test_scaled_out_workers_share_the_partitions(stack: Stack) -> None:
    seconds = stack.run_readme("docker compose --profile scale up", "--wait", timeout=1200)
    say(f"README's scale-out command with --wait: {seconds:.0f} s")
    workers = stack.containers(*WORKERS)
    assert [container["State"]["Health"]["Status"] for container in workers] == ["healthy"] * len(workers)
    expected = 1 + replicas(stack)
    assert len(workers) == expected
    partitions = set(range(int(stack.context["topic_partitions"])))

    def settled() -> list[dict[str, Any]] | None:
        # Until every worker has joined and each events partition has exactly one owner.
        members = group_members(stack)
        for app in stack.apps:
            owned = [n for member in members for n in member["assignment"].get(f"{app}.events", ())]
            if sorted(owned) != sorted(partitions):
                return None
        return members if len(members) == expected else None

    members = wait_for("every worker in the group, each events partition owned once", settled, 240, interval=2)
    for member in members:
        say(f"group member {member['host']}: {sorted(member['assignment'].items())}")
    for app in stack.apps:
        owners = [member for member in members if member["assignment"].get(f"{app}.events")]
        assert len(owners) > 1, f"one worker holds every partition of {app}.events"

    # Any worker answers for any key: table_route forwards the request over the compose network.
    ports = [stack.host_port("worker", stack.context["web_port"])] + [
        stack.host_port("worker-replica", stack.context["web_port"], index) for index in range(1, expected)
    ]
    app = stack.apps[0]
    keys = [f"spread-{number}-{uuid.uuid4().hex[:6]}" for number in range(8)]
    for key in keys:
        post_event(stack, app, key)
    for key in keys:
        wait_for(f"a count for {key}", lambda key=key: counted(ports[0], app, key), 120)
    answers = {(port, key): http("GET", port, f"/{app}/counts/{key}/") for port in ports for key in keys}
    assert answers == {(port, key): (200, {"key": key, "count": 1}) for port in ports for key in keys}


def die_events(stack: Stack, began: float, containers: set[str]) -> dict[str, str]:
    """The exit code of each of ``containers`` that died since ``began``."""
    return {
        event["id"]: event["Actor"]["Attributes"]["exitCode"]
        for event in stack.events_since(began)
        if event["Action"] == "die" and event["id"] in containers
    }


def test_a_worker_stops_by_itself_on_sigterm(stack: Stack) -> None:
    """``docker stop`` (SIGTERM, SIGKILL after 10 s) of each replica in turn: each exits 0 by itself.

    Workers stopped together, each reached by the rebalance that another's leaving
    starts: tests/e2e/test_scale_out.py. Here the last stop's rebalance can reach the
    worker that the README's stop command stops next.
    """
    for container in stack.containers("worker-replica"):
        began = time.time()
        stack.engine.docker("stop", container["Id"])
        seconds = time.time() - began
        say(f"{container['Name'].lstrip('/')}: stopped in {seconds:.1f} s")
        assert die_events(stack, began, {container["Id"]}) == {container["Id"]: "0"}, stack.diagnosis()


def test_the_readme_stop_command_leaves_nothing(stack: Stack, tmp_path: Path) -> None:
    containers = stack.containers()
    running = {
        container["Id"]
        for container in containers
        if container["State"]["Running"] and stack.service_of(container) in WORKERS
    }
    volumes = {mount["Name"] for container in containers for mount in container["Mounts"] if mount["Type"] == "volume"}
    assert running and volumes
    # The broker's log says what started a rebalance that reaches a stopping worker.
    followed = running | {container["Id"] for container in containers if stack.service_of(container) == "kafka"}
    began = time.time()
    with stack.following_logs(followed, tmp_path) as logs:
        seconds = stack.run_readme("docker compose --profile scale down", "--volumes")
        say(f"the README's stop command with --volumes: {seconds:.0f} s")
        # The worker still running (the replicas were stopped before) shut down by itself.
        assert die_events(stack, began, running) == dict.fromkeys(running, "0"), logs()
    assert stack.containers() == []
    assert volumes.isdisjoint(stack.engine.docker("volume", "ls", "--quiet").stdout.split())
    project = f"label=com.docker.compose.project={stack.context['project_slug']}"
    assert stack.engine.docker("network", "ls", "--quiet", "--filter", project).stdout.split() == []
