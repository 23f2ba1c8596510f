"""Validate the answers before anything is written.

Answers arrive as JSON literals, so quotes or backslashes in them cannot break this
script. Each bad answer is reported on one line that names it, says what is wrong and
what is allowed; cookiecutter then removes the half-made project directory.
"""

import keyword
import re
import sys

ANSWERS = {
    "project_name": {{cookiecutter.project_name | tojson}},
    "project_slug": {{cookiecutter.project_slug | tojson}},
    "package_name": {{cookiecutter.package_name | tojson}},
    "author_email": {{cookiecutter.author_email | tojson}},
    "version": {{cookiecutter.version | tojson}},
    "apps": {{cookiecutter.apps | tojson}},
    "kafka_broker": {{cookiecutter.kafka_broker | tojson}},
    "topic_partitions": {{cookiecutter.topic_partitions | tojson}},
    "worker_replicas": {{cookiecutter.worker_replicas | tojson}},
    "web_port": {{cookiecutter.web_port | tojson}},
}

SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
# PEP 440 public versions, as pip and PyPI accept them.
VERSION = re.compile(
    r"([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*((a|b|rc)(0|[1-9][0-9]*))?"
    r"(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?"
)
BROKER = re.compile(r"(kafka|aiokafka)://[A-Za-z0-9.-]+:[0-9]{1,5}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Importing the service must never pick up our package instead of one of these.
SHADOWED = {
    "faust",
    "mode",
    "aiokafka",
    "aiohttp",
    "click",
    "pydantic",
    "pydantic_settings",
    "yarl",
    "venusian",
    "croniter",
    "terminaltables",
    "mypy",
    # With message_format=avro.
    "dataclasses_avroschema",
    "fastavro",
    "httpx",
    "schema_registry",
    "pytest",
    "ruff",
    "test",
    "tests",
}
# The package's own modules and packages, which a sub-app must not replace.
PACKAGE_MODULES = {"__init__", "__main__", "app", "runtime", "settings", "tests"}


def check_identifier(answer: str, name: str, allowed: str, longest: int) -> str | None:
    if len(name) > longest:
        return f"{answer}: {name!r} is longer than {longest} characters; {allowed}"
    if not IDENTIFIER.fullmatch(name):
        return f"{answer}: {name!r} is not a lowercase Python identifier; {allowed}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{answer}: {name!r} is a Python keyword; {allowed}"
    return None


def check_int(answer: str, value: object, low: int, high: int) -> str | None:
    try:
        number = int(str(value))
    except ValueError:
        return f"{answer}: {value!r} is not a whole number; use one from {low} to {high}"
    if not low <= number <= high:
        return f"{answer}: {number} is out of range; use one from {low} to {high}"
    return None


def problems() -> list[str]:
    found = []
    if not ANSWERS["project_name"].strip():
        found.append("project_name: is empty; give the service a name, e.g. Clickstream Service")
    slug = ANSWERS["project_slug"]
    if not SLUG.fullmatch(slug):
        found.append(
            f"project_slug: {slug!r} is not kebab-case; use lowercase letters, digits and"
            " single hyphens, starting with a letter, e.g. clickstream-service"
        )
    package = ANSWERS["package_name"]
    allowed = "use lowercase letters, digits and underscores, starting with a letter, e.g. clickstream_service"
    error = check_identifier("package_name", package, allowed, 40)
    if error:
        found.append(error)
    elif package in sys.stdlib_module_names or package in SHADOWED:
        found.append(
            f"package_name: {package!r} would shadow the module of that name in the standard"
            " library or the service's dependencies; choose a name of your own, e.g. clickstream_service"
        )
    apps = [name.strip() for name in ANSWERS["apps"].split(",")]
    allowed = "use comma-separated lowercase identifiers, e.g. page_views,orders"
    if apps == [""]:
        found.append(f"apps: is empty; {allowed}")
    else:
        seen = set()
        for name in apps:
            # App names prefix topics, URLs and command names: keep them short.
            error = check_identifier("apps", name, allowed, 30)
            if error:
                found.append(error)
            elif name in PACKAGE_MODULES:
                found.append(f"apps: {name!r} clashes with the package's own module {name}; choose another name")
            elif name in seen:
                found.append(f"apps: {name!r} is listed twice; list each sub-app once")
            seen.add(name)
    if not VERSION.fullmatch(ANSWERS["version"]):
        found.append(f"version: {ANSWERS['version']!r} is not a PEP 440 version; use e.g. 0.1.0")
    if not EMAIL.fullmatch(ANSWERS["author_email"]):
        found.append(
            f"author_email: {ANSWERS['author_email']!r} is not an e-mail address; use e.g. jane.doe@example.com"
        )
    brokers = ANSWERS["kafka_broker"].split(";")
    if not all(BROKER.fullmatch(broker) for broker in brokers):
        found.append(
            f"kafka_broker: {ANSWERS['kafka_broker']!r} is not a Faust broker URL; use"
            " kafka://HOST:PORT, several separated by ';'"
        )
    checks = {
        "topic_partitions": check_int("topic_partitions", ANSWERS["topic_partitions"], 1, 1000),
        # The image runs as a non-root user, which cannot bind ports below 1024.
        "web_port": check_int("web_port", ANSWERS["web_port"], 1024, 65535),
        "worker_replicas": check_int("worker_replicas", ANSWERS["worker_replicas"], 1, 1000),
    }
    found.extend(error for error in checks.values() if error)
    if not checks["topic_partitions"] and not checks["worker_replicas"]:
        replicas, partitions = int(str(ANSWERS["worker_replicas"])), int(str(ANSWERS["topic_partitions"]))
        # Kafka gives each partition to one worker of the group: the others would idle.
        if replicas > partitions:
            found.append(
                f"worker_replicas: {replicas} workers for {partitions} partitions would leave"
                f" {replicas - partitions} without work; use at most topic_partitions ({partitions})"
            )
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
