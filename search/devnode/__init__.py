"""A real single-node Elasticsearch 9 for development and CI, run from Maven Central jars without Docker."""
from search.devnode.node import NodeFailed, NodeStatus, node_status, start_node, stop_node, wait_for_health

__all__ = ["NodeFailed", "NodeStatus", "node_status", "start_node", "stop_node", "wait_for_health"]
