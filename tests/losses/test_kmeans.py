import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cluster.losses import KMeansLoss, kmeans_loss
from keras_cluster.losses.kmeans import (
    BROADCAST_MAX_ELEMENTS,
    nearest_centroid,
    nearest_centroid_distances,
)


def reference_kmeans(z, mu):
    """mean_i min_k |z_i - mu_k|^2 and its gradients, float64, from the formula."""
    z, mu = np.asarray(z, np.float64), np.asarray(mu, np.float64)
    distances = np.sum((z[:, None, :] - mu[None, :, :]) ** 2, axis=-1)
    nearest = distances.argmin(axis=1)
    difference = z - mu[nearest]
    grad_z = 2.0 * difference / len(z)
    grad_mu = np.zeros_like(mu)
    np.add.at(grad_mu, nearest, -2.0 * difference / len(z))
    return distances.min(axis=1).mean(), grad_z, grad_mu


def loss_and_grads(z, mu, broadcast):
    z, mu = tf.Variable(z), tf.Variable(mu)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(nearest_centroid_distances(z, mu, broadcast=broadcast))
    grad_z, grad_mu = tape.gradient(loss, [z, mu])
    return float(loss), np.asarray(grad_z), tf.convert_to_tensor(grad_mu).numpy()


@pytest.mark.parametrize("broadcast", [True, False])
@pytest.mark.parametrize("offset", [0.0, 300.0])
def test_value_and_gradients_match_float64_reference(rng, broadcast, offset):
    mu = (rng.normal(size=(10, 8)) * 3 + offset).astype("float32")
    z = (mu[rng.integers(0, 10, size=500)] + rng.normal(size=(500, 8))).astype("float32")
    expected, grad_z, grad_mu = reference_kmeans(z, mu)
    got, got_z, got_mu = loss_and_grads(z, mu, broadcast)
    np.testing.assert_allclose(got, expected, rtol=1e-3)
    np.testing.assert_allclose(got_z, grad_z, rtol=1e-3, atol=1e-3 * np.abs(grad_z).max())
    np.testing.assert_allclose(got_mu, grad_mu, rtol=1e-3, atol=1e-3 * np.abs(grad_mu).max())


def _builds_difference_tensor(z, mu, broadcast=None):
    """Whether the traced graph holds the `(n, k, d)` difference tensor (the broadcast form)."""
    graph = (
        tf.function(lambda a, b: nearest_centroid_distances(a, b, broadcast=broadcast))
        .get_concrete_function(tf.TensorSpec(z.shape, z.dtype), tf.TensorSpec(mu.shape, mu.dtype))
        .graph
    )
    n, d = z.shape
    k = mu.shape[0]
    return any(
        tuple(output.shape) == (n, k, d) for op in graph.get_operations() for output in op.outputs
    )


def test_form_is_chosen_by_shape_and_both_agree(rng):
    z = rng.normal(size=(4096, 32)).astype("float32")
    mu = rng.normal(size=(64, 32)).astype("float32")
    # The check itself can tell the forms apart.
    assert _builds_difference_tensor(z[:20], mu[:3], broadcast=True)
    assert not _builds_difference_tensor(z[:20], mu[:3], broadcast=False)
    # Large shapes take the matmul + gather form, tiny ones the broadcast form.
    assert 4096 * 64 * 32 > BROADCAST_MAX_ELEMENTS
    assert not _builds_difference_tensor(z, mu)
    assert 20 * 3 * 32 <= BROADCAST_MAX_ELEMENTS
    assert _builds_difference_tensor(z[:20], mu[:3])
    # Both forms give the float64 reference value, at each shape.
    for n, k in ((4096, 64), (20, 3)):
        expected = reference_kmeans(z[:n], mu[:k])[0]
        for broadcast in (None, True, False):
            got = float(tf.reduce_mean(nearest_centroid_distances(z[:n], mu[:k], broadcast)))
            np.testing.assert_allclose(got, expected, rtol=1e-4)
        np.testing.assert_allclose(float(kmeans_loss(z[:n], mu[:k])), expected, rtol=1e-4)
    np.testing.assert_array_equal(
        np.asarray(nearest_centroid(z, mu)),
        np.sum((z[:, None] - mu[None]) ** 2, -1).argmin(1),
    )


def test_xla_compiles(rng):
    z = rng.normal(size=(2000, 16)).astype("float32")
    mu = rng.normal(size=(40, 16)).astype("float32")
    compiled = tf.function(nearest_centroid_distances, jit_compile=True)
    for broadcast in (True, False):
        got = float(tf.reduce_mean(compiled(z, mu, broadcast)))
        np.testing.assert_allclose(got, reference_kmeans(z, mu)[0], rtol=1e-4)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="embeddings"):
        kmeans_loss(np.ones((4,), "float32"), np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="centroids"):
        KMeansLoss(np.ones((3,), "float32"))


def test_class_config_round_trip_and_fit(rng):
    mu = rng.normal(size=(3, 2)).astype("float32")
    loss = KMeansLoss(mu, name="km")
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored.centroids), mu)
    z = rng.normal(size=(64, 2)).astype("float32")
    np.testing.assert_allclose(
        float(restored(np.zeros(64), z)), reference_kmeans(z, mu)[0], rtol=1e-5
    )

    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(keras.optimizers.Adam(0.05), loss)
    history = model.fit(z, np.zeros(64), batch_size=32, epochs=10, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]
