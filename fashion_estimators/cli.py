"""The ``fashion-estimators`` command: train, evaluate, predict, export,
serve, search and worker.

The benchmarks are not a command of the installed package: they compare
against baselines and reproductions that live in the repository, and run
from its root as ``python -m benchmarks``.

Run ``fashion-estimators --help`` (or ``python -m fashion_estimators``).
Errors end in one line on stderr and exit status 1; TensorFlow's start-up
messages are silenced.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

from . import registry
from ._params import SEED_MAX
from .options import (
    AUGMENT_RECIPES,
    EXPORT_FORMATS,
    SERVE_HOST,
    SERVE_MAX_BATCH,
    SERVE_MAX_IMAGES,
    SERVE_MAX_UPLOAD_MB,
    SERVE_PORT,
)

PROG = "fashion-estimators"
SCHEDULER_TIMEOUT = 5.0
"""Seconds ``search --scheduler`` waits for the scheduler to answer."""
PROGRESS_LOGGER = "fashion_estimators.search_progress"
"""Workers log one line per finished fit here; the search forwards it."""


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up log (absl, oneDNN, CUDA probes)
    kept off the terminal; it is shown only if the import fails."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        with tempfile.TemporaryFile() as captured:
            sys.stderr.flush()
            saved = os.dup(2)
            os.dup2(captured.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
            except BaseException:
                os.dup2(saved, 2)
                captured.seek(0)
                sys.stderr.write(captured.read().decode(errors="replace"))
                raise
            finally:
                os.dup2(saved, 2)
                os.close(saved)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _int_at_least(low: int, high: int | None = None):
    """An argparse type: an integer in ``[low, high]``, refused otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low or (high is not None and value > high):
            upper = "" if high is None else f" and at most {high}"
            raise argparse.ArgumentTypeError(f"{value} is not at least {low}{upper}")
        return value

    return parse


