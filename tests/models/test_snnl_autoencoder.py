import keras
import numpy as np

from keras_cluster.callbacks import TemperatureAnnealing
from keras_cluster.models import build_snnl_autoencoder


def test_snnl_on_the_code_pulls_classes_apart(rng):
    y = rng.integers(0, 3, size=120)
    x = (np.eye(3)[y] @ rng.normal(size=(3, 12)) + rng.normal(size=(120, 12))).astype("float32")
    model, encoder = build_snnl_autoencoder(12, dims=(16, 3), weight=1.0)
    assert model.layer_names == [encoder.layers[-1].name]
    model.compile(keras.optimizers.Adam(0.01), "mse")
    history = model.fit(
        x,
        {"target": x, "snnl_labels": y},
        batch_size=60,
        epochs=10,
        verbose=0,
        callbacks=[TemperatureAnnealing()],
    ).history
    assert history["snnl"][-1] < 0.7 * history["snnl"][0]
    assert history["temperature"][-1] < 1.0
    assert encoder.predict(x, verbose=0).shape == (120, 3)
