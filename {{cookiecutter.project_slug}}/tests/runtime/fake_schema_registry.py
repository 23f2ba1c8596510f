"""An in-memory Confluent Schema Registry for the unit tests: no server, no network.

It answers the three requests the service's registry client makes (look a schema up
under a subject, register it, fetch a schema by id) through an httpx transport. It
keeps every schema it is given and checks no compatibility, as a registry would.
"""

import json
import re

import httpx


class FakeSchemaRegistry:
    """Schemas by id (from 1), and the ids registered under each subject, in order."""

    def __init__(self) -> None:
        self.schemas: list[str] = []
        self.subjects: dict[str, list[int]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        by_id = re.fullmatch(r"/schemas/ids/(\d+)", path)
        if request.method == "GET" and by_id:
            return self.schema_by_id(int(by_id[1]))
        subject = re.fullmatch(r"/subjects/([^/]+)(/versions)?", path)
        if request.method == "POST" and subject:
            schema = json.loads(request.content)["schema"]
            if subject[2]:
                return self.register(subject[1], schema)
            return self.look_up(subject[1], schema)
        return not_found(404, f"no {request.method} {path} here")

    def id_of(self, schema: str) -> int:
        # Schemas are the same whatever the spacing and order of their keys.
        canonical = json.dumps(json.loads(schema), sort_keys=True)
        if canonical not in self.schemas:
            self.schemas.append(canonical)
        return self.schemas.index(canonical) + 1

    def register(self, subject: str, schema: str) -> httpx.Response:
        schema_id = self.id_of(schema)
        versions = self.subjects.setdefault(subject, [])
        if schema_id not in versions:
            versions.append(schema_id)
        return httpx.Response(200, json={"id": schema_id})

    def look_up(self, subject: str, schema: str) -> httpx.Response:
        schema_id = self.id_of(schema)
        versions = self.subjects.get(subject, [])
        if schema_id not in versions:
            return not_found(40403, "Schema not found")
        version = versions.index(schema_id) + 1
        return httpx.Response(
            200, json={"subject": subject, "id": schema_id, "version": version, "schema": schema}
        )

    def schema_by_id(self, schema_id: int) -> httpx.Response:
        if not 1 <= schema_id <= len(self.schemas):
            return not_found(40403, "Schema not found")
        return httpx.Response(200, json={"schema": self.schemas[schema_id - 1]})


def not_found(error_code: int, message: str) -> httpx.Response:
    return httpx.Response(404, json={"error_code": error_code, "message": message})
