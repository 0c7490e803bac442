"""Checkpoints after every epoch, and resuming an interrupted fit."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest
from helpers import FAST_MLP

import fashion_estimators
from fashion_estimators import (
    FashionCNNClassifier,
    FashionMLPClassifier,
    ModelFileError,
    load_model,
    resume,
    stratified_subset,
)
from fashion_estimators.cli import main

FIVE_EPOCHS = {**FAST_MLP, "epochs": 5}


class InterruptAt(keras.callbacks.Callback):
    """Ctrl-C in the middle of epoch ``epoch`` (counted from 0)."""

    def __init__(self, epoch, batch=3):
        super().__init__()
        self.at, self.batch, self.epoch = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.at and batch == self.batch:
            raise KeyboardInterrupt


def test_an_interrupted_fit_leaves_its_last_finished_epoch(tmp_path, small):
    X, y = small[0], small[1]
    path = tmp_path / "mlp.ckpt"
    clf = FashionMLPClassifier(**FIVE_EPOCHS, checkpoint=path)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y, callbacks=[InterruptAt(epoch=2)])
    assert not hasattr(clf, "model_")  # the estimator stays as it was
    saved = load_model(path)
    assert len(saved.history_["loss"]) == 2
    # a file never names a path to write: loading gives checkpoint=None, and
    # only resume(path, ...) writes on, to the file it resumes
    assert saved.checkpoint is None


@pytest.mark.slow
def test_resume_finishes_the_schedule_of_the_interrupted_fit(tmp_path, small):
    X, y, X_test, y_test = small
    path = tmp_path / "mlp.ckpt"
    # SGD's momentum is optimizer state to restore; one cycle a schedule to
    # pick up in the middle
    params = {**FIVE_EPOCHS, "optimizer": "sgd", "lr_schedule": "one-cycle"}
    params["learning_rate"] = 0.05
    whole = FashionMLPClassifier(**params).fit(X, y)
    with pytest.raises(KeyboardInterrupt):
        FashionMLPClassifier(**params, checkpoint=path).fit(
            X, y, callbacks=[InterruptAt(epoch=2)]
        )
    resumed = resume(path, X, y)
    assert len(resumed.history_["loss"]) == 5
    # the same cycle, picked up at epoch 3, not a new one: up for the first
    # quarter of the epochs, then down towards 0, each epoch at its middle
    np.testing.assert_allclose(
        resumed.history_["learning_rate"],
        [0.05 * f for f in (0.4, 0.7 / 0.75, 0.5 / 0.75, 0.3 / 0.75, 0.1 / 0.75)],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        resumed.history_["learning_rate"], whole.history_["learning_rate"], rtol=1e-6
    )
    # the two first epochs are the uninterrupted fit's, bit for bit
    assert resumed.history_["loss"][:2] == whole.history_["loss"][:2]
    assert abs(resumed.score(X_test, y_test) - whole.score(X_test, y_test)) <= 0.05
    assert len(load_model(path).history_["loss"]) == 5  # it kept checkpointing


def test_the_optimizer_state_is_in_the_checkpoint(tmp_path, small):
    X, y = small[0], small[1]
    path = tmp_path / "mlp.ckpt"
    clf = FashionMLPClassifier(**FAST_MLP, checkpoint=path).fit(X, y)
    loaded = load_model(path)
    for saved, trained in zip(
        loaded.model_.optimizer.variables, clf.model_.optimizer.variables, strict=True
    ):
        np.testing.assert_array_equal(saved.numpy(), trained.numpy())


def test_resuming_a_finished_fit_changes_nothing(tmp_path, small):
    X, y = small[0], small[1]
    path = tmp_path / "mlp.ckpt"
    clf = FashionMLPClassifier(**FAST_MLP, checkpoint=path).fit(X, y)
    again = resume(path, X, y)
    assert len(again.history_["loss"]) == FAST_MLP["epochs"]
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


@pytest.mark.slow
def test_a_warm_started_fit_checkpoints_its_whole_history(tmp_path, small):
    X, y = small[0], small[1]
    path = tmp_path / "mlp.ckpt"
    clf = FashionMLPClassifier(**FAST_MLP, warm_start=True).fit(X, y)
    clf.set_params(checkpoint=path).fit(X, y)
    assert load_model(path).history_["loss"] == clf.history_["loss"]


# A network a few times smaller than the default (1024, 512): what is proven
# is the file's and the schedule's, not the network's.
KILLED_MLP = dict(hidden_units=(256,), epochs=8, random_state=0)
_FIT_IN_A_CHILD = f"""
import sys
import numpy as np
from fashion_estimators import FashionMLPClassifier
X, y = np.load(sys.argv[1]), np.load(sys.argv[2])
FashionMLPClassifier(**{KILLED_MLP}, checkpoint=sys.argv[3]).fit(X, y)
"""


@pytest.mark.slow
def test_a_fit_killed_with_sigkill_resumes_to_the_same_accuracy(
    tmp_path, train_set, test_set
):
    X, y = stratified_subset(*train_set, 5_000, random_state=0)
    X_test, y_test = test_set
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    path = tmp_path / "mlp.ckpt"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_FIT_IN_A_CHILD)]
        + [str(tmp_path / "X.npy"), str(tmp_path / "y.npy"), str(path)],
        stderr=subprocess.DEVNULL,
    )
    # every checkpoint is a new file renamed over the old one: count inodes
    written, deadline = set(), time.monotonic() + 240
    while len(written) < 3 and child.poll() is None and time.monotonic() < deadline:
        if path.exists():
            written.add(path.stat().st_ino)
        time.sleep(0.01)
    time.sleep(0.2)  # somewhere in the next epoch, or in its checkpoint write
    assert child.poll() is None, "the fit ended before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    interrupted = load_model(path)  # intact, whatever the kill interrupted
    done = len(interrupted.history_["loss"])
    assert 3 <= done < 8
    resumed = resume(path, X, y)
    whole = FashionMLPClassifier(**KILLED_MLP).fit(X, y)
    scores = resumed.score(X_test, y_test), whole.score(X_test, y_test)
    print(f"killed after epoch {done}; resumed {scores[0]:.4f}, whole {scores[1]:.4f}")
    assert len(resumed.history_["loss"]) == 8
    assert abs(scores[0] - scores[1]) <= 0.005


def test_a_checkpoint_in_a_missing_folder_fails_before_training(tmp_path, small):
    clf = FashionMLPClassifier(**FAST_MLP, checkpoint=tmp_path / "no" / "m.ckpt")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        clf.fit(small[0], small[1])
    assert not hasattr(clf, "model_")


def test_a_checkpoint_nobody_may_write_fails_before_training(small):
    clf = FashionMLPClassifier(**FAST_MLP, checkpoint="/sys/fashion.ckpt")
    with pytest.raises(PermissionError, match="cannot write in this folder"):
        clf.fit(small[0], small[1])
    assert not hasattr(clf, "model_")


def test_a_corrupt_checkpoint_is_refused(tmp_path, small):
    path = tmp_path / "mlp.ckpt"
    FashionMLPClassifier(**FAST_MLP, checkpoint=path).fit(small[0], small[1])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        resume(path, small[0], small[1])


def test_resuming_on_images_of_another_width_is_refused(tmp_path, small):
    path = tmp_path / "mlp.ckpt"
    with pytest.raises(KeyboardInterrupt):
        FashionMLPClassifier(**FIVE_EPOCHS, checkpoint=path).fit(
            small[0], small[1], callbacks=[InterruptAt(epoch=1)]
        )
    with pytest.raises(ValueError, match="783 feature"):
        resume(path, small[0][:, :783], small[1])


def test_cli_resume_refuses_a_checkpoint_of_another_model(tmp_path, small, capsys):
    path = tmp_path / "cnn.ckpt"
    FashionCNNClassifier(filters=(4,), dense_units=8, epochs=1, checkpoint=path).fit(
        small[0], small[1]
    )
    args = ["train", "--resume", str(path), "--model", "mlp", "--n-train", "600"]
    assert main([*args, "--out", str(tmp_path / "m")]) == 1
    assert "a checkpoint of a FashionCNNClassifier, not of --model mlp" in (
        capsys.readouterr().err
    )


@pytest.mark.slow
def test_cli_checkpoint_then_resume(tmp_path, capsys, monkeypatch):
    path, out = tmp_path / "mlp.ckpt", tmp_path / "mlp.fashion"
    common = ["--n-train", "600", "--out", str(out)]
    args = ["train", "--model", "mlp", "--epochs", "2", "--checkpoint", str(path)]
    assert main([*args, *common]) == 0
    assert len(load_model(path).history_["loss"]) == 2
    # a fit of 3 epochs on the data train --n-train 600 --seed 0 uses, stopped
    # in its third: the resumed run has one epoch left to train
    X, y = stratified_subset(
        *fashion_estimators.fetch_fashion_mnist("train", return_X_y=True),
        600,
        random_state=0,
    )
    with pytest.raises(KeyboardInterrupt):
        FashionMLPClassifier(**{**FAST_MLP, "epochs": 3}, checkpoint=path).fit(
            X, y, callbacks=[InterruptAt(epoch=2)]
        )
    assert len(load_model(path).history_["loss"]) == 2
    loaded = []
    monkeypatch.setattr(
        fashion_estimators.persistence,
        "load_model",
        lambda p: loaded.append(p) or load_model(p),
    )
    assert main(["train", "--resume", str(path), *common]) == 0
    assert loaded == [str(path)]  # the checkpoint is read once
    printed = capsys.readouterr().out
    assert f"Resuming {path} on 600 images" in printed
    assert len(load_model(out).history_["loss"]) == 3
    assert len(load_model(path).history_["loss"]) == 3


def test_a_checkpoint_of_an_early_stopped_fit_has_nothing_left(tmp_path, small):
    X, y, X_test, _ = small
    path = tmp_path / "mlp.ckpt"
    clf = FashionMLPClassifier(
        **{**FAST_MLP, "epochs": 60, "validation_fraction": 0.2},
        n_iter_no_change=1,
        learning_rate=1e-2,
        checkpoint=path,
    ).fit(X, y)
    epochs = len(clf.history_["loss"])
    assert epochs < 60  # stopped early
    saved = load_model(path)
    assert len(saved.history_["loss"]) == epochs
    # the checkpoint holds the best weights early stopping restored
    np.testing.assert_array_equal(
        saved.predict_proba(X_test), clf.predict_proba(X_test)
    )
    assert len(resume(path, X, y).history_["loss"]) == epochs


@pytest.mark.slow
def test_resume_trains_with_the_sample_weight_it_is_given(tmp_path, small):
    X, y = small[0], small[1]
    weights = np.where(y < 5, 1.0, 0.0)  # the fit learns classes 0-4 only
    first = tmp_path / "mlp.ckpt"
    with pytest.raises(KeyboardInterrupt):
        FashionMLPClassifier(**FIVE_EPOCHS, checkpoint=first).fit(
            X, y, sample_weight=weights, callbacks=[InterruptAt(epoch=1)]
        )
    second = tmp_path / "copy.ckpt"
    second.write_bytes(first.read_bytes())
    with pytest.raises(ValueError, match="sample_weight has shape"):
        resume(second, X, y, sample_weight=weights[:10])
    weighted = resume(first, X, y, sample_weight=weights)
    plain = resume(second, X, y)
    assert len(weighted.history_["loss"]) == len(plain.history_["loss"]) == 5
    # epoch 1 came from the checkpoint; the resumed epochs differ
    assert weighted.history_["loss"][0] == plain.history_["loss"][0]
    assert weighted.history_["loss"][1:] != plain.history_["loss"][1:]
    # weighted, the classes of weight 0 lose ground against the others
    wrong = y >= 5
    assert (weighted.predict(X[wrong]) == y[wrong]).mean() < (
        plain.predict(X[wrong]) == y[wrong]
    ).mean()
