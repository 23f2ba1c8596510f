"""``python3 -m containers prepare [IMAGE ...]``: install and cache what the container tier needs.

Installs Debian's docker.io and debootstrap if missing (root), builds Docker Compose into
the cache unless it is there, and, for each IMAGE named (``python:3.13-slim``,
``apache/kafka:4.1.1``...), starts the private engine, builds its stand-in unless it is
up to date and stops the engine again. Exits non-zero, saying why, on any failure.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import compose, engine, images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m containers", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="install the engine, build Compose and the named stand-in images")
    prepare.add_argument("images", nargs="*", help="images to build stand-ins of, e.g. python:3.13-slim")
    args = parser.parse_args(argv)

    began = time.monotonic()
    try:
        engine.install()
        docker = engine.Engine()
        compose.install_plugin(compose.build(), docker.config_dir)
        if args.images:
            sys.path.insert(0, str(images.REPO / "tests"))
            from support import find_python

            docker.start()
            try:
                images.StandIns(docker, find_python).ensure(args.images)
            finally:
                docker.stop()
    except engine.EngineError as exc:
        print(f"containers: {exc}", file=sys.stderr)
        return 1
    engine.say(f"prepared in {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
