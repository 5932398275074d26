import keras
import numpy as np

from keras_cluster.optimizers import GaussNewton
from tests.optimizers.test_levenberg_marquardt import (
    fit_steps,
    flat_weights,
    numpy_net,
    tiny_data,
    tiny_model,
)


def test_gauss_newton_step_is_the_undamped_normal_equations():
    keras.backend.set_floatx("float64")
    try:
        x, y = tiny_data(n=40)
        model = tiny_model()
        theta0 = flat_weights(model)
        fit_steps(model, x, y, GaussNewton())
        out, jac = numpy_net(theta0, x)
        r, j = (out - y[:, 0]) / np.sqrt(40), jac / np.sqrt(40)
        delta = np.linalg.solve(j.T @ j, j.T @ r)
        np.testing.assert_allclose(flat_weights(model), theta0 - delta, rtol=1e-6, atol=1e-8)
        assert float(model.optimizer.mu) == 0.0
    finally:
        keras.backend.set_floatx("float32")


def test_gauss_newton_config_round_trip():
    optimizer = GaussNewton(learning_rate=0.5)
    restored = GaussNewton.from_config(optimizer.get_config())
    assert restored.get_config() == optimizer.get_config()
    assert (restored.mu_init, restored.mu_rule, restored.learning_rate) == (0.0, "fixed", 0.5)