def _fraction(text: str) -> float:
    """An argparse type: a number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not in [0, 1)")
    return value


def _output_file(path: str) -> None:
    """Refuse, before any work, an output file that could not be written."""
    from ._files import check_folder, check_replaceable

    if Path(path).is_dir():
        raise IsADirectoryError(21, "is a folder, not a file to write", path)
    check_replaceable(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    check_folder(path)


def _output_folder(path: str) -> Path:
    """Create ``path`` if needed, and refuse it before any work unless files
    can be written in it."""
    from ._files import check_folder

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(20, "exists and is not a folder", path)
    folder.mkdir(parents=True, exist_ok=True)
    check_folder(folder / "probe")
    return folder


_POSITIVE = _int_at_least(1)
_SEED = _int_at_least(0, SEED_MAX)

AUGMENT_CHOICES = (*AUGMENT_RECIPES, "none")
"""Values of ``train --augment``: the classifiers' named ``augment`` recipes,
and "none" for ``augment=None``."""


# ------------------------------------------------------------------ commands
def _training_set(args):
    """The training images, or a stratified ``--n-train`` subset of them."""
    from .datasets import fetch_fashion_mnist, stratified_subset

    X, y = fetch_fashion_mnist("train", data_home=args.data_home, return_X_y=True)
    return stratified_subset(X, y, args.n_train or None, random_state=args.seed)


def _model_names() -> list[str]:
    """The ``--model`` choices, from the registry."""
    return list(registry.ESTIMATORS)


def _train(args) -> None:
    from . import save_model
    from .datasets import fetch_fashion_mnist

    _output_file(args.out)
    X, y = _training_set(args)
    if args.resume:
        clf = _resumed(args, X, y)
    else:
        cls = registry.ESTIMATORS[args.model or registry.DEFAULT].load()
        clf = _fitted(args, cls, X, y)
    val = clf.history_.get("val_accuracy")
    if val:
        best = min(range(len(val)), key=clf.history_["val_loss"].__getitem__)
        print(f"validation accuracy: {val[best]:.4f} (epoch {best + 1})")
    X_test, y_test = fetch_fashion_mnist(
        "test", data_home=args.data_home, return_X_y=True
    )
    X_test, y_test = _test_labels_of(clf, X_test, y_test)
    print(f"test accuracy: {clf.score(X_test, y_test):.4f} on {len(X_test)} images")
    print(f"saved to {save_model(clf, args.out)}")


def _resumed(args, X, y):
    from .checkpoints import load_checkpoint

    given = [
        f"--{name.replace('_', '-')}"
        for name in (
            "epochs",
            "batch_size",
            "validation_fraction",
            "augment",
            "checkpoint",
        )
        if getattr(args, name) is not None
    ]
    if given:
        raise ValueError(
            f"--resume continues with the checkpoint's own settings; drop "
            f"{', '.join(given)} (give --n-train and --seed as for the first run)."
        )
    # what fashion_estimators.resume does, split so that the checkpoint is
    # read once and its class checked before any training
    clf = load_checkpoint(args.resume)
    saved = type(clf).__name__
    if args.model and registry.ESTIMATORS[args.model].class_name != saved:
        raise ValueError(
            f"{args.resume} is a checkpoint of a {saved}, not of --model {args.model}."
        )
    print(f"Resuming {args.resume} on {len(X)} images", flush=True)
    return clf.resume_fit(X, y)


def _fitted(args, cls, X, y):
    params = {"random_state": args.seed, "verbose": 1 if sys.stdout.isatty() else 2}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.batch_size is not None:
        params["batch_size"] = args.batch_size
    if args.validation_fraction is not None:
        params["validation_fraction"] = args.validation_fraction
    if args.augment is not None:
        params["augment"] = None if args.augment == "none" else args.augment
    if args.checkpoint:
        params["checkpoint"] = args.checkpoint
    clf = cls(**params)
    print(f"Training {clf!r} on {len(X)} images", flush=True)
    return clf.fit(X, y)


def _test_labels_of(clf, X, y):
    """The test images and labels as ``clf`` names its classes: Fashion-MNIST's
    labels 0-9 or its class names, and only the images of classes it knows;
    images on the pixel scale it was fitted on."""
    import numpy as np

    from .datasets import CLASS_NAMES

    classes = clf.classes_
    if all(isinstance(c, str) for c in classes.tolist()):
        if not set(classes.tolist()) <= set(CLASS_NAMES):
            raise ValueError(
                f"the model's classes {classes.tolist()[:5]} are neither "
                "Fashion-MNIST's labels 0-9 nor its class names, so it cannot be "
                "scored on its test set."
            )
        y = np.asarray(CLASS_NAMES, dtype=object)[y]
    elif not set(classes.tolist()) <= set(range(len(CLASS_NAMES))):
        raise ValueError(
            f"the model's classes {classes.tolist()[:5]} are not Fashion-MNIST's "
            "labels 0-9 or class names, so it cannot be scored on its test set."
        )
    known = np.isin(y, classes)
    if not known.all():
        print(
            f"the model knows {len(classes)} classes: scoring the "
            f"{int(known.sum())} test images of those"
        )
    X = X[known] if not known.all() else X
    return _on_scale_of(clf, X), y[known]


def _on_scale_of(clf, images):
    """Raw 0-255 ``images`` on the pixel scale ``clf`` was fitted on."""
    from ._images import PIXEL_MAX

    if clf.pixel_max_ == PIXEL_MAX:
        return images
    return images * (clf.pixel_max_ / PIXEL_MAX)


def _evaluate(args) -> None:
    from . import load_model, plots, reports
    from .datasets import fetch_fashion_mnist
    from .model_card import CARD_FILE, evaluation_figures, model_card

    out = _output_folder(args.out)
    clf = load_model(args.model_file)
    X, y = fetch_fashion_mnist("test", data_home=args.data_home, return_X_y=True)
    if args.n_test and args.n_test < len(X):
        X, y = X[: args.n_test], y[: args.n_test]
    X, y = _test_labels_of(clf, X, y)
    proba = clf.predict_proba(X)
    y_pred = clf.classes_[proba.argmax(axis=1)]
    print(f"test accuracy: {(y_pred == y).mean():.4f} on {len(X)} images\n")
    print(reports.classification_report_text(y, y_pred=y_pred))
    figures = {
        "confusion_matrix.png": plots.plot_confusion_matrix(y, y_pred=y_pred),
        "misclassified.png": plots.plot_misclassified(X, y, y_pred=y_pred, proba=proba),
        "learning_curves.png": plots.plot_learning_curves(clf),
    }
    for name, figure in figures.items():
        figure.savefig(out / name, dpi=110)
        print(f"wrote {out / name}")
    novelty = None
    if getattr(clf, "novelty_", None) is not None:
        from .novelty import novelty_figures, upscaled_digits

        novelty = novelty_figures(clf, X, _on_scale_of(clf, upscaled_digits()))
        print(
            f"novelty: AUROC {novelty['auroc']:.3f} against upscaled digits; "
            f"flags {novelty['false_alarm_rate']:.1%} of the test images and "
            f"{novelty['detection_rate']:.1%} of the digits"
        )
    card = model_card(
        clf,
        args.model_file,
        evaluation=evaluation_figures(y, y_pred),
        novelty=novelty,
    )
    card_path = out / CARD_FILE
    _write_json(card_path, card)
    print(f"wrote {card_path}")


def _write_json(path: Path, document: dict) -> None:
    """Write ``document`` to ``path`` whole or not at all."""
    from ._files import check_replaceable

    check_replaceable(path)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as file:
        try:
            json.dump(document, file, indent=1)
        except BaseException:
            file.close()
            os.unlink(file.name)  # no partial file left beside the report
            raise
    os.replace(file.name, path)


def _export(args) -> None:
    from . import export, load_model

    if args.format == "saved_model":
        _output_folder(args.out)
    else:
        _output_file(args.out)
    clf = load_model(args.model_file)
    path = export(clf, args.out, format=args.format)
    classes = ", ".join(map(str, clf.classes_))
    print(f"exported {args.model_file} to {path} ({args.format})")
    print(
        "input: float32 pixels in [0, 255], shape (n, 28, 28, 1); "
        f"output: probabilities of classes {classes}"
    )


def _predict(args) -> None:
    import numpy as np

    from . import load_model
    from .photos import photo_to_image
    from .reports import label_names

    folder = _output_folder(args.show_input) if args.show_input else None
    images = []
    for path in args.images:
        try:
            images.append(photo_to_image(path))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
    if folder is not None:
        from PIL import Image

        for path, image in zip(args.images, images, strict=True):
            Image.fromarray(image).save(folder / f"{Path(path).stem}_28x28.png")
    clf = load_model(args.model_file)
    proba = clf.predict_proba(_on_scale_of(clf, np.stack(images)))
    names = label_names(clf.classes_)
    results = []
    for path, row in zip(args.images, proba, strict=True):
        top = np.argsort(-row, kind="stable")[: args.top]
        results.append(
            {
                "image": str(path),
                "top": [
                    {"class": names[i], "probability": round(float(row[i]), 4)}
                    for i in top
                ],
            }
        )
    if args.json:
        print(json.dumps(results, indent=1))
        return
    for result in results:
        ranked = ", ".join(
            f"{t['class']} {t['probability']:.2f}" for t in result["top"]
        )
        print(f"{result['image']}: {ranked}")


def _serve(args) -> None:
    from . import serving

    app = serving.create_app(
        args.model_file,
        card=args.card,
        max_upload_bytes=args.max_upload_mb << 20,
        max_images=args.max_images,
        max_batch=args.max_batch,
    )
    with serving.listen(args.host, args.port) as sock:
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"serving {args.model_file} at http://{shown}:{port}/ (Ctrl-C stops)")
        sys.stdout.flush()
        serving.run(app, sock)
    print("stopped")


def _grid(pairs: list[str]) -> dict[str, list]:
    """``["dropout=0.2,0.3", "filters=(16,32)"]`` as a parameter grid; each
    value is a Python literal, or else a string."""
    grid = {}
    for pair in pairs:
        name, sep, values = pair.partition("=")
        if not sep or not name or not values:
            raise ValueError(f"--param {pair!r}: expected NAME=VALUE[,VALUE...]")
        try:
            parsed = ast.literal_eval(f"[{values}]")
        except (ValueError, SyntaxError):
            parsed = values.split(",")
        grid[name] = parsed
    return grid


class ProgressScorer:
    """Accuracy, logged with the fit's parameters and time as it is computed,
    on whichever worker ran the fit."""

    def __init__(self, grid_names):
        self.grid_names = list(grid_names)

    def __call__(self, estimator, X, y) -> float:
        score = estimator.score(X, y)
        params = estimator.get_params()
        shown = ", ".join(f"{name}={params[name]!r}" for name in self.grid_names)
        seconds = getattr(estimator, "fit_time_", float("nan"))
        logger = logging.getLogger(PROGRESS_LOGGER)
        logger.setLevel(logging.INFO)  # worker processes start at WARNING
        logger.info("fit %s: score %.4f, fit %.1f s", shown, score, seconds)
        return score


def _search(args) -> None:
    import pandas as pd
    from sklearn.model_selection import GridSearchCV

    from . import save_model
    from .parallel import dask_cluster, fit_on_dask

    grid = _grid(args.param)
    cls = registry.ESTIMATORS[args.model].load()
    out = _output_folder(args.out)
    X, y = _training_set(args)
    search = GridSearchCV(
        cls(random_state=args.seed),
        grid,
        cv=args.cv,
        scoring=ProgressScorer(grid),
        refit=True,
        error_score="raise",
    )
    n_fits = args.cv * len(_candidates(grid))
    progress = logging.getLogger(PROGRESS_LOGGER)
    progress.setLevel(logging.INFO)
    progress.propagate = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    progress.addHandler(handler)
    print(f"Searching {n_fits} fits of {cls.__name__} on {len(X)} images", flush=True)
    try:
        with dask_cluster(
            args.scheduler,
            n_workers=args.workers,
            tf_threads=args.tf_threads,
            connect_timeout=SCHEDULER_TIMEOUT,
            security=_security(args),
        ) as client:
            client.forward_logging(PROGRESS_LOGGER)
            fit_on_dask(search, X, y, client=client)
    finally:
        progress.removeHandler(handler)
    results = pd.DataFrame(search.cv_results_)
    results.to_csv(out / "cv_results.csv", index=False)
    results.to_json(out / "cv_results.json", orient="records", indent=1)
    shown = results.sort_values("rank_test_score")[
        ["rank_test_score", "mean_test_score", "std_test_score", "mean_fit_time"]
        + [f"param_{name}" for name in grid]
    ]
    print()
    print(shown.to_string(index=False))
    print(f"\nbest: {search.best_params_} (mean accuracy {search.best_score_:.4f})")
    print(f"wrote {out / 'cv_results.csv'} and {out / 'cv_results.json'}")
    saved = save_model(search.best_estimator_, out / "best")
    print(f"saved the refitted best model to {saved}")


def _tls_options(args) -> list[str]:
    """The ``--tls-*`` options given, as dask's worker command takes them."""
    given = {
        "--tls-ca-file": args.tls_ca_file,
        "--tls-cert": args.tls_cert,
        "--tls-key": args.tls_key,
    }
    return [part for name, value in given.items() if value for part in (name, value)]


