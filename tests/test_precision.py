"""The precision parameter: float32 or mixed bfloat16, chosen per machine.

No test needs bfloat16 hardware: detection is forced either way, and a
bfloat16 fit runs, emulated and slowly, on any CPU, so the fits here are tiny.
The hardware detection is a private unit (``_hardware``, ``_precision``): the
tests that force it either way patch it there, its one seam.
"""

import os
import subprocess
import sys

import joblib
import keras
import numpy as np
import pytest
from helpers import FAST_CNN, FAST_MLP
from sklearn.base import clone

from fashion_estimators import (
    FashionCNNClassifier,
    FashionMLPClassifier,
    _hardware,
    _precision,
    load_model,
    save_model,
)


@pytest.fixture
def hardware(monkeypatch):
    """``hardware(native)`` makes this machine look as if it had (or lacked)
    bfloat16 units."""

    def force(native: bool) -> None:
        monkeypatch.setattr(_precision, "native_bfloat16", lambda: native)

    return force


@pytest.fixture(scope="module")
def bf16_cnn(small):
    """With the default augmentation and test-time flips, whose layers must
    load in float32 too."""
    params = dict(FAST_CNN, augment="flip+erase", precision="bfloat16")
    return FashionCNNClassifier(**params).fit(*small[:2])


def _policies(model) -> dict[str, str]:
    """Each layer's policy, those inside test-time flips included."""
    layers = _precision._all_layers(model)
    return {layer.name: layer.dtype_policy.name for layer in layers}


@pytest.mark.parametrize(
    "flags, native",
    [
        ("fpu avx2 avx512f avx512_bf16 amx_tile", True),
        ("fpu avx2 amx_bf16 amx_tile amx_int8", True),
        ("fpu sse4_2 avx2 avx512f avx512_vnni", False),
        ("fpu sse4_2 avx2 fma", False),
    ],
)
def test_cpu_detection_reads_the_bfloat16_flags(flags, native, tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n")
    assert _hardware.cpu_flags(cpuinfo) == frozenset(flags.split())
    monkeypatch.setattr(_hardware, "cpu_flags", lambda: frozenset(flags.split()))
    _hardware.cpu_has_native_bfloat16.cache_clear()
    try:
        assert _hardware.cpu_has_native_bfloat16() is native
    finally:
        _hardware.cpu_has_native_bfloat16.cache_clear()


def test_cpu_detection_without_cpuinfo(tmp_path):
    assert _hardware.cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.parametrize(
    "capabilities, native",
    [
        ([(8, 0)], True),
        ([(9, 0), (8, 6)], True),
        ([(7, 5)], False),
        ([(8, 0), (7, 0)], False),
        ([None], False),
    ],
)
def test_gpu_detection_needs_compute_capability_8(capabilities, native, monkeypatch):
    details = iter([{"compute_capability": c} if c else {} for c in capabilities])
    monkeypatch.setattr(
        _precision.tf.config.experimental,
        "get_device_details",
        lambda gpu: next(details),
    )
    assert _precision._gpu_has_native_bfloat16(capabilities) is native


@pytest.mark.parametrize("native, chosen", [(True, "bfloat16"), (False, "float32")])
def test_auto_uses_bfloat16_only_where_it_is_native(native, chosen, hardware, small):
    hardware(native)
    assert _precision.resolve_precision("auto") == chosen
    assert _precision.resolve_precision("float32") == "float32"
    assert _precision.resolve_precision("bfloat16") == "bfloat16"
    X, y = small[0][:200], small[1][:200]
    clf = FashionMLPClassifier(**{**FAST_MLP, "epochs": 1}).fit(X, y)
    assert clf.precision_ == chosen
    assert _precision.model_precision(clf.model_) == chosen


def test_bfloat16_is_set_per_layer_with_a_float32_output(bf16_cnn, small):
    policies = _policies(bf16_cnn.model_)
    assert policies.pop("proba") == "float32" and policies.pop("pixels") == "float32"
    assert policies.pop("mirror_average") == "float32"  # it only averages
    policies.pop("fashion_cnn")  # the network inside the test-time flips
    assert set(policies.values()) == {"mixed_bfloat16"}
    assert all(w.dtype == "float32" for w in bf16_cnn.model_.weights)
    proba = bf16_cnn.predict_proba(small[2])
    assert proba.dtype == np.float64 and np.allclose(proba.sum(axis=1), 1)
    assert (
        bf16_cnn.model_.predict_on_batch(small[2][:5].reshape(-1, 28, 28, 1)).dtype
        == "float32"
    )


@pytest.mark.slow
def test_bfloat16_learns_as_float32_does(small):
    X, y, X_test, y_test = small
    mlp = FashionMLPClassifier(**{**FAST_MLP, "epochs": 12})
    scores = {
        precision: clone(mlp)
        .set_params(precision=precision)
        .fit(X, y)
        .score(X_test, y_test)
        for precision in ("float32", "bfloat16")
    }
    assert scores["float32"] > 0.6
    assert abs(scores["bfloat16"] - scores["float32"]) < 0.05, scores


def test_a_fit_leaves_the_global_policy_and_other_models_alone(small):
    before = keras.config.dtype_policy().name
    mine = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="dense")])
    FashionMLPClassifier(**{**FAST_MLP, "epochs": 1}, precision="bfloat16").fit(
        small[0][:200], small[1][:200]
    )
    assert keras.config.dtype_policy().name == before == "float32"
    assert _policies(mine) == {"dense": "float32"}
    assert keras.layers.Dense(3).dtype_policy.name == "float32"


