"""A tiny run of the benchmark: every model, one epoch, a few hundred images."""

import csv
import json
from pathlib import Path

import pytest
from helpers import FAST_CNN, FAST_MLP

from benchmarks import measurements, speed, targets
from benchmarks.__main__ import main
from benchmarks.models import MODELS
from benchmarks.probes import (
    breakdown,
    calls,
    held_out,
    kernels,
    side_by_side,
    throughput,
    weight_gradients,
)
from benchmarks.reproductions import REPRODUCTIONS, compact
from fashion_estimators import FashionCNNClassifier

# the benchmarks run each measurement in a fresh process
pytestmark = pytest.mark.slow


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
    network = FashionCNNClassifier(network=compact, augment=None).make_network(10)
    assert network.count_params() == 417_650


def test_measurements_return_their_numbers(small):
    X, y, X_test, y_test = small
    spec = {"model": "cnn", "params": {**FAST_CNN, "epochs": 3}, "curve": True}
    run = measurements.fit_and_score(spec, X, y, X_test, y_test)
    assert 0 <= run["accuracy"] <= 1 and run["epochs_run"] == 3
    seconds = [point["seconds"] for point in run["curve"]]
    assert len(seconds) == 3 and seconds == sorted(seconds) and seconds[0] > 0
    assert run["curve"][-1]["accuracy"] == pytest.approx(run["accuracy"], abs=0.02)
    # the clock stops while the test set is scored: the curve's times are the
    # epochs' alone, and the fit's time holds them (plus its set-up, which on
    # a fit this small can be as long as the epochs: 2.1 against 1.0 s in
    # float32 on an AMD EPYC, 2026-12-04)
    assert run["curve"][-1]["seconds"] == pytest.approx(sum(run["epoch_seconds"]))
    assert run["fit_seconds"] >= sum(run["epoch_seconds"])
    assert run["peak_rss_mib"] > 100


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_overhead_baseline_trains_the_optimizer_of_our_fit(small, optimizer):
    # its plain side once compiled plain SGD while our fit trained Nesterov
    # SGD with weight decay: the overhead row then timed two optimizers
    X, y, _, _ = small
    params = {**FAST_CNN, "optimizer": optimizer, "weight_decay": 5e-3, "epochs": 1}
    clf = FashionCNNClassifier(**params).fit(X[:200], y[:200])
    ours, plain = clf.model_.optimizer, measurements.documented_optimizer(clf)
    assert type(plain) is type(ours)
    for key in ("momentum", "nesterov", "weight_decay", "beta_1", "beta_2"):
        assert plain.get_config().get(key) == ours.get_config().get(key)


def test_the_former_default_is_measured_with_keras_batch_norm_layers(small):
    # the speed-up baseline: batch_norm=True alone now builds ConvBatchNorm;
    # with flips, as the real baseline, the layers hide behind test-time flips
    X, y, X_test, y_test = small
    params = {**FAST_CNN, "batch_norm": True, "augment": "flip", "epochs": 1}
    ours, keras_bn = (
        measurements.fit_and_score(
            {"model": "cnn", "params": params, "keras_batch_norm": keras_bn},
            X,
            y,
            X_test,
            y_test,
        )
        for keras_bn in (False, True)
    )
    assert "ConvBatchNorm" in ours["layers"]
    assert "BatchNormalization" not in ours["layers"]
    assert "BatchNormalization" in keras_bn["layers"]
    assert "ConvBatchNorm" not in keras_bn["layers"]
    spec = {"model": "mlp", "params": FAST_MLP, "precision": "float32"}
    speed = measurements.training_throughput(spec, X, y, X_test, y_test)
    assert speed["images_per_s"] > 0 and speed["precision"] == "float32"


