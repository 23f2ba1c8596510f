# shellcheck shell=bash
# Where forky-root/provide keeps the root: outside any clone, so that every clone and
# worktree of the template shares one, and a fresh clone in CI finds it again.
FORKY_ROOT=$(realpath -m "${FORKY_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/cookiecutter-faust-service/forky-python3.14}")
