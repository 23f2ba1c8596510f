"""Check the new sub-app's name before anything is written: on an error nothing changes."""

import keyword
import re
import sys
from pathlib import Path

APP = {{ cookiecutter.app_name | tojson }}
PACKAGE = {{ cookiecutter.package_name | tojson }}


def problem() -> str | None:
    if not Path(PACKAGE, "app.py").is_file():
        return f"the project directory has no {PACKAGE}/app.py; run this from the project's root"
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,29}", APP) or keyword.iskeyword(APP) or keyword.issoftkeyword(APP):
        return f"app_name: {APP!r} is not allowed; use a lowercase identifier of at most 30 characters, not a keyword"
    # A sub-app must not replace one of the package's own modules.
    if Path(PACKAGE, f"{APP}.py").exists() or APP in ("runtime", "tests"):
        return f"app_name: {APP!r} clashes with the package's own module {APP}; choose another name"
    if Path(PACKAGE, APP).exists() or Path("tests", APP).exists():
        return f"app_name: {APP!r} exists already ({PACKAGE}/{APP}/ or tests/{APP}/); choose a new name"
    return None


if __name__ == "__main__":
    error = problem()
    if error:
        print(f"ERROR: {error}", file=sys.stderr)
        sys.exit(1)
