"""The session's Elasticsearch: ELASTICSEARCH_URL when set, else a dev node started on a free port for the run."""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from search.devnode import node_status, start_node, stop_node


@dataclass(frozen=True)
class StartedNode:
    port: int
    data_dir: Path
    startup_seconds: float


# The node this session started, if any, so tests can measure it (pid, RSS, start time).
started_nodes: dict[str, StartedNode] = {}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def local_node_pid(url: str) -> int | None:
    """The pid of the dev node this session started at url, or None when the cluster is external."""
    node = started_nodes.get(url)
    return node_status(node.port, node.data_dir).pid if node else None


@pytest.fixture(scope="session")
def elasticsearch_url(tmp_path_factory: pytest.TempPathFactory):
    """A yellow-or-better cluster URL; a dev node is started (and stopped at the end) only when none is configured."""
    configured = os.environ.get("ELASTICSEARCH_URL")
    if configured:
        from elasticsearch import Elasticsearch

        with Elasticsearch(configured) as client:
            client.cluster.health(wait_for_status="yellow", timeout="60s")
        yield configured.rstrip("/")
        return
    port = free_port()
    data_dir = tmp_path_factory.mktemp("elasticsearch")
    began = time.monotonic()
    url = start_node(port, data_dir, heap=os.environ.get("COLLAB_DEVNODE_HEAP", "1g"))
    started_nodes[url] = StartedNode(port, data_dir, time.monotonic() - began)
    try:
        yield url
    finally:
        stop_node(port, data_dir)
        started_nodes.pop(url, None)
