import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.special import logsumexp

from keras_cluster.losses import SoftNearestNeighborLoss, soft_nearest_neighbor_loss
from tests.numerical import central_difference


def reference_snnl(labels, features, temperature, distance):
    """Frosst et al.'s SNNL in float64 log space, from the paper's formula (exact distances)."""
    z = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    labels = np.asarray(labels)
    if distance == "cosine":
        unit = z / np.linalg.norm(z, axis=1, keepdims=True)
        d = 1.0 - unit @ unit.T
    else:
        d = np.sum((z[:, None, :] - z[None, :, :]) ** 2, axis=-1)
    rows = []
    for i in range(len(z)):
        others = np.arange(len(z)) != i
        same = others & (labels == labels[i])
        if same.any():
            rows.append(
                logsumexp(-d[i, others] / temperature) - logsumexp(-d[i, same] / temperature)
            )
    return np.mean(rows) if rows else 0.0


def clustered_codes(rng, n=64, dim=8, classes=4, scale=1.0, offset=0.0):
    labels = rng.integers(0, classes, size=n)
    centres = rng.normal(size=(classes, dim))
    z = centres[labels] + 0.7 * rng.normal(size=(n, dim))
    return labels, (scale * z + offset).astype("float32")


@pytest.mark.parametrize("distance", ["cosine", "euclidean"])
@pytest.mark.parametrize("temperature", [0.5, 0.01])
@pytest.mark.parametrize("scale,offset", [(1.0, 0.0), (30.0, 0.0), (1.0, 1000.0)])
def test_matches_float64_reference(rng, distance, temperature, scale, offset):
    labels, z = clustered_codes(rng, scale=scale, offset=offset)
    expected = reference_snnl(labels, z, temperature, distance)
    got = float(soft_nearest_neighbor_loss(labels, z, temperature, distance))
    assert expected > 0
    np.testing.assert_allclose(got, expected, rtol=1e-3)


@pytest.mark.parametrize("distance", ["cosine", "euclidean"])
def test_gradient_matches_finite_differences_at_low_temperature(rng, distance):
    labels, z = clustered_codes(rng, n=12, dim=3, classes=3)
    z = z.astype(np.float64)
    features = tf.Variable(z)
    with tf.GradientTape() as tape:
        loss = soft_nearest_neighbor_loss(labels, features, 0.01, distance)
    grad = tape.gradient(loss, features).numpy()
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0
    numeric = central_difference(lambda z_: reference_snnl(labels, z_, 0.01, distance), z)
    np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-3 * np.abs(numeric).max())


@pytest.mark.parametrize("distance", ["cosine", "euclidean"])
def test_float32_gradient_finite_and_nonzero_at_low_temperature(rng, distance):
    labels = rng.integers(0, 4, size=256)
    features = tf.Variable(rng.normal(size=(256, 16)).astype("float32"))
    with tf.GradientTape() as tape:
        loss = soft_nearest_neighbor_loss(labels, features, 0.01, distance)
    grad = tape.gradient(loss, features).numpy()
    assert np.isfinite(float(loss)) and float(loss) > 0
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0


def test_rows_without_same_class_neighbour_are_left_out(rng):
    labels, z = clustered_codes(rng, n=32, classes=2)
    labels = labels.copy()
    labels[0] = 7
    expected = reference_snnl(labels, z, 0.5, "cosine")
    got = float(soft_nearest_neighbor_loss(labels, z, 0.5))
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert float(soft_nearest_neighbor_loss(np.arange(8), z[:8])) == 0.0


def test_valid_mask_drops_rows_entirely(rng):
    labels, z = clustered_codes(rng, n=40)
    valid = np.arange(40) % 3 != 0
    expected = reference_snnl(labels[valid], z[valid], 0.1, "euclidean")
    got = float(soft_nearest_neighbor_loss(labels, z, 0.1, "euclidean", valid=valid))
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_one_hot_labels_and_rank_3_features(rng):
    labels, z = clustered_codes(rng, n=24, dim=8)
    one_hot = np.eye(4)[labels]
    expected = reference_snnl(labels, z, 0.5, "cosine")
    got = float(soft_nearest_neighbor_loss(one_hot, z.reshape(24, 2, 4), 0.5))
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_xla_compiles_and_agrees(rng):
    labels, z = clustered_codes(rng)
    compiled = tf.function(soft_nearest_neighbor_loss, jit_compile=True)
    for distance in ("cosine", "euclidean"):
        expected = reference_snnl(labels, z, 0.01, distance)
        np.testing.assert_allclose(float(compiled(labels, z, 0.01, distance)), expected, rtol=1e-3)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"distance": "manhattan"}, "distance"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        soft_nearest_neighbor_loss([0, 1], np.ones((2, 2), "float32"), **kwargs)
    with pytest.raises(ValueError, match=message):
        SoftNearestNeighborLoss(**kwargs)


def test_class_config_round_trip_and_value(rng):
    labels, z = clustered_codes(rng)
    loss = SoftNearestNeighborLoss(temperature=0.3, distance="euclidean", name="snn")
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, SoftNearestNeighborLoss)
    assert restored.get_config() == loss.get_config()
    expected = reference_snnl(labels, z, 0.3, "euclidean")
    np.testing.assert_allclose(float(restored(labels, z)), expected, rtol=1e-3)


def test_fit_separates_classes(rng):
    labels, z = clustered_codes(rng, n=256, dim=8)
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(4)(inputs))
    model.compile(keras.optimizers.Adam(0.01), SoftNearestNeighborLoss(0.5))
    history = model.fit(z, labels, batch_size=64, epochs=15, verbose=0).history["loss"]
    assert history[-1] < 0.7 * history[0]
