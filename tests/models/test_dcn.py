import keras
import numpy as np
import pytest

from keras_cluster.models import DeepClusteringNetwork, build_autoencoder
from tests.distributed import run_on_logical_cpus


def network(rng, l2=0.0, **kwargs):
    regularizer = keras.regularizers.L2(l2) if l2 else None
    autoencoder, encoder = build_autoencoder(6, dims=(5, 2), kernel_regularizer=regularizer)
    dcn = DeepClusteringNetwork(autoencoder, "encoder_1", n_clusters=3, **kwargs)
    x = rng.normal(size=(40, 6)).astype("float32")
    codes = keras.ops.convert_to_numpy(encoder(x)).astype(np.float64)
    dcn.set_centroids(codes[:3])
    return dcn, encoder, x, codes


def test_count_update_equals_sequential_running_means(rng):
    dcn, _, x, codes = network(rng, initial_count=100.0)
    dcn.compile(keras.optimizers.SGD(0.0), "mse")
    centroids, counts = codes[:3].copy(), np.full(3, 100.0)
    dcn.train_on_batch(x, x)
    distances = np.sum((codes[:, None] - centroids[None]) ** 2, axis=-1)
    for z, k in zip(codes, distances.argmin(axis=1), strict=True):
        counts[k] += 1
        centroids[k] -= (centroids[k] - z) / counts[k]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dcn.counts), counts)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dcn.centroids), centroids, rtol=1e-5)


def test_loss_is_reconstruction_plus_weighted_kmeans_plus_l2(rng):
    dcn, encoder, x, codes = network(rng, l2=0.01, clustering_weight=0.7)
    dcn.compile(keras.optimizers.SGD(0.0), "mse")
    centroids = codes[:3]
    reconstruction = keras.ops.convert_to_numpy(dcn.autoencoder(x)).astype(np.float64)
    mse = np.mean((reconstruction - x) ** 2)
    kmeans = np.mean(np.min(np.sum((codes[:, None] - centroids[None]) ** 2, axis=-1), axis=1))
    penalty = sum(
        0.01 * np.sum(keras.ops.convert_to_numpy(layer.kernel).astype(np.float64) ** 2)
        for layer in dcn.autoencoder.layers[1:]
    )
    loss = dcn.train_on_batch(x, x, return_dict=True)
    np.testing.assert_allclose(loss["loss"], mse + 0.7 * kmeans + penalty, rtol=1e-4)
    np.testing.assert_allclose(loss["kmeans"], kmeans, rtol=1e-4)


def test_sgd_centroids_move_by_gradient_and_counts_stay(rng):
    dcn, _, x, codes = network(rng, centroid_update="sgd")
    dcn.compile(keras.optimizers.SGD(0.1), "mse", jit_compile=True)
    dcn.fit(x, x, batch_size=20, epochs=2, verbose=0)
    assert any(weight is dcn.centroids for weight in dcn.trainable_weights)
    assert not np.allclose(keras.ops.convert_to_numpy(dcn.centroids), codes[:3])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dcn.counts), 100.0)


def test_save_load_and_serving_model(rng, tmp_path):
    dcn, _, x, _ = network(rng)
    dcn.compile("adam", "mse")
    dcn.fit(x, x, batch_size=20, epochs=2, verbose=0)
    dcn.save(tmp_path / "dcn.keras")
    restored = keras.models.load_model(tmp_path / "dcn.keras")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored.counts), keras.ops.convert_to_numpy(dcn.counts)
    )
    serving = dcn.serving_model()
    distances = serving.predict(x, verbose=0)
    np.testing.assert_allclose(restored.serving_model().predict(x, verbose=0), distances, rtol=1e-5)
    assert distances.shape == (40, 3)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"code_layer": "nope"}, "code_layer"),
        ({"clustering_weight": -1.0}, "clustering_weight"),
        ({"centroid_update": "em"}, "centroid_update"),
        ({"initial_count": 0}, "initial_count"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    autoencoder, _ = build_autoencoder(6, dims=(5, 2))
    arguments = {"code_layer": "encoder_1", "n_clusters": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        DeepClusteringNetwork(autoencoder, **arguments)


MIRRORED_STEP = """
import json
import keras
import numpy as np
import tensorflow as tf

from keras_cluster.models import DeepClusteringNetwork, build_autoencoder

keras.config.set_floatx("float64")
x = np.random.default_rng(0).normal(size=(32, 6))
initial = None


def one_step(strategy):
    global initial
    with strategy.scope():
        autoencoder, encoder = build_autoencoder(6, dims=(5, 2))
        dcn = DeepClusteringNetwork(autoencoder, "encoder_1", n_clusters=3, initial_count=4.0)
        if initial is None:
            initial = [keras.ops.convert_to_numpy(w) for w in dcn.weights]
        for weight, value in zip(dcn.weights, initial):
            weight.assign(value)
        codes = keras.ops.convert_to_numpy(encoder(x))
        dcn.set_centroids(codes[:3])
        dcn.compile(keras.optimizers.Adam(0.01), "mse")
    dcn.fit(x, x, batch_size=32, shuffle=False, verbose=0)
    return {
        "codes": codes.tolist(),
        "counts": keras.ops.convert_to_numpy(dcn.counts).tolist(),
        "centroids": keras.ops.convert_to_numpy(dcn.centroids).tolist(),
        "weights": [keras.ops.convert_to_numpy(w).tolist() for w in dcn.weights],
    }


single = one_step(tf.distribute.get_strategy())
mirrored = one_step(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
print(json.dumps({"single": single, "mirrored": mirrored}))
"""


def test_mirrored_step_on_two_cpus_equals_single_device_step():
    """The batch counts and code sums of both replicas (16 samples each) enter the update."""
    result = run_on_logical_cpus(MIRRORED_STEP)
    single, mirrored = result["single"], result["mirrored"]
    codes = np.asarray(single["codes"])
    centroids = codes[:3].astype(np.float32).astype(np.float64)  # as `set_centroids` stores them
    nearest = np.sum((codes[:, None] - centroids[None]) ** 2, axis=-1).argmin(axis=1)
    members = np.eye(3)[nearest]
    counts = 4.0 + members.sum(axis=0)
    expected = (4.0 * centroids + members.T @ codes) / counts[:, None]
    for run in (single, mirrored):
        np.testing.assert_allclose(run["counts"], counts, rtol=1e-12)
        np.testing.assert_allclose(run["centroids"], expected, rtol=1e-9)
    for got, expected in zip(mirrored["weights"], single["weights"], strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-9)
