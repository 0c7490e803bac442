"""Invalid parameters are reported at fit time, naming parameter and range."""

import inspect
import re

import numpy as np
import pytest

from fashion_estimators import (
    FashionAugmenter,
    FashionCNNClassifier,
    FashionMLPClassifier,
)

X = np.zeros((4, 784), dtype=np.uint8)
y = np.array([0, 1, 0, 1])


@pytest.mark.parametrize(
    "estimator, message",
    [
        (
            FashionCNNClassifier(epochs=-1),
            "'epochs' .* integer >= 1 and <= 100000; got -1",
        ),
        (FashionCNNClassifier(epochs=2.5), "'epochs' .* integer"),
        (FashionCNNClassifier(dropout=1.0), r"'dropout' .* \[0, 1\); got 1.0"),
        (FashionMLPClassifier(learning_rate=0), r"'learning_rate' .* \(0, 10\]; got 0"),
        (FashionMLPClassifier(optimizer="adagradx"), "'optimizer' .* 'adam'"),
        (FashionMLPClassifier(batch_size=0), "'batch_size'"),
        (FashionCNNClassifier(batch_size="big"), "'batch_size' .* 'auto' or an int"),
        (FashionMLPClassifier(validation_fraction=1), "'validation_fraction'"),
        (FashionCNNClassifier(filters=()), "'filters' .* tuple of 1 to 4 blocks"),
        (FashionCNNClassifier(filters=(8, -2)), "'filters'"),
        (FashionCNNClassifier(filters=(8, (16, 0))), "'filters'"),
        (FashionCNNClassifier(filters=(8, ())), "'filters'"),
        (FashionCNNClassifier(architecture="vit"), "'architecture' .* 'resnet'"),
        (
            FashionCNNClassifier(architecture="resnet", filters=(8, 16, 32), depth=21),
            "depth=21 .* 8, 14, 20",
        ),
        (
            FashionCNNClassifier(architecture="resnet", filters=(8, (16, 16))),
            "a ResNet's stages each have one width",
        ),
        (FashionCNNClassifier(weight_decay=-1e-4), "'weight_decay'"),
        (FashionMLPClassifier(weight_decay="l2"), "'weight_decay' .* None"),
        (FashionMLPClassifier(hidden_units=[0]), "'hidden_units'"),
        (FashionMLPClassifier(augment=True), "'augment' .* FashionAugmenter"),
        (FashionCNNClassifier(augment="erase"), "'augment' .* 'flip\\+erase'"),
        (FashionCNNClassifier(test_time_flip="yes"), "'test_time_flip' .* 'auto'"),
        (FashionMLPClassifier(random_state="seed"), "'random_state'"),
        (FashionMLPClassifier(verbose=-1), "'verbose'"),
        (FashionMLPClassifier(lr_schedule="step"), "'lr_schedule' .* 'one-cycle'"),
        (FashionCNNClassifier(network="vgg"), "'network' .* callable"),
        (FashionAugmenter(rotation=-5), "'rotation'"),
        (FashionAugmenter(shift=1.5), "'shift'"),
        (FashionAugmenter(zoom=-0.1), "'zoom'"),
        (FashionAugmenter(horizontal_flip="yes"), "'horizontal_flip'"),
        (FashionAugmenter(erasing=1.5), "'erasing'"),
        # outside any sensible, finite range
        (FashionMLPClassifier(learning_rate=float("inf")), "'learning_rate' .* inf"),
        (FashionMLPClassifier(learning_rate=float("nan")), "'learning_rate' .* nan"),
        (FashionMLPClassifier(learning_rate=50.0), "'learning_rate' .* got 50.0"),
        (FashionMLPClassifier(learning_rate=10**400), "'learning_rate' .* got 1000"),
        (FashionMLPClassifier(dropout=float("nan")), "'dropout' .* got nan"),
        (FashionMLPClassifier(validation_fraction=-0.1), "'validation_fraction'"),
        (FashionMLPClassifier(validation_fraction=np.inf), "'validation_fraction'"),
        (FashionMLPClassifier(epochs=10**9), "'epochs' .* <= 100000"),
        (FashionMLPClassifier(batch_size=10**9), "'batch_size' .* <= 1048576"),
        (FashionMLPClassifier(n_iter_no_change=0), "'n_iter_no_change'"),
        (FashionMLPClassifier(hidden_units=(10**6,)), r"'hidden_units' .* 16384\]"),
        (FashionMLPClassifier(hidden_units=(8,) * 17), "'hidden_units' .* 1 to 16"),
        (FashionCNNClassifier(filters=(8,) * 5), "'filters' .* 1 to 4 blocks"),
        (FashionCNNClassifier(dense_units=10**6), "'dense_units' .* <= 16384"),
        (FashionMLPClassifier(random_state=-1), "'random_state' .* 4294967295"),
        (FashionMLPClassifier(random_state=2**40), "'random_state'"),
        (FashionMLPClassifier(verbose=7), "'verbose' .* <= 2"),
        (FashionAugmenter(rotation=float("inf")), "'rotation'"),
        (FashionAugmenter(shift=float("nan")), "'shift'"),
    ],
)
def test_invalid_parameter_is_rejected_in_fit(estimator, message):
    with pytest.raises(ValueError, match=message):
        estimator.fit(X, y)


def test_nested_augmenter_is_checked_too():
    clf = FashionMLPClassifier(augment=FashionAugmenter(zoom=2.0), epochs=1)
    with pytest.raises(ValueError, match="'zoom'"):
        clf.fit(X, y)


@pytest.mark.parametrize("cls", [FashionCNNClassifier, FashionMLPClassifier])
def test_docstring_describes_every_parameter_once(cls):
    doc = cls.__doc__
    assert "%(" not in doc, "a shared description was not filled in"
    described = re.findall(r"^    (\w+) : ", doc.split("Attributes")[0], re.M)
    assert described == list(inspect.signature(cls).parameters)


@pytest.mark.parametrize(
    "architecture, filters",
    [("vgg", (16, (32, 32), (64, 64))), ("resnet", (16, 32, 64))],
)
def test_auto_filters_suit_the_architecture(architecture, filters):
    clf = FashionCNNClassifier(architecture=architecture)
    assert clf.filters == "auto" and clf.filters_for_architecture() == filters
    # the network built has those widths: its weights count them
    network = clf.make_network(10, seed=0)
    assert network.count_params() == clf.weight_count(10)
    explicit = FashionCNNClassifier(architecture=architecture, filters=filters)
    assert explicit.weight_count(10) == clf.weight_count(10)
