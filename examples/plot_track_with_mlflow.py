"""
Track fits with MLflow
======================

Each fit becomes an `MLflow <https://mlflow.org>`_ run that records the
estimator's parameters, the loss and accuracy of every epoch (through MLflow's
own Keras callback, ``mlflow.keras.MlflowCallback``), the test score, and the
model file as an artifact, which :func:`~fashion_estimators.load_model` reads
back. The tracking store is a SQLite file in a temporary folder: no server
runs. Needs ``pip install "fashion-estimators[mlflow]"``.
"""

import tempfile
from pathlib import Path

import mlflow
import mlflow.keras
import numpy as np
from matplotlib.figure import Figure

from fashion_estimators import (
    FashionCNNClassifier,
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

# %%
# A local tracking store: a SQLite file, and a folder for the artifacts.
folder = Path(tempfile.mkdtemp())
mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
experiment = mlflow.create_experiment(
    "fashion", artifact_location=(folder / "artifacts").as_uri()
)

# %%
# One run: the parameters, every epoch's figures, the test score, the file.
clf = FashionCNNClassifier(
    epochs=4, batch_size=64, validation_fraction=0.1, random_state=0
)
with mlflow.start_run(experiment_id=experiment) as run:
    mlflow.log_params(clf.get_params())
    clf.fit(X_small, y_small, callbacks=[mlflow.keras.MlflowCallback()])
    mlflow.log_metric("test_accuracy", clf.score(X_test, y_test))
    mlflow.log_artifact(save_model(clf, folder / "cnn.fashion"))

# %%
# Read it all back from the store: the run's figures, and the model file,
# which loads and predicts as the estimator that was fitted.
tracked = mlflow.get_run(run.info.run_id)
print("parameters:", {k: tracked.data.params[k] for k in ("epochs", "learning_rate")})
print(f"test accuracy: {tracked.data.metrics['test_accuracy']:.4f}")
client = mlflow.MlflowClient()
history = {
    name: [m.value for m in client.get_metric_history(run.info.run_id, name)]
    for name in ("loss", "accuracy", "val_loss", "val_accuracy")
}
downloaded = mlflow.artifacts.download_artifacts(
    run_id=run.info.run_id, artifact_path="cnn.fashion", dst_path=str(folder / "dl")
)
again = load_model(downloaded)
same = np.array_equal(again.predict(X_test[:500]), clf.predict(X_test[:500]))
print("the artifact predicts as the fitted estimator:", same)

figure = Figure(figsize=(7, 3), layout="constrained")
left, right = figure.subplots(1, 2)
for name in ("loss", "val_loss"):
    left.plot(range(1, len(history[name]) + 1), history[name], marker="o", label=name)
for name in ("accuracy", "val_accuracy"):
    right.plot(range(1, len(history[name]) + 1), history[name], marker="o", label=name)
for axes, title in ((left, "loss"), (right, "accuracy")):
    axes.set(title=f"{title}, as MLflow recorded it", xlabel="epoch")
    axes.legend()
