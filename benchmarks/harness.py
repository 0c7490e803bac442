"""The one harness of the benchmarks: fresh processes, timing, memory and the
machine.

Every benchmark that compares figures runs each measurement in a fresh Python
process (a process that has trained several networks trains and predicts
measurably slower), through :func:`run_child`: the child is
``python -m MODULE --child ARGS...`` and prints one JSON object last. Timing
is :func:`one_row_latency` and ``time.perf_counter``; memory is
:func:`rss_mib` (now) and :func:`peak_rss_mib` (the most so far); the machine
is :func:`machine`, recorded with every results file.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from fashion_estimators import cpu_flags, versions

CPU_FLAGS_THAT_MATTER = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
"""The CPU flags that decide which kernels TensorFlow computes with."""


# ------------------------------------------------------------ fresh processes
def child_output(module: str, args: list[str], env: dict | None = None) -> str:
    """Run ``python -m module --child *args`` in a new process and return what
    it printed; raise with its stderr if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--child", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def run_child(module: str, args: list[str], env: dict | None = None) -> dict:
    """Run ``python -m module --child *args`` in a new process and return the
    JSON object it prints last; raise with its stderr if it fails."""
    return json.loads(child_output(module, args, env).strip().splitlines()[-1])


def answer_child(result: dict) -> int:
    """The child's side of :func:`run_child`: print ``result`` as its last
    line; the exit status."""
    print(json.dumps(result, default=str))
    return 0


# --------------------------------------------------------------------- timing
def median_seconds(call, repeats: int) -> float:
    """Median seconds of ``repeats`` calls of ``call``, after two warm-up calls."""
    call()
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_row_latency(predict, rows, repeats: int) -> list[float]:
    """Seconds per call of ``predict`` on one row, after two warm-up calls."""
    predict(rows[:1])
    predict(rows[1:2])
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        predict(rows[i % len(rows)][None])
        times.append(time.perf_counter() - start)
    return times


# ------------------------------------------------------------------ processes
def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from ``/proc``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


# --------------------------------------------------------------------- memory
def rss_mib() -> float:
    """This process's resident set size now, in MiB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """The largest resident set size this process has had, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -------------------------------------------------------------------- machine
def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return platform.processor()


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    ).stdout.strip()


def commit() -> str | None:
    """The repository's commit (short hash, "+dirty" with uncommitted
    changes), or None outside a git checkout."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}+dirty" if changed else head


def machine() -> dict:
    """CPU count, model and the flags that matter, GPUs, platform, library
    versions and the repository's commit."""
    import tensorflow as tf

    flags = cpu_flags()
    return {
        "commit": commit(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "cpu_flags": [flag for flag in CPU_FLAGS_THAT_MATTER if flag in flags],
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TensorFlow's default"),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "platform": platform.platform(),
        "python": platform.python_version(),
        **versions(),
    }
