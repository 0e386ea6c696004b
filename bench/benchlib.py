"""Shared helpers of bench/run, bench/agreement and bench/policy: locating the corpus
and the binaries, installing the peer tools, preparing inputs, and the exact command
line of each tool."""

from __future__ import annotations

import math
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
CACHE = BENCH_DIR / ".cache"

# Pinned so that results can be reproduced; override to compare other releases.
CHECKOV_VERSION = os.environ.get("CHECKOV_VERSION", "3.3.30")
TRIVY_VERSION = os.environ.get("TRIVY_VERSION", "v0.74.0")
GATOR_VERSION = os.environ.get("GATOR_VERSION", "v3.23.1")

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def corpus_dir() -> Path:
    """PALISADE_CORPUS, or the shared corpus next to the repository."""
    configured = os.environ.get("PALISADE_CORPUS")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "corpus" / "manifests"
    if not path.is_dir():
        sys.exit(f"corpus not found: {path} (set PALISADE_CORPUS)")
    return path.resolve()


def machine() -> dict[str, object]:
    model = "?"
    mem_kb = 0
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
    }


def run_checked(cmd: list[str], **kwargs) -> None:
    log("$ " + shlex.join(cmd))
    subprocess.run(cmd, check=True, **kwargs)


# --- tools ------------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    palisade: Path
    checkov: Path
    trivy: Path


def palisade_binary(build: bool = True) -> Path:
    """PALISADE_BIN, or the release binary of this tree (built unless told not to)."""
    configured = os.environ.get("PALISADE_BIN")
    if configured:
        return Path(configured).resolve()
    if build:
        run_checked(["cargo", "build", "--release", "-p", "palisade-cli"], cwd=REPO_ROOT)
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    binary = (target_dir if target_dir.is_absolute() else REPO_ROOT / target_dir) / "release" / "palisade"
    if not binary.is_file():
        sys.exit(f"palisade binary not found: {binary}")
    return binary


def ensure_checkov() -> Path:
    venv = CACHE / "checkov-venv"
    checkov = venv / "bin" / "checkov"
    marker = venv / f".installed-{CHECKOV_VERSION}"
    if checkov.is_file() and marker.is_file():
        return checkov
    log(f"installing checkov {CHECKOV_VERSION} into {venv}")
    run_checked([sys.executable, "-m", "venv", str(venv)])
    run_checked([str(venv / "bin" / "pip"), "install", "--quiet", f"checkov=={CHECKOV_VERSION}"])
    marker.touch()
    return checkov


def ensure_trivy() -> Path:
    bin_dir = CACHE / "bin"
    trivy = bin_dir / "trivy"
    marker = bin_dir / f".trivy-{TRIVY_VERSION}"
    if trivy.is_file() and marker.is_file():
        return trivy
    if shutil.which("go") is None:
        sys.exit("go is required to build trivy")
    bin_dir.mkdir(parents=True, exist_ok=True)
    log(f"building trivy {TRIVY_VERSION} (several minutes on 2 cores)")
    # Trivy uses encoding/json/v2, which Go still keeps behind an experiment flag.
    env = dict(os.environ, GOBIN=str(bin_dir), GOEXPERIMENT="jsonv2")
    run_checked(["go", "install", f"github.com/aquasecurity/trivy/cmd/trivy@{TRIVY_VERSION}"], env=env)
    for old in bin_dir.glob(".trivy-*"):
        old.unlink()
    marker.touch()
    return trivy


def ensure_gator() -> Path:
    """Gatekeeper's gator CLI, built from its Go module (about three minutes on 2 cores)."""
    bin_dir = CACHE / "bin"
    gator = bin_dir / "gator"
    marker = bin_dir / f".gator-{GATOR_VERSION}"
    if gator.is_file() and marker.is_file():
        return gator
    if shutil.which("go") is None:
        sys.exit("go is required to build gator")
    bin_dir.mkdir(parents=True, exist_ok=True)
    log(f"building gator {GATOR_VERSION} (a few minutes on 2 cores)")
    env = dict(os.environ, GOBIN=str(bin_dir))
    module = "github.com/open-policy-agent/gatekeeper/v3/cmd/gator"
    run_checked(["go", "install", f"{module}@{GATOR_VERSION}"], env=env)
    for old in bin_dir.glob(".gator-*"):
        old.unlink()
    marker.touch()
    return gator


