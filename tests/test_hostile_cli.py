"""The command line given careless or hostile arguments: it refuses them
before any work, in one line, in seconds."""

import socket
import time

import numpy as np
import pytest
from PIL import Image

from fashion_estimators import CLASS_NAMES, FashionMLPClassifier, save_model
from fashion_estimators.cli import main

UNWRITABLE = "/sys/fashion-estimators-test"  # not even root may write here


@pytest.fixture(scope="module")
def named_model(small, tmp_path_factory):
    """An MLP trained on class names, not label numbers."""
    X, y = small[0], np.asarray(CLASS_NAMES, dtype=object)[small[1]]
    clf = FashionMLPClassifier(hidden_units=(64,), epochs=5, random_state=0)
    path = tmp_path_factory.mktemp("named") / "named.fashion"
    return save_model(clf.fit(X, y), path)


def one_line_error(capsys, status, expected: str) -> str:
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert expected in captured.err, captured.err
    return captured.out


@pytest.mark.parametrize(
    "args, expected",
    [
        (["train", "--model", "mlp", "--out", f"{UNWRITABLE}/m.fashion"], UNWRITABLE),
        (["train", "--model", "mlp", "--out", "/tmp"], "is a folder"),
        (["search", "--param", "dropout=0.2", "--out", UNWRITABLE], UNWRITABLE),
    ],
    ids=["train into a folder nobody may write", "train onto a folder", "search"],
)
def test_outputs_are_checked_before_any_work(capsys, args, expected):
    start = time.monotonic()
    out = one_line_error(capsys, main(args), expected)
    assert "Training" not in out and "Searching" not in out
    # no training, no cluster: 0.01 s measured (2026-12-04), a training run
    # takes minutes
    assert time.monotonic() - start < 10


def test_model_commands_check_their_outputs_first(named_model, tmp_path, capsys):
    photo = tmp_path / "p.png"
    Image.fromarray(np.full((40, 40), 255, np.uint8)).save(photo)
    cases = [
        ["evaluate", named_model, "--out", UNWRITABLE],
        ["predict", named_model, photo, "--show-input", UNWRITABLE],
        ["export", named_model, "--out", f"{UNWRITABLE}/m.onnx"],
    ]
    for args in cases:
        one_line_error(capsys, main([str(a) for a in args]), UNWRITABLE)
    (tmp_path / "existing").write_text("mine")
    args = ["export", named_model, "--format", "saved_model", "--out"]
    one_line_error(
        capsys, main([str(a) for a in [*args, tmp_path / "existing"]]), "not a folder"
    )
    assert (tmp_path / "existing").read_text() == "mine"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["evaluate", "m.fashion", "--n-test", "-5"], "--n-test: -5 is not at least 1"),
        (["predict", "m.fashion", "p.png", "--top", "0"], "--top: 0 is not at least 1"),
        (["train", "--out", "m", "--epochs", "0"], "--epochs: 0 is not at least 1"),
        (["train", "--out", "m", "--n-train", "ten"], "'ten' is not an integer"),
        (["train", "--out", "m", "--seed", "-1"], "--seed: -1 is not at least 0"),
        (["train", "--out", "m", "--validation-fraction", "1.5"], "not in [0, 1)"),
        (["train", "--out", "m", "--validation-fraction", "nan"], "not in [0, 1)"),
        (["search", "--param", "a=1", "--out", "o", "--cv", "1"], "--cv: 1 is not"),
        (["search", "--param", "a=1", "--out", "o", "--workers", "0"], "--workers"),
        (["worker", "tcp://127.0.0.1:1", "--nworkers", "0"], "--nworkers"),
    ],
)
def test_bad_numbers_are_usage_errors(capsys, args, expected):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert expected in capsys.readouterr().err


@pytest.fixture
def silent_server():
    """A port that accepts connections and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize(
    "scheduler, expected",
    [
        ("notaurl", "'notaurl' is not a Dask scheduler address"),
        ("http://127.0.0.1:8786", "is not a Dask scheduler address"),
        ("tcp://127.0.0.1:1", "No Dask scheduler answered at 'tcp://127.0.0.1:1'"),
        ("silent", "within 5 s: timed out"),
    ],
)
def test_a_bad_scheduler_fails_in_seconds(capsys, silent_server, scheduler, expected):
    scheduler = silent_server if scheduler == "silent" else scheduler
    args = ["search", "--param", "dropout=0.2", "--scheduler", scheduler]
    start = time.monotonic()
    one_line_error(capsys, main([*args, "--out", "unused"]), expected)
    # the silent scheduler took the CLI's 5 s connect timeout (5.01 s measured,
    # 2026-12-04), the others no time: 5 times that, under Dask's own 30 s
    assert time.monotonic() - start <= 5 * 5


@pytest.mark.slow
def test_evaluate_scores_a_model_trained_on_class_names(named_model, tmp_path, capsys):
    args = ["evaluate", str(named_model), "--n-test", "1000", "--out", str(tmp_path)]
    assert main(args) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("test accuracy: ") and first.endswith("on 1000 images")
    # 600 training images, 5 epochs: 0.70-0.75 on these 1,000
    assert float(first.split()[2]) > 0.6


@pytest.mark.slow
def test_evaluate_scores_a_model_of_some_classes_on_those(small, tmp_path, capsys):
    X, y = small[0], small[1]
    keep = np.isin(y, [0, 1, 7])
    clf = FashionMLPClassifier(hidden_units=(32,), epochs=5, random_state=0)
    path = save_model(clf.fit(X[keep], y[keep]), tmp_path / "three.fashion")
    assert (
        main(["evaluate", str(path), "--n-test", "1000", "--out", str(tmp_path)]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("the model knows 3 classes: scoring the ")
    n = int(lines[0].split()[-5])
    assert 250 < n < 350  # a tenth of the test images per class
    assert lines[1].endswith(f"on {n} images") and float(lines[1].split()[2]) > 0.8
