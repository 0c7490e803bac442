"""scikit-learn's own estimator checks, with each expected failure explained.

Most checks train on small synthetic data with 1 to 30 features. Our
estimators only accept 784-pixel images (28x28) in [0, 255] and refuse such
data with a ValueError that names the expected shape, so those checks cannot
pass by design. tests/test_contract.py runs the same contracts (fit returns
self, parameters and input untouched, idempotent fits, order and subset
invariance, dtypes, read-only memmaps, feature names) on real images instead.
"""

import pytest
from helpers import FAST_CNN, FAST_MLP
from sklearn.utils.estimator_checks import parametrize_with_checks

from fashion_estimators import (
    FashionAugmenter,
    FashionCNNClassifier,
    FashionMLPClassifier,
)

SYNTHETIC = (
    "trains on synthetic data with {n} features; the estimator accepts only "
    "784-pixel (28x28) images and rejects it with a ValueError naming the "
    "expected shape (contract covered on real images in test_contract.py)"
)
# what the estimators raise on such data
SHAPE_ERROR = (ValueError, r"has \d+ feature\(s\) per sample; expected 784 features")

# check name -> number of features in the data that the check generates
_SYNTHETIC_CHECKS_ALL = {
    "check_fit_score_takes_y": 3,
    "check_estimators_overwrite_params": 2,
    "check_dont_overwrite_parameters": 3,
    "check_estimators_fit_returns_self": 2,
    "check_readonly_memmap_input": 2,
    "check_n_features_in_after_fitting": 4,
    "check_estimators_nan_inf": 3,
    "check_estimators_dtypes": 5,
    "check_dtype_object": 10,
    "check_pipeline_consistency": 3,
    "check_estimators_pickle": 3,
    "check_f_contiguous_array_estimator": 3,
    "check_methods_sample_order_invariance": 3,
    "check_methods_subset_invariance": 3,
    "check_dict_unchanged": 3,
    "check_fit_idempotent": 2,
    "check_fit_check_is_fitted": 2,
    "check_n_features_in": 2,
    "check_fit2d_predict1d": 3,
}
_SYNTHETIC_CHECKS_CLASSIFIER = {
    "check_sample_weights_pandas_series": 2,
    "check_sample_weights_not_an_array": 2,
    "check_sample_weights_list": 3,
    "check_sample_weights_shape": 2,
    "check_sample_weights_not_overwritten": 2,
    "check_sample_weight_equivalence_on_dense_data": 30,
    "check_classifier_data_not_an_array": 2,
    "check_classifiers_one_label_sample_weights": 2,
    "check_classifiers_classes": 2,
    "check_estimators_partial_fit_n_features": 2,
    "check_classifiers_train": 2,
    "check_class_weight_classifiers": 2,
    "check_supervised_y_2d": 3,
    "check_all_zero_sample_weights_error": 20,
}
_SYNTHETIC_CHECKS_TRANSFORMER = {
    "check_transformer_data_not_an_array": 3,
    "check_transformer_general": 3,
    "check_transformer_preserve_dtypes": 3,
    "check_fit2d_1sample": 10,
}
_SCIKERAS_LAYOUT = {
    "check_estimator_tags_renamed": (
        "scikeras' BaseWrapper still defines the legacy _more_tags, which "
        "scikit-learn >= 1.6 ignores; our __sklearn_tags__ states the tags",
        (TypeError, "has defined either `_more_tags` or `_get_tags`"),
    ),
    "check_mixin_order": (
        "scikeras' KerasClassifier lists ClassifierMixin after BaseEstimator and "
        "a subclass cannot reorder it; __sklearn_tags__ sets the classifier tags "
        "that the mixin would have set",
        (AssertionError, "inheriting from mixins in the wrong order"),
    ),
}
# checks whose own assertion wraps the shape error, or that fail on another
# property of the synthetic data: check name -> (exception, message pattern)
_WRAPPED = {
    "check_sample_weights_pandas_series": (
        ValueError,
        "raises error if 'sample_weight' parameter is of type pandas.Series",
    ),
    "check_all_zero_sample_weights_error": (
        AssertionError,
        r"Got X has 20 feature\(s\) per sample; expected 784",
    ),
    "check_classifiers_one_label_sample_weights": (
        AssertionError,
        "failed when fitted on one label after sample_weight trimming",
    ),
    # its data is centred: the estimators refuse negative pixels first
    "check_class_weight_classifiers": (ValueError, "Negative values in data"),
    "check_fit2d_1sample": (AssertionError, r"Got X has 10 feature\(s\)"),
}


def expected_failed_checks(estimator) -> dict[str, tuple[str, tuple]]:
    """The checks each estimator is known to fail: the reason, and the
    exception and message pattern that show it fails for that reason."""
    synthetic = dict(_SYNTHETIC_CHECKS_ALL)
    if isinstance(estimator, FashionAugmenter):
        synthetic.update(_SYNTHETIC_CHECKS_TRANSFORMER)
        failures = {}
    else:
        synthetic.update(_SYNTHETIC_CHECKS_CLASSIFIER)
        failures = dict(_SCIKERAS_LAYOUT)
    for name, n in synthetic.items():
        failures[name] = (SYNTHETIC.format(n=n), _WRAPPED.get(name, SHAPE_ERROR))
    return failures


@parametrize_with_checks(
    [
        FashionCNNClassifier(**FAST_CNN),
        FashionMLPClassifier(**FAST_MLP),
        FashionAugmenter(random_state=0),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    expected = expected_failed_checks(estimator).get(check.func.__name__)
    if expected is None:
        check(estimator)
        return
    # an expected failure must fail in the expected way: any other error (a
    # real regression) fails the test
    _, (error, pattern) = expected
    with pytest.raises(error, match=pattern):
        check(estimator)