def _fake_results(new_0937: float | None) -> dict:
    def fit(accuracy, seconds, curve=()):
        return {
            "accuracy": accuracy,
            "fit_seconds": seconds,
            "peak_rss_mib": 1000.0,
            "curve": [{"seconds": s, "accuracy": a} for s, a in curve],
        }

    new_curve = [(10.0, 0.90), (30.0, 0.93)]
    if new_0937 is not None:
        new_curve.append((new_0937, 0.94))
    return {
        "cnn": [fit(0.94, 500.0, new_curve), fit(0.95, 550.0)],
        "mlp": [fit(0.90, 50.0), fit(0.905, 70.0)],
        "former_cnn": fit(0.937, 900.0, [(100.0, 0.92), (500.0, 0.937)]),
        "cnn_5k": fit(0.896, 20.0),
        "cnn_4k_2_epochs": fit(0.79, 5.0),
        "throughput": {
            "auto": [{"images_per_s": 2000.0, "precision": "bfloat16"}],
            "float32": [{"images_per_s": 1000.0}, {"images_per_s": 800.0}],
        },
        "overhead": {"plain": [10.0, 9.0], "ours": [9.5, 12.0]},
        "prediction": {"latency_ms": 0.9, "batch_ours_s": 0.5},
    }


def test_targets_judge_the_summary():
    summary = speed.summarise(_fake_results(new_0937=100.0))
    assert summary["cnn_accuracy"] == pytest.approx(0.945)
    assert summary["cnn_fit_s"] == 550.0 and summary["mlp_fit_s"] == 70.0
    assert summary["speedup_to_0937"] == pytest.approx(5.0)
    assert summary["seconds_to_0926"] == 30.0
    assert summary["precision_speedup"] == pytest.approx(2.0)
    assert summary["overhead_pct"] == pytest.approx(100 * (9.5 / 9.0 - 1))
    rows = {row["key"]: row for row in targets.judge(summary)}
    assert [row["key"] for row in targets.judge(summary)] == [
        t.key for t in targets.TARGETS
    ]
    passed = {key for key, row in rows.items() if row["passed"]}
    assert passed == {
        "cnn_accuracy",
        "cnn_fit_s",
        "speedup_to_0937",
        "seconds_to_0926",
        "cnn_5k_accuracy",
        "latency_ms",
        "peak_rss_mib",
    }
    assert rows["mlp_accuracy"]["passed"] is False


def test_a_target_not_reached_is_neither_pass_nor_fail():
    summary = speed.summarise(_fake_results(new_0937=None))
    row = targets.judge(summary)[2]
    assert row["key"] == "speedup_to_0937"
    assert row["measured"] is None and row["passed"] is None


def test_the_accurate_run_judges_the_mean_of_its_seeds_and_its_fit_ratio():
    def short_fit(first, later):
        seconds = [first, later, later]
        return {"fit_seconds": sum(seconds), "epoch_seconds": seconds}

    epochs = speed.ACCURATE_CNN["epochs"]
    assert epochs == speed.ACCURATE_BASELINE_CNN["epochs"]
    results = {
        "accurate": [
            {"accuracy": 0.952, "fit_seconds": 3000.0},
            {"accuracy": 0.946, "fit_seconds": 3300.0},
            {"accuracy": 0.949, "fit_seconds": 3100.0},
        ],
        "timing": {
            # the baseline's first epoch weighs more: its set-up must not count
            # once for each of the epochs that a short fit did not run
            "baseline": [short_fit(30.0, 10.0), short_fit(32.0, 11.0)],
            "accurate": [short_fit(50.0, 40.0), short_fit(60.0, 40.0)],
        },
    }
    summary = speed.summarise_accurate(results)
    assert summary["accurate_accuracy"] == pytest.approx(0.949)
    assert summary["accurate_fit_s"] == 3300.0
    ratios = [
        (50 + 40 * (epochs - 1)) / (30 + 10 * (epochs - 1)),
        (60 + 40 * (epochs - 1)) / (32 + 11 * (epochs - 1)),
    ]
    assert summary["accurate_fit_ratio"] == pytest.approx(sum(ratios) / 2)
    rows = targets.judge(summary, targets.ACCURATE_TARGETS)
    assert [row["passed"] for row in rows] == [False, True, None]


@pytest.mark.slow
def test_the_runner_measures_in_a_fresh_process():
    run = speed.in_fresh_process("fit_seconds", side="plain", epochs=1, n_train=300)
    assert 0 < run["seconds"] < 300


