"""The shared classifier contract, on top of scikeras' KerasClassifier.

This is the only module that imports scikeras. It corrects what scikeras gets
wrong on current scikit-learn and adds what our classifiers share:

* classifier tags (scikeras' MRO hides ``ClassifierMixin.__sklearn_tags__``, so
  plain ``KerasClassifier`` reports ``estimator_type=None``, CV stops
  stratifying and ``VotingClassifier`` refuses it);
* parameters read from ``__init__``'s signature, as in scikit-learn, instead of
  scikeras' ``**kwargs`` routing that silently accepts misspelled names;
* input validation for every pixel layout, rescaling inside the network;
* a learning rate that follows a schedule over the epochs of ``fit``
  (``lr_schedule``: a cosine or one cycle) or stays constant;
* test-time flips (``test_time_flip``), inside the Keras model itself;
* the numeric precision (``precision``), set per layer of each network; a
  bfloat16 network loaded where bfloat16 is not native computes in float32;
* a stratified validation split with early stopping that restores the best
  weights;
* the training callbacks, assembled in one place from ``DEFAULT_CALLBACKS``:
  schedule, early stopping, checkpoint writer, then the user's;
* prediction through ``predict_on_batch`` in chunks, which skips
  ``model.predict``'s per-call set-up (tens of milliseconds);
* ``predict_proba`` that keeps its 2-D shape for a single row.

Subclasses only declare their parameters and their network; ``make_network``
is the public way to get the network that ``fit`` trains. This module knows no
model-file format: a class that can write checkpoints names its writer in
``checkpoint_writer``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import time
import weakref
from collections import defaultdict
from collections.abc import Callable
from typing import ClassVar

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.utils import ClassifierTags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from . import _params as P
from . import datasets
from ._callbacks import SCHEDULES, CheckpointWriter, learning_rate_schedule
from ._files import check_folder, check_replaceable
from ._images import N_PIXELS, PIXEL_MAX, validate_pixels
from ._networks import (
    OPTIMIZERS,
    feature_network,
    make_optimizer,
    with_test_time_flips,
)
from ._novelty import FEW_IMAGES, Novelty, fit_novelty, training_subset
from ._precision import (
    PRECISIONS,
    model_precision,
    resolve_precision,
    with_precision,
)
from ._seeding import as_seed, seeded
from ._training_data import sample_weights, split_validation
from .augmentation import FashionAugmenter, named_augmenter
from .options import AUGMENT_RECIPES

logger = logging.getLogger(__name__)

_PREDICT_CHUNK = 2048
# batch_size="auto": about this many steps per epoch, within these bounds, so
# that a short fit on a small subset still takes enough gradient steps.
_AUTO_STEPS_PER_EPOCH = 100
_AUTO_MIN_BATCH = 32
# epochs="auto": a smaller set than the full one takes fewer steps an epoch, so
# it gets as many epochs as take the full set's number of steps, which is what
# the network needs to learn; this many times the full set's epochs bound a fit
# on a handful of images.
AUTO_MAX_EPOCHS_FACTOR = 4
# the sensible range of epochs and batch sizes: beyond them a value is a typo
_MAX_EPOCHS = 100_000
_MAX_BATCH = 1 << 20

DEFAULT_CALLBACKS = ("schedule", "early_stopping", "checkpoint")
"""The callbacks ``fit`` makes itself, in the order they run: the
learning-rate schedule (``lr_schedule`` other than "constant"), early stopping on the
validation split (``validation_fraction > 0``), the checkpoint writer
(``checkpoint``). The user's ``callbacks`` run after them."""


def _refuse_epoch_arguments(method: str, kwargs: dict) -> None:
    for name in ("epochs", "initial_epoch"):
        if name in kwargs:
            raise TypeError(
                f"{method}() got {name}=; set the estimator's epochs parameter "
                "instead (partial_fit trains one epoch; fit with warm_start=True "
                "continues a fitted network)."
            )


# each fitted network's feature network, built once: a new Keras model would
# trace a new predict function on every call
_FEATURE_NETWORKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _features_of(model: keras.Model) -> keras.Model | None:
    if model not in _FEATURE_NETWORKS:
        _FEATURE_NETWORKS[model] = feature_network(model)
    return _FEATURE_NETWORKS[model]


