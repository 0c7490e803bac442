"""export: the network alone, for serving with onnxruntime or TensorFlow."""

import numpy as np

# the [test] extra installs onnxruntime: without it these tests fail, not skip
import onnxruntime
import pytest
from helpers import FAST_MLP
from sklearn.exceptions import NotFittedError

from fashion_estimators import FashionCNNClassifier, FashionMLPClassifier, export
from fashion_estimators.cli import main


def _images(X):
    return np.asarray(X, dtype="float32").reshape(-1, 28, 28, 1)


def _onnx_proba(path, X):
    session = onnxruntime.InferenceSession(str(path))
    (name,) = [i.name for i in session.get_inputs()]
    return session.run(None, {name: _images(X)})[0]


@pytest.fixture(scope="module")
def cnn(train_set):
    # a network with BatchNorm and blocks of two convolutions (test-time flips
    # included), trained briefly
    X, y = train_set[0][:2000], train_set[1][:2000]
    return FashionCNNClassifier(
        filters=(16, (32, 32)), batch_norm=True, epochs=1, precision="float32"
    ).fit(X, y)


@pytest.mark.slow
def test_onnx_matches_predict_proba_on_1000_test_images(tmp_path, cnn, test_set):
    import onnx as onnx_format

    X = test_set[0][:1000]
    path = export(cnn, tmp_path / "cnn.onnx")
    onnx, ours = _onnx_proba(path, X), cnn.predict_proba(X)
    np.testing.assert_allclose(onnx, ours, atol=1e-4)
    assert np.mean(onnx.argmax(1) == ours.argmax(1)) >= 0.999
    # BatchNorm is folded into the convolutions: none is left to compute
    ops = [node.op_type for node in onnx_format.load(path).graph.node]
    assert ops.count("Conv") == 3 and "BatchNormalization" not in ops


@pytest.mark.slow
@pytest.mark.parametrize("batch_norm", [False, True])
def test_the_mlp_exports_too(tmp_path, small, batch_norm):
    import onnx as onnx_format

    clf = FashionMLPClassifier(**{**FAST_MLP, "batch_norm": batch_norm})
    clf.set_params(precision="float32")
    clf.fit(small[0], small[1])
    path = export(clf, tmp_path / "mlp.onnx")
    onnx = _onnx_proba(path, small[2])
    np.testing.assert_allclose(onnx, clf.predict_proba(small[2]), atol=1e-4)
    # BatchNorm is folded into the dense layers: none is left to compute
    ops = [node.op_type for node in onnx_format.load(path).graph.node]
    assert "BatchNormalization" not in ops


@pytest.mark.slow
def test_a_bfloat16_model_exports_in_float32(tmp_path, small):
    X, y, X_test = small[0], small[1], small[2]
    clf = FashionMLPClassifier(**FAST_MLP, precision="bfloat16").fit(X, y)
    path = export(clf, tmp_path / "mlp.onnx")
    session = onnxruntime.InferenceSession(str(path))
    assert session.get_inputs()[0].type == "tensor(float)"
    assert session.get_outputs()[0].type == "tensor(float)"
    onnx, ours = _onnx_proba(path, X_test), clf.predict_proba(X_test)
    np.testing.assert_allclose(onnx, ours, atol=0.05)  # bfloat16's rounding
    assert np.mean(onnx.argmax(1) == ours.argmax(1)) >= 0.97


@pytest.mark.slow
def test_saved_model_serves_the_same_probabilities(tmp_path, cnn, test_set):
    import tensorflow as tf

    X = test_set[0][:200]
    path = export(cnn, tmp_path / "cnn_saved_model", format="saved_model")
    loaded = tf.saved_model.load(str(path))  # kept: serve needs its variables
    served = loaded.serve(_images(X)).numpy()
    np.testing.assert_allclose(served, cnn.predict_proba(X), atol=1e-5)


# (case, make the arguments, error, message)
BAD = [
    ("unknown format", lambda d: (d / "m.onnx", "pickle"), ValueError, "'pickle'"),
    (
        "missing folder",
        lambda d: (d / "no" / "m.onnx", "onnx"),
        FileNotFoundError,
        "no such folder",
    ),
    ("a folder as the file", lambda d: (d, "onnx"), IsADirectoryError, "is a folder"),
    (
        "a folder nobody may write in (sysfs refuses even root)",
        lambda d: ("/sys/fashion.onnx", "onnx"),
        PermissionError,
        "cannot write in this folder",
    ),
]


@pytest.mark.parametrize(
    "arguments, error, message", [c[1:] for c in BAD], ids=[c[0] for c in BAD]
)
def test_bad_exports_are_refused_clearly(tmp_path, small, arguments, error, message):
    clf = FashionMLPClassifier(**FAST_MLP).fit(small[0], small[1])
    path, format = arguments(tmp_path)
    with pytest.raises(error, match=message):
        export(clf, path, format=format)


def test_an_unfitted_estimator_is_refused(tmp_path):
    with pytest.raises(NotFittedError):
        export(FashionMLPClassifier(), tmp_path / "m.onnx")


def _served_proba(format, path, X):
    """What the exported file at ``path`` predicts for ``X``, in its runtime."""
    if format == "onnx":
        return _onnx_proba(path, X)
    import tensorflow as tf

    if format == "saved_model":
        loaded = tf.saved_model.load(str(path))  # kept: serve needs its variables
        return loaded.serve(_images(X)).numpy()
    interpreter = tf.lite.Interpreter(model_path=str(path))
    (given,), (returned,) = (
        interpreter.get_input_details(),
        interpreter.get_output_details(),
    )
    interpreter.resize_tensor_input(given["index"], (len(X), 28, 28, 1))
    interpreter.allocate_tensors()
    interpreter.set_tensor(given["index"], _images(X))
    interpreter.invoke()
    return interpreter.get_tensor(returned["index"])


@pytest.mark.parametrize(
    "format, out",
    [
        pytest.param("onnx", "mlp.onnx", marks=pytest.mark.slow),
        pytest.param("saved_model", "mlp_saved", marks=pytest.mark.slow),
        pytest.param("litert", "mlp.tflite", marks=pytest.mark.slow),
    ],
)
def test_cli_export(tmp_path, small, capsys, format, out):
    from fashion_estimators import save_model

    clf = FashionMLPClassifier(**FAST_MLP, precision="float32").fit(small[0], small[1])
    model = save_model(clf, tmp_path / "mlp.fashion")
    out = tmp_path / out
    assert main(["export", str(model), "--format", format, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"({format})" in printed and "shape (n, 28, 28, 1)" in printed
    np.testing.assert_allclose(
        _served_proba(format, out, small[2][:50]),
        clf.predict_proba(small[2][:50]),
        atol=1e-4,
    )


@pytest.mark.slow
def test_litert_serves_the_same_probabilities(tmp_path, small):
    import tensorflow as tf

    clf = FashionMLPClassifier(**FAST_MLP, precision="float32").fit(small[0], small[1])
    path = export(clf, tmp_path / "mlp.tflite", format="litert")
    interpreter = tf.lite.Interpreter(model_path=str(path))
    images = _images(small[2][:1])
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], images)
    interpreter.invoke()
    served = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(served, clf.predict_proba(small[2][:1]), atol=1e-5)
