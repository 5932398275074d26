"""Every public Keras object of the package: complete config, registration, `.keras` round trip.

One table, one harness (`tests/harness.py`): a constructor argument added without its
`get_config` entry, or an object left unregistered, fails here.
"""

import keras
import numpy as np
import pytest

from keras_cluster import layers, losses, metrics, optimizers
from tests.harness import constructor_arguments, run_config_test, run_model_saving_test

CENTROIDS = np.arange(6, dtype="float32").reshape(3, 2)

CASES = [
    (layers.ClusteringLayer(3, alpha=2.0, initial_centroids=CENTROIDS), keras.layers, {}),
    (
        layers.CentroidDistances(3, initial_centroids=CENTROIDS, trainable_centroids=False),
        keras.layers,
        {"trainable_centroids": False},
    ),
    (losses.DECLoss(target="batch"), keras.losses, {"target": "batch"}),
    (losses.KMeansLoss(CENTROIDS), keras.losses, {"centroids": CENTROIDS}),
    (
        losses.SoftNearestNeighborLoss(temperature=0.3, distance="euclidean"),
        keras.losses,
        {"temperature": 0.3, "distance": "euclidean"},
    ),
    (metrics.ClusteringAccuracy(4, n_classes=3), keras.metrics, {"n_classes": 3}),
    (metrics.NormalizedMutualInformation(4, n_classes=3), keras.metrics, {"n_clusters": 4}),
    (metrics.AdjustedRandIndex(4, n_classes=3), keras.metrics, {"n_clusters": 4}),
    (optimizers.LevenbergMarquardt(mu=0.01, max_attempts=5), keras.optimizers, {}),
    (optimizers.GaussNewton(), keras.optimizers, {}),
    (optimizers.Newton(), keras.optimizers, {}),
]


KERAS_BASES = (
    keras.layers.Layer,
    keras.losses.Loss,
    keras.metrics.Metric,
    keras.optimizers.Optimizer,
)


def _module(obj):
    return obj.__class__.__module__


@pytest.mark.parametrize("obj, keras_module, expected", CASES, ids=lambda c: type(c).__name__)
def test_config_is_complete_and_round_trips(obj, keras_module, expected):
    restored = run_config_test(obj, keras_module.serialize, keras_module.deserialize, expected)
    assert _module(restored) == _module(obj)


def test_every_public_class_is_in_the_table():
    covered = {type(obj) for obj, _, _ in CASES}
    public = {
        getattr(module, name)
        for module in (layers, losses, metrics, optimizers)
        for name in module.__all__
        if isinstance(getattr(module, name), type)
        and issubclass(getattr(module, name), KERAS_BASES)
    }
    assert public <= covered, f"public classes without a config test: {public - covered}"


def test_the_config_check_can_fail():
    class Forgetful(keras.layers.Layer):
        def __init__(self, width=3, **kwargs):
            super().__init__(**kwargs)
            self.width = width

        def get_config(self):  # overrides Keras's automatic config, and forgets `width`
            return super().get_config() | {}

    keras.saving.register_keras_serializable("keras_cluster")(Forgetful)
    assert constructor_arguments(Forgetful) == ["width"]
    with pytest.raises(AssertionError, match="lacks constructor arguments"):
        run_config_test(Forgetful(), keras.layers.serialize, keras.layers.deserialize)


def test_layers_survive_keras_file_and_saved_model(tmp_path, rng):
    inputs = keras.Input((2,))
    q = layers.ClusteringLayer(3, initial_centroids=CENTROIDS, name="q")(inputs)
    d = layers.CentroidDistances(3, initial_centroids=CENTROIDS, name="d")(inputs)
    model = keras.Model(inputs, keras.layers.Concatenate()([q, d]), name="both")
    run_model_saving_test(model, rng.normal(size=(8, 2)).astype("float32"), tmp_path)


def test_only_y_true_y_pred_functions_are_registered_as_losses():
    # dec_loss(p, q) is (y_true, y_pred): usable as compile(loss=...) and from a .keras config.
    assert keras.saving.get_registered_object("keras_cluster>dec_loss") is losses.dec_loss
    # kmeans_loss(embeddings, centroids) and soft_nearest_neighbor_loss(labels, features, ...)
    # are not Keras loss functions; their classes are.
    for name in ("kmeans_loss", "soft_nearest_neighbor_loss"):
        assert keras.saving.get_registered_object(f"keras_cluster>{name}") is None


def test_declared_export_paths_are_the_public_names():
    import importlib

    from keras_cluster.api_export import EXPORTS

    assert len(EXPORTS) >= 15
    for path, obj in EXPORTS.items():
        module_path, name = path.rsplit(".", 1)
        module = importlib.import_module(module_path)
        assert name in module.__all__, f"{path} is declared but not in {module_path}.__all__"
        assert getattr(module, name) is obj


def test_every_public_keras_class_declares_its_export():
    """Layers, losses, metrics, optimizers and models: what a `.keras` file can hold."""
    import keras_cluster
    from keras_cluster.api_export import EXPORTS

    declared = set(EXPORTS.values())
    for subpackage in ("layers", "losses", "metrics", "optimizers", "callbacks", "models"):
        module = getattr(keras_cluster, subpackage)
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, (*KERAS_BASES, keras.Model)):
                assert obj in declared, f"keras_cluster.{subpackage}.{name} is not exported"


@pytest.mark.parametrize(
    "path", ["layers.ClusteringLayer", "keras_cluster.layers", "keras_cluster.layers.Other"]
)
def test_a_bad_export_path_is_refused(path):
    from keras_cluster.api_export import keras_cluster_export

    class ClusteringLayer(keras.layers.Layer):
        pass

    with pytest.raises(ValueError, match="`path` should"):
        keras_cluster_export(path)(ClusteringLayer)
