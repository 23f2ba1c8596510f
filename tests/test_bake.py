"""Fast tier: bake every supported combination of answers and check what comes out.

One table drives the tests. Each combination is baked once (module-scoped fixture) and
every check below runs on that bake.
"""

import json
import re
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from support import REPO, TEMPLATE, in_app_template, project_files, run, tomllib, tool

LONG_PACKAGE = "stream_processing_service_with_long_name"  # 40 characters, the most allowed
LONG_APP = "enriched_page_view_aggregation"  # 30 characters, the most allowed

# Supported combinations: each is a set of answers; the others keep their defaults.
COMBINATIONS: list[dict[str, Any]] = [
    {},
    {"apps": "orders,page_views,alerts"},
    {"license": "MIT"},
    {"license": "Apache-2.0"},
    {"license": "BSD-3-Clause"},
    {"license": "Proprietary"},
    {"ci": "github"},
    {"ci": "gitlab", "apps": "orders,page_views"},
    {"ci": "none"},
    {"kubernetes": True},
    {"table_store": "rocksdb"},
    {"table_store": "rocksdb", "apps": "orders,page_views", "ci": "gitlab"},
    {"message_format": "json"},
    {"message_format": "avro"},
    {"message_format": "avro", "apps": "orders,page_views", "kubernetes": True, "python_version": "3.11"},
    {"message_format": "avro", "table_store": "rocksdb", "ci": "gitlab", "package_name": LONG_PACKAGE},
    {"kubernetes": True, "apps": "orders,page_views", "topic_partitions": 12, "worker_replicas": 3},
    {"worker_replicas": 4, "table_store": "rocksdb"},
    {"python_version": "3.14", "ci": "gitlab"},
    {"python_version": "3.13"},
    {"python_version": "3.12", "log_level": "debug"},
    {"python_version": "3.11", "ci": "gitlab"},
    {"python_version": "3.14", "license": "Apache-2.0"},
    {"package_name": LONG_PACKAGE, "apps": f"{LONG_APP},b"},
    {"project_name": "Q", "apps": "a"},
    {
        "apps": " orders , alerts ",
        "topic_partitions": 1,
        "web_port": 65535,
        "kafka_broker": "kafka://k1:9092;kafka://k2:9093",
    },
]
assert len(TEMPLATE.name) > 0 and TEMPLATE.is_dir()

MARKERS = ("{{ cookiecutter.", "{{cookiecutter.", "{%", "{#")
# GitHub Actions expressions are ${{ ... }}; any other {{ is a Jinja leftover.
STRAY_BRACES = re.compile(r"(?<!\$)\{\{")
JINJA_TAG = re.compile(r"\{%.*?%\}")

# The files that exist only for some answers, as cookiecutter.json declares them for the hook.
ONLY_FOR_ANSWERS: dict[str, dict[str, Any]] = json.loads((REPO / "cookiecutter.json").read_text(encoding="utf-8"))[
    "__only_for_answers"
]


def combination_id(answers: dict[str, Any]) -> str:
    return ",".join(f"{key}={value}" for key, value in answers.items()) or "defaults"


def app_names(context: dict[str, Any]) -> list[str]:
    return [name.strip() for name in context["apps"].split(",")]


@pytest.fixture(scope="module", params=COMBINATIONS, ids=combination_id)
def baked(request: pytest.FixtureRequest, cookies_session: Any) -> tuple[Path, dict[str, Any]]:
    """The project baked from one combination, and the full context it was baked with."""
    result = cookies_session.bake(extra_context=request.param)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return result.project_path, result.context


def read_texts(project: Path) -> dict[Path, str]:
    return {relative: (project / relative).read_text(encoding="utf-8") for relative in project_files(project)}


