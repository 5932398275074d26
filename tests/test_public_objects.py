"""Every public Keras object of the package: complete config, registration, `.keras` round trip.

One table, one harness (`tests/harness.py`): a constructor argument added without its
`get_config` entry, or an object left unregistered, fails here.
"""

import importlib
import types
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_cluster
from keras_cluster import callbacks, layers, losses, metrics, optimizers
from keras_cluster.api_export import EXPORTS
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


# The public modules: the subpackages `import keras_cluster` imports, and `plotting`, imported on
# demand (matplotlib is optional). Every other module of the package is internal.
PUBLIC_MODULES = (*keras_cluster.SUBPACKAGES, "plotting")
INTERNAL_MODULES = (
    "__init__",
    "__main__",
    "api_export",
    "cli",
    "defaults",
    "row_source",
    "validation",
)
ROOT = Path(__file__).resolve().parent.parent


def export_mismatches(module_path, module, exports):
    """What breaks the rule "`module.__all__` is exactly the paths declared under `module_path`"."""
    problems = []
    names = getattr(module, "__all__", None)
    if not names:
        return [f"{module_path} has no __all__"]
    if len(set(names)) != len(names):
        problems.append(f"{module_path}.__all__ repeats a name")
    for name in names:
        path = f"{module_path}.{name}"
        if path not in exports:
            problems.append(f"{path} is exported but declares no path")
        elif exports[path] is not getattr(module, name):
            problems.append(f"{path} is declared by another object: {exports[path]!r}")
    for path in exports:
        owner, name = path.rsplit(".", 1)
        if owner == module_path and name not in names:
            problems.append(f"{path} is declared but not in {module_path}.__all__")
    return problems


def test_every_module_of_the_package_is_public_or_internal():
    package = ROOT / "keras_cluster"
    modules = {path.stem for path in package.glob("*.py")}
    modules |= {path.parent.name for path in package.glob("*/__init__.py")}
    assert modules == set(PUBLIC_MODULES) | set(INTERNAL_MODULES)
    assert keras_cluster.__all__ == ["__version__", *keras_cluster.SUBPACKAGES]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_declares_the_path_it_is_exported_at(name):
    module = importlib.import_module(f"keras_cluster.{name}")
    assert export_mismatches(f"keras_cluster.{name}", module, EXPORTS) == []


def test_every_declared_path_is_a_public_module_name():
    for name in PUBLIC_MODULES:
        importlib.import_module(f"keras_cluster.{name}")
    public = {f"keras_cluster.{name}" for name in PUBLIC_MODULES}
    for path in EXPORTS:
        assert path.rsplit(".", 1)[0] in public, f"{path} is not in a public module"
    objects = [id(obj) for obj in EXPORTS.values()]
    assert len(set(objects)) == len(objects), "an object declares two paths"


def test_the_export_check_can_fail():
    module = types.SimpleNamespace(__all__=["kept", "undeclared", "moved"])
    module.kept, module.undeclared, module.moved = object(), object(), object()
    impostor = object()
    exports = {
        "keras_cluster.fake.kept": module.kept,
        "keras_cluster.fake.moved": impostor,
        "keras_cluster.fake.unexported": object(),
    }
    assert export_mismatches("keras_cluster.fake", module, exports) == [
        "keras_cluster.fake.undeclared is exported but declares no path",
        f"keras_cluster.fake.moved is declared by another object: {impostor!r}",
        "keras_cluster.fake.unexported is declared but not in keras_cluster.fake.__all__",
    ]
    assert export_mismatches("keras_cluster.fake", types.SimpleNamespace(), {}) == [
        "keras_cluster.fake has no __all__"
    ]


def test_only_keras_objects_are_registered_with_keras():
    """Layers, losses, metrics, optimizers and models, which a `.keras` file can hold, and the
    function and callback that their configs name; no plain function, estimator or helper."""
    registered = {
        obj
        for key, obj in keras.saving.get_custom_objects().items()
        if key.startswith("keras_cluster>") and obj.__module__.startswith("keras_cluster.")
    }
    keras_classes = {
        obj
        for obj in EXPORTS.values()
        if isinstance(obj, type) and issubclass(obj, (*KERAS_BASES, keras.Model))
    }
    assert keras_classes, "no Keras class is exported"
    assert registered == keras_classes | {losses.dec_loss, callbacks.MuAdaptation}


def test_every_public_module_has_an_api_page():
    config = (ROOT / "mkdocs.yml").read_text()
    for name in PUBLIC_MODULES:
        page = ROOT / "docs" / "api" / f"{name}.md"
        assert page.is_file(), f"no API page for keras_cluster.{name}"
        assert f"::: keras_cluster.{name}\n" in page.read_text()
        assert f"api/{name}.md" in config, f"{page.name} is not in the mkdocs nav"


@pytest.mark.parametrize(
    "path", ["layers.ClusteringLayer", "keras_cluster.layers", "keras_cluster.layers.Other"]
)
def test_a_bad_export_path_is_refused(path):
    from keras_cluster.api_export import keras_cluster_export

    class ClusteringLayer(keras.layers.Layer):
        pass

    with pytest.raises(ValueError, match="`path` should"):
        keras_cluster_export(path)(ClusteringLayer)