def _in_chunks(network: keras.Model, images: np.ndarray) -> np.ndarray:
    """``network``'s float32 outputs for ``images``, a chunk at a time."""
    chunks = [
        keras.ops.convert_to_numpy(
            network.predict_on_batch(images[start : start + _PREDICT_CHUNK])
        ).astype(np.float32)
        for start in range(0, len(images), _PREDICT_CHUNK)
    ]
    return np.concatenate(chunks)


@contextlib.contextmanager
def _all_or_nothing(estimator):
    """Undo every change to ``estimator`` if the block raises, even on
    KeyboardInterrupt: a failed fit leaves it unfitted or as previously fitted.

    ``fit`` replaces fitted attributes rather than mutating them, so restoring
    the attribute dict is enough; ``partial_fit`` and a warm-started ``fit``
    train the existing network in place, so its weights and its optimizer's
    state are restored too.
    """
    state = dict(vars(estimator))
    model = state.get("model_")
    weights = None if model is None else model.get_weights()
    optimizer = getattr(model, "optimizer", None)
    slots = [] if optimizer is None else [v.numpy() for v in optimizer.variables]
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(state)
        if weights is not None:
            model.set_weights(weights)
            for variable, value in zip(optimizer.variables, slots, strict=False):
                variable.assign(value)
        raise