def test_parallel_benchmark_summarises_and_judges_its_runs():
    from benchmarks import parallel

    scores = [[0.8, 0.7], [0.81, 0.72], [0.79, 0.7]]
    runs = {
        "serial_1_thread": {"seconds": 180.0, "scores": scores},
        "serial_default_threads": {
            "seconds": 100.0,
            "scores": [[0.8, 0.7], [0.81, 0.73], [0.79, 0.7]],
        },
        "loky_2": {"seconds": 95.0, "scores": scores},
        "cluster": {
            "seconds": 100.0,
            "scores": scores,
            "cpu_per_wall": {"a": 1.02, "b": 1.2},
        },
        "cluster_again": {"seconds": 99.0, "scores": scores},
        "cluster_kill": {"scores": scores, "killed": [123], "workers_after": 2},
        "memory": {
            "growth_mib_per_fit": {"a": 3.0, "b": 14.0},
            "workers_over_limit": [],
            "processes_left_10s_after": 0,
        },
    }
    summary = parallel.summarise(runs)
    assert summary["scaling_vs_serial_1_thread"] == pytest.approx(1.8)
    assert summary["speedup_vs_loky_2"] == pytest.approx(0.95)
    assert summary["identical_to_serial_1_thread"] is True
    assert summary["two_cluster_runs_identical"] is True
    assert summary["killed_worker_survived"] is True
    assert summary["max_growth_mib_per_fit"] == 14.0
    assert summary["max_cpu_per_wall"] == 1.2
    assert summary["max_score_difference_vs_default_threads"] == pytest.approx(0.01)
    verdicts = {
        row["key"]: row["passed"]
        for row in targets.judge(summary, targets.PARALLEL_TARGETS)
    }
    assert verdicts["scaling_vs_serial_1_thread"] is True
    assert verdicts["identical_to_serial_1_thread"] is True
    assert verdicts["max_growth_mib_per_fit"] is False
    assert verdicts["max_cpu_per_wall"] is False
    assert verdicts["speedup_vs_loky_2"] is None  # reported only
    runs["cluster_kill"]["scores"] = [[0.8, 0.7], [0.8, 0.72], [0.79, 0.7]]
    assert parallel.summarise(runs)["killed_worker_survived"] is False


def test_kernel_times_add_up_the_timed_steps_only():
    conv = (
        "onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx512_core,"
        "forward_training,src:f32::blocked:acdb::f0,,alg:convolution_direct,"
        "mb8_ic1oc32_ih28oh28kh3sh1dh0ph1_iw28ow28kw3sw1dw0pw1,{}"
    )
    log = [
        conv.format(9.0),  # building and warming up: not counted
        kernels.BEGIN,
        conv.format(1.5),
        "onednn_verbose,v1,primitive,create:cache_hit,cpu,convolution,...,0.01",
        conv.format(2.5),
        kernels.END,
        conv.format(9.0),
    ]
    parsed = kernels.parse_verbose(log)
    key = (
        "convolution",
        "forward",
        "mb8_ic1oc32_ih28oh28kh3sh1dh0ph1_iw28ow28kw3sw1dw0pw1",
    )
    assert parsed == {key: {"ms": 4.0, "calls": 2, "impl": "brg_conv_fwd:avx512_core"}}


def test_kernels_of_a_training_step(tmp_path, capsys):
    out = tmp_path / "kernels.json"
    argv = ["--precisions", "float32", "--batch-size", "16", "--repeats", "2"]
    assert kernels.main([*argv, "--out", str(out)]) == 0
    (run,) = json.loads(out.read_text())["runs"]
    found = {
        (k["primitive"], k["direction"], k["shape"].split("_ih")[0])
        for k in run["kernels"]
    }
    # the default's five convolutions: 16 at full size, two of 32, two of 64
    for shape in ("mb16_ic1oc16", "mb16_ic16oc32", "mb16_ic32oc32", "mb16_ic32oc64"):
        assert ("convolution", "forward", shape) in found
        assert ("convolution", "backward, weights", shape) in found
    assert ("convolution", "forward", "mb16_ic64oc64") in found
    # the first convolution's input is the data: no gradient flows into it
    assert ("convolution", "backward, data", "mb16_ic1oc16") not in found
    # the fused BatchNorm of each convolution, both ways
    assert ("batch_normalization", "forward", "mb16ic16ih28iw28") in found
    assert ("batch_normalization", "backward", "mb16ic64ih7iw7") in found
    assert all(k["ms"] > 0 and k["calls"] >= 1 for k in run["kernels"])
    # TensorFlow runs independent kernels side by side, so their times may add
    # up to more than the step (they did, 33.9 against 32.7 ms, on an AMD
    # machine); no single kernel can outlast the step that runs it
    assert 0 < max(k["ms"] for k in run["kernels"]) < run["step_ms"]
    assert "| **whole step** |" in capsys.readouterr().out


