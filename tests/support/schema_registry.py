"""A stand-in for Confluent Schema Registry on a loopback port, for the e2e tier.

No Confluent-compatible registry can be run here from the package registries this
project reaches: Confluent's jars are not on Maven Central, Karapace is not on PyPI,
and Apicurio Registry's application needs modules that Maven Central does not serve
(apicurio-registry-schema-util-provider and -contracts-rules 3.3.3). So this serves the
part of Confluent's REST API that the baked service's registry client uses, over real
HTTP, keeping the schemas in memory:

    GET  /subjects                      the registered subjects
    POST /subjects/<subject>/versions   register a schema, answer its id
    POST /subjects/<subject>            the id and version of a registered schema, or 404
    GET  /schemas/ids/<id>              a schema by id, or 404

It checks no compatibility and does not persist anything. Standard library only.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"


class SchemaRegistry:
    """``with SchemaRegistry() as registry:`` serves at ``registry.url`` until the block ends."""

    def __init__(self, host: str = HOST, port: int = 0) -> None:
        self.schemas: list[str] = []
        self.subjects: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="schema-registry", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> SchemaRegistry:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def answer(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        with self._lock:
            if method == "GET" and path == "/subjects":
                return 200, sorted(self.subjects)
            by_id = re.fullmatch(r"/schemas/ids/(\d+)", path)
            if method == "GET" and by_id:
                schema_id = int(by_id[1])
                if 1 <= schema_id <= len(self.schemas):
                    return 200, {"schema": self.schemas[schema_id - 1]}
                return 404, {"error_code": 40403, "message": "Schema not found"}
            subject = re.fullmatch(r"/subjects/([^/]+)(/versions)?", path)
            if method == "POST" and subject and body is not None:
                schema_id = self._id_of(body["schema"])
                versions = self.subjects.setdefault(subject[1], [])
                if subject[2]:
                    if schema_id not in versions:
                        versions.append(schema_id)
                    return 200, {"id": schema_id}
                if schema_id in versions:
                    version = versions.index(schema_id) + 1
                    return 200, {"subject": subject[1], "id": schema_id, "version": version, "schema": body["schema"]}
                return 404, {"error_code": 40403, "message": "Schema not found"}
            return 404, {"error_code": 404, "message": f"no {method} {path} here"}

    def _id_of(self, schema: str) -> int:
        canonical = json.dumps(json.loads(schema), sort_keys=True)
        if canonical not in self.schemas:
            self.schemas.append(canonical)
        return self.schemas.index(canonical) + 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def _respond(self, body: dict[str, Any] | None) -> None:
                status, answer = registry.answer(self.command, self.path.split("?", 1)[0], body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._respond(None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._respond(json.loads(self.rfile.read(length) or b"{}"))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
