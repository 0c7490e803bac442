"""Repeatable fits without leaving global random state changed.

A fit with a fixed ``random_state`` runs inside :func:`seeded`, which seeds
Python, NumPy and TensorFlow (Keras draws its layer seeds from Python's
generator), turns TensorFlow's op determinism on, and restores all of it on
exit, so the user's own code afterwards behaves as if we had never run.

scikeras' own ``tensorflow_random_state`` is not used: it sets
``TF_DETERMINISTIC_OPS`` before asking TensorFlow whether determinism was on,
TensorFlow caches that answer as "on", and determinism is then never switched
off again, after which any unseeded random op in the process fails.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from numbers import Integral

import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context

# TensorFlow exports only enable_op_determinism; asking whether it is on and
# turning it off again need its internal module (as scikeras does).
from tensorflow.python.framework import config as tf_config


def as_seed(random_state) -> int | None:
    """An int seed from ``random_state`` (None, an int or a RandomState).

    A RandomState is not advanced: the same instance gives the same seed, as in
    scikeras.
    """
    if random_state is None:
        return None
    if isinstance(random_state, Integral):
        return int(random_state)
    copy = np.random.RandomState()
    copy.set_state(random_state.get_state())
    return int(copy.randint(2**31 - 1))


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed everything and make TensorFlow ops deterministic inside.

    Does nothing when ``seed`` is None.
    """
    if seed is None:
        yield
        return
    was_deterministic = tf_config.is_op_determinism_enabled()
    python_state, numpy_state = random.getstate(), np.random.get_state()
    tf_seed = context.global_seed()
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf_config.enable_op_determinism()
    try:
        yield
    finally:
        if not was_deterministic:
            tf_config.disable_op_determinism()
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        tf.random.set_seed(tf_seed)
