"""A tiny run of the benchmark: every model, one epoch, a few hundred images."""

import csv
import json

import pytest

from benchmarks.__main__ import main
from benchmarks.models import MODELS
from benchmarks.reproductions import REPRODUCTIONS, compact
from fashion_estimators._networks import wrap_network


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    argv = ["--n-train", "300", "--n-test", "200", "--epochs", "1"]
    assert main([*argv, "--reproduce", "--repeats", "2", "--out", str(out)]) == 0
    return out


def test_writes_one_row_per_model(tiny_run):
    report = json.loads((tiny_run / "results.json").read_text())
    assert [r["model"] for r in report["results"]] == list(MODELS)
    assert report["n_train"] == 300 and report["n_test"] == 200
    assert report["machine"]["cpus"] >= 1 and "tensorflow" in report["machine"]
    with open(tiny_run / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["model"] for r in rows] == list(MODELS)
    for row in rows:
        assert 0 <= float(row["accuracy"]) <= 1 and float(row["fit_seconds"]) > 0


def test_repeats_apply_to_the_package_models_only(tiny_run):
    report = json.loads((tiny_run / "results.json").read_text())
    seeds = {r["model"]: r["seeds"] for r in report["results"]}
    assert seeds["fashion-cnn"] == [0, 1] and seeds["svc-rbf"] == [0]
    assert len(report["results"][-1]["runs"]["accuracy"]) == 2


def test_reproductions_and_figures(tiny_run):
    report = json.loads((tiny_run / "results.json").read_text())
    assert [r["model"] for r in report["reproductions"]] == [
        f"reproduce-{r.name}" for r in REPRODUCTIONS
    ]
    assert (tiny_run / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    text = (tiny_run / "classification_report.txt").read_text()
    assert "Ankle boot" in text and "macro avg" in text


@pytest.mark.parametrize("reproduction", REPRODUCTIONS, ids=lambda r: r.name)
def test_reproductions_train_and_predict_as_the_tutorials(reproduction):
    # whatever our defaults become: no augmentation, no test-time flips
    clf = reproduction.estimator(seed=0, verbose=0)
    assert clf.augment is None and clf.lr_schedule == "constant"
    assert clf.test_time_flip == "auto"


def test_compact_reproduction_has_the_published_parameter_count():
    assert wrap_network(compact(10)).count_params() == 417_650


def test_speed_benchmark_measures_every_target(tmp_path, capsys):
    from benchmarks import speed

    argv = ["--quick", "--seeds", "1", "--n-train", "1000", "--out", str(tmp_path)]
    assert speed.main(argv) == 0
    report = json.loads((tmp_path / "speed.json").read_text())
    rows = {row["what"].split(",")[0]: row for row in report["rows"]}
    assert len(rows) == 9
    for name in (
        "FashionCNNClassifier() test accuracy",
        "FashionMLPClassifier() fit wall time",
        "one-row predict latency",
        "peak resident memory of a default CNN fit",
    ):
        assert rows[name]["passed"] in (True, False)
        assert rows[name]["measured"] > 0 and rows[name]["target"]
    overhead = rows["fit overhead vs plain model.fit"]
    assert -50 < overhead["measured"] < 100 and overhead["passed"] in (True, False)
    epochs = report["details"]["time_to_accuracy"]["epochs"]
    assert len(epochs) == 2
    assert epochs[0]["seconds"] < epochs[1]["seconds"]
    assert all(0 <= e["test_accuracy"] <= 1 for e in epochs)
    assert "| what | measured | target |" in capsys.readouterr().out
