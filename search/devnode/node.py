"""Starts, stops and inspects a single-node Elasticsearch on 127.0.0.1 for development and tests."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from search.devnode.build import cache_home, ensure_built
from search.devnode.java_runtime import JavaHome, find_runtime

HOST = "127.0.0.1"
DEFAULT_PORT = 9200
DEFAULT_HEAP = "1g"
LAUNCHER_CLASS = "org.elasticsearch.node.DevNodeLauncher"


class NodeFailed(RuntimeError):
    """The node exited or did not become healthy in time; the message ends with the tail of its log."""


@dataclass(frozen=True)
class NodeStatus:
    running: bool
    url: str
    pid: int | None
    health: str | None
    data_dir: Path


def default_data_dir(port: int) -> Path:
    """One data dir per port under the cache home, so nodes on different ports never share one."""
    return cache_home() / "nodes" / str(port)


def node_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def start_node(port: int = DEFAULT_PORT, data_dir: str | Path | None = None, heap: str = DEFAULT_HEAP, timeout: float = 120.0) -> str:
    """Starts a node in the background (or finds ours already running) and returns its URL once yellow."""
    home = _resolve_data_dir(port, data_dir)
    url = node_url(port)
    if _our_pid(home) is not None:
        wait_for_health(url, timeout=timeout)
        return url
    if _port_in_use(port):
        raise NodeFailed(f"port {port} on {HOST} is already in use by another process")
    launcher = ensure_built(verbose=False)
    java = find_runtime()
    for directory in ("data", "logs", "tmp", "config"):
        (home / directory).mkdir(parents=True, exist_ok=True)
    log = home / "logs" / "devnode.log"
    command = [str(java.java), *jvm_options(java, home, heap), "-cp", launcher.classpath, LAUNCHER_CLASS, *node_settings(home, port)]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, cwd=home, start_new_session=True
        )
    _pid_file(home).write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _pid_file(home).unlink(missing_ok=True)
            raise NodeFailed(f"node exited with code {process.returncode}; log {log}:\n{_tail(log)}")
        if _health(url, wait="1s") in ("yellow", "green"):
            return url
        time.sleep(0.25)
    stop_node(port, home)
    raise NodeFailed(f"node not healthy after {timeout:.0f}s; log {log}:\n{_tail(log)}")


def stop_node(port: int = DEFAULT_PORT, data_dir: str | Path | None = None, timeout: float = 30.0) -> bool:
    """Stops our node with SIGTERM (SIGKILL after the timeout); returns whether one was running."""
    home = _resolve_data_dir(port, data_dir)
    pid = _our_pid(home)
    if pid is None:
        _pid_file(home).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    if not _wait_for_exit(pid, timeout):
        os.kill(pid, signal.SIGKILL)
        _wait_for_exit(pid, 10)
    _pid_file(home).unlink(missing_ok=True)
    return True


def node_status(port: int = DEFAULT_PORT, data_dir: str | Path | None = None) -> NodeStatus:
    home = _resolve_data_dir(port, data_dir)
    pid = _our_pid(home)
    url = node_url(port)
    health = _health(url, wait=None) if pid is not None else None
    return NodeStatus(running=pid is not None, url=url, pid=pid, health=health, data_dir=home)


def wait_for_health(url: str, status: str = "yellow", timeout: float = 60.0) -> str:
    """Waits until the cluster at url reports at least `status` (yellow or green); returns the status seen."""
    wanted = ("yellow", "green") if status == "yellow" else ("green",)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = _health(url, wait="1s", status=status)
        if health in wanted:
            return health
        time.sleep(0.25)
    raise NodeFailed(f"{url} not {status} after {timeout:.0f}s")


def jvm_options(java: JavaHome, home: Path, heap: str) -> list[str]:
    """The packaged distribution's system JVM options, with an explicit heap and a capped direct memory."""
    heap_bytes = parse_size(heap)
    direct_bytes = max(64 << 20, min(heap_bytes // 4, 256 << 20))
    options = [
        f"-Xms{heap}", f"-Xmx{heap}", f"-XX:MaxDirectMemorySize={direct_bytes}",
        "-XX:+UseG1GC", "-Xss1m", "-XX:-OmitStackTraceInFastThrow",
        "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8", "-Djna.nosys=true", "-Djava.locale.providers=CLDR",
        "-Des.networkaddress.cache.ttl=60", "-Des.networkaddress.cache.negative.ttl=10",
        "-Dio.netty.noUnsafe=true", "-Dio.netty.noKeySetOptimization=true", "-Dio.netty.recycler.maxCapacityPerThread=0",
        "-Dlog4j.shutdownHookEnabled=false", "-Dlog4j2.disable.jmx=true", "-Dlog4j2.formatMsgNoLookups=true",
        f"-Djava.io.tmpdir={home / 'tmp'}", f"-Des.path.home={home}",
        "--enable-native-access=ALL-UNNAMED",
    ]
    if "jdk.incubator.vector" in java.modules:
        options.append("--add-modules=jdk.incubator.vector")
    return options


def node_settings(home: Path, port: int) -> list[str]:
    """Node settings as key=value: loopback only, one node, no disk watermarks to trip on a full dev disk."""
    return [
        f"path.home={home}",
        f"path.data={home / 'data'}",
        f"path.logs={home / 'logs'}",
        "cluster.name=collab-devnode",
        f"node.name=devnode-{port}",
        "discovery.type=single-node",
        f"network.host={HOST}",
        f"http.port={port}",
        "transport.port=0",
        "cluster.routing.allocation.disk.threshold_enabled=false",
        "indices.breaker.total.use_real_memory=false",
    ]


def parse_size(size: str) -> int:
    """Parses a JVM size such as 1g, 512m or 1536m into bytes."""
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", size.strip())
    if not match:
        raise ValueError(f"heap size must look like 1g or 512m, got {size!r}")
    number, unit = int(match.group(1)), match.group(2).lower()
    return number << {"": 0, "k": 10, "m": 20, "g": 30}[unit]


def _resolve_data_dir(port: int, data_dir: str | Path | None) -> Path:
    return Path(data_dir).expanduser().resolve() if data_dir else default_data_dir(port)


def _pid_file(home: Path) -> Path:
    return home / "devnode.pid"


def _our_pid(home: Path) -> int | None:
    """The pid in the data dir's pid file, if that process is alive and is our launcher (not a reused pid)."""
    try:
        pid = int(_pid_file(home).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if LAUNCHER_CLASS.encode() in cmdline and _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return not _alive(pid)


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((HOST, port)) == 0


def _health(url: str, wait: str | None, status: str = "yellow") -> str | None:
    query = f"?wait_for_status={status}&timeout={wait}" if wait else ""
    try:
        with urllib.request.urlopen(f"{url}/_cluster/health{query}", timeout=5) as response:
            return json.load(response).get("status")
    except urllib.error.HTTPError as error:
        if error.code == 408:  # wait_for_status timed out: the body still says what the status is
            return json.load(error).get("status")
        return None
    except (OSError, ValueError):
        return None


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
