"""The template repository's own Python (hooks, extensions, tests) passes its ruff config."""

from support import REPO, run, tool


def test_repo_python_passes_ruff() -> None:
    run(tool("ruff"), "check", "--no-cache", ".", cwd=REPO)
    run(tool("ruff"), "format", "--check", "--no-cache", ".", cwd=REPO)
