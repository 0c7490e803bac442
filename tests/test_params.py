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
        (FashionCNNClassifier(epochs=-1), "'epochs' .* integer >= 1; got -1"),
        (FashionCNNClassifier(epochs=2.5), "'epochs' .* integer"),
        (FashionCNNClassifier(dropout=1.0), r"'dropout' .* \[0, 1\); got 1.0"),
        (FashionMLPClassifier(learning_rate=0), "'learning_rate' .* > 0"),
        (FashionMLPClassifier(optimizer="adagradx"), "'optimizer' .* 'adam'"),
        (FashionMLPClassifier(batch_size=0), "'batch_size'"),
        (FashionCNNClassifier(batch_size="big"), "'batch_size' .* 'auto' or an int"),
        (FashionMLPClassifier(validation_fraction=1), "'validation_fraction'"),
        (FashionCNNClassifier(filters=()), "'filters' .* non-empty tuple"),
        (FashionCNNClassifier(filters=(8, -2)), "'filters'"),
        (FashionMLPClassifier(hidden_units=[0]), "'hidden_units'"),
        (FashionMLPClassifier(augment=True), "'augment' .* FashionAugmenter"),
        (FashionCNNClassifier(augment="erase"), "'augment' .* 'flip\\+erase'"),
        (FashionCNNClassifier(test_time_flip="yes"), "'test_time_flip' .* 'auto'"),
        (FashionMLPClassifier(random_state="seed"), "'random_state'"),
        (FashionMLPClassifier(verbose=-1), "'verbose'"),
        (FashionMLPClassifier(lr_schedule="step"), "'lr_schedule' .* 'cosine'"),
        (FashionCNNClassifier(network="vgg"), "'network' .* callable"),
        (FashionAugmenter(rotation=-5), "'rotation'"),
        (FashionAugmenter(shift=1.5), "'shift'"),
        (FashionAugmenter(zoom=-0.1), "'zoom'"),
        (FashionAugmenter(horizontal_flip="yes"), "'horizontal_flip'"),
        (FashionAugmenter(erasing=1.5), "'erasing'"),
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
