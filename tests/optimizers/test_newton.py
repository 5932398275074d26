import keras
import numpy as np
import pytest

from keras_cluster.optimizers import Newton
from tests.optimizers.test_levenberg_marquardt import (
    fit_steps,
    flat_weights,
    numpy_net,
    tiny_data,
    tiny_model,
)


def half_gradient(theta, x, y):
    out, jac = numpy_net(theta, x)
    return jac.T @ (out - y[:, 0]) / len(x)


def test_newton_step_uses_the_exact_hessian():
    keras.backend.set_floatx("float64")
    try:
        x, y = tiny_data(n=20)
        model = tiny_model()
        theta0 = flat_weights(model)
        fit_steps(model, x, y, Newton())
        eps = 1e-6
        hessian = np.stack(
            [
                (half_gradient(theta0 + eps * e, x, y) - half_gradient(theta0 - eps * e, x, y))
                / (2 * eps)
                for e in np.eye(len(theta0))
            ],
            axis=1,
        )
        delta = np.linalg.solve(hessian, half_gradient(theta0, x, y))
        np.testing.assert_allclose(flat_weights(model), theta0 - delta, rtol=1e-5, atol=1e-6)
    finally:
        keras.backend.set_floatx("float32")


def test_newton_rejects_other_curvature():
    with pytest.raises(ValueError, match="curvature"):
        Newton(curvature="gauss_newton")


def test_newton_config_round_trip():
    optimizer = Newton(mu=1e-2, mu_rule="tutorial")
    restored = Newton.from_config(optimizer.get_config())
    assert restored.get_config() == optimizer.get_config()
