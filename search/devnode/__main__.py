"""Command line: python -m search.devnode {build,start,stop,status} [--port 9200] [--data DIR] [--heap 1g]."""
from __future__ import annotations

import argparse
import sys
import time

from search.devnode.build import BuildFailed, ensure_built
from search.devnode.java_runtime import JavaNotFound
from search.devnode.node import DEFAULT_HEAP, DEFAULT_PORT, NodeFailed, node_status, node_url, start_node, stop_node


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m search.devnode", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="install/verify Java and Maven, compile the launcher, resolve its classpath")
    for name, help_text in (("start", "start a node and wait for yellow health"), ("stop", "stop the node"), ("status", "show whether the node runs")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTP port on 127.0.0.1 (default 9200)")
        command.add_argument("--data", default=None, help="data dir (default ~/.cache/collab-devnode/nodes/<port>)")
        if name == "start":
            command.add_argument("--heap", default=DEFAULT_HEAP, help="JVM heap, e.g. 1g or 512m (default 1g)")
            command.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for health")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        if arguments.command == "build":
            ensure_built(verbose=True)
            return 0
        if arguments.command == "start":
            ensure_built(verbose=True)
            began = time.monotonic()
            url = start_node(arguments.port, arguments.data, arguments.heap, arguments.timeout)
            print(f"devnode: healthy after {time.monotonic() - began:.1f}s", file=sys.stderr)
            print(url)
            return 0
        if arguments.command == "stop":
            stopped = stop_node(arguments.port, arguments.data)
            print(f"stopped {node_url(arguments.port)}" if stopped else f"not running: {node_url(arguments.port)}")
            return 0
        status = node_status(arguments.port, arguments.data)
        if status.running:
            print(f"running pid={status.pid} health={status.health} data={status.data_dir}")
        else:
            print(f"not running data={status.data_dir}")
        print(status.url)
        return 0 if status.running else 3
    except (BuildFailed, JavaNotFound, NodeFailed, ValueError) as error:
        print(f"devnode: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
