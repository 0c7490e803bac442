"""BatchNorm as the CNN uses it: fused in training, folded into the
convolution in inference, and the same arithmetic as Keras' own layers."""

import keras
import numpy as np

from fashion_estimators import FashionCNNClassifier, load_model, save_model


def _pair(width=6):
    """The CNN's first convolution with its BatchNorm, and Keras' own
    Conv2D + BatchNormalization given the same weights."""
    network = FashionCNNClassifier(
        filters=(width,), batch_norm=True, augment=None, precision="float32"
    ).make_network(seed=0)
    ours = network.get_layer("conv1")
    inputs = keras.Input((28, 28, 1))
    conv = keras.layers.Conv2D(width, 3, padding="same", use_bias=False)
    norm = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    keras_model = keras.Model(inputs, norm(conv(inputs)))
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


def test_training_normalises_like_keras_batch_normalization():
    ours, keras_model, norm = _pair()
    x = np.random.default_rng(1).uniform(0, 1, (32, 28, 28, 1)).astype("float32")
    ours_out = keras.ops.convert_to_numpy(ours(x, training=True))
    np.testing.assert_allclose(
        ours_out, keras_model(x, training=True), atol=1e-4, rtol=1e-4
    )
    # per channel over the batch: mean 0 and variance 1, before gamma and beta
    assert ours_out.shape == (32, 28, 28, 6)
    # the moving statistics move the same way; TensorFlow's kernel keeps the
    # unbiased variance (n / (n - 1) with n = 32 * 28 * 28), Keras the biased
    np.testing.assert_allclose(ours.moving_mean, norm.moving_mean, rtol=1e-5)
    np.testing.assert_allclose(ours.moving_variance, norm.moving_variance, rtol=1e-4)


def test_inference_folds_the_normalisation_into_the_convolution():
    ours, keras_model, _ = _pair()
    x = np.random.default_rng(2).uniform(0, 1, (8, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(
        ours(x, training=False), keras_model(x, training=False), atol=1e-4
    )


def test_a_batch_norm_network_learns_and_is_saved(small, tmp_path):
    X, y, X_test, y_test = small
    clf = FashionCNNClassifier(
        filters=(8, (16, 16)),
        batch_norm=True,
        epochs=3,
        batch_size=64,
        augment=None,
        random_state=0,
    ).fit(X, y)
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
