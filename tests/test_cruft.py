"""A service made with cruft takes in later revisions of the template with `cruft update`.

Every test makes its own template repository from this one's tracked files, so cruft
clones a local path only. Git is limited to local transports and every Python process
(cruft, cookiecutter, the hooks it re-runs) refuses network connections; HOME and TMPDIR
are empty directories that must stay empty.
"""

import hashlib
import json
import os
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import BIN, REPO, install, run, tool

pytestmark = pytest.mark.slow

ANSWERS = {
    "project_name": "Order Flow",
    "apps": "orders,payments",
    "ci": "gitlab",
    "kubernetes": True,
    "topic_partitions": 8,
}
PACKAGE = "order_flow"
APP_FILES = (
    "{{cookiecutter.project_slug}}/.app-template/{% raw %}{{cookiecutter.project_dir}}{% endraw %}"
    "/{{cookiecutter.package_name}}/{{cookiecutter.app_name}}"
)
# Where the per-app files of revision 2 sit in a baked project's .app-template (kept unrendered).
BAKED_APP_FILES = ".app-template/{{cookiecutter.project_dir}}/{{cookiecutter.package_name}}/{{cookiecutter.app_name}}"
# The Event record, which the full example and the lean sub-apps share.
EVENT_DOC = '    """What producers publish to ``{{ cookiecutter.app_name }}.events``, keyed by key."""\n'
REVISION_2_LINE = "    # Revision 2 of the template: a comment under the docstring.\n"
TEAM_FUNCTION = '\n\ndef team_helper() -> str:\n    """Written by the team, not the template."""\n    return "ours"\n'
# The template's hooks, and the sub-app template's that `make app` runs.
HOOKS = [*REPO.glob("hooks/*.py"), *REPO.glob("[{]*/.app-template/hooks/*.py")]
TEAM_NOTE = "\nOn call: the payments team.\n"