class FashionClassifier(KerasClassifier):
    """Base class of the Fashion-MNIST classifiers; not for direct use.

    Subclasses define ``__init__`` (storing their parameters, which must include
    those in ``_parameter_constraints`` below), ``_build_network`` and
    ``weight_count``, and set ``checkpoint_writer`` to support ``checkpoint``.
    """

    checkpoint_writer: ClassVar[Callable | None] = None
    """``write(estimator, path, history, progress)``, which writes a checkpoint
    file that ``load_model`` reads; None where the class cannot."""

    _max_auto_batch = 256
    """The largest batch that ``batch_size="auto"`` picks."""

    auto_epochs: ClassVar[int] = 36
    """The epochs that ``epochs="auto"`` trains on the full training set."""

    absent_params: ClassVar[dict] = {"weight_decay": None}
    """Parameters added since the first model files, each with the value a
    file that lacks it was fitted with; ``load_model`` fills them in."""

    # a scikeras setting that is fixed by design. It is a class attribute, not
    # a parameter, so get_params, clone and grids never see it.
    loss = "sparse_categorical_crossentropy"

    _parameter_constraints = {
        "dropout": P.real(0, 1, closed="left"),
        "learning_rate": P.real(0, 10, closed="right"),
        "lr_schedule": P.one_of(*SCHEDULES, "constant"),
        "weight_decay": P.either(P.one_of(None), P.real(0, 1, closed="left")),
        "optimizer": P.one_of(*OPTIMIZERS),
        "epochs": P.either(P.one_of("auto"), P.integer(1, _MAX_EPOCHS)),
        "batch_size": P.either(P.one_of("auto"), P.integer(1, _MAX_BATCH)),
        "validation_fraction": P.real(0, 1, closed="left"),
        "n_iter_no_change": P.integer(1, _MAX_EPOCHS),
        "augment": P.Constraint(
            lambda v: (
                v is None
                or (isinstance(v, str) and v in AUGMENT_RECIPES)
                or isinstance(v, FashionAugmenter)
            ),
            f"None, {', '.join(map(repr, AUGMENT_RECIPES))} or a FashionAugmenter",
        ),
        "test_time_flip": P.one_of("auto", True, False),
        "precision": P.one_of(*PRECISIONS),
        "warm_start": P.one_of(True, False),
        "checkpoint": P.Constraint(
            lambda v: v is None or isinstance(v, str | os.PathLike),
            "None or a file path",
        ),
        "callbacks": P.Constraint(
            lambda v: (
                v is None
                or isinstance(v, list | tuple)
                and all(isinstance(c, keras.callbacks.Callback) for c in v)
            ),
            "None or a list of keras.callbacks.Callback",
        ),
        "class_weight": P.Constraint(
            lambda v: (
                v is None
                or isinstance(v, dict)
                or (isinstance(v, str) and v == "balanced")
            ),
            "None, 'balanced' or a dict of label -> weight",
        ),
        "random_state": P.random_state(),
        "verbose": P.integer(0, 2),
    }

    # scikit-learn's conventions in place of scikeras' kwargs-based ones
    _get_param_names = classmethod(BaseEstimator._get_param_names.__func__)
    set_params = BaseEstimator.set_params
    __repr__ = BaseEstimator.__repr__

    def _build_network(
        self, n_classes: int, augmentation: list, seed: int | None
    ) -> keras.Model:
        raise NotImplementedError

    def weight_count(self, n_classes: int = 10) -> int:
        """The number of weights of the network ``make_network(n_classes)``
        builds, counted from the parameters without building it.

        ``load_model`` checks a file against it before it builds anything.

        Parameters
        ----------
        n_classes : int, default=10
            Width of the softmax output.

        Returns
        -------
        int
        """
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        tags.input_tags.positive_only = True
        return tags

    # ----------------------------------------------------------------- fitting
    @P.validates_params
    def fit(self, X, y, sample_weight=None, **kwargs) -> FashionClassifier:
        """Train on ``(X, y)`` for ``epochs`` epochs.

        A new network, unless ``warm_start`` is True and the estimator is
        fitted: then the current network and optimizer train ``epochs`` more
        epochs, along a fresh learning-rate schedule of their own.

        Parameters
        ----------
        X : array-like or DataFrame
            ``(n, 784)``, ``(n, 28, 28)`` or ``(n, 28, 28, 1)`` pixel
            intensities, raw in [0, 255] or scaled to [0, 1], any numeric
            dtype. Which scale is recorded in ``pixel_max_``; later calls must
            use the same one.
        y : array-like of shape (n,)
            Class labels, numbers or strings.
        sample_weight : array-like of shape (n,), optional
            Per-sample weights, >= 0; multiplied by the weights of
            ``class_weight``. Samples of weight 0 are left out.
        **kwargs
            Passed on to ``keras.Model.fit``.

        Returns
        -------
        self
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        _refuse_epoch_arguments("fit", kwargs)
        first = self.current_epoch if self.warm_start and self.initialized_ else 0
        return self._train(X, y, sample_weight, first, None, kwargs)

    def _train(
        self, X, y, sample_weight, first, last, kwargs, schedule_from=None
    ) -> FashionClassifier:
        """Train epochs ``first`` to ``last`` (a new network when ``first`` is
        0), along a cosine that starts at epoch ``schedule_from`` (``first``
        unless resuming a checkpointed fit). ``last`` None trains
        ``epochs_for`` the images left after the validation split."""
        if self.checkpoint is not None:
            if self.checkpoint_writer is None:
                raise TypeError(
                    f"{type(self).__name__} cannot write checkpoints (it names no "
                    "checkpoint_writer); leave checkpoint=None."
                )
            check_folder(self.checkpoint)
            check_replaceable(self.checkpoint)
        start = time.perf_counter()
        with _all_or_nothing(self):
            seed = as_seed(self.random_state)
            if first:
                self._check_known_classes(y)
                seed = None if seed is None else seed + first
            else:
                self.classes_ = None  # scikeras reads it as partial_fit's classes
                self.seed_ = seed
            weights = sample_weights(
                y, sample_weight, self.class_weight, self._classes()
            )
            with seeded(seed):
                self._fit(
                    X,
                    y,
                    sample_weight=weights,
                    warm_start=first > 0,
                    # scikeras counts the epochs to train
                    epochs=None if last is None else last - first,
                    initial_epoch=first,
                    whole_fit=True,
                    schedule_from=first if schedule_from is None else schedule_from,
                    **kwargs,
                )
            self._fit_novelty(X, y)
            self._progress = None  # no fit under way: a checkpoint would say so
        self.fit_time_ = time.perf_counter() - start
        return self

    @P.validates_params
    def resume_fit(self, X, y, sample_weight=None) -> FashionClassifier:
        """Train the epochs that the checkpointed fit this estimator was
        loaded from had left; nothing if it had finished.

        :func:`~fashion_estimators.resume` loads a checkpoint and calls this.

        Parameters
        ----------
        X, y : array-like
            The training data, as given to the fit that was interrupted.
        sample_weight : array-like of shape (n,), optional
            As given to that fit.

        Returns
        -------
        self
        """
        if y is None:
            raise ValueError("resume needs y, the labels the fit was given.")
        progress = getattr(self, "_progress", None)
        done = self.current_epoch
        if progress is None or done >= progress[1]:
            logger.info("the checkpointed fit had finished; nothing to resume")
            return self
        schedule_from, last = progress
        logger.info("resuming at epoch %d of %d", done + 1, last)
        return self._train(X, y, sample_weight, done, last, {}, schedule_from)

    @P.validates_params
    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train one more epoch on ``(X, y)``, keeping the current weights.

        ``classes`` lists every label when the first batch lacks some; no
        validation split is made, and the learning rate is the optimizer's
        current one.

        The novelty statistics (:meth:`novelty_score`) are fitted again on
        this call's images alone, under the network as the call leaves it:
        after streaming, they describe the last batch. They are not
        accumulated, because each call changes the network, and features of
        earlier batches no longer match. Give the last call a representative
        sample of a few thousand images (fewer than 1,000 flag many garments,
        and the log says so), or call ``fit``.

        Returns
        -------
        self
        """
        _refuse_epoch_arguments("partial_fit", kwargs)
        with _all_or_nothing(self):
            seed = as_seed(self.random_state)
            if not hasattr(self, "seed_"):
                self.seed_ = seed
            # scikeras reads classes_ as the labels to encode
            self.classes_ = classes if classes is not None else self._classes()
            weights = sample_weights(
                y, sample_weight, self.class_weight, self._classes()
            )
            with seeded(None if seed is None else seed + self.current_epoch):
                self._fit(
                    X,
                    y,
                    sample_weight=weights,
                    warm_start=True,
                    epochs=1,
                    initial_epoch=self.current_epoch,
                    **kwargs,
                )
            self._fit_novelty(X, y)
        return self

    def _fit_novelty(self, X, y) -> None:
        """Fit ``novelty_`` on (a subset of) the images of this fit."""
        network = _features_of(self.model_)
        if network is None:
            logger.info("the network ends in no Dense layer: no novelty score")
            self.novelty_ = None
            return
        images = validate_pixels(self, X, reset=False)
        keep = training_subset(len(images), self.seed_)
        if len(keep) < FEW_IMAGES:
            logger.info(
                "the novelty statistics were fitted on %d images: with fewer "
                "than %d they flag many garments as unlike the training data",
                len(keep),
                FEW_IMAGES,
            )
        index = {label: i for i, label in enumerate(self.classes_.tolist())}
        labels = np.array([index[label] for label in column_or_1d(y)[keep].tolist()])
        self.novelty_ = fit_novelty(
            _in_chunks(network, images[keep]), labels, images[keep], len(index)
        )

    def _classes(self):
        return getattr(self, "classes_", None)

    def _check_known_classes(self, y) -> None:
        labels = np.unique(column_or_1d(y))
        unseen = np.setdiff1d(labels, self.classes_)
        if len(unseen):
            raise ValueError(
                f"y has labels the fitted classifier does not know: "
                f"{unseen.tolist()[:5]}. warm_start=True continues training on "
                f"its classes {self.classes_.tolist()}; set warm_start=False to "
                "train a new network on these labels."
            )

    def _initialize(self, X, y=None):
        X, y = super()._initialize(X, y)
        # fit and partial_fit seed everything once, around the whole call; stop
        # scikeras from re-seeding model.fit with its leaky tensorflow_random_state
        self._random_state = None
        return X, y

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        # y first: its errors (one class, continuous target) are the more
        # telling ones when both X and y are wrong.
        if y is not None:
            y = column_or_1d(y, warn=True)
            check_classification_targets(y)
            if len(y) == 0:
                raise ValueError("y is empty; at least 2 labelled samples are needed.")
            if reset and self.classes_ is None and len(np.unique(y)) < 2:
                raise ValueError(
                    f"y has only one class ({y[0]!r}); a classifier needs at least "
                    "2 classes to fit."
                )
        if X is not None:
            X = validate_pixels(self, X, reset=reset)
            if y is not None and len(y) != len(X):
                raise ValueError(
                    f"X has {len(X)} samples but y has {len(y)}; they must match."
                )
        return X, y

    @P.validates_params
    def make_network(self, n_classes: int = 10, seed: int | None = None) -> keras.Model:
        """The untrained network that ``fit`` would build, not compiled.

        It takes raw pixels ``(batch, 28, 28, 1)`` in [0, 255] and holds
        everything the parameters ask for: the augmentation layers, the
        precision, the test-time flips. Train it with plain ``model.fit`` to
        compare against the estimator, or inspect it.

        Parameters
        ----------
        n_classes : int, default=10
            Width of the softmax output.
        seed : int, optional
            Seeds the initial weights, dropout and augmentation layers.

        Returns
        -------
        keras.Model
        """
        augmenter = (
            named_augmenter(self.augment)
            if isinstance(self.augment, str)
            else self.augment
        )
        augmentation = [] if augmenter is None else augmenter.keras_layers(seed)
        model = with_precision(
            self._build_network(n_classes, augmentation, seed),
            resolve_precision(self.precision),
        )
        flips = self.test_time_flip
        if flips == "auto":
            flips = augmenter is not None and augmenter.horizontal_flip
        return with_test_time_flips(model) if flips else model

    def batch_size_for(self, n_samples: int) -> int:
        """The batch size that ``fit`` uses on ``n_samples`` training images.

        ``batch_size`` itself when it is a number. "auto" takes
        ``n_samples // 100``, at least 32 and at most the class's full-data
        batch: about 100 gradient steps per epoch until that cap, so that a
        few epochs on a small subset still train.

        Parameters
        ----------
        n_samples : int
            Training images after any validation split.

        Returns
        -------
        int
        """
        if self.batch_size != "auto":
            return self.batch_size
        steps = n_samples // _AUTO_STEPS_PER_EPOCH
        return int(min(self._max_auto_batch, max(_AUTO_MIN_BATCH, steps)))

    def epochs_for(self, n_samples: int) -> int:
        """The number of epochs that ``fit`` trains on ``n_samples`` images.

        ``epochs`` itself when it is a number. "auto" trains the class's
        ``auto_epochs`` on the 60,000 images of the full training set. On
        fewer images, which take fewer gradient steps an epoch, it trains as
        many epochs as take the same number of steps, at most 4 times
        ``auto_epochs``.

        Parameters
        ----------
        n_samples : int
            Training images after any validation split.

        Returns
        -------
        int
        """
        if self.epochs != "auto":
            return self.epochs
        full = self._steps_per_epoch(datasets.TRAIN_SIZE)
        steps = self.auto_epochs * full
        epochs = math.ceil(steps / self._steps_per_epoch(n_samples))
        most = AUTO_MAX_EPOCHS_FACTOR * self.auto_epochs
        return min(most, max(self.auto_epochs, epochs))

    def _steps_per_epoch(self, n_samples: int) -> int:
        return math.ceil(n_samples / self.batch_size_for(n_samples))

    def _build_keras_model(self) -> keras.Model:
        model = self.make_network(self.n_classes_, self.seed_)
        self.precision_ = model_precision(model)
        return self._compiled(model)

    def _compiled(self, model: keras.Model) -> keras.Model:
        model.compile(
            optimizer=make_optimizer(
                self.optimizer, self.learning_rate, self.weight_decay
            ),
            loss=self.loss,
            metrics=["accuracy"],
        )
        return model

    def _adopt_network(self, model: keras.Model) -> None:
        """Make ``model``, a trained network from a file or a pickle, this
        estimator's. A network trained in bfloat16 computes in float32 where
        ``precision`` resolves to float32 on this machine (bfloat16 would be
        emulated there), and then gets a fresh optimizer; any other network
        is kept as it was saved, so that it predicts exactly as before."""
        if (
            model_precision(model) == "bfloat16"
            and resolve_precision(self.precision) == "float32"
        ):
            model = self._compiled(with_precision(model, "float32"))
        self.model_ = model
        self.precision_ = model_precision(model)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if getattr(self, "model_", None) is not None:
            self._adopt_network(self.model_)

    def _initialize_callbacks(self) -> None:
        self._fit_callbacks = []
        self._predict_callbacks = []

    def _fit_keras_model(
        self,
        X,
        y,
        sample_weight,
        warm_start,
        epochs,
        initial_epoch,
        whole_fit=False,
        schedule_from=0,
        **kwargs,
    ):
        split = self.validation_fraction > 0 and whole_fit
        if split:
            X, y, sample_weight, kwargs["validation_data"] = split_validation(
                X, y, sample_weight, self.validation_fraction, self.seed_
            )
        if epochs is None:  # a fit's own epochs, counted on what it trains on
            epochs = self.epochs_for(len(X))
        last = initial_epoch + epochs  # scikeras' epochs: how many to train
        if whole_fit and warm_start:
            # scikeras appends to the history in place: give it new lists, and
            # a default for a key the earlier fits did not log (val_loss)
            self.history_ = defaultdict(
                list, {key: list(values) for key, values in self.history_.items()}
            )
        # scikeras drops callbacks passed to fit; ours keep them
        self._fit_callbacks = self._training_callbacks(
            whole_fit, split, initial_epoch, schedule_from, last
        ) + list(kwargs.pop("callbacks", None) or [])
        kwargs.setdefault("batch_size", self.batch_size_for(len(X)))
        try:
            super()._fit_keras_model(
                X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
            )
        finally:
            self._fit_callbacks = []  # they hold the model; never pickle them
        self.history_ = dict(self.history_)

    def _training_callbacks(
        self, whole_fit, split, initial_epoch, schedule_from, last
    ) -> list:
        """The callbacks of one fit: those of ``DEFAULT_CALLBACKS`` that the
        parameters ask for, in that order, then copies of ``callbacks``.

        A fit (``whole_fit``), warm or not, gets the schedule and, with a
        validation ``split``, early stopping; ``partial_fit``, one epoch at a
        time, gets neither. The schedule runs from epoch ``schedule_from`` to
        ``last``.
        """
        made = dict.fromkeys(DEFAULT_CALLBACKS)
        if whole_fit and self.lr_schedule in SCHEDULES:
            made["schedule"] = learning_rate_schedule(
                self.lr_schedule,
                self.learning_rate,
                last - schedule_from,
                schedule_from,
            )
        if split:
            made["early_stopping"] = keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=self.n_iter_no_change,
                restore_best_weights=True,
            )
        if self.checkpoint is not None:
            made["checkpoint"] = CheckpointWriter(
                self,
                self.checkpoint,
                dict(self.history_) if initial_epoch else {},
                schedule_from,
                last,
                self.checkpoint_writer,
            )
        # a copy per fit, so that clones, CV folds and refits never share the
        # state of one callback object (EarlyStopping's best epoch, say)
        user = copy.deepcopy(list(self.callbacks or []))
        return [made[n] for n in DEFAULT_CALLBACKS if made[n] is not None] + user

    # ------------------------------------------------------------ persistence
    def restore_fitted(
        self,
        network: keras.Model,
        classes,
        *,
        feature_names_in=None,
        history: dict,
        seed: int | None,
        progress: tuple[int, int] | None = None,
        pixel_max: float = PIXEL_MAX,
        novelty: Novelty | None = None,
    ) -> FashionClassifier:
        """Make this unfitted estimator the fitted one these arguments
        describe, as ``fit`` would have left it; what
        :func:`~fashion_estimators.load_model` does with a file it checked.

        Parameters
        ----------
        network : keras.Model
            The trained, compiled network, taking ``(n, 28, 28, 1)`` raw pixels.
        classes : array-like
            The labels of its outputs, in order.
        feature_names_in : list of str, optional
            The 784 column names fit saw, if it saw a DataFrame.
        history : dict of list
            The per-epoch metrics.
        seed : int or None
            The seed fit drew from ``random_state`` (``seed_``).
        progress : (int, int), optional
            From a checkpoint: the epochs ``(schedule_from, last)`` of the fit
            under way, which ``resume_fit`` finishes.
        pixel_max : {1.0, 255.0}
            The pixel scale fit saw (``pixel_max_``).
        novelty : optional
            The novelty statistics fit made (``novelty_``), if any.

        Returns
        -------
        self
        """
        n_features_in = N_PIXELS
        self.classes_ = None  # scikeras' target_encoder reads it
        self.target_encoder_ = self.target_encoder.fit(np.asarray(classes))
        vars(self).update(self.target_encoder_.get_metadata())
        stub = np.zeros((1, n_features_in), dtype=np.float32)
        self.feature_encoder_ = self.feature_encoder.fit(stub)
        self.n_features_in_ = n_features_in
        self.pixel_max_ = float(pixel_max)
        if feature_names_in is not None:
            self.feature_names_in_ = np.asarray(feature_names_in, dtype=object)
        self._adopt_network(network)
        self.history_ = {key: list(values) for key, values in history.items()}
        self.seed_ = seed
        self.novelty_ = novelty
        self._progress = progress
        self._random_state = None
        self._initialize_callbacks()
        return self

    # -------------------------------------------------------------- predicting
    def _predict_raw(self, X, **kwargs):
        check_is_fitted(self, "model_")
        images = validate_pixels(self, X, reset=False)
        proba = _in_chunks(self.model_, images).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def novelty_score(self, X) -> np.ndarray:
        """How unlike the training images each image looks; above 1, unlike them.

        The larger of two scaled distances from the images the last ``fit``
        (or ``partial_fit``) call saw: of
        the network's penultimate features (relative Mahalanobis) and of the
        pixels (what their main components leave out). Each is 0 at its
        median over the training images and 1 at its threshold, chosen on
        those images alone: about 2 % of them score above 1. Noise, blank
        images and digits tend to score higher; the user guide's "Serving"
        page gives the figures, and what the score misses.

        Parameters
        ----------
        X : array-like or DataFrame
            Pixels in any layout accepted by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)

        Raises
        ------
        NotFittedError
            If the estimator has no novelty statistics: its network ends in no
            Dense layer, or it was loaded from a file written before they
            existed (fit it again).
        """
        check_is_fitted(self, "model_")
        if getattr(self, "novelty_", None) is None:
            raise NotFittedError(
                f"this {type(self).__name__} has no novelty statistics: its network "
                "ends in no Dense layer, or its model file was written before "
                "they existed; fit it again to score novelty."
            )
        images = validate_pixels(self, X, reset=False)
        features = _in_chunks(_features_of(self.model_), images)
        return self.novelty_.score(features, images)

    def is_novel(self, X) -> np.ndarray:
        """Whether each image looks unlike the training images:
        ``novelty_score(X) > 1``.

        Parameters
        ----------
        X : array-like or DataFrame
            Pixels in any layout accepted by ``fit``.

        Returns
        -------
        ndarray of bool, shape (n_samples,)
        """
        return self.novelty_score(X) > 1

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one row per sample, columns in ``classes_`` order.

        Parameters
        ----------
        X : array-like or DataFrame
            Pixels in any layout accepted by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Rows sum to 1.
        """
        return self._predict_raw(X)

    def predict(self, X) -> np.ndarray:
        """Most probable class of each sample, as the labels given to ``fit``.

        Parameters
        ----------
        X : array-like or DataFrame
            Pixels in any layout accepted by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``.

        Raises
        ------
        ValueError
            If ``y`` holds labels that ``fit`` never saw: they could never be
            predicted, so the score would silently count them as errors.

        Returns
        -------
        float
        """
        check_is_fitted(self, "model_")
        y = column_or_1d(y)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise ValueError(
                f"y has labels not seen in fit: {unseen.tolist()[:5]}; the "
                f"classifier knows {self.classes_.tolist()}."
            )
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