def ensure_tools(build_palisade: bool = True) -> Tools:
    CACHE.mkdir(parents=True, exist_ok=True)
    return Tools(palisade_binary(build_palisade), ensure_checkov(), ensure_trivy())


def tool_versions(tools: Tools) -> dict[str, str]:
    def first_line(cmd: list[str]) -> str:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"

    # `go install` leaves Trivy's own version string unset ("dev"): read the
    # module versions recorded in the binary instead, with the embedded checks.
    modules = subprocess.run(
        ["go", "version", "-m", str(tools.trivy)], capture_output=True, text=True, check=False
    ).stdout
    found = {}
    for line in modules.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("mod", "dep"):
            found[parts[1]] = parts[2]
    trivy = found.get("github.com/aquasecurity/trivy", TRIVY_VERSION)
    checks = found.get("github.com/aquasecurity/trivy-checks", "?")
    return {
        "palisade": first_line([str(tools.palisade), "--version"]),
        "checkov": first_line([str(tools.checkov), "--version"]),
        "trivy": f"{trivy} (embedded trivy-checks {checks})",
    }


# The three command lines, in one place so that the benchmark and the agreement
# check run the tools exactly alike. Trivy is kept offline: the checks compiled
# into the binary are used (--skip-check-update), and the version check and
# telemetry that would reach the network are off.


def palisade_cmd(tools: Tools, target: Path, output: Path) -> list[str]:
    return [
        str(tools.palisade),
        "scan",
        str(target),
        "--format",
        "json",
        "--output",
        str(output),
        "--fail-on",
        "none",
        "--no-progress",
    ]


def checkov_cmd(tools: Tools, target: Path) -> list[str]:
    return [
        str(tools.checkov),
        "-d",
        str(target),
        "--framework",
        "kubernetes",
        "-o",
        "json",
        "--quiet",
        "--compact",
        "--skip-download",
    ]


def trivy_cmd(tools: Tools, target: Path, output: Path) -> list[str]:
    return [
        str(tools.trivy),
        "config",
        "--quiet",
        "--cache-dir",
        str(CACHE / "trivy-cache"),
        "--skip-check-update",
        "--skip-version-check",
        "--disable-telemetry",
        "--misconfig-scanners",
        "kubernetes",
        "--format",
        "json",
        "--output",
        str(output),
        str(target),
    ]


def display(cmd: list[str]) -> str:
    """A command as it would be typed, with the repository's own paths shortened."""
    text = shlex.join(cmd)
    return text.replace(str(REPO_ROOT) + "/", "")


# --- inputs -----------------------------------------------------------------


def _skipped_dirs(root: Path) -> list[Path]:
    """Kustomize trees and Helm charts: the peers do not render them as Palisade does."""
    skipped = []
    for dirpath, _, filenames in os.walk(root):
        if "Chart.yaml" in filenames or any(n in filenames for n in KUSTOMIZATION_NAMES):
            skipped.append(Path(dirpath))
    return skipped


def plain_manifests(root: Path) -> list[Path]:
    """Plain manifest files under root, outside kustomize trees, Helm charts and templates."""
    skipped = _skipped_dirs(root)
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in MANIFEST_SUFFIXES:
            continue
        if any(path.is_relative_to(d) for d in skipped):
            continue
        if "{{" in path.read_text(encoding="utf-8", errors="replace"):
            continue
        files.append(path)
    return files


def count_objects(paths: list[Path]) -> int:
    """Documents with a kind (List items counted one by one), the way every tool sees them."""
    import yaml  # noqa: PLC0415 - only needed here and by the agreement check

    total = 0
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            # Counted by the kind lines the parser could not read.
            total += sum(1 for line in text.splitlines() if line.startswith("kind:"))
            continue
        for doc in docs:
            if isinstance(doc, dict) and "kind" in doc:
                items = doc.get("items")
                if str(doc["kind"]).endswith("List") and isinstance(items, list):
                    total += sum(1 for i in items if isinstance(i, dict) and "kind" in i)
                else:
                    total += 1
    return total


