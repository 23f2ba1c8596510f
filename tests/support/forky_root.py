"""Pythons this machine lacks (3.14), from the Debian forky root that forky-root/provide makes.

Forky's glibc is newer than the host's, so its Python runs only inside the root, through
forky-root/run (a chroot in a mount namespace of its own).
"""

import os
import subprocess
from typing import NoReturn

import pytest

from .commands import find_python
from .paths import REPO

FORKY_RUN = REPO / "forky-root" / "run"


def in_forky_root(version: str) -> bool:
    """Whether the forky root has Python `version` and runs here (it needs root)."""
    probe = [str(FORKY_RUN), "--", f"python{version}", "-c", "import sys; print('{}.{}'.format(*sys.version_info))"]
    result = subprocess.run(probe, capture_output=True, text=True, check=False)
    return result.returncode == 0 and result.stdout.strip() == version


def unavailable(message: str) -> NoReturn:
    """Skip a test that lacks something .ci/run provides; in CI, which provides it, fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_python(version: str) -> None:
    """Python `version`, on this machine or in the forky root, or the test goes no further."""
    if not (find_python(version) or in_forky_root(version)):
        unavailable(f"no Python {version} on this machine nor in the forky root: run forky-root/provide (as root)")