def expected_files(context: dict[str, Any]) -> set[Path]:
    """Every file the bake should produce, derived from the template's own files."""
    package, apps = context["package_name"], app_names(context)
    unchosen = [
        Path(jinja2.Template(path).render(cookiecutter=context))
        for path, answers in ONLY_FOR_ANSWERS.items()
        if any(context[question] != answer for question, answer in answers.items())
    ]
    expected = set()
    for source in TEMPLATE.rglob("*"):
        if not source.is_file() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(TEMPLATE).as_posix()
        if in_app_template(Path(relative)):
            # Copied as it is, less the {% raw %} that protects its own markers.
            expected.add(Path(relative.replace("{% raw %}", "").replace("{% endraw %}", "")))
            parts = Path(relative).parts
            if len(parts) > 2 and parts[1].startswith("{% raw %}"):  # .app-template/<project dir>/...: once per app
                # Rendered as cookiecutter renders names; one that renders empty is not written.
                name = jinja2.Template(Path(*parts[2:]).as_posix())
                # The first sub-app is the full example, the others lean.
                rendered = [
                    name.render(cookiecutter={**context, "app_name": app, "full_example": number == 0})
                    for number, app in enumerate(apps)
                ]
                expected |= {Path(path) for path in rendered if not path.endswith("/")}
            continue
        baked = Path(relative.replace("{{cookiecutter.package_name}}", package))
        if not any(baked.is_relative_to(path) for path in unchosen):
            expected.add(baked)
    return expected


def test_bake_has_the_expected_files(baked: tuple[Path, dict[str, Any]]) -> None:
    project, context = baked
    package = context["package_name"]
    files = set(project_files(project))
    first, *others = app_names(context)

    assert project.name == context["project_slug"]
    # The team's code on top, the runtime in one sub-package beside it.
    top_level = {path.name for path in (project / package).iterdir() if path.name != "__pycache__"}
    assert top_level == {"__init__.py", "__main__.py", "app.py", "settings.py", "runtime", *app_names(context)}
    # The first sub-app is the full example; every other one starts lean.
    example = {"__init__.py", "agents.py", "models.py", "views.py"}
    example_tests = {"__init__.py", "conftest.py", "test_agents.py", "test_integration.py", "test_views.py"}
    assert {path.name for path in (project / package / first).iterdir()} == example
    assert {path.name for path in (project / "tests" / first).iterdir()} >= example_tests
    for app in others:
        assert {path.name for path in (project / package / app).iterdir()} == {"__init__.py", "agents.py", "models.py"}
        assert {path.name for path in (project / "tests" / app).iterdir()} == {"__init__.py", "test_agents.py"}
    assert (Path(".github/workflows/ci.yml") in files) == (context["ci"] == "github")
    assert (Path(".gitlab-ci.yml") in files) == (context["ci"] == "gitlab")
    assert files == expected_files(context)


def test_no_template_markers_are_left(baked: tuple[Path, dict[str, Any]]) -> None:
    project, _ = baked
    for relative, text in read_texts(project).items():
        if in_app_template(relative):
            continue
        for marker in (*MARKERS, "{{", "}}"):
            assert marker not in relative.as_posix(), f"{relative}: {marker!r} in the path"
        for number, line in enumerate(text.splitlines(), 1):
            for marker in MARKERS:
                assert marker not in line, f"{relative}:{number}: {marker!r} left in {line!r}"
            assert not STRAY_BRACES.search(line), f"{relative}:{number}: '{{{{' left in {line!r}"


def test_python_files_compile(baked: tuple[Path, dict[str, Any]]) -> None:
    project, _ = baked
    for relative, text in read_texts(project).items():
        if relative.suffix == ".py" and not in_app_template(relative):
            compile(text, str(relative), "exec")


def test_ruff_passes_with_the_projects_own_config(baked: tuple[Path, dict[str, Any]]) -> None:
    project, _ = baked
    lint = run(tool("ruff"), "check", "--no-cache", ".", cwd=project, check=False)
    layout = run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=project, check=False)
    assert (lint.returncode, layout.returncode) == (0, 0), f"{lint.stdout}{lint.stderr}\n{layout.stdout}{layout.stderr}"


