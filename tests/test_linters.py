"""What cannot run here (no Docker engine, no CI runner) is checked by its real linters.

Each baked Dockerfile, Compose file and CI file goes through the linter or schema its
platform uses, and the promises the README makes about them are asserted directly.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import REPO, SUPPORTED, run, tool

ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

COMBINATIONS = [
    pytest.param({}, id="defaults"),
    pytest.param(
        {"apps": "orders,page_views", "ci": "gitlab", "python_version": "3.11", "topic_partitions": 8},
        id="gitlab-two-apps",
    ),
    pytest.param({"ci": "none", "python_version": "3.12", "web_port": 8080, "kubernetes": True}, id="no-ci-k8s"),
    pytest.param({"table_store": "rocksdb"}, id="rocksdb"),
    pytest.param({"message_format": "avro", "worker_replicas": 2, "kubernetes": True, "web_port": 7070}, id="avro"),
]


@pytest.fixture(scope="session")
def actionlint() -> str:
    """actionlint, a Go program: built from the Go module proxy the first time."""
    gobin = Path(subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True, check=True).stdout.strip())
    installed = shutil.which("actionlint") or gobin / "bin" / "actionlint"
    if not Path(installed).exists():
        run("go", "install", ACTIONLINT)
    return str(installed)


@pytest.fixture(params=COMBINATIONS)
def baked(cookies: Any, request: pytest.FixtureRequest) -> tuple[Path, dict[str, Any]]:
    answers = request.param
    result = cookies.bake(extra_context=answers)
    assert result.exit_code == 0, result.exception
    return Path(result.project_path), {**result.context, **answers}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_dockerfile_passes_hadolint(baked: tuple[Path, dict[str, Any]]) -> None:
    project, _ = baked
    run(tool("hadolint"), "Dockerfile", cwd=project)


def test_dockerfile_runs_the_console_script_as_non_root(baked: tuple[Path, dict[str, Any]]) -> None:
    project, answers = baked
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")

    assert f"FROM python:{answers['python_version']}-slim AS build" in dockerfile
    assert re.search(r"^USER [1-9][0-9]*:[1-9][0-9]*$", dockerfile, re.MULTILINE)
    assert f"EXPOSE {answers['web_port']}" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/health/live/" in dockerfile
    assert dockerfile.rstrip().endswith(f'CMD ["{answers["package_name"]}", "worker"]')


def test_compose_file_matches_the_compose_specification(baked: tuple[Path, dict[str, Any]]) -> None:
    project, _ = baked
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml", cwd=project)


def test_compose_runs_kraft_kafka_creates_the_topics_and_waits_for_it(
    baked: tuple[Path, dict[str, Any]],
) -> None:
    project, answers = baked
    services = load(project / "docker-compose.yml")["services"]

    avro = answers["message_format"] == "avro"
    assert set(services) == {"kafka", "topics", "worker", "worker-replica"} | ({"schema-registry"} if avro else set())
    for service in ("kafka", "topics"):
        image = services[service]["image"]
        assert re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", image), f"{service} image not pinned: {image}"
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert not any("ZOOKEEPER" in variable for variable in services["kafka"]["environment"])
    assert "test" in services["kafka"]["healthcheck"]
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "topics": {"condition": "service_completed_successfully"},
        **({"schema-registry": {"condition": "service_healthy"}} if avro else {}),
    }
    if avro:
        registry = services["schema-registry"]
        assert re.fullmatch(r"confluentinc/cp-schema-registry:\d+\.\d+\.\d+", registry["image"])
        assert registry["depends_on"] == {"kafka": {"condition": "service_healthy"}}
        assert registry["environment"]["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"] == "PLAINTEXT://kafka:19092"
        assert "test" in registry["healthcheck"]
        # The worker reaches the registry by its service name and the port it listens on.
        assert registry["environment"]["SCHEMA_REGISTRY_LISTENERS"] == "http://0.0.0.0:8081"
        assert services["worker"]["environment"]["SCHEMA_REGISTRY_URL"] == "http://schema-registry:8081"
    else:
        assert not any("SCHEMA_REGISTRY" in variable for variable in services["worker"]["environment"])
    script = services["topics"]["command"][0]
    assert f"--partitions {answers['topic_partitions']}" in script
    # The example sub-app's three topics, and the one topic of each lean sub-app.
    first, *others = answers["apps"].split(",")
    topics = [f"{first}.{topic}" for topic in ("events", "enriched", "batch-summaries")]
    topics += [f"{app}.events" for app in others]
    assert re.search(r"for topic in (.*); do", script)[1].split() == topics
    assert services["worker"]["ports"] == [f"{answers['web_port']}:{answers['web_port']}"]
    # RocksDB tables live in the worker's working directory: a volume keeps them.
    rocksdb = answers["table_store"] == "rocksdb"
    assert services["worker"].get("volumes") == (["worker-data:/service"] if rocksdb else None)


def test_compose_scales_out_with_replicas_of_the_worker(baked: tuple[Path, dict[str, Any]]) -> None:
    """`docker compose --profile scale up --scale worker-replica=N`: N more workers of the same group."""
    project, answers = baked
    services = load(project / "docker-compose.yml")["services"]
    worker, replica = services["worker"], services["worker-replica"]

    # The worker as it is (same image, settings, APP_ID: one consumer group), only when asked for.
    assert replica["profiles"] == ["scale"]
    # With the scale profile, Compose runs as many workers as the answer asks for.
    replicas = int(answers["worker_replicas"])
    assert replica.get("deploy") == ({"replicas": replicas - 1} if replicas > 1 else None)
    different = {"ports", "volumes", "profiles", "deploy"}
    assert {key: value for key, value in replica.items() if key not in different} == {
        key: value for key, value in worker.items() if key not in different
    }
    # Replicas publish the web port on a free host port each: a fixed one would clash.
    assert replica["ports"] == [str(answers["web_port"])]
    # RocksDB files belong to one worker: each replica gets an anonymous volume of its own.
    assert replica.get("volumes") == (["/service"] if answers["table_store"] == "rocksdb" else None)


def test_compose_topic_script_passes_shellcheck(baked: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    project, _ = baked
    script = load(project / "docker-compose.yml")["services"]["topics"]["command"][0]
    # Compose turns $$ into $ before the shell sees the script.
    (tmp_path / "topics.sh").write_text(script.replace("$$", "$"), encoding="utf-8")
    run(tool("shellcheck"), "--shell=bash", tmp_path / "topics.sh")


def matrix_from(oldest: str) -> list[str]:
    """Every offered Python from `oldest` on, oldest first: the versions a baked CI tests."""
    minors = sorted(int(version.split(".")[1]) for version in SUPPORTED)
    return [f"3.{minor}" for minor in minors if minor >= int(oldest.split(".")[1])]


def test_ci_files_pass_their_platform_checks(baked: tuple[Path, dict[str, Any]], actionlint: str) -> None:
    project, answers = baked
    workflow = project / ".github" / "workflows" / "ci.yml"
    gitlab = project / ".gitlab-ci.yml"
    assert workflow.exists() == (answers.get("ci", "github") == "github")
    assert gitlab.exists() == (answers.get("ci") == "gitlab")
    if workflow.exists():
        run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow))
        run(actionlint, str(workflow.relative_to(project)), cwd=project)
    if gitlab.exists():
        run(tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(gitlab))
        (versions,) = load(gitlab)["check"]["parallel"]["matrix"]
        assert versions["PYTHON_VERSION"] == matrix_from(answers["python_version"])
        integration = load(gitlab)["integration"]
        images = [service["name"].split(":")[0] for service in integration["services"]]
        if answers["message_format"] == "avro":
            assert images == ["apache/kafka", "confluentinc/cp-schema-registry"]
            assert integration["variables"]["SCHEMA_REGISTRY_URL"] == "http://schema-registry:8081"
            # Without it, GitLab's services cannot reach each other: the registry needs the broker.
            assert integration["variables"]["FF_NETWORK_PER_BUILD"] == "true"
        else:
            assert images == ["apache/kafka"]


def test_github_workflow_has_least_privilege_pinned_actions_and_a_python_matrix(
    baked: tuple[Path, dict[str, Any]],
) -> None:
    project, answers = baked
    workflow_file = project / ".github" / "workflows" / "ci.yml"
    if answers.get("ci", "github") != "github":
        assert not workflow_file.exists()
        return
    workflow = load(workflow_file)
    job = workflow["jobs"]["check"]

    assert workflow["permissions"] == {"contents": "read"}
    for step in (step for each in workflow["jobs"].values() for step in each["steps"]):
        if "uses" in step:
            assert re.search(r"@v\d+\.\d+\.\d+$", step["uses"]), f"unpinned action: {step['uses']}"
    integration = workflow["jobs"]["integration"]
    assert re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", integration["services"]["kafka"]["image"])
    (step,) = (step for step in integration["steps"] if step.get("run") == "uv run --locked pytest -m integration")
    if answers["message_format"] == "avro":
        # A registry beside the broker, which it reaches on the services' network.
        registry = integration["services"]["schema-registry"]
        assert re.fullmatch(r"confluentinc/cp-schema-registry:\d+\.\d+\.\d+", registry["image"])
        assert registry["env"]["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"] == "PLAINTEXT://kafka:19092"
        assert "INTERNAL://kafka:19092" in integration["services"]["kafka"]["env"]["KAFKA_ADVERTISED_LISTENERS"]
        assert step["env"]["SCHEMA_REGISTRY_URL"] == "http://localhost:8081"
    else:
        assert set(integration["services"]) == {"kafka"}
    assert job["strategy"]["matrix"]["python-version"] == matrix_from(answers["python_version"])
    commands = "\n".join(step.get("run", "") for step in job["steps"])
    for check in ("ruff check", "ruff format --check", "mypy", "pytest"):
        assert check in commands


def ci_commands(project: Path) -> list[str]:
    """Every shell command of the baked CI, whichever provider it is for."""
    commands = []
    workflow, gitlab = project / ".github" / "workflows" / "ci.yml", project / ".gitlab-ci.yml"
    if workflow.exists():
        jobs = load(workflow)["jobs"].values()
        commands += [line for job in jobs for step in job["steps"] for line in step.get("run", "").splitlines()]
    if gitlab.exists():
        jobs = [job for job in load(gitlab).values() if isinstance(job, dict) and "script" in job]
        commands += [line for job in jobs for line in (*job.get("before_script", []), *job["script"])]
    return commands


def test_ci_and_the_image_install_exactly_what_uv_lock_pins(baked: tuple[Path, dict[str, Any]]) -> None:
    project, answers = baked
    commands = ci_commands(project)
    if answers.get("ci", "github") != "none":
        installs = [command for command in commands if "install" in command or " sync" in command]
        # uv itself at one version, then the project from the lock; nothing resolved anew.
        assert installs and all(
            command.startswith("uv sync --locked") or re.fullmatch(r"python -m pip install 'uv==[\d.]+'", command)
            for command in installs
        ), installs
        assert all(command.startswith("uv run --locked ") for command in commands if command.startswith("uv run"))
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY pyproject.toml uv.lock " in dockerfile
    assert "RUN uv sync --locked --no-dev --no-editable" in dockerfile
    assert "!uv.lock" in (project / ".dockerignore").read_text(encoding="utf-8").splitlines()


def test_the_update_bot_config_matches_its_schema(baked: tuple[Path, dict[str, Any]]) -> None:
    project, answers = baked
    dependabot, renovate = project / ".github" / "dependabot.yml", project / "renovate.json"
    ci = answers.get("ci", "github")
    assert (dependabot.exists(), renovate.exists()) == (ci == "github", ci == "gitlab")
    if dependabot.exists():
        run(tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", dependabot)
        ecosystems = {update["package-ecosystem"] for update in load(dependabot)["updates"]}
        assert ecosystems == {"uv", "github-actions", "docker"}
    if renovate.exists():
        run(tool("check-jsonschema"), "--builtin-schema", "vendor.renovate", renovate)
        assert json.loads(renovate.read_text(encoding="utf-8"))["lockFileMaintenance"]["enabled"] is True


def test_ci_scripts_pass_shellcheck() -> None:
    forky_root = REPO / "forky-root"
    # -x: follow the scripts' `source` of location.sh.
    run(tool("shellcheck"), "-x", REPO / ".ci" / "run", forky_root / "provide", forky_root / "run", cwd=REPO)


K8S_RESOURCES = ("configmap.yaml", "deployment.yaml", "service.yaml")


def test_kubernetes_manifests_match_the_kubernetes_schemas(baked: tuple[Path, dict[str, Any]]) -> None:
    project, answers = baked
    if not answers.get("kubernetes"):
        assert not (project / "k8s").exists()
        return
    run(tool("kubernetes-validate"), "--strict", *K8S_RESOURCES, cwd=project / "k8s")
    kustomization = load(project / "k8s" / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(K8S_RESOURCES)


def test_kubernetes_deployment_probes_health_runs_as_non_root_and_outlasts_shutdown(
    baked: tuple[Path, dict[str, Any]],
) -> None:
    project, answers = baked
    if not answers.get("kubernetes"):
        return
    deployment = load(project / "k8s" / "deployment.yaml")
    assert deployment["spec"]["replicas"] == int(answers["worker_replicas"])
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]

    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live/"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready/"
    assert container["ports"] == [{"name": "web", "containerPort": answers["web_port"]}]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"requests", "limits"} <= set(container["resources"])
    # Faust needs up to a minute to commit and leave the consumer group on SIGTERM.
    assert pod["terminationGracePeriodSeconds"] > 60
    config = load(project / "k8s" / "configmap.yaml")["data"]
    assert ("SCHEMA_REGISTRY_URL" in config) == (answers["message_format"] == "avro")
    assert config["TOPIC_PARTITIONS"] == str(answers["topic_partitions"])
    assert config["WEB_PORT"] == str(answers["web_port"])
    assert {"configMapRef": {"name": answers["project_slug"]}} in container["envFrom"]
    # Replicas forward key lookups (table_route) to each other at WEB_HOST: the pod's IP.
    assert {"name": "WEB_HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}} in container["env"]