def test_a_custom_network_gets_the_policy_too(small):
    def network(n_classes):
        return keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.layers.Flatten(name="flatten"),
                keras.layers.Dense(16, activation="relu", name="dense"),
                keras.layers.Dense(n_classes, activation="softmax", name="out"),
            ],
            name="tiny",
        )

    clf = FashionCNNClassifier(
        network=network, epochs=1, augment=None, precision="bfloat16", random_state=0
    ).fit(small[0][:200], small[1][:200])
    body = clf.model_.get_layer("tiny")
    assert _policies(body) == {
        "flatten": "mixed_bfloat16",
        "dense": "mixed_bfloat16",
        "out": "float32",
    }


@pytest.mark.parametrize(
    "estimator",
    [FashionCNNClassifier(**FAST_CNN), FashionMLPClassifier(**FAST_MLP)],
    ids=["cnn", "mlp"],
)
@pytest.mark.slow
def test_seeded_bfloat16_fits_are_bit_identical(estimator, small):
    X, y = small[0][:300], small[1][:300]
    first, second = (
        clone(estimator).set_params(precision="bfloat16").fit(X, y) for _ in range(2)
    )
    np.testing.assert_array_equal(
        first.predict_proba(small[2]), second.predict_proba(small[2])
    )
    assert first.history_ == second.history_


@pytest.mark.parametrize("how", ["save_model", "joblib"])
def test_bfloat16_model_loads_as_float32_where_bfloat16_is_emulated(
    how, bf16_cnn, small, tmp_path, hardware
):
    expected = bf16_cnn.set_params(precision="auto").predict_proba(small[2])
    hardware(False)
    if how == "save_model":
        loaded = load_model(save_model(bf16_cnn, tmp_path / "m.fashion"))
    else:
        joblib.dump(bf16_cnn, tmp_path / "m.joblib")
        loaded = joblib.load(tmp_path / "m.joblib")
    assert loaded.precision_ == "float32"
    assert _precision.model_precision(loaded.model_) == "float32"
    proba = loaded.predict_proba(small[2])
    # bfloat16 keeps 8 bits of mantissa: the float32 network differs slightly
    np.testing.assert_allclose(proba, expected, atol=0.05)
    assert np.mean(proba.argmax(1) == expected.argmax(1)) >= 0.97
    before = loaded.model_.get_weights()
    loaded.partial_fit(small[0][:100], small[1][:100])  # and trains on
    assert len(loaded.history_["loss"]) == len(bf16_cnn.history_["loss"]) + 1
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(before, loaded.model_.get_weights(), strict=True)
    )
    hardware(True)
    joblib.dump(bf16_cnn, tmp_path / "again.joblib")
    assert joblib.load(tmp_path / "again.joblib").precision_ == "bfloat16"


def test_a_float32_model_stays_float32_where_bfloat16_is_native(
    small, tmp_path, hardware
):
    hardware(False)
    mlp = FashionMLPClassifier(**FAST_MLP).fit(small[0][:200], small[1][:200])
    expected = mlp.predict_proba(small[2])
    hardware(True)
    loaded = load_model(save_model(mlp, tmp_path / "m.fashion"))
    assert loaded.precision_ == "float32"
    np.testing.assert_array_equal(loaded.predict_proba(small[2]), expected)


def test_bfloat16_is_kept_when_asked_for(bf16_cnn, small, tmp_path, hardware):
    hardware(False)
    forced = clone(bf16_cnn).set_params(precision="bfloat16")
    forced.fit(small[0][:100], small[1][:100])
    joblib.dump(forced, tmp_path / "m.joblib")
    assert joblib.load(tmp_path / "m.joblib").precision_ == "bfloat16"


def test_unknown_precision_is_refused(small):
    with pytest.raises(ValueError, match="'precision' parameter .* 'float16'"):
        FashionMLPClassifier(precision="float16").fit(small[0], small[1])


_ONEDNN_IN_USE = """
import fashion_estimators
from tensorflow.python.util import _pywrap_util_port
print(_pywrap_util_port.IsMklEnabled())
"""


@pytest.mark.slow
@pytest.mark.parametrize("setting, in_use", [(None, "True"), ("0", "False")])
def test_importing_the_package_first_asks_for_onednn_unless_told_not_to(
    setting, in_use
):
    env = {k: v for k, v in os.environ.items() if k != _hardware.ONEDNN_VARIABLE}
    if setting is not None:
        env[_hardware.ONEDNN_VARIABLE] = setting
    done = subprocess.run(
        [sys.executable, "-c", _ONEDNN_IN_USE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.split()[-1] == in_use


_PRECISION_OF_A_FIT = """
import numpy as np
from fashion_estimators import FashionMLPClassifier
X = np.random.default_rng(0).integers(0, 256, (40, 784))
clf = FashionMLPClassifier(hidden_units=(8,), epochs=1, random_state=0)
print(clf.fit(X, np.arange(40) % 2).precision_)
"""


@pytest.mark.slow
def test_auto_precision_follows_this_cpu_unpatched():
    # the dispatch as it runs for a user: a fresh process, nothing forced,
    # against the CPU flags read here without the package
    flags = set()
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    expected = "bfloat16" if flags & {"amx_bf16", "avx512_bf16"} else "float32"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _PRECISION_OF_A_FIT],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=True,
    )
    assert done.stdout.split() == [expected]
