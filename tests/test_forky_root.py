"""Slow tier: the Debian forky root that gives the slow tier its Python 3.14.

forky-root/provide makes it once and caches it; forky-root/run runs commands in it with
host directories at their own paths. What the slow tier relies on is checked here.
"""

import sysconfig
from pathlib import Path

import pytest

from support import FORKY_RUN, REPO, in_forky_root, run, unavailable

pytestmark = pytest.mark.slow

VERSION = "3.14"


@pytest.fixture(scope="module")
def root() -> Path:
    if not in_forky_root(VERSION):
        unavailable(f"no forky root with Python {VERSION}: run forky-root/provide (as root)")
    location = REPO / "forky-root" / "location.sh"
    return Path(run("bash", "-c", f'source "{location}" && echo "$FORKY_ROOT"').stdout.strip())


def in_root(*command: str, bind: Path, cwd: Path | None = None) -> str:
    return run(FORKY_RUN, "--bind", bind, "--", *command, cwd=cwd or bind).stdout


def test_a_second_provide_does_nothing(root: Path) -> None:
    made = (root / ".recipe").stat().st_mtime
    output = run(REPO / "forky-root" / "provide").stdout
    assert "ready" in output, output
    assert (root / ".recipe").stat().st_mtime == made


def test_the_root_has_debians_python_on_forkys_glibc(root: Path, tmp_path: Path) -> None:
    script = "import platform, sys; print('{}.{}'.format(*sys.version_info), platform.libc_ver()[1], sys.executable)"
    version, libc, executable = in_root(f"python{VERSION}", "-c", script, bind=tmp_path).split()
    assert version == VERSION
    # Newer than the host's: the reason it runs in the root.
    assert tuple(map(int, libc.split("."))) >= (2, 38)
    assert executable == f"/usr/bin/python{VERSION}"


def test_bound_directories_keep_their_paths_and_the_current_directory(root: Path, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    in_root(
        "sh",
        "-c",
        'pwd > here && echo from-root > "$1/written"',
        "sh",
        str(tmp_path),
        bind=tmp_path,
        cwd=tmp_path / "sub",
    )
    assert (tmp_path / "sub" / "here").read_text().strip() == str(tmp_path / "sub")
    assert (tmp_path / "written").read_text().strip() == "from-root"


def test_no_mount_outlives_the_command(root: Path, tmp_path: Path) -> None:
    in_root("true", bind=tmp_path)
    mounts = Path("/proc/self/mountinfo").read_text().split("\n")
    assert not [line for line in mounts if str(root) in line]
    # The root's /tmp is a tmpfs of the command's own: the bind's mount point went with it.
    assert not (root / str(tmp_path).lstrip("/")).exists()


def test_a_c_extension_builds_and_loads_in_the_root(root: Path, tmp_path: Path) -> None:
    # What a dependency without a 3.14 wheel needs: forky's gcc and python3.14-dev.
    (tmp_path / "tiny.c").write_text(
        "#include <Python.h>\n"
        'static struct PyModuleDef tiny = {PyModuleDef_HEAD_INIT, "tiny"};\n'
        "PyMODINIT_FUNC PyInit_tiny(void) { return PyModuleDef_Init(&tiny); }\n",
        encoding="utf-8",
    )
    suffix = in_root(
        f"python{VERSION}", "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))", bind=tmp_path
    ).strip()
    assert suffix != sysconfig.get_config_var("EXT_SUFFIX")
    build = f'gcc -shared -fPIC $(python{VERSION}-config --includes) tiny.c -o "tiny{suffix}"'
    in_root("sh", "-c", build, bind=tmp_path)
    assert in_root(f"python{VERSION}", "-c", "import tiny; print(tiny.__name__)", bind=tmp_path).strip() == "tiny"