GUARD = '''\
"""Loaded by every Python process of the test: refuse all network access."""
import socket


def _refuse(*args, **kwargs):
    raise OSError("network access refused in tests/test_cruft.py")


socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''


@dataclass
class Sandbox:
    root: Path
    env: dict[str, str]

    @property
    def template(self) -> Path:
        return self.root / "template"

    def run(self, *command: str | Path, cwd: Path, check: bool = True):
        return run(*command, cwd=cwd, env=self.env, check=check, timeout=300)

    def cruft(self, *args: str, cwd: Path, check: bool = True):
        return self.run(tool("cruft"), *args, cwd=cwd, check=check)

    def git(self, *args: str, cwd: Path) -> str:
        return self.run("git", *args, cwd=cwd).stdout

    def create(self, output: str, answers: dict[str, object] = ANSWERS, *options: str) -> Path:
        """`cruft create` the template into root/output; returns the project directory."""
        out = self.root / output
        out.mkdir()
        context = json.dumps(answers)
        self.cruft("create", str(self.template), "--no-input", "--extra-context", context, *options, cwd=out)
        (project,) = out.iterdir()
        return project

    def commit_all(self, project: Path, message: str) -> None:
        self.git("add", "--all", cwd=project)
        self.git("commit", "--quiet", "--message", message, cwd=project)


@pytest.fixture
def sandbox(tmp_path: Path, cookiecutter_config: Path) -> Iterator[Sandbox]:
    """A template repository at revision 1, and an environment that keeps everything inside tmp_path."""
    for name in ("home", "tmp", "guard"):
        (tmp_path / name).mkdir()
    (tmp_path / "guard" / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    env = {
        "GIT_AUTHOR_NAME": "Test Bot",
        "GIT_AUTHOR_EMAIL": "test.bot@example.com",
        "GIT_COMMITTER_NAME": "Test Bot",
        "GIT_COMMITTER_EMAIL": "test.bot@example.com",
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "tmp"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_ALLOW_PROTOCOL": "file",
        "GIT_TERMINAL_PROMPT": "0",
        "COOKIECUTTER_CONFIG": str(cookiecutter_config),
        "PYTHONPATH": str(tmp_path / "guard"),
        # `make app` runs the cookiecutter of the dev group, as in an activated venv.
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    sandbox = Sandbox(root=tmp_path, env=env)

    probe = sandbox.run(
        tool("python"), "-c", "import socket; socket.create_connection(('pypi.org', 443))", cwd=tmp_path, check=False
    )
    assert "network access refused" in probe.stderr, probe.stderr

    tracked = run("git", "ls-files", "-z", cwd=REPO).stdout.split("\0")
    for name in filter(None, tracked):
        target = sandbox.template / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    sandbox.git("init", "--quiet", "--initial-branch=main", cwd=sandbox.template)
    sandbox.commit_all(sandbox.template, "Revision 1")
    yield sandbox

    # Nothing was written outside the projects: cruft cleaned up its clones and renders. Only
    # cookiecutter's rendered copies of the hooks it ran stay behind (it makes them delete=False).
    assert not list((tmp_path / "home").iterdir())
    hooks = {path.read_text(encoding="utf-8").split("\n")[0] for path in HOOKS}
    leftovers = [
        path for path in (tmp_path / "tmp").iterdir() if path.read_text(encoding="utf-8").split("\n")[0] not in hooks
    ]
    assert not leftovers
    assert sandbox.git("status", "--porcelain", cwd=sandbox.template) == ""


def commit_revision_2(sandbox: Sandbox) -> str:
    """A realistic change: a project file and the per-app models edited, two new files."""
    template = sandbox.template
    makefile = template / "{{cookiecutter.project_slug}}" / "Makefile"
    text = makefile.read_text(encoding="utf-8")
    assert text.count("\t$(UV_RUN) mypy\n") == 1
    makefile.write_text(text.replace("\t$(UV_RUN) mypy\n", "\t$(UV_RUN) mypy --pretty\n"), encoding="utf-8")
    models = template / APP_FILES / "models.py"
    text = models.read_text(encoding="utf-8")
    assert text.count(EVENT_DOC) == 1
    models.write_text(text.replace(EVENT_DOC, EVENT_DOC + REVISION_2_LINE), encoding="utf-8")
    (template / APP_FILES / "README.md").write_text(
        "# The {{ cookiecutter.app_name }} sub-app\n\nIts topics, agents and views.\n", encoding="utf-8"
    )
    (template / "{{cookiecutter.project_slug}}" / "CHANGELOG.md").write_text(
        "# Changelog of {{ cookiecutter.project_name }}\n", encoding="utf-8"
    )
    sandbox.commit_all(template, "Revision 2")
    return sandbox.git("rev-parse", "HEAD", cwd=template).strip()


def snapshot(project: Path) -> dict[str, str]:
    return {
        path.relative_to(project).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(project.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


def assert_merged_cleanly(sandbox: Sandbox, project: Path) -> None:
    """No rejected hunks, no conflicts: what `cruft update` leaves when all went well."""
    assert not [path for path in snapshot(project) if path.endswith((".rej", ".orig"))]
    assert sandbox.git("diff", "--name-only", "--diff-filter=U", cwd=project) == ""
    for path in snapshot(project):
        lines = (project / path).read_text(encoding="utf-8").splitlines()
        assert not [line for line in lines if line.startswith(("<<<<<<<", ">>>>>>>"))], path


def assert_check(sandbox: Sandbox, project: Path, *, up_to_date: bool) -> None:
    result = sandbox.cruft("check", cwd=project, check=False)
    assert (result.returncode == 0) is up_to_date, result.stdout + result.stderr
    assert ("up to date" if up_to_date else "out of date") in result.stdout


def update(sandbox: Sandbox, project: Path, *options: str) -> None:
    result = sandbox.cruft("update", "--skip-apply-ask", "--allow-untracked-files", *options, cwd=project)
    # cruft says "Good work!" and exits 0 even when hunks were rejected: look for ourselves.
    assert "Good work!" in result.stdout
    assert "conflict" not in result.stderr.lower() and "rej" not in result.stderr, result.stderr
    assert_merged_cleanly(sandbox, project)


def test_update_brings_in_the_template_change_and_keeps_the_teams_edits(sandbox: Sandbox) -> None:
    project = sandbox.create("service")
    revision_1 = sandbox.git("rev-parse", "HEAD", cwd=sandbox.template).strip()
    assert json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["commit"] == revision_1
    assert_check(sandbox, project, up_to_date=True)
    sandbox.git("init", "--quiet", "--initial-branch=main", cwd=project)
    sandbox.commit_all(project, "Baked with cruft")
    # The team edits a per-app file the template change also touches (far from it) and one it leaves alone.
    with (project / PACKAGE / "orders" / "models.py").open("a", encoding="utf-8") as file:
        file.write(TEAM_FUNCTION)
    with (project / "README.md").open("a", encoding="utf-8") as file:
        file.write(TEAM_NOTE)
    sandbox.commit_all(project, "The team's own changes")
    before = snapshot(project)

    commit_revision_2(sandbox)
    assert_check(sandbox, project, up_to_date=False)
    update(sandbox, project)

    after = snapshot(project)
    new = {"CHANGELOG.md", f"{BAKED_APP_FILES}/README.md"} | {
        f"{PACKAGE}/{app}/README.md" for app in ANSWERS["apps"].split(",")
    }
    # Each sub-app got its new file once; nothing was duplicated, nothing else appeared or went.
    assert set(after) == set(before) | new
    changed = {path for path in before if before[path] != after[path]}
    assert changed == {".cruft.json", "Makefile", f"{BAKED_APP_FILES}/models.py"} | {
        f"{PACKAGE}/{app}/models.py" for app in ANSWERS["apps"].split(",")
    }
    # git apply -3 stages what it merged; cruft rewrites .cruft.json itself.
    staged = sandbox.git("diff", "--cached", "--name-only", cwd=project).split("\n")
    assert set(filter(None, staged)) == (changed | new) - {".cruft.json"}
    orders = (project / PACKAGE / "orders" / "models.py").read_text(encoding="utf-8")
    assert REVISION_2_LINE in orders
    assert orders.endswith(TEAM_FUNCTION)
    assert (project / "README.md").read_text(encoding="utf-8").endswith(TEAM_NOTE)
    assert "\t$(UV_RUN) mypy --pretty\n" in (project / "Makefile").read_text(encoding="utf-8")

    # The result is what revision 2 bakes, plus the team's edits and nothing else.
    fresh = sandbox.create("fresh")
    assert set(snapshot(fresh)) == set(after)
    for path in after:
        expected = (fresh / path).read_text(encoding="utf-8")
        if path == f"{PACKAGE}/orders/models.py":
            expected += TEAM_FUNCTION
        elif path == "README.md":
            expected += TEAM_NOTE
        assert (project / path).read_text(encoding="utf-8") == expected, path
    assert_check(sandbox, project, up_to_date=True)


def test_a_sub_app_added_with_make_app_follows_updates_once_recorded(sandbox: Sandbox) -> None:
    project = sandbox.create("service")
    revision_1 = sandbox.git("rev-parse", "HEAD", cwd=sandbox.template).strip()
    sandbox.git("init", "--quiet", "--initial-branch=main", cwd=project)
    sandbox.commit_all(project, "Baked with cruft")
    # The dev group's cookiecutter from PATH, as in an environment of the team's own: uv
    # would make the project's venv from PyPI first.
    made = sandbox.run("make", "app", "NAME=shipping", "UV_RUN=", cwd=project)
    sandbox.commit_all(project, "make app NAME=shipping")
    shipping = {path: digest for path, digest in snapshot(project).items() if "shipping" in path}
    assert shipping

    # cruft replays the recorded answers: tell it about the new sub-app, at the same template
    # commit, with the command `make app` printed.
    apps = json.dumps({"apps": "orders,payments,shipping"})
    printed = [line.strip() for line in made.stdout.splitlines() if line.strip().startswith("cruft update")]
    assert printed == [
        f"cruft update --checkout {revision_1} --skip-apply-ask --allow-untracked-files"
        f" --variables-to-update {shlex.quote(apps)}"
    ]
    update(sandbox, project, "--checkout", revision_1, "--variables-to-update", apps)
    assert {path: digest for path, digest in snapshot(project).items() if "shipping" in path} == shipping
    changed = sandbox.git("diff", "HEAD", "--name-only", cwd=project).split()
    assert set(changed) <= {".cruft.json", "Makefile", "README.md", "docker-compose.yml"}, changed
    assert "shipping.events" in (project / "docker-compose.yml").read_text(encoding="utf-8")
    sandbox.commit_all(project, "Record the shipping sub-app")

    commit_revision_2(sandbox)
    update(sandbox, project)
    assert REVISION_2_LINE in (project / PACKAGE / "shipping" / "models.py").read_text(encoding="utf-8")
    fresh = sandbox.create("fresh", {**ANSWERS, "apps": "orders,payments,shipping"})
    assert snapshot(project) == snapshot(fresh)
    assert_check(sandbox, project, up_to_date=True)


def test_a_service_baked_with_plain_cookiecutter_adopts_cruft_with_link(sandbox: Sandbox) -> None:
    out = sandbox.root / "service"
    out.mkdir()
    context = [f"{key}={json.dumps(value) if isinstance(value, bool) else value}" for key, value in ANSWERS.items()]
    sandbox.run(tool("cookiecutter"), "--no-input", sandbox.template, *context, cwd=out)
    (project,) = out.iterdir()
    sandbox.git("init", "--quiet", "--initial-branch=main", cwd=project)
    sandbox.commit_all(project, "Baked with cookiecutter")

    sandbox.cruft("link", str(sandbox.template), "--no-input", "--extra-context", json.dumps(ANSWERS), cwd=project)
    assert_check(sandbox, project, up_to_date=True)
    sandbox.commit_all(project, "Link to the template with cruft")

    commit_revision_2(sandbox)
    update(sandbox, project)
    fresh = sandbox.create("fresh")
    assert snapshot(project) == snapshot(fresh)


# The last commit before the runtime moved into one sub-package and later sub-apps started lean.
BEFORE_RUNTIME_PACKAGE = "6ec9547471c7b48c1986bd1c35228d12aa672d17"


def template_files(sandbox: Sandbox) -> list[Path]:
    return [path for path in sandbox.template.rglob("*") if path.is_file() and ".git" not in path.parts]


def test_a_service_baked_before_the_runtime_package_updates_to_it(sandbox: Sandbox) -> None:
    # Revision 1 of the sandbox's template is the template at that commit, revision 2 this one.
    tarball = sandbox.root / "before.tar"
    archive = run("git", "archive", f"--output={tarball}", BEFORE_RUNTIME_PACKAGE, cwd=REPO, check=False)
    assert archive.returncode == 0, f"commit {BEFORE_RUNTIME_PACKAGE} is not in this clone: {archive.stderr}"
    current = {path: path.read_bytes() for path in template_files(sandbox)}
    for path in current:
        path.unlink()
    run("tar", "-x", "-f", tarball, cwd=sandbox.template)
    tarball.unlink()
    sandbox.commit_all(sandbox.template, "The template before the runtime package")
    project = sandbox.create("service")
    sandbox.git("init", "--quiet", "--initial-branch=main", cwd=project)
    sandbox.commit_all(project, "Baked with cruft")
    # The team's own code: a function in the example's agents, and a module of its own.
    with (project / PACKAGE / "orders" / "agents.py").open("a", encoding="utf-8") as file:
        file.write(TEAM_FUNCTION)
    (project / PACKAGE / "orders" / "pricing.py").write_text('"""The team\'s pricing rules."""\n', encoding="utf-8")
    sandbox.commit_all(project, "The team's own changes")

    for path in template_files(sandbox):
        path.unlink()
    for path, content in current.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    sandbox.commit_all(sandbox.template, "The runtime package")
    update(sandbox, project)

    package = {path.name for path in (project / PACKAGE).iterdir()}
    assert package == {"__init__.py", "__main__.py", "app.py", "settings.py", "runtime", "orders", "payments"}
    orders = (project / PACKAGE / "orders" / "agents.py").read_text(encoding="utf-8")
    assert "from ..runtime.dead_letters import dead_letter" in orders
    assert orders.endswith(TEAM_FUNCTION)
    assert (project / PACKAGE / "orders" / "pricing.py").is_file()
    # The sub-app after the first is the lean starting point now.
    assert {path.name for path in (project / PACKAGE / "payments").iterdir()} == {
        "__init__.py",
        "agents.py",
        "models.py",
    }
    # The updated service passes its own checks.
    recorded = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"]
    installed = install(project, recorded)
    summary = installed.run("pytest", "-q", "-p", "no:cacheprovider").stdout.strip().splitlines()[-1]
    assert "passed" in summary and "failed" not in summary and "error" not in summary, summary
    installed.run("ruff", "check", "--no-cache", ".")
    installed.run("ruff", "format", "--check", "--no-cache", ".")
    installed.run("mypy")