def test_kernels_of_a_prediction_run_forward_on_the_images_and_their_mirrors():
    run = kernels.kernel_times({}, "float32", 16, 2, predict=True)
    convolutions = [k for k in run["kernels"] if k["primitive"] == "convolution"]
    assert len(convolutions) == 5  # BatchNorm folded in: no batch_normalization
    assert not [k for k in run["kernels"] if k["primitive"] == "batch_normalization"]
    assert {k["direction"] for k in convolutions} == {"forward"}
    assert all(k["shape"].startswith("mb32_") for k in convolutions)


def test_weight_gradients_compute_one_gradient_three_ways(tmp_path, capsys):
    shapes = weight_gradients.convolution_shapes({"filters": [8, 16]})
    assert shapes == [(28, 1, 8, 3), (14, 8, 16, 3)]
    out = tmp_path / "wg.json"
    argv = ["--params", '{"filters": [8, 16]}', "--batch-size", "4", "--repeats", "2"]
    argv += ["--precisions", "float32", "--out", str(out)]
    assert weight_gradients.main(argv) == 0
    runs = json.loads(out.read_text())["runs"]
    assert [run["shape"] for run in runs] == [
        "28x28, 1 to 8 channels",
        "14x14, 8 to 16 channels",
    ]
    for run in runs:
        assert set(run["ms"]) == {"native", "patches", "swapped"}
        assert all(ms > 0 for ms in run["ms"].values())
        # the alternatives compute the very gradient model.fit does
        assert max(run["relative_error"].values()) < 1e-5
    assert "| float32 | 14x14, 8 to 16 channels |" in capsys.readouterr().out


def test_the_step_breakdown_times_each_layer(tmp_path, capsys):
    out = tmp_path / "breakdown.json"
    argv = ["--params", '{"filters": [8], "dense_units": 16}', "--batch-size", "8"]
    argv += ["--repeats", "2", "--precisions", "float32", "--out", str(out)]
    assert breakdown.main(argv) == 0
    (run,) = json.loads(out.read_text())["runs"]
    assert run["precision"] == "float32"
    assert "One training step of FashionCNNClassifier" in capsys.readouterr().out


