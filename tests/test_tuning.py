"""The tuning tools users bring, through the gallery examples that show them:
Optuna prunes a hopeless trial from inside ``fit``, and MLflow records a fit
and gives its model file back."""

import os
import runpy
from pathlib import Path

import numpy as np
import pytest

from benchmarks.harness import children

EXAMPLES = Path(__file__).parents[1] / "examples"

pytestmark = pytest.mark.slow


def _run(example: str, tmp_path, monkeypatch) -> dict:
    monkeypatch.setenv("FASHION_EXAMPLES_QUICK", "1")
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    monkeypatch.chdir(tmp_path)
    return runpy.run_path(str(EXAMPLES / example), run_name="__main__")


def test_optuna_prunes_the_hopeless_trial_before_its_last_epoch(tmp_path, monkeypatch):
    from optuna.trial import TrialState

    shown = _run("plot_tune_with_optuna.py", tmp_path, monkeypatch)
    study, epochs = shown["study"], shown["EPOCHS"]
    hopeless = [t for t in study.trials if t.params["learning_rate"] == 1e-7]
    assert len(hopeless) == 1
    assert hopeless[0].state == TrialState.PRUNED
    # reported each epoch (steps from 0), stopped at the first step the
    # pruner may act on: after 2 of the 8 epochs
    assert sorted(hopeless[0].intermediate_values) == [0, 1] and epochs == 8
    complete = study.get_trials(states=[TrialState.COMPLETE])
    assert all(len(t.intermediate_values) == epochs for t in complete)
    assert study.best_trial.params["learning_rate"] > 1e-4
    # 500 images: the best of these small searches cross-validates at 0.73
    assert shown["scores"].mean() > 0.6


def test_mlflow_records_the_fit_and_gives_the_model_file_back(tmp_path, monkeypatch):
    import mlflow

    before = set(children(os.getpid()))
    shown = _run("plot_track_with_mlflow.py", tmp_path, monkeypatch)
    clf, run = shown["clf"], shown["tracked"]
    params = run.data.params
    for name, value in clf.get_params().items():
        assert params[name] == str(value)
    assert run.data.metrics["test_accuracy"] == pytest.approx(
        clf.score(shown["X_test"], shown["y_test"])
    )
    client = mlflow.MlflowClient()
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        logged = client.get_metric_history(run.info.run_id, name)
        assert [m.step for m in logged] == list(range(clf.epochs))
        np.testing.assert_allclose([m.value for m in logged], clf.history_[name])
    assert shown["same"]
    again = shown["again"]
    np.testing.assert_allclose(
        again.predict_proba(shown["X_test"][:100]),
        clf.predict_proba(shown["X_test"][:100]),
        atol=1e-6,
    )
    # the store is a file: no server, and no process left behind
    assert run.info.artifact_uri.startswith("file://")
    assert shown["folder"].joinpath("mlflow.db").is_file()
    assert set(children(os.getpid())) == before
