"""scikit-learn's own estimator checks, with each expected failure explained.

Most checks train on small synthetic data with 1 to 30 features. Our
estimators only accept 784-pixel images (28x28) in [0, 255] and refuse such
data with a ValueError that names the expected shape, so those checks cannot
pass by design. tests/test_contract.py runs the same contracts (fit returns
self, parameters and input untouched, idempotent fits, order and subset
invariance, dtypes, read-only memmaps, feature names) on real images instead.
"""

from conftest import FAST_CNN, FAST_MLP
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
        "scikit-learn >= 1.6 ignores; our __sklearn_tags__ states the tags"
    ),
    "check_mixin_order": (
        "scikeras' KerasClassifier lists ClassifierMixin after BaseEstimator and "
        "a subclass cannot reorder it; __sklearn_tags__ sets the classifier tags "
        "that the mixin would have set"
    ),
}


def expected_failed_checks(estimator) -> dict[str, str]:
    """The checks each estimator is known to fail, with the reason."""
    synthetic = dict(_SYNTHETIC_CHECKS_ALL)
    if isinstance(estimator, FashionAugmenter):
        synthetic.update(_SYNTHETIC_CHECKS_TRANSFORMER)
        failures = {}
    else:
        synthetic.update(_SYNTHETIC_CHECKS_CLASSIFIER)
        failures = dict(_SCIKERAS_LAYOUT)
    failures.update({name: SYNTHETIC.format(n=n) for name, n in synthetic.items()})
    return failures


@parametrize_with_checks(
    [
        FashionCNNClassifier(**FAST_CNN),
        FashionMLPClassifier(**FAST_MLP),
        FashionAugmenter(random_state=0),
    ],
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
