"""Docker tooling of the template's container tier (tests/containers/).

- ``engine.py``: installs Debian's Docker engine if it is missing and runs a private
  ``dockerd`` (its own data root under the cache, socket and state in a temporary
  directory), stopped by the caller;
- ``compose.py``: Docker Compose v2, built once from its Go module and cached, given to
  the ``docker`` CLI as a plugin;
- ``images.py``: local stand-ins for the base images the baked files name
  (``python:<version>-slim``, ``apache/kafka:4.1.1``, ``confluentinc/cp-schema-registry``),
  because no image registry is reachable here; each is rebuilt only when what it is made
  from changes.

``python3 -m containers prepare`` does all three, so that CI can install and cache
everything before the tests run. Standard library only, like kafka_test_broker/broker.py.
"""