DOC_SEPARATOR = re.compile(r"^---(\s|$)")
CRD_KIND = re.compile(r"^kind:\s*CustomResourceDefinition\s*$", re.MULTILINE)


def split_documents(path: Path) -> list[str]:
    """The YAML documents of a file as text (a JSON file is one document); blank ones dropped."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        return [text]
    parts: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if DOC_SEPARATOR.match(line):
            parts.append([])
        parts[-1].append(line)
    meaningful = [
        p for p in parts if any(ln.strip() and not ln.lstrip().startswith(("#", "---")) for ln in p)
    ]
    return ["".join(p) for p in meaningful]


def copy_plain(root: Path, dest: Path, with_crds: bool = True) -> tuple[int, int]:
    """Copies the plain manifests of root into dest, keeping relative paths.

    Without CRDs, CustomResourceDefinition documents are left out: they are few but
    large (most of the corpus's bytes), so they dominate parsing time and memory."""
    files = plain_manifests(root)
    copied = []
    for path in files:
        target = dest / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        if with_crds:
            shutil.copyfile(path, target)
        else:
            docs = [d for d in split_documents(path) if not CRD_KIND.search(d)]
            if not docs:
                continue
            target.write_text("".join(d if d.startswith("---") else "---\n" + d for d in docs))
        copied.append(target)
    return len(copied), count_objects(copied)


def replicate(plain: Path, dest: Path, min_objects: int) -> tuple[int, int, int]:
    """Copies plain N times into dest/copy-NNN until at least min_objects objects."""
    files = sorted(p for p in plain.rglob("*") if p.is_file())
    per_copy = count_objects(files)
    if per_copy == 0:
        sys.exit(f"no objects in {plain}")
    copies = math.ceil(min_objects / per_copy)
    for n in range(1, copies + 1):
        shutil.copytree(plain, dest / f"copy-{n:03d}")
    return copies, len(files) * copies, per_copy * copies


# --- measurement ------------------------------------------------------------


@dataclass
class Measurement:
    wall_s: float
    max_rss_mb: float  # largest single process, as GNU time reports it
    tree_rss_mb: float  # sum over the process tree, sampled
    exit_code: int
    timed_out: bool = False  # stopped at the time limit: wall_s is a lower bound

    @property
    def failed(self) -> bool:
        """Neither a report nor a time-out: the tool crashed or was killed."""
        return not self.timed_out and self.exit_code not in (0, 1, 2)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces; the fields after ") " are fixed.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def _tree_rss_kb(root: int) -> int:
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        stack.extend(_children(pid))
    return total


def measure(
    cmd: list[str],
    stdout_path: Path | None = None,
    sample_tree: bool = False,
    timeout_s: float | None = None,
) -> Measurement:
    """Runs cmd; wall time and peak RSS from wait4, optionally the tree's RSS sampled.

    Sampling costs CPU, so it is used only for peers that start worker processes. Past
    timeout_s the command's process group is stopped and the run marked as timed out."""
    err_path = CACHE / "last-stderr.txt"
    polling = sample_tree or timeout_s is not None
    timed_out = False
    with open(err_path, "wb") as err, open(stdout_path or os.devnull, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True)
        tree_peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG if polling else 0)
            if pid == proc.pid:
                break
            if timeout_s is not None and time.perf_counter() - start > timeout_s and not timed_out:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
            if sample_tree:
                tree_peak = max(tree_peak, _tree_rss_kb(proc.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped here, not by Popen
    max_rss = usage.ru_maxrss / 1024
    m = Measurement(wall, max_rss, max(tree_peak / 1024, max_rss), code, timed_out)
    if m.failed:
        sys.stderr.write(err_path.read_text(errors="replace")[-4000:])
        log(f"command failed with exit {code}: {shlex.join(cmd)}")
    return m
