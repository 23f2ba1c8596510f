"""Finish the baked project: render each sub-app, drop the files of unchosen options.

It only writes inside the new project and reaches no network; running it again
leaves the same tree.
"""

import json
import shutil
from pathlib import Path

from cookiecutter.generate import generate_context, generate_files

# Read as JSON: the answers' true and false are not Python's.
ANSWERS = json.loads({{cookiecutter | tojson | tojson}})
APPS = [name.strip() for name in ANSWERS["apps"].split(",")]
# The sub-app template travels inside the project: sub-apps added later render from it too.
APP_TEMPLATE = Path(".app-template")


def render_app(name: str, full_example: bool) -> None:
    project = Path.cwd()
    context = generate_context(
        context_file=APP_TEMPLATE / "cookiecutter.json",
        extra_context={"app_name": name, "project_dir": project.name, "full_example": full_example},
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
    # The first sub-app is the worked example; the others start lean.
    for number, name in enumerate(APPS):
        render_app(name, full_example=number == 0)
    # cookiecutter.json declares which files exist only for some answers.
    for path, answers in ANSWERS["__only_for_answers"].items():
        if any(ANSWERS[question] != answer for question, answer in answers.items()):
            remove(Path(path))


if __name__ == "__main__":
    main()