def test_data_files_parse(baked: tuple[Path, dict[str, Any]]) -> None:
    project, context = baked
    parsed = {}
    for relative, text in read_texts(project).items():
        if relative.suffix == ".toml":
            parsed[relative] = tomllib.loads(text)
        elif relative.suffix in (".yml", ".yaml"):
            parsed[relative] = yaml.safe_load(text)
        elif relative.suffix == ".json":
            parsed[relative] = json.loads(text)
    assert Path("pyproject.toml") in parsed
    metadata = parsed[Path("pyproject.toml")]["project"]
    assert metadata["name"] == context["project_slug"]
    assert metadata["version"] == context["version"]
    assert metadata["requires-python"] == f">={context['python_version']}"
    assert metadata["scripts"] == {context["package_name"]: f"{context['package_name']}.__main__:main"}


def test_whitespace_is_clean(baked: tuple[Path, dict[str, Any]]) -> None:
    project, _ = baked
    for relative, text in read_texts(project).items():
        if not text:
            continue
        lines = text.split("\n")
        assert text.endswith("\n"), f"{relative}: no newline at the end"
        assert not text.endswith("\n\n"), f"{relative}: blank lines at the end"
        assert lines[0].strip(), f"{relative}: starts with a blank line"
        for number, line in enumerate(lines, 1):
            assert line == line.rstrip(), f"{relative}:{number}: trailing whitespace in {line!r}"
        # Python's blank lines are ruff format's business; elsewhere one blank line separates.
        # (A sub-app file written only for some answers has a Jinja condition in its name.)
        most = 2 if Path(JINJA_TAG.sub("", relative.name)).suffix == ".py" else 1
        assert "\n" * (most + 2) not in text, f"{relative}: more than {most} blank lines in a row"


def test_the_message_format_reaches_every_file_that_depends_on_it(baked: tuple[Path, dict[str, Any]]) -> None:
    project, context = baked
    package, avro = context["package_name"], context["message_format"] == "avro"

    # `make app` renders later sub-apps from .app-template: in the same format.
    app_template = json.loads((project / ".app-template" / "cookiecutter.json").read_text(encoding="utf-8"))
    assert app_template["message_format"] == context["message_format"]
    dependencies = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert any(dependency.startswith("python-schema-registry-client") for dependency in dependencies) == avro
    settings = (project / package / "runtime" / "settings.py").read_text(encoding="utf-8")
    assert ('schema_registry_url: str = "http://localhost:8081"' in settings) == avro
    for number, app in enumerate(app_names(context)):
        models = (project / package / app / "models.py").read_text(encoding="utf-8")
        # Each record of the example's three topics, or the lean app's one, derives from the
        # runtime's Record, which is in the chosen format.
        records = 3 if number == 0 else 1
        assert models.count("(Record") == records
        assert ("Avro" in models) == avro
    records_module = (project / package / "runtime" / "records.py").read_text(encoding="utf-8")
    assert ("class Record(AvroRecord, abstract=True, include_metadata=False)" in records_module) == avro
    assert ('class Record(faust.Record, abstract=True, serializer="json"' in records_module) == (not avro)
    # ServiceApp gives topics of Avro records the registry's wire format.
    service_app = (project / package / "runtime" / "faust_app.py").read_text(encoding="utf-8")
    assert ("value_serializer = avro_serializer(" in service_app) == avro


def test_the_readme_documents_every_runtime_setting(baked: tuple[Path, dict[str, Any]]) -> None:
    """Each field of RuntimeSettings has a row in the baked README's settings table, as an environment variable."""
    project, context = baked
    settings = (project / context["package_name"] / "runtime" / "settings.py").read_text(encoding="utf-8")
    fields = re.findall(r"^    ([a-z_]+): [^=]+=", settings, re.MULTILINE)
    rows = [line for line in (project / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    assert "stall_timeout" in fields
    missing = [name for name in fields if not any(f"`{name.upper()}`" in row.split(" | ")[0] for row in rows)]
    assert not missing, missing
