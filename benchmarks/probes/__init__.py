"""One-off investigations of where the time goes, kept runnable.

Each answers one question the performance page asks, and is run by hand:
``python -m benchmarks.probes.breakdown`` (a training step, layer by layer),
``python -m benchmarks.probes.calls`` (one-row prediction, the MLP's step),
``python -m benchmarks.probes.held_out`` (a configuration's held-out accuracy),
``python -m benchmarks.probes.kernels`` (the oneDNN kernels of a step),
``python -m benchmarks.probes.throughput`` (training images/s, oneDNN on and
off) and
``python -m benchmarks.probes.weight_gradients`` (the convolutions' weight
gradients computed other ways). ``tests/test_benchmarks.py`` runs each on a
tiny case.
"""
