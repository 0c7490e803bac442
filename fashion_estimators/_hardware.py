"""What the processor computes natively, read without importing TensorFlow.

Two facts decide how the networks are computed:

* whether the CPU does bfloat16 arithmetic in hardware (AMX or AVX512-BF16);
  without it TensorFlow emulates bfloat16 in software, several times slower
  than float32, so mixed precision is chosen only where it is native;
* whether TensorFlow uses its oneDNN kernels. TensorFlow turns them on by
  default only on Intel CPUs with AVX512-VNNI, AVX512-BF16 or AMX; elsewhere
  (AMD, older Intel) its Eigen kernels train the CNN about half as fast.
  ``TF_ENABLE_ONEDNN_OPTS`` is read once, when TensorFlow loads, so
  :func:`prefer_onednn` must run before that.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

BFLOAT16_CPU_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})
"""``/proc/cpuinfo`` flags of CPUs that compute bfloat16 natively."""

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"


def cpu_flags(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> frozenset[str]:
    """The feature flags of the first CPU in ``cpuinfo``; empty where the file
    does not exist (macOS, Windows)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


@functools.cache
def cpu_has_native_bfloat16() -> bool:
    """True when this machine's CPU computes bfloat16 in hardware."""
    return bool(cpu_flags() & BFLOAT16_CPU_FLAGS)


def prefer_onednn() -> None:
    """Ask TensorFlow for its oneDNN kernels unless the user chose otherwise.

    Only sets ``TF_ENABLE_ONEDNN_OPTS=1`` when the variable is unset and
    TensorFlow has not been imported yet (it reads the variable once, at
    import); ``TF_ENABLE_ONEDNN_OPTS=0`` keeps TensorFlow's own choice.
    """
    if "tensorflow" not in sys.modules:
        os.environ.setdefault(ONEDNN_VARIABLE, "1")
