"""BatchNorm as the networks use it: fused in training, folded into the
convolution or the dense layer in inference, and the same arithmetic as
Keras' own layers."""

import keras
import numpy as np
import pytest

from fashion_estimators import (
    FashionCNNClassifier,
    FashionMLPClassifier,
    load_model,
    save_model,
)

# each layer that carries a BatchNorm: the estimator whose network has it
# first, its name there, the shape of its input, the Keras layer without a
# bias that it replaces, and a batch (its moments are over batch x pixels)
KINDS = {
    "conv": (
        lambda width: FashionCNNClassifier(filters=(width,), batch_norm=True),
        "conv1",
        (28, 28, 1),
        lambda width: keras.layers.Conv2D(width, 3, padding="same", use_bias=False),
        32,
    ),
    "dense": (
        lambda width: FashionMLPClassifier(hidden_units=(width,), batch_norm=True),
        "dense1",
        (784,),
        lambda width: keras.layers.Dense(width, use_bias=False),
        2048,
    ),
}


def _pair(kind, width=6):
    """The network's first convolution or dense layer with its BatchNorm, and
    Keras' own layer + BatchNormalization given the same weights."""
    estimator, name, shape, keras_layer, _ = KINDS[kind]
    network = (
        estimator(width)
        .set_params(augment=None, precision="float32")
        .make_network(seed=0)
    )
    ours = network.get_layer(name)
    inputs = keras.Input(shape)
    norm = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    keras_model = keras.Model(inputs, norm(keras_layer(width)(inputs)))
    rng = np.random.default_rng(0)
    kernel, gamma, beta, mean, variance = ours.get_weights()
    # statistics and scales away from their initial values, so that the
    # folding has something to fold
    gamma, beta = rng.uniform(0.5, 2, width), rng.normal(0, 1, width)
    mean, variance = rng.normal(0, 1, width), rng.uniform(0.5, 2, width)
    weights = [kernel, gamma, beta, mean, variance]
    ours.set_weights([w.astype("float32") for w in weights])
    keras_model.set_weights([w.astype("float32") for w in weights])
    return ours, keras_model, norm


def _inputs(kind, seed):
    *_, shape, _, batch = KINDS[kind]
    return np.random.default_rng(seed).uniform(0, 1, (batch, *shape)).astype("float32")


@pytest.mark.parametrize("kind", KINDS)
def test_training_normalises_like_keras_batch_normalization(kind):
    ours, keras_model, norm = _pair(kind)
    x = _inputs(kind, 1)
    ours_out = keras.ops.convert_to_numpy(ours(x, training=True))
    np.testing.assert_allclose(
        ours_out, keras_model(x, training=True), atol=1e-4, rtol=1e-4
    )
    assert ours_out.shape[-1] == 6 and ours_out.shape[:-1] == x.shape[:-1]
    # the moving statistics move the same way; TensorFlow's kernel keeps the
    # unbiased variance (n / (n - 1), n = 32 * 28 * 28 pixels or 2,048
    # rows), Keras the biased
    np.testing.assert_allclose(ours.moving_mean, norm.moving_mean, rtol=1e-5)
    np.testing.assert_allclose(ours.moving_variance, norm.moving_variance, rtol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_inference_folds_the_normalisation_into_the_layer(kind):
    ours, keras_model, _ = _pair(kind)
    x = _inputs(kind, 2)[:8]
    np.testing.assert_allclose(
        ours(x, training=False), keras_model(x, training=False), atol=1e-4
    )


@pytest.mark.parametrize(
    "clf",
    [
        FashionCNNClassifier(filters=(8, (16, 16)), batch_norm=True),
        FashionMLPClassifier(hidden_units=(64, 32), batch_norm=True),
    ],
    ids=["cnn", "mlp"],
)
def test_a_batch_norm_network_learns_and_is_saved(clf, small, tmp_path):
    X, y, X_test, y_test = small
    clf.set_params(epochs=3, batch_size=64, augment=None, random_state=0).fit(X, y)
    assert clf.model_.count_params() == clf.weight_count(10)
    # 600 training images, chance is 0.1: a network whose BatchNorm broke
    # the gradients or the moving statistics stays near chance
    assert clf.score(X_test, y_test) >= 0.6
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]
    # the moving statistics travel in the model file
    loaded = load_model(save_model(clf, tmp_path / "bn.fashion"))
    np.testing.assert_array_equal(
        loaded.predict_proba(X_test), clf.predict_proba(X_test)
    )
