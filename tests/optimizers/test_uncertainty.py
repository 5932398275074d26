import keras
import numpy as np
import pytest

from keras_cluster.callbacks import MuAdaptation
from keras_cluster.optimizers import LevenbergMarquardt, fit_uncertainty


@pytest.fixture(autouse=True)
def _float64():
    keras.backend.set_floatx("float64")
    yield
    keras.backend.set_floatx("float32")


def test_linear_model_equals_ordinary_least_squares():
    rng = np.random.default_rng(0)
    n, d = 50, 3
    x = rng.normal(size=(n, d))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.2 * rng.normal(size=(n, 1))
    design = np.hstack([x, np.ones((n, 1))])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(1)])
    model.set_weights([beta[:d], beta[d]])
    result = fit_uncertainty(model, x, y, jacobian_chunk_rows=7)
    sigma2 = np.sum((y - design @ beta) ** 2) / (n - d - 1)
    covariance = sigma2 * np.linalg.inv(design.T @ design)
    np.testing.assert_allclose(result.sigma2, sigma2, rtol=1e-10)
    np.testing.assert_allclose(result.covariance, covariance, rtol=1e-8, atol=1e-14)
    assert (result.dof, result.rank) == (n - d - 1, d + 1)
    kernel_se, bias_se = result.weight_standard_errors()
    np.testing.assert_allclose(kernel_se[:, 0], np.sqrt(np.diag(covariance))[:d], rtol=1e-8)
    np.testing.assert_allclose(bias_se, np.sqrt(covariance[d, d]), rtol=1e-8)
    new = rng.normal(size=(4, d))
    new_design = np.hstack([new, np.ones((4, 1))])
    expected = np.sqrt(np.einsum("np,pq,nq->n", new_design, covariance, new_design))
    np.testing.assert_allclose(result.prediction_standard_errors(new)[:, 0], expected, rtol=1e-8)


class Rosenbrock(keras.layers.Layer):
    """z = (a - x)^2 + b (y - x^2)^2 with the two parameters a, b."""

    def build(self, input_shape):
        self.a = self.add_weight(shape=(), initializer=keras.initializers.Constant(1.0))
        self.b = self.add_weight(shape=(), initializer=keras.initializers.Constant(1.0))

    def call(self, inputs):
        x, y = inputs[:, :1], inputs[:, 1:]
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2


def test_rosenbrock_parameters_a_b_with_standard_errors():
    rng = np.random.default_rng(1)
    xy = rng.uniform(-2, 2, (200, 2))
    a, b = 2.5, 2.5
    z = (a - xy[:, :1]) ** 2 + b * (xy[:, 1:] - xy[:, :1] ** 2) ** 2
    z = z + 0.5 * rng.normal(size=z.shape)
    model = keras.Sequential([keras.Input((2,)), Rosenbrock()])
    model.compile(optimizer=LevenbergMarquardt(), loss="mse")
    model.fit(xy, z, batch_size=200, epochs=20, callbacks=[MuAdaptation(0)], verbose=0)
    a_hat, b_hat = (float(v) for v in model.get_weights())
    result = fit_uncertainty(model, xy, z)
    # The textbook formula at the fitted values: J = [2 (a - x), (y - x^2)^2].
    jac = np.hstack([2 * (a_hat - xy[:, :1]), (xy[:, 1:] - xy[:, :1] ** 2) ** 2])
    residuals = z - ((a_hat - xy[:, :1]) ** 2 + b_hat * (xy[:, 1:] - xy[:, :1] ** 2) ** 2)
    sigma2 = np.sum(residuals**2) / (200 - 2)
    np.testing.assert_allclose(result.covariance, sigma2 * np.linalg.inv(jac.T @ jac), rtol=1e-8)
    se_a, se_b = result.standard_errors
    assert abs(a_hat - a) < 4 * se_a and abs(b_hat - b) < 4 * se_b
    assert 0 < se_a < 0.1 and 0 < se_b < 0.1


def test_singular_curvature_warns_with_rank_and_uses_pseudo_inverse():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 1))
    y = 2 * x + 0.1 * rng.normal(size=(30, 1))
    # Two stacked linear layers: the weights are not identified (rank 2 of 4).
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1), keras.layers.Dense(1)])
    with pytest.warns(UserWarning, match="rank 2 of 4"):
        result = fit_uncertainty(model, x, y)
    assert (result.rank, result.dof) == (2, 28)
    # The predictions are identified: their errors equal those of the linear fit.
    design = np.hstack([x, np.ones((30, 1))])
    fitted = model.predict(x, verbose=0)
    sigma2 = np.sum((y - fitted) ** 2) / 28
    expected = np.sqrt(
        sigma2 * np.einsum("np,pq,nq->n", design, np.linalg.inv(design.T @ design), design)
    )
    np.testing.assert_allclose(result.prediction_standard_errors(x)[:, 0], expected, rtol=1e-6)


def test_invalid_chunk_rows_raises():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="Received: jacobian_chunk_rows=0"):
        fit_uncertainty(model, np.zeros((3, 1)), np.zeros((3, 1)), jacobian_chunk_rows=0)
