"""Jinja filters the template uses, loaded through ``_extensions`` in cookiecutter.json."""

import json

from cookiecutter.utils import simple_filter


@simple_filter
def quoted(value: object) -> str:
    """Quote an answer as a double-quoted string valid in Python, TOML and YAML alike.

    JSON's escapes are a subset of all three; keeping non-ASCII letters as they are
    makes the baked files read like hand-written ones.
    """
    return json.dumps(str(value), ensure_ascii=False)
