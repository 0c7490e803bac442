"""What Optuna's pruning saves: the tuning page's study, with the median
pruner and without one.

``python -m benchmarks.probes.pruning`` runs the study of the gallery example
*Tune with Optuna* (the MLP's width and learning rate, ``--trials`` trials of
``--epochs`` epochs on ``--n-train`` training images with a validation split,
a learning rate of 1e-7 enqueued as the fourth trial) once with
``MedianPruner(n_startup_trials=3, n_warmup_steps=1)`` and once with
``NopPruner``, each in a fresh process, alternated ``--pairs`` times. It
prints, for each study: trials, trials pruned, epochs trained, seconds, and
the best validation loss.
"""

from __future__ import annotations

import argparse
import time

from ..harness import answer_child, run_child

PRUNERS = ("median", "none")


def _study(pruner: str, n_train: int, trials: int, epochs: int) -> dict:
    import optuna
    from optuna_integration import KerasPruningCallback

    from fashion_estimators import (
        FashionMLPClassifier,
        fetch_fashion_mnist,
        stratified_subset,
    )

    X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
    X, y = stratified_subset(X, y, n_train, random_state=0)

    def objective(trial):
        clf = FashionMLPClassifier(
            hidden_units=(trial.suggest_categorical("width", [64, 128, 256]),),
            learning_rate=trial.suggest_float("learning_rate", 1e-7, 1e-1, log=True),
            epochs=epochs,
            validation_fraction=0.2,
            random_state=0,
        )
        clf.fit(X, y, callbacks=[KerasPruningCallback(trial, "val_loss")])
        return clf.history_["val_loss"][-1]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
        if pruner == "median"
        else optuna.pruners.NopPruner(),
    )
    start = time.perf_counter()
    study.optimize(objective, n_trials=3)
    study.enqueue_trial({"width": 128, "learning_rate": 1e-7})
    study.optimize(objective, n_trials=trials - 3)
    return {
        "pruner": pruner,
        "seconds": time.perf_counter() - start,
        "trials": len(study.trials),
        "pruned": sum(t.state.name == "PRUNED" for t in study.trials),
        "epochs": sum(len(t.intermediate_values) for t in study.trials),
        "best_value": study.best_value,
        "best_params": study.best_params,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probes.pruning")
    parser.add_argument("--n-train", type=int, default=6000)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--child", choices=PRUNERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.trials < 4:
        parser.error("--trials must be at least 4: three, then the hopeless one")
    if args.child:
        return answer_child(_study(args.child, args.n_train, args.trials, args.epochs))
    settings = ["--n-train", str(args.n_train), "--trials", str(args.trials)]
    settings += ["--epochs", str(args.epochs)]
    print(
        f"{'pruner':>7} {'trials':>6} {'pruned':>6} {'epochs':>9} {'s':>6} {'best':>7}"
    )
    for pair in range(args.pairs):
        order = PRUNERS if pair % 2 == 0 else PRUNERS[::-1]
        for pruner in order:
            study = run_child("benchmarks.probes.pruning", [pruner, *settings])
            print(
                f"{pruner:>7} {study['trials']:>6} {study['pruned']:>6} "
                f"{study['epochs']:>4} of {study['trials'] * args.epochs:<3} "
                f"{study['seconds']:6.1f} {study['best_value']:7.4f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
