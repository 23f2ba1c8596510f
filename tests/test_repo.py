"""The template repository's own Python (hooks, extensions, tests) passes its ruff config."""

from support import REPO, run, tool


def test_repo_python_passes_ruff() -> None:
    run(tool("ruff"), "check", "--no-cache", ".", cwd=REPO)
    run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=REPO)


def test_container_tooling_shell_scripts_pass_shellcheck() -> None:
    scripts = [path for path in (REPO / "containers").rglob("*") if path.is_file() and path.read_bytes()[:2] == b"#!"]
    assert scripts
    run(tool("shellcheck"), *scripts, cwd=REPO)
