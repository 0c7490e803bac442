"""
Saving, loading and exporting
=============================

``save_model`` writes a file of data only, which ``load_model`` reads without
unpickling anything; ``export`` writes the network alone for serving, here as
ONNX, which onnxruntime runs without TensorFlow.
"""

import shutil
import tempfile
from pathlib import Path

import numpy as np

from fashion_estimators import (
    CHANNEL_SHAPE,
    FashionCNNClassifier,
    export,
    fetch_fashion_mnist,
    load_model,
    save_model,
    stratified_subset,
)

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X_small, y_small = stratified_subset(X, y, 3000, random_state=0)
# sphinx_gallery_start_ignore
# The test suite sets FASHION_EXAMPLES_QUICK=1 to run each example on 500 images.
from os import environ  # noqa: E402

if environ.get("FASHION_EXAMPLES_QUICK") == "1":
    X_small, y_small = stratified_subset(X, y, 500, random_state=0)
# sphinx_gallery_end_ignore
clf = FashionCNNClassifier(epochs=2, random_state=0).fit(X_small, y_small)
folder = Path(tempfile.mkdtemp())

# %%
# A saved model predicts exactly as the one that was saved, on a machine of
# the same kind (a bfloat16 model loaded where bfloat16 is not native computes
# in float32 there: close, not bit for bit).
path = save_model(clf, folder / "cnn.fashion")
loaded = load_model(path)
same = np.array_equal(
    loaded.predict_proba(X_test[:500]), clf.predict_proba(X_test[:500])
)
print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, same probabilities: {same}")

# %%
# Export to ONNX (``pip install "fashion-estimators[export]"``) and serve with
# onnxruntime alone. The exported network takes float32 pixels in [0, 255]
# shaped (n, 28, 28, 1), test-time flips included, and returns the
# probabilities of ``clf.classes_``.
try:
    import onnxruntime
except ImportError:
    print("onnxruntime is not installed; skipping the ONNX part")
else:
    onnx_path = export(clf, folder / "cnn.onnx", format="onnx")
    session = onnxruntime.InferenceSession(str(onnx_path))
    images = np.asarray(X_test[:500], dtype="float32").reshape(-1, *CHANNEL_SHAPE)
    proba = session.run(None, {session.get_inputs()[0].name: images})[0]
    gap = np.abs(proba - clf.predict_proba(X_test[:500])).max()
    print(f"ONNX and predict_proba differ by at most {gap:.1e}")

# %%
# Clean up.
shutil.rmtree(folder)
