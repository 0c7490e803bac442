"""Benchmarks: the package's classifiers against scikit-learn baselines.

Run ``python -m benchmarks`` (quick mode) or ``python -m benchmarks --help``.
"""
