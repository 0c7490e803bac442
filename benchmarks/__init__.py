"""Benchmarks: the package's classifiers against scikit-learn baselines.

Run ``python -m benchmarks`` (quick mode) or ``python -m benchmarks --help``.
"""

import os

# every benchmark module runs under this package: TensorFlow's C++ start-up
# log is silenced once, here, before any of them imports TensorFlow
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
