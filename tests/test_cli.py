"""The fashion-estimators command, end to end in subprocesses on a small model."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from helpers import product_photo
from PIL import Image

from fashion_estimators import CLASS_NAMES, FashionCNNClassifier, load_model
from fashion_estimators.cli import main
from fashion_estimators.options import AUGMENT_RECIPES

# every command trains a model or starts a process
pytestmark = pytest.mark.slow

COMMAND = [sys.executable, "-m", "fashion_estimators"]
SCRIPT = Path(sys.executable).with_name("fashion-estimators")


def run(*args, check=True, cwd=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [*COMMAND, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def quiet(stderr: str) -> bool:
    """No traceback and none of TensorFlow's start-up lines."""
    return not any(
        marker in stderr
        for marker in ("Traceback", "I0000", "E0000", "W0000", "absl", "oneDNN")
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    done = run(
        "train",
        "--model",
        "mlp",
        "--epochs",
        "2",
        "--n-train",
        "1500",
        "--validation-fraction",
        "0.1",
        "--out",
        folder / "models" / "mlp.fashion",
    )
    return folder / "models" / "mlp.fashion", done


def test_train_reports_accuracy_and_saves_a_safe_model(trained):
    path, done = trained
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Training FashionMLPClassifier(epochs=2")
    assert any(line.endswith("on 1500 images") for line in lines[:4])
    assert sum(line.startswith("Epoch ") for line in lines) == 2
    val = float(
        next(x for x in lines if x.startswith("validation accuracy")).split()[2]
    )
    test = next(x for x in lines if x.startswith("test accuracy"))
    assert test.endswith("on 10000 images") and 0.5 < float(test.split()[2]) < 1
    assert 0.5 < val < 1
    assert lines[-1] == f"saved to {path}"
    clf = load_model(path)
    assert clf.epochs == 2 and clf.random_state == 0
    assert clf.validation_fraction == 0.1
    assert quiet(done.stderr), done.stderr


def test_evaluate_prints_the_report_and_writes_figures(trained, tmp_path):
    done = run(
        "evaluate", trained[0], "--out", tmp_path / "figures", "--n-test", "2000"
    )
    assert done.stdout.startswith("test accuracy: ")
    assert "on 2000 images" in done.stdout.splitlines()[0]
    assert all(name in done.stdout for name in CLASS_NAMES)
    assert "macro avg" in done.stdout
    for name in ("confusion_matrix", "misclassified", "learning_curves"):
        png = tmp_path / "figures" / f"{name}.png"
        assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000
    assert quiet(done.stderr), done.stderr
    # the model card, with the figures the report printed
    card = json.loads((tmp_path / "figures" / "model_card.json").read_text())
    accuracy = float(done.stdout.split()[2])
    assert card["evaluation"]["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert card["evaluation"]["n_test"] == 2000
    assert set(card["evaluation"]["per_class_f1"]) == set(CLASS_NAMES)
    assert (
        card["model_file"]["sha256"]
        == hashlib.sha256(Path(trained[0]).read_bytes()).hexdigest()
    )
    assert 0.5 < card["novelty"]["auroc"] <= 1
    assert card["novelty"]["n_unlike"] == 1797
    assert f"AUROC {card['novelty']['auroc']:.3f}" in done.stdout
    assert {"tensorflow", "keras", "scikit-learn"} <= set(card["versions"])


@pytest.fixture(scope="module")
def photos(test_set, tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(1)
    paths = []
    for i in (0, 1, 2):  # Ankle boot, Pullover, Trouser
        paths.append(folder / f"photo{i}.jpg")
        product_photo(test_set[0][i], rng).save(paths[-1], quality=90)
    return paths


def test_predict_prints_top_three_and_shows_its_input(trained, photos, tmp_path):
    done = run("predict", trained[0], *photos, "--show-input", tmp_path / "seen")
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    for path, line in zip(photos, lines, strict=True):
        name, ranked = line.split(": ", 1)
        assert name == str(path)
        entries = ranked.split(", ")
        assert len(entries) == 3
        assert all(e.rsplit(" ", 1)[0] in CLASS_NAMES for e in entries)
        probabilities = [float(e.rsplit(" ", 1)[1]) for e in entries]
        assert probabilities == sorted(probabilities, reverse=True)
        seen = np.asarray(Image.open(tmp_path / "seen" / f"{path.stem}_28x28.png"))
        assert seen.shape == (28, 28) and seen.dtype == np.uint8
    assert quiet(done.stderr), done.stderr
    # The photos are of test images 0-2, an ankle boot, a pullover and a
    # trouser. This 2-epoch model puts each true class in its top three; on the
    # original images it is sure of the trouser (p = 1.00) and torn between
    # ankle boot and sneaker (0.447 and 0.446), so only the trouser must be first.
    top = [
        [e.rsplit(" ", 1)[0] for e in line.split(": ", 1)[1].split(", ")]
        for line in lines
    ]
    for shown, true in zip(top, ["Ankle boot", "Pullover", "Trouser"], strict=True):
        assert true in shown, (true, shown)
    assert top[2][0] == "Trouser"


def test_predict_json_matches_the_model(trained, photos):
    done = run("predict", trained[0], *photos, "--json", "--top", "2")
    results = json.loads(done.stdout)
    from fashion_estimators.photos import photo_to_image

    proba = load_model(trained[0]).predict_proba(
        np.stack([photo_to_image(p) for p in photos])
    )
    for result, row, path in zip(results, proba, photos, strict=True):
        assert result["image"] == str(path)
        best = np.argsort(-row)[:2]
        assert [t["class"] for t in result["top"]] == [CLASS_NAMES[i] for i in best]
        np.testing.assert_allclose(
            [t["probability"] for t in result["top"]], row[best], atol=1e-4
        )


def test_serve_refuses_a_port_in_use(trained, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert main(["serve", str(trained[0]), "--port", port]) == 1
    assert "Address already in use" in capsys.readouterr().err


def test_errors_are_one_line_without_traceback(trained, tmp_path):
    joblib.dump({"not": "a model"}, tmp_path / "model.joblib")
    done = run("predict", tmp_path / "model.joblib", trained[0], check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("fashion-estimators: error: ")
    assert quiet(done.stderr)


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate", "{missing}"], "{missing}: No such file or directory"),
        (["predict", "{model}", "{missing}"], "{missing}: No such file or directory"),
        (["predict", "{model}", "{text}"], "is not an image in one of the formats"),
        (["predict", "{model}", "{blank}"], "{blank}: nothing in the image stands"),
        (["evaluate", "{text}"], "{text} is not a fashion-estimators model"),
        (["serve", "{text}", "--port", "0"], "{text} is not a fashion-estimators"),
        (
            ["serve", "{model}", "--port", "0", "--card", "{missing}"],
            "{missing}: No such file or directory",
        ),
        (
            ["serve", "{model}", "--port", "0", "--card", "{text}"],
            "is not a JSON model card",
        ),
    ],
    ids=[
        "missing-model",
        "missing-image",
        "not-an-image",
        "blank-image",
        "not-model",
        "serve-not-model",
        "serve-missing-card",
        "serve-bad-card",
    ],
)
def test_error_messages(trained, tmp_path, capsys, args, message):
    files = {
        "missing": tmp_path / "missing.png",
        "model": trained[0],
        "text": tmp_path / "notes.txt",
        "blank": tmp_path / "blank.png",
    }
    files["text"].write_text("hello")
    Image.new("L", (40, 40), 255).save(files["blank"])
    assert main([a.format(**files) for a in args]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("fashion-estimators: error: ") and err.count("\n") == 1
    assert message.format(**files) in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--model", "resnet", "--out", "x"])
    assert exit_.value.code == 2
    assert "invalid choice: 'resnet'" in capsys.readouterr().err


def test_console_script_lists_the_commands():
    assert SCRIPT.exists(), "pip install -e . declares the fashion-estimators script"
    done = subprocess.run(
        [SCRIPT, "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for command in (
        "train",
        "evaluate",
        "predict",
        "export",
        "serve",
        "search",
        "worker",
    ):
        assert command in done.stdout
    # the benchmarks run from the repository (python -m benchmarks), not from
    # the installed package
    assert "benchmark" not in done.stdout


def test_augment_choices_are_the_estimators_recipes_and_none(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    # argparse lists the choices as {a,b,c}
    assert "{" + ",".join([*AUGMENT_RECIPES, "none"]) + "}" in capsys.readouterr().out
    for recipe in AUGMENT_RECIPES:
        FashionCNNClassifier(augment=recipe).make_network()  # accepted


@pytest.mark.parametrize("choice, augment", [("none", None), ("flip", "flip")])
def test_train_augment_sets_the_estimators_augment(tmp_path, choice, augment):
    out = tmp_path / "cnn.fashion"
    args = ["train", "--model", "cnn", "--epochs", "1", "--n-train", "300"]
    assert main([*args, "--augment", choice, "--out", str(out)]) == 0
    clf = load_model(out)
    assert clf.augment == augment
    # and so test-time flips follow, as with the estimator's own augment
    flips = any(layer.name == "mirror_average" for layer in clf.model_.layers)
    assert flips == (augment is not None)


def test_train_refuses_an_unknown_augmentation(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--augment", "shift", "--out", "m.fashion"])
    assert "invalid choice: 'shift'" in capsys.readouterr().err


def test_data_home_is_searched_first(trained, tmp_path):
    # a corrupt copy in --data-home is read (and skipped, with a warning) before
    # the system's copy is used
    home = tmp_path / "home"
    corrupt = home / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(b"not a gzip file")
    figures = tmp_path / "figures"
    done = run(
        "evaluate", trained[0], "--n-test", "50", "--out", figures, "--data-home", home
    )
    assert f"Skipping {corrupt}" in done.stderr
    assert done.stdout.startswith("test accuracy: ") and "on 50 images" in done.stdout
    assert corrupt.read_bytes() == b"not a gzip file"  # found elsewhere, not fetched
