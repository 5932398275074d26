"""Every `.keras` file the package writes loads with `safe_mode=True` after `import keras_cluster`.

`safe_mode=True` (Keras' default) refuses to deserialize Python code (`Lambda` layers, lambdas in
configs); our models hold none. The files are loaded in a fresh process that imports only
`keras` and `keras_cluster`, so the test also proves that importing the package registers every
class a file names: no `custom_objects` are needed.
"""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_cluster.models import (
    DeepClusteringNetwork,
    SoftNearestNeighborModel,
    build_autoencoder,
    build_dec_model,
    build_idec_model,
    build_snnl_autoencoder,
    fitted_normalization,
)
from keras_cluster.models.dec import assignment_model

LOAD_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import keras
    import numpy as np
    import keras_cluster  # registers every class of the package: nothing else is needed

    folder, names = sys.argv[1], json.loads(sys.argv[2])
    x = np.load(f"{folder}/x.npy")
    errors = {}
    for name in names:
        model = keras.models.load_model(f"{folder}/{name}.keras", safe_mode=True)
        got = keras.tree.flatten(model.predict(x, verbose=0))
        expected = np.load(f"{folder}/{name}.npz")
        errors[name] = max(
            float(np.max(np.abs(np.asarray(a) - expected[f"arr_{i}"])))
            for i, a in enumerate(got)
        )
    print(json.dumps(errors))
    """
)


def models_the_package_saves(x):
    """One of each model kind the package builds and the estimators save (`model_`, ...)."""
    normalization = fitted_normalization(x, "feature")
    autoencoder, encoder = build_autoencoder(x.shape[1], dims=(4, 2), normalization=normalization)
    centroids = np.linspace(-1.0, 1.0, 6, dtype="float32").reshape(3, 2)
    dec = build_dec_model(encoder, 3, initial_centroids=centroids)
    idec = build_idec_model(autoencoder, encoder, 3, initial_centroids=centroids)
    dcn_autoencoder, _ = build_autoencoder(x.shape[1], dims=(4, 2))
    dcn = DeepClusteringNetwork(dcn_autoencoder, "encoder_1", 3, initial_centroids=centroids)
    snnl_autoencoder, _ = build_snnl_autoencoder(x.shape[1], dims=(4, 2))
    classifier_inputs = keras.Input((x.shape[1],))
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(classifier_inputs)
    classifier = keras.Model(classifier_inputs, keras.layers.Dense(3)(hidden))
    return {
        "autoencoder_with_normalization": autoencoder,
        "dec_model": dec,  # DEC.model_
        "idec_training_model": idec,
        "idec_model": assignment_model(idec),  # IDEC.model_
        "dcn_network": dcn,  # DCN.network_
        "dcn_model": dcn.serving_model(),  # DCN.model_
        "snnl_autoencoder": snnl_autoencoder,
        "snnl_model": SoftNearestNeighborModel(classifier, ["hidden"], temperature=2.0),
    }


def test_every_saved_model_loads_in_safe_mode(tmp_path, rng):
    x = rng.normal(size=(16, 5)).astype("float32")
    for name, model in models_the_package_saves(x).items():
        model.save(tmp_path / f"{name}.keras")
        loaded = keras.models.load_model(tmp_path / f"{name}.keras", safe_mode=True)
        for got, expected in zip(
            keras.tree.flatten(loaded.predict(x, verbose=0)),
            keras.tree.flatten(model.predict(x, verbose=0)),
            strict=True,
        ):
            np.testing.assert_allclose(got, expected, atol=1e-6, err_msg=name)


@pytest.mark.slow
def test_every_saved_model_loads_in_safe_mode_in_a_fresh_process(tmp_path, rng):
    x = rng.normal(size=(48, 5)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    models = models_the_package_saves(x)
    for name, model in models.items():
        np.savez(tmp_path / f"{name}.npz", *keras.tree.flatten(model.predict(x, verbose=0)))
        model.save(tmp_path / f"{name}.keras")
    result = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, str(tmp_path), json.dumps(list(models))],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    errors = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(errors) == sorted(models)
    assert max(errors.values()) <= 1e-6, errors