def test_the_call_probe_times_the_mlp_step(capsys):
    assert calls.main(["mlp-step", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("| matmul ") == 3 and "| `train_on_batch` |" in out


@pytest.mark.slow
def test_the_call_probe_times_one_row_predictions(capsys):
    # without the XLA variants, whose compilation is most of the probe's time
    argv = ["prediction", "--repeats", "3", "--no-xla", "--best-of", "1"]
    assert calls.main(argv) == 0
    out = capsys.readouterr().out
    assert "| `clf.predict(row)` |" in out and out.count("| float32, ") == 2
    assert "predict_proba of the 10,000 test images, best of 1:" in out


@pytest.mark.slow
def test_the_throughput_probe_runs_each_variant_in_fresh_processes(capsys):
    argv = ["--images", "64", "--epochs", "1", "--rounds", "1"]
    variant = "with Keras' BatchNormalization"  # built through network=
    assert throughput.main([*argv, "--variants", variant]) == 0
    row = capsys.readouterr().out.splitlines()[-1]
    off, on = (float(cell.replace(",", "")) for cell in row.split("|")[2:4])
    assert off > 0 and on > 0


def test_the_held_out_probe_scores_on_training_images_only(capsys):
    erasing = '{"shift": 0, "horizontal_flip": false, "erasing": 0.5}'
    params = f'{{"epochs": 2, "hidden_units": [16], "augment": {erasing}}}'
    argv = ["--model", "mlp", "--params", params, "--n-train", "500", "--curve"]
    assert held_out.main([*argv, "--label-smoothing", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "on 500 images, scored on 6,000 held out" in out
    assert "trained with the loss smoothed_crossentropy" in out
    assert "augment=FashionAugmenter(" in out and "erasing=0.5" in out
    assert out.count("held-out accuracy") == 3  # two epochs, then the end
    # 0.364 (2026-12-01); chance is 0.1
    assert float(out.split("held-out accuracy ")[-1].split(";")[0]) > 0.2


def test_the_probes_smoothed_loss_is_keras_categorical_one_for_integer_labels():
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(10), size=8).astype("float32")
    labels = rng.integers(0, 10, size=8)
    keras_smoothed = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)
    expected = float(keras_smoothed(np.eye(10, dtype="float32")[labels], proba))
    ours = float(held_out.SmoothedCrossentropy(0.1)(labels, proba))
    assert ours == pytest.approx(expected, rel=1e-5)
    plain = float(keras.losses.SparseCategoricalCrossentropy()(labels, proba))
    assert ours != pytest.approx(plain, rel=1e-3)  # 2.546 against 2.506


@pytest.mark.parametrize("smoothing", ["1", "-0.1", "nan"])
def test_the_held_out_probe_refuses_a_smoothing_outside_0_to_1(smoothing, capsys):
    with pytest.raises(SystemExit) as exit_:
        held_out.main(["--label-smoothing", smoothing])
    assert exit_.value.code == 2
    assert "--label-smoothing must be in [0, 1)" in capsys.readouterr().err


def test_the_serving_benchmark_measures_both_settings(small, tmp_path, capsys):
    from benchmarks import serving
    from fashion_estimators import save_model

    clf = FashionCNNClassifier(**FAST_CNN).fit(small[0], small[1])
    save_model(clf, tmp_path / "cnn.fashion")
    argv = [str(tmp_path / "cnn.fashion"), "--requests", "200", "--repeats", "1"]
    # this checkout as the baseline: the machinery of a side-by-side run
    root = str(Path(__file__).parents[1])
    assert serving.main([*argv, "--baseline", root, "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "serving.json").read_text())
    assert set(report["runs"]) == {"batched", "unbatched", "baseline"}
    summary = report["summary"]
    assert summary["png_requests"] == 200 and summary["png_errors"] == 0
    assert summary["jpeg_errors"] == 0 and summary["png_rps"] > 0
    assert 0 < summary["inference_ms_per_row"] < summary["keras_ms_per_row"]
    assert 0 < summary["listen_s"] < summary["start_s"]
    assert summary["png_rps_vs_baseline"] == pytest.approx(
        summary["png_rps"] / summary["png_rps_baseline"]
    )
    shown = capsys.readouterr().out
    assert "| 28x28 PNG uploads at 16 clients, batching on |" in shown
    assert "| ...this service against it, side by side" in shown
    with pytest.raises(SystemExit) as exit_:
        serving.main([*argv, "--baseline", str(tmp_path)])
    assert exit_.value.code == 2


def test_the_side_by_side_probe_fits_both_in_turn_and_reports_their_ratio(
    tmp_path, capsys
):
    small = '{"hidden_units": [16], "epochs": 1}'
    out = tmp_path / "sbs.json"
    argv = ["--model", "mlp", "--a", small, "--b", small, "--seeds", "1"]
    assert side_by_side.main([*argv, "--n-train", "300", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    (a,), (b,) = report["runs"]["a"], report["runs"]["b"]
    # the same fit in two fresh processes: comparable figures, a ratio of them
    assert 0.1 < a["accuracy"] < 1 and abs(a["accuracy"] - b["accuracy"]) < 0.1
    assert report["ratios"] == [b["fit_seconds"] / a["fit_seconds"]]
    assert "fit time B/A, median of the pairs" in capsys.readouterr().out


def test_the_pruning_probe_runs_both_studies_and_prunes_only_with_the_pruner(capsys):
    from benchmarks.probes import pruning

    argv = ["--n-train", "300", "--trials", "4", "--epochs", "3", "--pairs", "1"]
    assert pruning.main(argv) == 0
    rows = {
        line.split()[0]: line.split()
        for line in capsys.readouterr().out.splitlines()[1:]
    }
    # the fourth trial, a learning rate of 1e-7, is pruned after 2 of 3 epochs
    assert rows["median"][1:3] == ["4", "1"] and rows["median"][3] == "11"
    assert rows["none"][1:3] == ["4", "0"] and rows["none"][3] == "12"
