"""
Tune with Optuna, and stop hopeless trials early
================================================

An `Optuna <https://optuna.org>`_ study searches the MLP's learning rate and
width. Each trial fits with ``validation_fraction=0.2``, and Optuna's own
Keras callback, ``KerasPruningCallback``, reports the validation loss after
every epoch: the median pruner stops a trial whose loss is worse than the
median of the earlier trials at the same epoch. One trial is made hopeless on
purpose (a learning rate of 1e-7): it is stopped after two of its eight
epochs. The best parameters are then cross-validated with
``cross_val_score``. Needs ``pip install "fashion-estimators[optuna]"``.
"""

import time

import optuna
from optuna.trial import TrialState
from optuna_integration import KerasPruningCallback
from sklearn.model_selection import cross_val_score

from fashion_estimators import (
    FashionMLPClassifier,
    fetch_fashion_mnist,
    stratified_subset,
)

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_small, y_small = stratified_subset(X, y, 6000, random_state=0)
N_TRIALS = 12
# sphinx_gallery_start_ignore
# The test suite sets FASHION_EXAMPLES_QUICK=1 to run each example on 500 images.
from os import environ  # noqa: E402

if environ.get("FASHION_EXAMPLES_QUICK") == "1":
    X_small, y_small = stratified_subset(X, y, 500, random_state=0)
    N_TRIALS = 6
# sphinx_gallery_end_ignore
EPOCHS = 8


def objective(trial: optuna.Trial) -> float:
    clf = FashionMLPClassifier(
        hidden_units=(trial.suggest_categorical("width", [64, 128, 256]),),
        learning_rate=trial.suggest_float("learning_rate", 1e-7, 1e-1, log=True),
        epochs=EPOCHS,
        validation_fraction=0.2,
        random_state=0,
    )
    # raises optuna.TrialPruned from inside fit when the trial is hopeless
    clf.fit(X_small, y_small, callbacks=[KerasPruningCallback(trial, "val_loss")])
    trial.set_user_attr("val_accuracy", clf.history_["val_accuracy"][-1])
    return clf.history_["val_loss"][-1]


# %%
# Three trials first, so that the pruner has a median to compare with; then
# the hopeless trial, and the rest of the search.
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(
    direction="minimize",
    sampler=optuna.samplers.TPESampler(seed=0),
    pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
)
start = time.perf_counter()
study.optimize(objective, n_trials=3)
study.enqueue_trial({"width": 128, "learning_rate": 1e-7})
study.optimize(objective, n_trials=N_TRIALS - 3)
seconds = time.perf_counter() - start

for trial in study.trials:
    epochs = len(trial.intermediate_values)
    print(
        f"trial {trial.number}: learning rate {trial.params['learning_rate']:.1e}, "
        f"width {trial.params['width']}: {trial.state.name.lower()} after "
        f"{epochs} epochs, validation loss {trial.value or float('nan'):.3f}"
    )
pruned = study.get_trials(states=[TrialState.PRUNED])
trained = sum(len(t.intermediate_values) for t in study.trials)
print(
    f"{len(study.trials)} trials in {seconds:.0f} s, {len(pruned)} pruned: "
    f"{trained} of {len(study.trials) * EPOCHS} epochs trained"
)

# %%
# The best parameters, cross-validated on the same images.
best = study.best_trial
print(
    "best:", best.params, f"validation accuracy {best.user_attrs['val_accuracy']:.4f}"
)
scores = cross_val_score(
    FashionMLPClassifier(
        hidden_units=(best.params["width"],),
        learning_rate=best.params["learning_rate"],
        epochs=EPOCHS,
        random_state=0,
    ),
    X_small,
    y_small,
    cv=3,
)
print(f"cross-validated accuracy {scores.mean():.4f} +- {scores.std():.4f}")
