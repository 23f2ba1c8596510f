"""Fast tier: answers the pre-generation hook must refuse, awkward ones it must accept,
and baking that depends on nothing but the answers."""

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import REPO, in_app_template, project_files, run, tomllib, tool

# Each bad answer, with the answer's name that the hook's error line must start with.
BAD_ANSWERS: list[dict[str, Any]] = [
    {"apps": "class"},
    {"apps": ""},
    {"apps": "a,a"},
    {"apps": "app"},
    {"apps": "Orders"},
    {"apps": "orders,"},
    {"apps": "x" * 31},
    {"package_name": "json"},
    {"package_name": "faust"},
    {"package_name": "p" * 41},
    {"package_name": "async"},
    {"web_port": 80},
    {"web_port": "abc"},
    {"topic_partitions": 0},
    {"worker_replicas": 0},
    {"worker_replicas": "two"},
    # More workers than the default 4 partitions: one would idle.
    {"worker_replicas": 5},
    {"author_email": "nope"},
    {"kafka_broker": "localhost:9092"},
    {"version": "one"},
    {"project_slug": "Bad Slug"},
    {"project_name": " "},
]


def answer_id(answers: dict[str, Any]) -> str:
    ((key, value),) = answers.items()
    return f"{key}={str(value)[:12]}"


@pytest.mark.parametrize("answers", BAD_ANSWERS, ids=answer_id)
def test_bad_answer_stops_the_bake_and_leaves_nothing(
    answers: dict[str, Any], cookies: Any, tmp_path: Path, cookiecutter_config: Path
) -> None:
    ((key, value),) = answers.items()

    result = cookies.bake(extra_context=answers)
    assert result.exit_code != 0
    assert result.exception is not None
    # pytest-cookies bakes into tmp_path/cookies/bakeNN: the failed bake must leave it empty.
    assert [path.name for path in (tmp_path / "cookies").rglob("*") if path.name != "bake00"] == []

    # The command a user runs: it must say which answer is wrong and leave no directory.
    output = tmp_path / "out"
    output.mkdir()
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--config-file", cookiecutter_config]
    baked = run(*command, REPO, f"{key}={value}", "--output-dir", output, check=False, timeout=120)
    assert baked.returncode != 0
    assert list(output.iterdir()) == []
    errors = [line for line in baked.stderr.splitlines() if line.startswith("ERROR: ") and ": " in line[7:]]
    assert any(line.startswith(f"ERROR: {key}: ") for line in errors), baked.stderr


AWKWARD = {
    "project_name": 'Zoë\'s "Quoted" Service',
    "description": 'Counts "clicks", back\\slashes \\n, l\'été — naïve {braces} & <tags>; 100% #1: ok',
    "author_name": "Renée O'Brien",
    "author_email": "renee.o'brien+faust@example.co.uk",
    "apps": "orders",
}


# The awkward package name sorts after "tests": Avro's test helpers import from both.
@pytest.mark.parametrize("message_format", ["json", "avro"])
def test_awkward_but_legal_answers_bake_valid_files(cookies: Any, message_format: str) -> None:
    result = cookies.bake(extra_context={**AWKWARD, "message_format": message_format})
    assert result.exception is None, result.exception
    project = result.project_path
    assert project.name == "zoe-s-quoted-service"

    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert metadata["description"] == AWKWARD["description"]
    assert metadata["authors"] == [{"name": AWKWARD["author_name"], "email": AWKWARD["author_email"]}]
    for relative in project_files(project):
        text = (project / relative).read_text(encoding="utf-8")
        if relative.suffix in (".yml", ".yaml"):
            yaml.safe_load(text)
        elif relative.suffix == ".py" and not in_app_template(relative):
            compile(text, str(relative), "exec")
    assert AWKWARD["author_name"] in (project / "LICENSE").read_text(encoding="utf-8")
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {AWKWARD['project_name']}\n")
    assert AWKWARD["description"] in readme
    run(tool("ruff"), "check", "--no-cache", ".", cwd=project)
    run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=project)


def snapshot(project: Path) -> dict[str, tuple[int, bytes]]:
    return {
        relative.as_posix(): ((project / relative).stat().st_mode, (project / relative).read_bytes())
        for relative in project_files(project)
    }


def test_same_answers_bake_identical_trees(cookies: Any) -> None:
    answers = {"apps": "orders,page_views,alerts", "ci": "gitlab", "license": "Apache-2.0"}
    first, second = cookies.bake(extra_context=answers), cookies.bake(extra_context=answers)
    assert first.exception is None, first.exception
    assert second.exception is None, second.exception
    assert first.project_path != second.project_path

    assert snapshot(first.project_path) == snapshot(second.project_path)


def test_replay_bakes_the_same_tree(tmp_path: Path, cookiecutter_config: Path) -> None:
    command = [sys.executable, "-m", "cookiecutter", "--config-file", str(cookiecutter_config)]
    run(*command, "--no-input", "-o", tmp_path / "first", REPO, "apps=orders,alerts", "license=BSD-3-Clause")
    run(*command, "--replay", "-o", tmp_path / "replayed", REPO)

    first, replayed = (next((tmp_path / name).iterdir()) for name in ("first", "replayed"))
    assert snapshot(first) == snapshot(replayed)
    assert {path.name for path in (replayed / "clickstream_service").iterdir()} >= {"orders", "alerts"}


# The package's own modules, and the runtime package beside them.
PACKAGE_MODULES = sorted(
    path.stem
    for path in (REPO / "{{cookiecutter.project_slug}}" / "{{cookiecutter.package_name}}").iterdir()
    if path.suffix == ".py" or (path.is_dir() and path.name != "__pycache__")
)


@pytest.mark.parametrize("module", PACKAGE_MODULES)
def test_a_sub_app_named_like_a_module_of_the_package_is_refused(module: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), str(REPO), f"apps={module}"]
    result = run(*command, check=False)

    assert result.returncode != 0
    assert f"ERROR: apps: '{module}'" in result.stderr
    assert not any(tmp_path.iterdir())


def test_a_message_format_that_is_not_offered_is_refused_with_the_choices(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), str(REPO)]
    result = run(*command, "message_format=protobuf", check=False)

    assert result.returncode != 0
    # Cookiecutter checks choice answers itself, before the hook runs.
    assert "protobuf provided for choice variable message_format, but the choices are ['json', 'avro']" in result.stderr
    assert not any(tmp_path.iterdir())
