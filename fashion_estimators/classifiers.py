"""FashionCNNClassifier and FashionMLPClassifier: their parameters and network.

Everything they share (validation, training loop, early stopping, fast
prediction, scikit-learn tags) lives in ``_base.FashionClassifier``; their
checkpoints are model files (``_model_file``). ``registry`` names them.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence

import keras

from . import _params as P
from ._base import AUTO_MAX_EPOCHS_FACTOR, FashionClassifier
from ._images import IMAGE_SHAPE, N_PIXELS
from ._model_file import write_model_file
from ._networks import (
    RESNET_FILTERS,
    VGG_FILTERS,
    block_widths,
    build_cnn,
    build_mlp,
    build_resnet,
    resnet_blocks,
    wrap_network,
)
from .augmentation import FashionAugmenter

_SHARED_DOCS = {
    "precision": """\
precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of the network. "bfloat16" is mixed precision: weights,
        the output layer and the loss stay float32, every other layer computes
        in bfloat16, which CPUs with AMX or AVX512-BF16 and GPUs of compute
        capability 8.0 or more compute several times faster, and others
        emulate several times slower. "auto" chooses "bfloat16" exactly where
        it is native. The fitted ``precision_`` says what was used; a
        bfloat16 model loaded where bfloat16 is not native (and ``precision``
        is not "bfloat16") computes in float32.""",
    "class_weight": """\
class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn: a dict of
        label -> weight (labels not in it weigh 1), or "balanced",
        ``n_samples / (n_classes * np.bincount(y))``. Multiplied with
        ``sample_weight`` where both are given.""",
    "warm_start": """\
warm_start : bool, default=False
        When True, ``fit`` on a fitted estimator trains its network and
        optimizer ``epochs`` more epochs instead of starting afresh, with a
        fresh learning-rate schedule over those epochs (``lr_schedule``),
        and appends to ``history_``. It keeps ``classes_`` and refuses labels
        it does not know. ``clone`` returns an unfitted estimator, so a grid
        search over ``warm_start`` fits every candidate afresh: searching it
        is meaningless. ``partial_fit`` always trains one epoch.""",
    "checkpoint": """\
checkpoint : str, path-like or None, default=None
        A file that ``fit`` rewrites after every epoch, atomically, in
        ``save_model``'s format: network, optimizer state, history, seed and
        the epochs still to train. A fit stopped at any moment leaves the
        checkpoint of its last finished epoch there; ``load_model`` reads it,
        and ``resume(checkpoint, X, y)`` trains the epochs that were left,
        writing on to the same file. Its folder must exist. Model files never
        store this path: a loaded estimator has ``checkpoint=None``, so a
        file from someone else cannot make a fit write anywhere.""",
    "callbacks": """\
callbacks : list of keras.callbacks.Callback or None, default=None
        Keras callbacks run by every ``fit`` and ``partial_fit``, after the
        estimator's own (schedule, early stopping, checkpoint writer). Each
        fit runs deep copies of them, so clones, cross-validation folds and
        refits never share one; ``fit(X, y, callbacks=[...])`` runs the very
        objects given, for that fit only. ``save_model`` does not store them.""",
    "learning_rate": """\
learning_rate : float, default=%(learning_rate_default)s
        Initial (with "one-cycle": peak) step size of the optimizer.""",
    "lr_schedule": """\
lr_schedule : {"cosine", "one-cycle", "constant"}, \
default=%(lr_schedule_default)s
        "cosine" lowers the learning rate along half a cosine over ``epochs``;
        "one-cycle" raises it linearly to ``learning_rate`` over the first
        quarter of the epochs and lowers it linearly towards 0 over the rest;
        "constant" keeps it.""",
    "optimizer": """\
optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default=%(optimizer_default)s
        The Keras optimizer; "sgd" has Nesterov momentum 0.9, as
        scikit-learn's ``MLPClassifier(solver="sgd")``.""",
    "weight_decay": """\
weight_decay : float or None, default=%(weight_decay_default)s
        Decoupled weight decay of the optimizer: every step shrinks each
        weight by ``learning_rate * weight_decay`` times itself, apart from
        the gradient. None keeps the optimizer's own (0, and 0.004 for
        "adamw").""",
    "epochs": """\
epochs : int or "auto", default="auto"
        Most passes over the training data. "auto" makes %(auto_epochs)s on
        the full training set (60,000 images) and, on fewer images, as many as
        take the same number of gradient steps, at most %(most_auto_epochs)s:
        see ``epochs_for``.""",
    "validation_fraction": """\
validation_fraction : float, default=0.0
        Fraction of the training data held out (stratified) to stop early and
        restore the best weights. 0, like scikit-learn's MLPClassifier, trains
        on everything for ``epochs``.""",
    "random_state": """\
random_state : int, RandomState instance or None, default=None
        Seeds weights, shuffling, dropout, augmentation and the validation
        split; a fixed value gives repeatable fits on CPU.""",
    "verbose": """\
verbose : int, default=0
        0 is silent; 1 or more shows Keras' progress bar.""",
    "attributes": """\
classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``.
    n_features_in_ : int
        784.
    pixel_max_ : float
        255.0 when ``fit`` received raw pixels in [0, 255], 1.0 when it
        received pixels scaled to [0, 1] (its largest value was at most 1).
        ``predict``, ``score`` and further fits take pixels on that scale and
        refuse rows that look like the other one.
    model_ : keras.Model
        The trained network.
    precision_ : {"float32", "bfloat16"}
        The arithmetic ``model_`` computes in.
    history_ : dict of list
        Per-epoch ``loss`` and ``accuracy``; ``learning_rate`` with a
        schedule ("cosine" or "one-cycle"); ``val_loss`` and ``val_accuracy`` when
        ``validation_fraction > 0``.
    seed_ : int or None
        The seed the first fit drew from ``random_state`` (None when it is
        None); it seeds the weights, the batches and the validation split.
    fit_time_ : float
        Seconds the last ``fit`` or ``resume_fit`` took.""",
}
"""Parameter and attribute descriptions both classifiers share, written once."""

# the widest layer and the most hidden layers a parameter may ask for
_MAX_WIDTH = 1 << 14
_MAX_DEPTH = 16


def _conv_count(channels: int, width: int, side: int, batch_norm: bool) -> int:
    """Weights of a convolution, with its BatchNorm's four per channel or
    its bias."""
    return side * side * channels * width + (4 if batch_norm else 1) * width


def _dense_count(widths) -> int:
    """Weights and biases of dense layers of these widths, input first."""
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


_AUTO_FILTERS = {"vgg": VGG_FILTERS, "resnet": RESNET_FILTERS}
"""What ``filters="auto"`` builds for each architecture."""


def _without_erasing(layer: keras.layers.Layer) -> keras.layers.Layer:
    """``layer``, or a copy that erases no image if it is Random Erasing."""
    if not isinstance(layer, keras.layers.RandomErasing):
        return layer
    config = {**layer.get_config(), "factor": (0.0, 0.0)}
    return keras.layers.RandomErasing.from_config(config)


def _resnet_error(estimator) -> str | None:
    """Why ``depth`` and ``filters`` cannot build a ResNet, or None."""
    if estimator.architecture != "resnet":
        return None
    filters = estimator.filters_for_architecture()
    if not all(isinstance(width, int) for width in filters):
        return (
            f"filters={filters!r}: a ResNet's stages each have one "
            "width (an int), such as filters=(16, 32, 64) for ResNet-20."
        )
    try:
        resnet_blocks(estimator.depth, len(filters))
    except ValueError as error:
        return str(error)
    return None


