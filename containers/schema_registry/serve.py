"""Entry point of the cp-schema-registry stand-in: serve on SCHEMA_REGISTRY_LISTENERS until SIGTERM.

Confluent's registry reads its address from that variable (``http://0.0.0.0:8081``, the
first of a comma-separated list here); the rest of its settings (the Kafka store
among them) mean nothing to the stand-in, which keeps the schemas in memory.
"""

import os
import signal
import threading
from urllib.parse import urlsplit

from schema_registry import SchemaRegistry


def main() -> None:
    listener = urlsplit(os.environ.get("SCHEMA_REGISTRY_LISTENERS", "http://0.0.0.0:8081").split(",")[0].strip())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SchemaRegistry(host=listener.hostname or "0.0.0.0", port=listener.port or 8081) as registry:
        print(f"stand-in schema registry serving Confluent's REST API at {registry.url}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
