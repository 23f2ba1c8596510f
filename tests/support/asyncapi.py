"""The official AsyncAPI 3.0.0 JSON Schema, and checks of a baked service's document against it.

The schema comes from npm's ``@asyncapi/specs`` (the AsyncAPI Initiative's package of
its JSON Schemas; PyPI has no copy of it), pinned exactly below: ``npm pack`` fetches
the package once into npm's cache, and the schema file is kept in
``~/.cache/cookiecutter-faust-service/``. The file is the one without ``$id``s, so that
its references resolve inside it.
"""

import json
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import jsonschema

from .commands import run
from .forky_root import unavailable

SPECS = "@asyncapi/specs@6.11.1"
SCHEMA_FILE = "package/schemas/3.0.0-without-$id.json"
CACHE = Path.home() / ".cache" / "cookiecutter-faust-service" / f"asyncapi-specs-{SPECS.rsplit('@', 1)[1]}"


def asyncapi_schema() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 JSON Schema of ``SPECS``, fetched with npm the first time."""
    cached = CACHE / Path(SCHEMA_FILE).name
    if not cached.is_file():
        npm = shutil.which("npm")
        if npm is None:
            unavailable(f"no npm to fetch {SPECS}, the AsyncAPI schema: install Node.js's npm")
        with tempfile.TemporaryDirectory() as directory:
            run(npm, "pack", SPECS, "--pack-destination", directory, "--silent", cwd=Path(directory), timeout=300)
            (tarball,) = Path(directory).glob("*.tgz")
            with tarfile.open(tarball) as archive:
                member = archive.extractfile(SCHEMA_FILE)
                assert member is not None, f"{SPECS} has no {SCHEMA_FILE}"
                schema = member.read()
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.partial")
        partial.write_bytes(schema)
        partial.replace(cached)
    loaded: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
    return loaded


def assert_valid_asyncapi(document: dict[str, Any]) -> None:
    """``document`` is valid against the official schema, and each of its ``$ref``s points into it."""
    errors = [
        f"{error.json_path}: {error.message[:300]}"
        for error in jsonschema.Draft7Validator(asyncapi_schema()).iter_errors(document)
    ]
    assert not errors, "\n".join(errors)
    for reference in references(document):
        resolve(document, reference)


def references(node: Any) -> list[str]:
    """Every ``$ref`` in ``node``, depth first."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [reference for value in node.values() for reference in references(value)]
    if isinstance(node, list):
        return [reference for value in node for reference in references(value)]
    return []


def resolve(document: dict[str, Any], reference: str) -> Any:
    """What a local ``$ref`` of ``document`` points to; an AssertionError if nothing."""
    assert reference.startswith("#/"), f"not a reference into the document: {reference}"
    target: Any = document
    for part in reference[2:].split("/"):
        name = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(target, dict) and name in target, f"{reference} points to nothing"
        target = target[name]
    return target


def message(document: dict[str, Any], channel: str) -> dict[str, Any]:
    """The one message of ``channel``, references resolved."""
    (found,) = document["channels"][channel]["messages"].values()
    return resolve(document, found["$ref"]) if "$ref" in found else found


def validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    """A validator of ``schema``, a schema in ``document``, whose references resolve in the document."""
    # Draft 7 ignores what stands beside a $ref: the components are there to be referred to.
    return jsonschema.Draft7Validator({**schema, "components": document["components"]})