def _default_text(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _shared_docs(cls):
    """Fill the ``%(name)s`` places of ``cls``'s docstring from _SHARED_DOCS,
    and their ``%(name_default)s`` places from ``cls``'s own defaults, so that
    the text two classes share never states the wrong class's default."""
    if not cls.__doc__:  # python -OO strips docstrings
        return cls
    signature = inspect.signature(cls.__init__).parameters.values()
    defaults = {f"{p.name}_default": _default_text(p.default) for p in signature}
    defaults["auto_epochs"] = cls.auto_epochs
    defaults["most_auto_epochs"] = AUTO_MAX_EPOCHS_FACTOR * cls.auto_epochs
    cls.__doc__ = (cls.__doc__ % _SHARED_DOCS) % defaults
    return cls


@_shared_docs
class FashionCNNClassifier(FashionClassifier):
    """Convolutional network classifier for Fashion-MNIST images.

    A VGG-style CNN (blocks of Conv 3x3 -> BatchNorm -> ReLU ending in a
    MaxPool, then a dense layer with dropout), trained on flipped and randomly
    erased images by Nesterov SGD along a one-cycle learning-rate schedule; it
    predicts the mean of its outputs on each image and its mirror. Takes
    the same X as any scikit-learn classifier: raw pixels in [0, 255], or
    pixels scaled to [0, 1], as ``(n, 784)``, ``(n, 28, 28)``,
    ``(n, 28, 28, 1)`` or a DataFrame of 784 columns; rescaling happens
    inside the network.

    Parameters
    ----------
    architecture : {"vgg", "resnet"}, default="vgg"
        "vgg": blocks of convolutions (``filters``) and a max-pooling,
        then a dense layer with dropout. "resnet": a ResNet of ``depth``
        layers (He et al. 2016, the CIFAR family: residual blocks of two
        convolutions with BatchNorm, global average pooling); it is slower
        and more accurate. ``architecture="resnet", learning_rate=0.1,
        epochs=36`` is the accurate configuration of the benchmarks page.
    filters : "auto" or tuple, default="auto"
        One entry per block ("vgg") or stage ("resnet"), each halving the
        image size. A "vgg" block's entry is an int, the filters of its one
        convolution, or a tuple of them for several convolutions in a row. A
        stage's entry is an int: ``(16, 32, 64)`` with ``depth=20`` is
        ResNet-20. "auto" is ``(16, (32, 32), (64, 64))`` for "vgg" (one
        convolution at full size, two in each further block) and
        ``(16, 32, 64)`` for "resnet".
    depth : int, default=20
        Layers with weights of the ResNet ("resnet" only): ``6 n + 2`` with
        ``n`` residual blocks a stage for three stages (8, 14, 20, 32, ...;
        the paper's are 20, 32, 44, 56 and 110).
    dense_units : int, default=256
        Width of the dense layer after the convolutions ("vgg" only).
    dropout : float, default=0.3
        Dropout rate around the dense layer, in [0, 1) ("vgg" only).
    batch_norm : bool, default=True
        Batch normalisation of each convolution ("vgg"; a ResNet always
        has it). It trains with TensorFlow's fused kernel and is folded
        into the convolution for prediction and export, so it costs little
        (the performance page measures it).
    regularization_epochs : int, default=10
        The fewest ``epochs`` that train with the dropout of the built-in
        network and the Random Erasing of ``augment``. A shorter fit leaves
        both out: a network trained for a few epochs underfits, and
        regularisation only holds it back (the benchmarks page measures a
        first try of 2 epochs). ``epochs="auto"`` always trains with them,
        and 1 keeps them for every fit. It decides when the network is
        built: ``warm_start`` keeps the network as it is.
    network : callable or None, default=None
        Replaces the built-in CNN: called as ``network(n_classes)``, it returns
        an uncompiled ``keras.Model`` that takes ``(batch, 28, 28, 1)`` images
        scaled to [0, 1] and ends in a softmax over ``n_classes``. The
        estimator still rescales, augments, compiles and trains it. When set,
        ``architecture`` and the parameters of the network's shape are not
        used. Its layers' own seeds are its business: unseeded ones draw from
        Python's global generator, so they repeat only where no other thread
        draws from it meanwhile (a Dask worker's does).
    %(learning_rate)s
    %(lr_schedule)s
    %(optimizer)s
    %(weight_decay)s
    %(epochs)s
    batch_size : int or "auto", default="auto"
        Images per gradient step. "auto" takes ``n_samples // 100`` images,
        from 32 up to 256: about 100 steps per epoch on up to 25,600 images,
        so that a few epochs on a small subset still take enough steps, and
        batches of 256 on more (235 steps an epoch on the full 60,000); see
        ``batch_size_for``.
    %(validation_fraction)s
    n_iter_no_change : int, default=4
        With a validation split, epochs without a lower validation loss
        before training stops.
    augment : "flip+erase", "flip", FashionAugmenter or None, \
default="flip+erase"
        Random augmentation applied afresh to every training batch of every
        epoch (never to validation data or predictions). "flip" mirrors
        images left-right at random; "flip+erase" also overwrites a random
        rectangle of half the images with noise (Random Erasing); a
        FashionAugmenter can also shift, rotate and zoom; None trains on the
        images as they are.
    test_time_flip : "auto", bool, default="auto"
        Predict the mean of the network's outputs on each image and on its
        left-right mirror, which costs twice the computation per prediction.
        "auto" does so when ``augment`` flips the training images, not
        otherwise (the benchmarks page measures what it buys).
    %(precision)s
    %(class_weight)s
    %(warm_start)s
    %(checkpoint)s
    %(callbacks)s
    %(random_state)s
    %(verbose)s

    Attributes
    ----------
    %(attributes)s

    Examples
    --------
    >>> from fashion_estimators import FashionCNNClassifier, fetch_fashion_mnist
    >>> X, y = fetch_fashion_mnist(subset="test", return_X_y=True)
    >>> clf = FashionCNNClassifier(epochs=1, random_state=0).fit(X[:500], y[:500])
    >>> clf.predict_proba(X[:2]).shape
    (2, 10)
    """

    checkpoint_writer = staticmethod(write_model_file)
    _parameter_constraints = {
        **FashionClassifier._parameter_constraints,
        "architecture": P.one_of("vgg", "resnet"),
        # each block halves the image: 28 pixels take at most 4 of them
        "filters": P.either(
            P.one_of("auto"),
            P.int_blocks(1, _MAX_WIDTH, max_length=4, max_block=_MAX_DEPTH),
        ),
        "dense_units": P.integer(1, _MAX_WIDTH),
        "batch_norm": P.one_of(True, False),
        "regularization_epochs": P.integer(1),
        "network": P.Constraint(
            lambda v: v is None or callable(v), "None or a callable"
        ),
    }

    def __init__(
        self,
        *,
        architecture: str = "vgg",
        filters: Sequence[int | Sequence[int]] | str = "auto",
        depth: int = 20,
        dense_units: int = 256,
        dropout: float = 0.3,
        batch_norm: bool = True,
        regularization_epochs: int = 10,
        network: Callable[[int], keras.Model] | None = None,
        learning_rate: float = 0.05,
        lr_schedule: str = "one-cycle",
        optimizer: str = "sgd",
        weight_decay: float | None = 5e-3,
        epochs: int | str = "auto",
        batch_size: int | str = "auto",
        validation_fraction: float = 0.0,
        n_iter_no_change: int = 4,
        augment: FashionAugmenter | str | None = "flip+erase",
        test_time_flip: str | bool = "auto",
        precision: str = "auto",
        class_weight: dict | str | None = None,
        warm_start: bool = False,
        checkpoint: str | os.PathLike | None = None,
        callbacks: list[keras.callbacks.Callback] | None = None,
        random_state=None,
        verbose: int = 0,
    ):
        self.architecture = architecture
        self.filters = filters
        self.depth = depth
        self.dense_units = dense_units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.regularization_epochs = regularization_epochs
        self.network = network
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.augment = augment
        self.test_time_flip = test_time_flip
        self.precision = precision
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    auto_epochs = 48
    _parameter_relations = (_resnet_error,)
    absent_params = {
        **FashionClassifier.absent_params,
        "architecture": "vgg",
        # files written before it trained short fits regularised
        "regularization_epochs": 1,
    }

    def filters_for_architecture(self) -> tuple:
        """The filters of the network ``fit`` builds: ``filters`` itself, or
        what "auto" means for ``architecture``.

        Returns
        -------
        tuple
        """
        if isinstance(self.filters, str):
            return _AUTO_FILTERS[self.architecture]
        return tuple(self.filters)

    def _regularizes(self) -> bool:
        """Whether the network trains with its dropout and Random Erasing."""
        return self.epochs == "auto" or self.epochs >= self.regularization_epochs

    def weight_count(self, n_classes: int = 10) -> int:
        if self.architecture == "resnet":
            return self._resnet_weight_count(n_classes)
        channels, side, count = 1, IMAGE_SHAPE[0], 0
        for block in self.filters_for_architecture():
            for width in block_widths(block):
                count += _conv_count(channels, width, 3, self.batch_norm)
                channels = width
            side //= 2
        flat = side * side * channels
        return count + _dense_count((flat, self.dense_units, n_classes))

    def _resnet_weight_count(self, n_classes: int) -> int:
        filters = self.filters_for_architecture()
        blocks = resnet_blocks(self.depth, len(filters))
        count = _conv_count(1, filters[0], 3, True)
        channels = filters[0]
        for i, width in enumerate(filters):
            for j in range(blocks):
                count += _conv_count(channels, width, 3, True)
                count += _conv_count(width, width, 3, True)
                if (i > 0 and j == 0) or channels != width:
                    count += _conv_count(channels, width, 1, True)
                channels = width
        return count + _dense_count((channels, n_classes))

    def _build_network(
        self, n_classes: int, augmentation: list, seed: int | None
    ) -> keras.Model:
        regularizes = self._regularizes()
        if not regularizes:
            # the layers stay, at no strength: the network keeps the layers
            # its parameters describe, which loading a model file checks
            augmentation = [_without_erasing(layer) for layer in augmentation]
        if self.network is not None:
            return wrap_network(self.network(n_classes), augmentation=augmentation)
        if self.architecture == "resnet":
            return build_resnet(
                n_classes,
                filters=self.filters_for_architecture(),
                depth=self.depth,
                augmentation=augmentation,
                seed=seed,
            )
        return build_cnn(
            n_classes,
            filters=self.filters_for_architecture(),
            dense_units=self.dense_units,
            dropout=self.dropout if regularizes else 0.0,
            batch_norm=self.batch_norm,
            augmentation=augmentation,
            seed=seed,
        )


@_shared_docs
class FashionMLPClassifier(FashionClassifier):
    """Multi-layer perceptron classifier for Fashion-MNIST images.

    Dense layers with BatchNorm, ReLU and dropout on the flattened pixels,
    trained along a cosine learning-rate schedule. Accepts the same inputs as
    :class:`FashionCNNClassifier`.

    Parameters
    ----------
    hidden_units : tuple of int, default=(1024, 512)
        Width of each hidden layer.
    dropout : float, default=0.4
        Dropout rate after each hidden layer, in [0, 1).
    batch_norm : bool, default=True
        Batch normalisation of each hidden layer, before its ReLU. It trains
        with TensorFlow's fused kernel and is folded into the layer's weights
        for prediction and export.
    %(learning_rate)s
    %(lr_schedule)s
    %(optimizer)s
    %(weight_decay)s
    %(epochs)s
    batch_size : int or "auto", default="auto"
        Images per gradient step. "auto" takes ``n_samples // 100`` images,
        as in :class:`FashionCNNClassifier`, from 32 up to 512 (118 steps an
        epoch on the full 60,000).
    %(validation_fraction)s
    n_iter_no_change : int, default=6
        With a validation split, epochs without a lower validation loss
        before training stops.
    augment : "flip+erase", "flip", FashionAugmenter or None, default=None
        Random augmentation of every training batch of every epoch, as in
        :class:`FashionCNNClassifier`.
    test_time_flip : "auto", bool, default="auto"
        Average the predictions for each image and its mirror, as in
        :class:`FashionCNNClassifier`; "auto" does so only when ``augment``
        flips the training images.
    %(precision)s
    %(class_weight)s
    %(warm_start)s
    %(checkpoint)s
    %(callbacks)s
    %(random_state)s
    %(verbose)s

    Attributes
    ----------
    %(attributes)s

    Examples
    --------
    >>> from fashion_estimators import FashionMLPClassifier, fetch_fashion_mnist
    >>> X, y = fetch_fashion_mnist(subset="test", return_X_y=True)
    >>> clf = FashionMLPClassifier(epochs=2, random_state=0).fit(X[:500], y[:500])
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    checkpoint_writer = staticmethod(write_model_file)
    _parameter_constraints = {
        **FashionClassifier._parameter_constraints,
        "hidden_units": P.int_sequence(1, _MAX_WIDTH, max_length=_MAX_DEPTH),
        "batch_norm": P.one_of(True, False),
    }
    _max_auto_batch = 512
    absent_params = {**FashionClassifier.absent_params, "batch_norm": False}

    def __init__(
        self,
        *,
        hidden_units: Sequence[int] = (1024, 512),
        dropout: float = 0.4,
        batch_norm: bool = True,
        learning_rate: float = 2e-3,
        lr_schedule: str = "cosine",
        optimizer: str = "adam",
        weight_decay: float | None = None,
        epochs: int | str = "auto",
        batch_size: int | str = "auto",
        validation_fraction: float = 0.0,
        n_iter_no_change: int = 6,
        augment: FashionAugmenter | str | None = None,
        test_time_flip: str | bool = "auto",
        precision: str = "auto",
        class_weight: dict | str | None = None,
        warm_start: bool = False,
        checkpoint: str | os.PathLike | None = None,
        callbacks: list[keras.callbacks.Callback] | None = None,
        random_state=None,
        verbose: int = 0,
    ):
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.augment = augment
        self.test_time_flip = test_time_flip
        self.precision = precision
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.checkpoint = checkpoint
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def weight_count(self, n_classes: int = 10) -> int:
        # a hidden layer's BatchNorm holds four weights a unit where its bias was
        extra = 3 * sum(self.hidden_units) if self.batch_norm else 0
        return _dense_count((N_PIXELS, *self.hidden_units, n_classes)) + extra

    def _build_network(
        self, n_classes: int, augmentation: list, seed: int | None
    ) -> keras.Model:
        return build_mlp(
            n_classes,
            hidden_units=self.hidden_units,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
            augmentation=augmentation,
            seed=seed,
        )
