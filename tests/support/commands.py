"""Running commands: the dev group's tools, interpreters of other Pythons, one ``run`` for all."""

import glob
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

# Tools installed with the dev group sit beside the interpreter running the tests.
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Path of a command-line tool of the dev group (ruff, uv...)."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    assert found, f"{name} is not installed: install the dev group (see README.md)"
    return found


def run(
    *command: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; on failure show the command and all it printed.

    ``env`` is added to this process's environment; ``input`` is the command's standard
    input (none by default).
    """
    args = [str(part) for part in command]
    result = subprocess.run(
        args,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        stdin=subprocess.DEVNULL if input is None else None,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert result.returncode == 0, (
            f"`{' '.join(args)}` exited {result.returncode} in {cwd or Path.cwd()}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return result


def say(message: str, tag: str = "e2e") -> None:
    """A line that `pytest -s` shows: what a bake or an e2e step took."""
    print(f"\n[{tag}] {message}", flush=True)


def find_python(version: str) -> str | None:
    """An interpreter of Python `version` (e.g. "3.12") on PATH or under pyenv, or None."""
    candidates = [shutil.which(f"python{version}")]
    roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout.strip()
        roots.insert(0, root)
    for root in filter(None, roots):
        candidates += sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in filter(None, candidates):
        # pyenv's shims exist for every version but fail for those not selected.
        probe = [candidate, "-c", "import sys; print('{}.{}'.format(*sys.version_info))"]
        result = subprocess.run(probe, capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip() == version:
            return candidate
    return None


def wait_for_output(
    process: subprocess.Popen[bytes],
    read: Callable[[], str],
    text: str,
    timeout: float,
    *,
    name: str,
    predicate: Callable[[str], bool] | None = None,
) -> None:
    """Wait until ``read()`` (``process``'s log) holds ``text``, or ``predicate`` holds for it.

    Fails with the log's last lines if ``process`` exits first or ``timeout`` passes.
    """
    deadline = time.monotonic() + timeout
    while True:
        output = read()
        if predicate(output) if predicate else text in output:
            return
        tail = "\n".join(output.splitlines()[-80:])
        if process.poll() is not None:
            raise AssertionError(f"{name} exited {process.returncode} before {text!r}:\n{tail}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {text!r} from {name} within {timeout:.0f} s:\n{tail}")
        time.sleep(0.1)
