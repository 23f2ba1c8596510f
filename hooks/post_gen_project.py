"""Finish the baked project: render each sub-app, drop the files of unchosen options.

It only writes inside the new project and reaches no network; running it again
leaves the same tree.
"""

import json
import shutil
from pathlib import Path

from cookiecutter.generate import generate_context, generate_files

APPS = [name.strip() for name in {{cookiecutter.apps | tojson}}.split(",")]
CI = {{cookiecutter.ci | tojson}}
KUBERNETES = json.loads({{cookiecutter.kubernetes | tojson | tojson}})
MESSAGE_FORMAT = {{cookiecutter.message_format | tojson}}
PACKAGE = {{cookiecutter.package_name | tojson}}
# The sub-app template travels inside the project: sub-apps added later render from it too.
APP_TEMPLATE = Path(".app-template")
CI_FILES = {"github": [Path(".github")], "gitlab": [Path(".gitlab-ci.yml")]}
AVRO_FILES = [Path(PACKAGE, "avro.py"), Path("tests", "fake_schema_registry.py"), Path("tests", "test_avro.py")]


def render_app(name: str) -> None:
    project = Path.cwd()
    context = generate_context(
        context_file=APP_TEMPLATE / "cookiecutter.json",
        extra_context={"app_name": name, "project_dir": project.name},
    )
    generate_files(
        repo_dir=str(APP_TEMPLATE),
        context=context,
        output_dir=str(project.parent),
        overwrite_if_exists=True,
        # Its hooks are for adding a sub-app later; the answers were checked already.
        accept_hooks=False,
    )


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def main() -> None:
    for name in APPS:
        render_app(name)
    if not KUBERNETES:
        remove(Path("k8s"))
    if MESSAGE_FORMAT != "avro":
        for path in AVRO_FILES:
            remove(path)
    for provider, paths in CI_FILES.items():
        if provider != CI:
            for path in paths:
                remove(path)


if __name__ == "__main__":
    main()
