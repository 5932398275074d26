import keras
import numpy as np
import pytest

from keras_cluster.layers import ClusteringLayer, soft_assignment
from tests.numerical import central_difference


def reference_q(z, mu, alpha):
    """Eq. (1) of Xie et al. 2016 in float64."""
    d2 = ((z[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
    kernel = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
    return kernel / kernel.sum(1, keepdims=True)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 3.0])
def test_soft_assignment_matches_paper_formula(rng, alpha):
    z, mu = rng.normal(size=(7, 4)), rng.normal(size=(3, 4))
    q = keras.ops.convert_to_numpy(soft_assignment(z, mu, alpha))
    np.testing.assert_allclose(q, reference_q(z, mu, alpha), rtol=1e-10)
    np.testing.assert_allclose(q.sum(1), 1.0, rtol=1e-12)


def test_far_points_do_not_underflow():
    z = np.array([[1e6, -1e6]])
    mu = np.array([[0.0, 0.0], [1e6 + 1.0, -1e6]])
    q = keras.ops.convert_to_numpy(soft_assignment(z, mu, 1.0))
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(q[0, 1], 1.0, rtol=1e-6)


def test_layer_output_and_centroid_weight(rng):
    layer = ClusteringLayer(3, alpha=1.0)
    z = rng.normal(size=(5, 2)).astype("float32")
    layer.build((None, 2))
    mu = rng.normal(size=(3, 2))
    layer.set_centroids(mu)
    q = keras.ops.convert_to_numpy(layer(z))
    np.testing.assert_allclose(q, reference_q(z.astype("float64"), mu, 1.0), rtol=1e-5)
    assert [w.name for w in layer.trainable_weights] == ["centroids"]
    assert layer.compute_output_shape((None, 2)) == (None, 3)


def test_initial_centroids_and_config_round_trip(rng):
    mu = rng.normal(size=(3, 2)).astype("float32")
    layer = ClusteringLayer(3, alpha=2.0, initial_centroids=mu, name="c")
    layer.build((None, 2))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.centroids), mu)
    config = layer.get_config()
    assert config["n_clusters"] == 3 and config["alpha"] == 2.0
    clone = ClusteringLayer.from_config(config)
    clone.build((None, 2))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clone.centroids), mu)
    registered = keras.saving.get_registered_name(ClusteringLayer)
    assert registered == "keras_cluster>ClusteringLayer"


def test_gradient_matches_finite_differences(rng):
    z = rng.normal(size=(4, 3))
    mu = rng.normal(size=(2, 3))
    import tensorflow as tf

    z_t = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(z_t)
        loss = tf.reduce_sum(soft_assignment(z_t, tf.constant(mu), 1.0)[:, 0] ** 2)
    grad = tape.gradient(loss, z_t).numpy()
    numeric = central_difference(lambda z_: (reference_q(z_, mu, 1.0)[:, 0] ** 2).sum(), z)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": 2.5}, "n_clusters"),
        ({"n_clusters": 2, "alpha": 0}, "alpha"),
        ({"n_clusters": 2, "alpha": -1.0}, "alpha"),
        ({"n_clusters": 2, "initial_centroids": np.zeros((3, 2))}, "initial_centroids"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ClusteringLayer(**kwargs)


def test_bad_centroid_shapes():
    layer = ClusteringLayer(2, initial_centroids=np.zeros((2, 5)))
    with pytest.raises(ValueError, match="initial_centroids"):
        layer.build((None, 3))
    layer = ClusteringLayer(2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match="centroids.*Received: shape \\(2, 4\\)"):
        layer.set_centroids(np.zeros((2, 4)))
