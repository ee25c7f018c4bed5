"""Compiles the Java launcher and resolves its classpath from Maven Central, once per source change."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from search.devnode.java_runtime import JavaNotFound, find_jdk, find_maven

JAVA_PROJECT = Path(__file__).resolve().parent / "java"


class BuildFailed(RuntimeError):
    """Maven could not build the launcher; the message ends with the tail of Maven's log."""


@dataclass(frozen=True)
class Launcher:
    classpath: str
    build_dir: Path


def cache_home() -> Path:
    """Where builds and default node data live, outside the work tree: $COLLAB_DEVNODE_HOME or ~/.cache."""
    configured = os.environ.get("COLLAB_DEVNODE_HOME")
    return Path(configured) if configured else Path.home() / ".cache" / "collab-devnode"


def source_fingerprint() -> str:
    """Hashes the pom and sources so an edit triggers a rebuild and an unchanged tree is a no-op."""
    digest = hashlib.sha256()
    for path in sorted(p for p in JAVA_PROJECT.rglob("*") if p.is_file() and "target" not in p.relative_to(JAVA_PROJECT).parts):
        digest.update(str(path.relative_to(JAVA_PROJECT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def built_launcher() -> Launcher | None:
    """The launcher built from the current sources, if there is one."""
    build_dir = cache_home() / f"build-{source_fingerprint()}"
    classpath_file = build_dir / "classpath.txt"
    if not classpath_file.exists():
        return None
    return Launcher(classpath_file.read_text().strip(), build_dir)


def ensure_built(verbose: bool = True) -> Launcher:
    """Builds the launcher unless the current sources are already built."""
    launcher = built_launcher()
    if launcher:
        if verbose:
            print(f"devnode: launcher up to date ({launcher.build_dir})", file=sys.stderr)
        return launcher
    return build(verbose)


def build(verbose: bool = True) -> Launcher:
    jdk = find_jdk()
    if jdk is None:
        raise JavaNotFound("building the launcher needs a JDK 21+ with javac (JAVA_HOME or /usr/lib/jvm/*)")
    maven = find_maven()
    build_dir = cache_home() / f"build-{source_fingerprint()}"
    build_dir.mkdir(parents=True, exist_ok=True)
    log = build_dir / "maven.log"
    if verbose:
        print(f"devnode: building the launcher with {maven} on Java {jdk.version} ({jdk.path})", file=sys.stderr)
        print("devnode: the first build downloads Elasticsearch and its dependencies (~100 MB) into ~/.m2", file=sys.stderr)
    dependency_list = build_dir / "dependencies.txt"
    command = [
        str(maven), "-B", "--no-transfer-progress",
        "-f", str(JAVA_PROJECT / "pom.xml"),
        f"-Ddevnode.build.directory={build_dir / 'target'}",
        "package",
        "dependency:build-classpath", f"-Dmdep.outputFile={dependency_list}", "-Dmdep.includeScope=runtime",
    ]
    with log.open("w") as output:
        result = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, "JAVA_HOME": str(jdk.path)})
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise BuildFailed(f"maven failed (exit {result.returncode}); full log: {log}\n{tail}")
    jar = build_dir / "target" / "collab-devnode-1.jar"
    classpath = f"{jar}{os.pathsep}{dependency_list.read_text().strip()}"
    (build_dir / "classpath.txt").write_text(classpath)
    if verbose:
        print(f"devnode: built {jar}", file=sys.stderr)
    return Launcher(classpath, build_dir)