def _security(args):
    """Dask's Security for ``--tls-*``, or None (Dask's configuration)."""
    if not _tls_options(args):
        return None
    from distributed.security import Security

    return Security(
        tls_ca_file=args.tls_ca_file,
        tls_client_cert=args.tls_cert,
        tls_client_key=args.tls_key,
        require_encryption=True,
    )


def _candidates(grid: dict) -> list:
    from sklearn.model_selection import ParameterGrid

    return list(ParameterGrid(grid))


def _worker(args) -> None:
    from .parallel import tf_thread_environment, usable_cores

    env = {**os.environ, **tf_thread_environment(args.tf_threads)}
    nworkers = args.nworkers or max(1, usable_cores() // args.tf_threads)
    command = [
        sys.executable,
        "-m",
        "distributed.cli.dask_worker",
        args.scheduler,
        "--nthreads",
        "1",
        "--nworkers",
        str(nworkers),
        "--no-dashboard",
        "--host",
        args.host,
        # a worker without the HTTP server distributed starts even with the
        # dashboard off: it opens no port but its comm and nanny ports
        "--worker-class",
        "fashion_estimators._dask_worker.Worker",
        *_tls_options(args),
    ]
    print(f"starting {nworkers} worker(s): {' '.join(command[1:])}", flush=True)
    # exec, so that signals reach the Dask nanny directly
    os.execve(sys.executable, command, env)


# -------------------------------------------------------------------- parser
def _add_tls(command, whose: str) -> None:
    """The options of a TLS connection to a tls:// scheduler."""
    command.add_argument(
        "--tls-ca-file", metavar="PEM", help="the certificate authority of the cluster"
    )
    command.add_argument("--tls-cert", metavar="PEM", help=f"{whose} certificate")
    command.add_argument("--tls-key", metavar="PEM", help=f"{whose} private key")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train, evaluate and use Fashion-MNIST classifiers.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    data_home = dict(
        help="folder searched for (and downloaded into) the dataset "
        "(default: the usual places, see the README)"
    )

    train = commands.add_parser("train", help="fit a model and save it")
    train.add_argument(
        "--model",
        choices=_model_names(),
        help=f"default: {registry.DEFAULT}, or the checkpoint's",
    )
    train.add_argument("--out", required=True, help="model file to write")
    train.add_argument("--epochs", type=_POSITIVE, help="default: the estimator's")
    train.add_argument("--batch-size", type=_POSITIVE, help="default: the estimator's")
    train.add_argument("--n-train", type=_POSITIVE, help="stratified training subset")
    train.add_argument(
        "--validation-fraction",
        type=_fraction,
        help="hold out this fraction to stop early and report validation "
        "accuracy (default: the estimator's, 0)",
    )
    train.add_argument(
        "--augment",
        choices=AUGMENT_CHOICES,
        help='the estimator\'s augment: a named recipe, or "none" for no '
        "augmentation (default: the estimator's, flip+erase for the CNN, none "
        "for the MLP)",
    )
    train.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="rewrite this file after every epoch, to resume an interrupted fit",
    )
    train.add_argument(
        "--resume",
        metavar="PATH",
        help="finish the fit that wrote this checkpoint (same --n-train and --seed)",
    )
    train.add_argument("--seed", type=_SEED, default=0)
    train.add_argument("--data-home", **data_home)
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate", help="test accuracy, per-class report and figures"
    )
    evaluate.add_argument("model_file", help="a file written by train or save_model")
    evaluate.add_argument("--out", default=".", help="folder for the PNG figures")
    evaluate.add_argument("--n-test", type=_POSITIVE, help="first N test images only")
    evaluate.add_argument("--data-home", **data_home)
    evaluate.set_defaults(run=_evaluate)

    export = commands.add_parser(
        "export", help="write a model's network for serving (ONNX, ...)"
    )
    export.add_argument("model_file", help="a file written by train or save_model")
    export.add_argument("--format", choices=list(EXPORT_FORMATS), default="onnx")
    export.add_argument("--out", required=True, help="file (or folder) to write")
    export.set_defaults(run=_export)

    predict = commands.add_parser("predict", help="classify image files")
    predict.add_argument("model_file", help="a file written by train or save_model")
    predict.add_argument("images", nargs="+", help="PNG/JPEG files, any size")
    predict.add_argument("--top", type=_POSITIVE, default=3, help="classes shown")
    predict.add_argument("--json", action="store_true", help="JSON output")
    predict.add_argument(
        "--show-input", metavar="DIR", help="write the 28x28 images the model sees"
    )
    predict.set_defaults(run=_predict)

    serve = commands.add_parser(
        "serve", help="serve a model: a web page and a JSON API"
    )
    serve.add_argument("model_file", help="a file written by train or save_model")
    serve.add_argument(
        "--host",
        default=SERVE_HOST,
        help=f"the address to listen on (default: {SERVE_HOST}, this machine only)",
    )
    serve.add_argument(
        "--port",
        type=_int_at_least(0, 65535),
        default=SERVE_PORT,
        help="0: any free port",
    )
    serve.add_argument("--card", help="the model_card.json evaluate wrote for it")
    serve.add_argument(
        "--max-upload-mb",
        type=_int_at_least(1, 1024),
        default=SERVE_MAX_UPLOAD_MB,
        help="per request",
    )
    serve.add_argument(
        "--max-images",
        type=_int_at_least(1, 1024),
        default=SERVE_MAX_IMAGES,
        help="per request",
    )
    serve.add_argument(
        "--max-batch",
        type=_int_at_least(1, 4096),
        default=SERVE_MAX_BATCH,
        help="images per network call (1: no batching)",
    )
    serve.set_defaults(run=_serve)

    search = commands.add_parser(
        "search",
        help="grid-search hyper-parameters on a Dask cluster (the [dask] extra)",
    )
    search.add_argument("--model", choices=_model_names(), default=registry.DEFAULT)
    search.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="NAME=V1,V2",
        help="a parameter and its values (Python literals); repeat for more",
    )
    search.add_argument(
        "--cv", type=_int_at_least(2), default=3, help="folds (default 3)"
    )
    search.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="tcp:// or tls:// address of a running scheduler "
        "(default: an embedded cluster on this machine)",
    )
    search.add_argument(
        "--workers",
        type=_POSITIVE,
        help="embedded workers (default: cores // tf-threads)",
    )
    search.add_argument(
        "--tf-threads", type=_POSITIVE, default=1, help="TensorFlow threads per worker"
    )
    search.add_argument("--n-train", type=_POSITIVE, help="stratified training subset")
    search.add_argument("--out", required=True, help="folder for the results")
    search.add_argument("--seed", type=_SEED, default=0)
    search.add_argument("--data-home", **data_home)
    _add_tls(search, "this client's")
    search.set_defaults(run=_search)

    worker = commands.add_parser(
        "worker", help="start Dask workers for search on this machine"
    )
    worker.add_argument("scheduler", metavar="ADDRESS", help="the scheduler's address")
    worker.add_argument(
        "--nworkers",
        type=_POSITIVE,
        help="worker processes (default: cores // tf-threads)",
    )
    worker.add_argument(
        "--tf-threads", type=_POSITIVE, default=1, help="TensorFlow threads per worker"
    )
    worker.add_argument(
        "--host",
        default="127.0.0.1",
        help="the one address the workers listen on (default: 127.0.0.1, this "
        "machine only; give this machine's address on the cluster's network, "
        "with TLS: see the cluster guide)",
    )
    _add_tls(worker, "the workers'")
    worker.set_defaults(run=_worker)
    return parser


def _message(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error) or type(error).__name__


def _check_before_work(args) -> None:
    """What can be refused in a second, refused before TensorFlow loads."""
    if args.run is _search and args.scheduler is not None:
        from .parallel import reach_scheduler

        reach_scheduler(args.scheduler, SCHEDULER_TIMEOUT)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        _check_before_work(args)
        if args.run is not _worker:  # workers import TensorFlow themselves
            _import_tensorflow_quietly()
        status = args.run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as error:
        print(f"{PROG}: error: {_message(error)}", file=sys.stderr)
        return 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    return status or 0
