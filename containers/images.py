"""Local stand-ins for the base images the baked Dockerfile and docker-compose.yml name.

No image registry is reachable here, so each image is built on this machine under the
exact name the files use, and ``docker build`` and ``docker compose up`` find it locally
instead of pulling it:

- ``cookiecutter-faust-service/debian:<suite>-minbase``: a ``debootstrap --variant=minbase``
  Debian root with the shared libraries CPython links to, the base of the others;
- ``python:<version>-slim``: that root plus this machine's CPython of that version (the
  pyenv build, copied to /usr/local as the real image has it) and the CA certificates
  this machine trusts, which pip and uv need behind a TLS-inspecting proxy;
- ``apache/kafka:<version>``: that root plus Debian's JRE, Kafka's jars from Maven Central
  (``kafka/pom.xml`` beside this file) and our own launchers (``kafka/``): the entry point
  configures the broker from ``KAFKA_*`` variables with Kafka's own
  ``kafka.docker.KafkaDockerWrapper``, as the real image does;
- ``confluentinc/cp-schema-registry:<tag>``: the python stand-in serving the part of
  Confluent's REST API that the baked service uses (tests/support/schema_registry.py), with
  curl for the compose file's health check. Confluent's registry cannot be had here.

Each image carries a label with a hash of everything it is made from (files, versions,
the image below it); ``ensure()`` builds only those whose label differs.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from kafka_test_broker import broker

from .engine import Engine, EngineError, run, say, which

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LABEL = "org.cookiecutter-faust-service.stand-in-key"
# Bump to rebuild every stand-in after changing how they are made.
RECIPE = "1"

SUITE = "bookworm"
BASE = f"cookiecutter-faust-service/debian:{SUITE}-minbase"
# What CPython's extension modules link to (ldd of lib-dynload, Tk left out as in the real
# slim image), plus what the real image also has: CA certificates, netbase, tzdata.
BASE_PACKAGES = [
    "ca-certificates",
    "libbz2-1.0",
    "libcrypt1",
    "libexpat1",
    "libffi8",
    "liblzma5",
    "libncursesw6",
    "libnsl2",
    "libreadline8",
    "libsqlite3-0",
    "libssl3",
    "libtinfo6",
    "libtirpc3",
    "libuuid1",
    "netbase",
    "tzdata",
    "zlib1g",
]
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
HOST_PIP_CONF = Path("/etc/pip.conf")
KAFKA_CONTEXT = HERE / "kafka"
KAFKA_POM = KAFKA_CONTEXT / "pom.xml"
REGISTRY_CONTEXT = HERE / "schema_registry"
REGISTRY_MODULE = REPO / "tests" / "support" / "schema_registry.py"
# The Python the registry stand-in runs on: the template's default answer.
REGISTRY_PYTHON = json.loads((REPO / "cookiecutter.json").read_text(encoding="utf-8"))["python_version"][0]


def _digest(*parts: str | bytes | Path) -> str:
    """A short hash of strings, bytes and files (a directory: every file in it, by path)."""
    hasher = hashlib.sha256(RECIPE.encode())
    for part in parts:
        if isinstance(part, Path):
            files = [part]
            if part.is_dir():
                files = sorted(p for p in part.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            for path in files:
                hasher.update(str(path.relative_to(part) if part.is_dir() else path.name).encode())
                hasher.update(path.read_bytes())
        else:
            hasher.update(part.encode() if isinstance(part, str) else part)
        hasher.update(b"\0")
    return hasher.hexdigest()[:20]


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (never a host written into this repository)."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.is_file():
        for stanza in sources.read_text(encoding="utf-8").split("\n\n"):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, flags=re.M))
            if SUITE in fields.get("Suites", "").split() and "URIs" in fields:
                return fields["URIs"].split()[0]
    listing = Path("/etc/apt/sources.list")
    if listing.is_file():
        match = re.search(rf"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+{SUITE}\s", listing.read_text(encoding="utf-8"), re.M)
        if match:
            return match[1]
    raise EngineError(f"no Debian {SUITE} mirror in this machine's apt sources: debootstrap needs one")


def _copy_python(prefix: Path, target: Path) -> None:
    """Copy a CPython installation without what the real slim image lacks or what would break.

    Left out: site-packages (the pyenv build's own packages; ensurepip puts pip back), the
    test suite, IDLE and Tk, the static library, and every script in bin/ but python*
    (their #! lines name the pyenv prefix).
    """
    skip_dirs = {"test", "idlelib", "tkinter", "turtledemo", "site-packages"}

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        left_out = {name for name in names if name in skip_dirs and (here / name).is_dir()}
        left_out |= {name for name in names if name.endswith(".a") or name.startswith("_tkinter")}
        if here == prefix:
            left_out |= {name for name in names if name not in {"bin", "include", "lib"}}
        if here == prefix / "bin":
            left_out |= {name for name in names if not name.startswith("python") or name.endswith(".py")}
        return left_out

    shutil.copytree(prefix, target, symlinks=True, ignore=ignore)


def kafka_version() -> str:
    text = KAFKA_POM.read_text(encoding="utf-8")
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", text)
    assert match, f"no <kafka.version> in {KAFKA_POM}"
    return match[1]


class StandIns:
    """Builds the stand-ins on ``engine``; ``find_python(version)`` finds this machine's interpreters."""

    def __init__(self, engine: Engine, find_python: Callable[[str], str | None]) -> None:
        self.engine = engine
        self.find_python = find_python
        self.timings: dict[str, float] = {}

    def ensure(self, names: Iterable[str]) -> list[str]:
        """Build the stand-in of every image in ``names`` whose label is out of date."""
        return [self.builder(name)() for name in dict.fromkeys(names)]

    def builder(self, name: str) -> Callable[[], str]:
        """What builds the stand-in of image ``name``; an error names an image we cannot stand in for."""
        repository, _, tag = name.partition(":")
        if repository == "python" and tag.endswith("-slim"):
            return lambda: self.python(tag.removesuffix("-slim"))
        if repository == "apache/kafka":
            return lambda: self.kafka(tag)
        if repository == "confluentinc/cp-schema-registry":
            return lambda: self.registry(tag)
        raise EngineError(f"no stand-in for image {name}: no image registry is reachable here")

    def _label(self, name: str) -> str | None:
        """The stand-in key of image ``name``, or None if there is no such image."""
        result = self.engine.docker("image", "inspect", "--format", "{{json .Config.Labels}}", name, check=False)
        if result.returncode != 0:
            return None
        return (json.loads(result.stdout) or {}).get(LABEL)

    def _image_id(self, name: str) -> str:
        return self.engine.docker("image", "inspect", "--format", "{{.Id}}", name).stdout.strip()

    def _build(self, name: str, context: Path, key: str, began: float, **build_args: str) -> None:
        args = [arg for item in build_args.items() for arg in ("--build-arg", "=".join(item))]
        self.engine.docker(
            "build", "--force-rm", "--label", f"{LABEL}={key}", "--tag", name, *args, context, timeout=1800
        )
        self.timings[name] = time.monotonic() - began
        say(f"built {name} in {self.timings[name]:.0f} s")

    def _build_staged(self, name: str, key: str, context: Path, extra: dict[str, Path], **build_args: str) -> None:
        """Build ``name`` from a copy of ``context`` (no pom.xml, no bytecode) plus the ``extra`` files."""
        began = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="cfs-image-") as tmp:
            staged = Path(tmp) / "context"
            shutil.copytree(context, staged, ignore=shutil.ignore_patterns("pom.xml", "__pycache__"))
            for relative, source in extra.items():
                (staged / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, staged / relative)
            self._build(name, staged, key, began, **build_args)

    def base(self) -> str:
        """The Debian root every stand-in starts from, made with debootstrap."""
        key = _digest(SUITE, ",".join(BASE_PACKAGES))
        if self._label(BASE) == key:
            return BASE
        debootstrap = which("debootstrap")
        if debootstrap is None:
            raise EngineError("debootstrap is not installed (Debian's package of that name)")
        began = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="cfs-rootfs-") as tmp:
            root = Path(tmp) / "root"
            includes = f"--include={','.join(BASE_PACKAGES)}"
            run([debootstrap, "--variant=minbase", includes, SUITE, root, debian_mirror()], timeout=1800)
            # What the real slim images leave out too: downloaded packages and package lists.
            for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for path in (root / leftover).glob("*"):
                    if path.is_file():
                        path.unlink()
            archive = Path(tmp) / "root.tar"
            run(["tar", "--numeric-owner", "-C", root, "-cf", archive, "."])
            self.engine.docker(
                "import",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                'CMD ["bash"]',
                "--change",
                f"LABEL {LABEL}={key}",
                archive,
                BASE,
            )
        self.timings[BASE] = time.monotonic() - began
        say(f"built {BASE} (debootstrap --variant=minbase {SUITE}) in {self.timings[BASE]:.0f} s")
        return BASE

    def python(self, version: str) -> str:
        """``python:<version>-slim``: the Debian root plus this machine's CPython ``version``."""
        name = f"python:{version}-slim"
        interpreter = self.find_python(version)
        if interpreter is None:
            raise EngineError(f"no Python {version} on this machine for the {name} stand-in")
        probe = "import sys, sysconfig; print(sys.version.split()[0]); print(sysconfig.get_config_var('prefix'))"
        full_version, prefix = run([interpreter, "-c", probe]).stdout.split()
        if Path(prefix) in (Path("/usr"), Path("/usr/local")):
            # A distribution's Python shares its prefix with everything else installed there.
            raise EngineError(f"{interpreter} is installed in {prefix}: the stand-in copies a self-contained build")
        base = self.base()
        context = HERE / "python"
        pip_conf = HOST_PIP_CONF.read_bytes() if HOST_PIP_CONF.is_file() else b""
        key = _digest(self._image_id(base), full_version, prefix, context, HOST_CA_BUNDLE, pip_conf)
        if self._label(name) == key:
            return name
        began = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="cfs-python-") as tmp:
            staged = Path(tmp)
            for name_in_context in ("Dockerfile", "uv.toml"):
                shutil.copy(context / name_in_context, staged / name_in_context)
            _copy_python(Path(prefix), staged / "python")
            shutil.copy(HOST_CA_BUNDLE, staged / "ca-certificates.crt")
            (staged / "pip.conf").write_bytes(pip_conf)
            self._build(name, staged, key, began, BASE=base, PYTHON_VERSION=full_version)
        return name

    def kafka(self, tag: str) -> str:
        """``apache/kafka:<tag>``: Debian's JRE, Kafka's jars and our launchers."""
        version = kafka_version()
        if tag != version:
            raise EngineError(f"apache/kafka:{tag} asked for, but {KAFKA_POM} resolves Kafka {version}")
        name = f"apache/kafka:{tag}"
        base = self.base()
        try:
            jars = [Path(jar) for jar in broker.classpath(KAFKA_POM).split(":")]
        except Exception as exc:  # BrokerError, with Maven's output
            raise EngineError(f"resolving Kafka's jars with Maven failed:\n{exc}") from exc
        key = _digest(self._image_id(base), KAFKA_CONTEXT, *jars)
        if self._label(name) == key:
            return name
        self._build_staged(name, key, KAFKA_CONTEXT, {f"libs/{jar.name}": jar for jar in jars}, BASE=base)
        return name

    def registry(self, tag: str) -> str:
        """``confluentinc/cp-schema-registry:<tag>``: the loopback stand-in registry, in an image."""
        name = f"confluentinc/cp-schema-registry:{tag}"
        base = self.python(REGISTRY_PYTHON)
        key = _digest(self._image_id(base), REGISTRY_CONTEXT, REGISTRY_MODULE)
        if self._label(name) == key:
            return name
        self._build_staged(name, key, REGISTRY_CONTEXT, {REGISTRY_MODULE.name: REGISTRY_MODULE}, BASE=base)
        return name
