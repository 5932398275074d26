import keras
import numpy as np
import pytest

from keras_cluster.callbacks import TemperatureAnnealing
from keras_cluster.losses import SoftNearestNeighborLoss, soft_nearest_neighbor_loss
from keras_cluster.models import SoftNearestNeighborModel


def snnl_model(**kwargs):
    inputs = keras.Input((4,))
    code = keras.layers.Dense(3, name="code")(inputs)
    net = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(code))
    model = SoftNearestNeighborModel(net, "code", **kwargs)
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def test_schedule_reaches_the_model_variable_each_epoch(rng):
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 2, 32)
    model = snnl_model()
    annealing = TemperatureAnnealing(initial_temperature=2.0, rate=0.55)
    history = model.fit(x, y, batch_size=16, epochs=4, verbose=0, callbacks=[annealing])
    expected = [2.0 / (1 + epoch) ** 0.55 for epoch in range(4)]
    np.testing.assert_allclose(history.history["temperature"], expected, rtol=1e-6)
    np.testing.assert_allclose(float(model.temperature), expected[-1], rtol=1e-6)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[annealing])
    np.testing.assert_allclose(float(model.temperature), 2.0, rtol=1e-6)


def test_anneals_the_compiled_loss_and_the_xla_step_sees_it(rng):
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 2, 32)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    loss = SoftNearestNeighborLoss(temperature=1.0)
    model.compile(keras.optimizers.SGD(0.0), loss, jit_compile=True)
    features = keras.ops.convert_to_numpy(model(x))
    history = model.fit(
        x, y, batch_size=32, epochs=3, verbose=0, callbacks=[TemperatureAnnealing()]
    )
    expected = [
        float(soft_nearest_neighbor_loss(y, features, 1 / (1 + epoch) ** 0.55))
        for epoch in range(3)
    ]
    np.testing.assert_allclose(history.history["loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(float(loss.temperature), 1 / 3**0.55, rtol=1e-6)


def test_explicit_variable_and_errors(rng):
    variable = keras.Variable(5.0, trainable=False)
    annealing = TemperatureAnnealing(variable, initial_temperature=1.0, rate=1.0)
    model = snnl_model(learn_temperature=True)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.integers(0, 2, 8)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[annealing])
    assert float(variable) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no temperature variable"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[TemperatureAnnealing()])
    for kwargs, message in (
        ({"temperature": 1.0}, "temperature"),
        ({"initial_temperature": 0.0}, "initial_temperature"),
        ({"rate": -1}, "rate"),
    ):
        with pytest.raises(ValueError, match=message):
            TemperatureAnnealing(**kwargs)
