"""Float64 NumPy references from the formulas, shared by the optimizer tests."""

import keras
import numpy as np

HIDDEN = 3


def tiny_data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (n, 2))
    y = (2.5 - x[:, :1]) ** 2 + 2.5 * (x[:, 1:] - x[:, :1] ** 2) ** 2
    return x, y / 10.0


def tiny_model(dtype="float64", outputs=1, seed=1):
    rng = np.random.default_rng(seed)
    model = keras.Sequential(
        [
            keras.Input((2,), dtype=dtype),
            keras.layers.Dense(HIDDEN, "tanh", dtype=dtype),
            keras.layers.Dense(outputs, dtype=dtype),
        ]
    )
    model.set_weights([rng.normal(0, 0.7, w.shape) for w in model.get_weights()])
    return model


def numpy_net(theta, x):
    """The 2-3(tanh)-1 network in float64 NumPy: outputs and their Jacobian (formula)."""
    w1 = theta[:6].reshape(2, HIDDEN)
    b1 = theta[6:9]
    w2 = theta[9:12]
    b2 = theta[12]
    h = np.tanh(x @ w1 + b1)
    out = h @ w2 + b2
    dh = (1 - h**2) * w2  # d out / d pre-activation
    jac = np.concatenate(
        [(x[:, :, None] * dh[:, None, :]).reshape(len(x), -1), dh, h, np.ones((len(x), 1))],
        axis=1,
    )
    return out, jac


def numpy_residuals(theta, x, y, penalty=None):
    """Residuals of the mean squared error, then rows sqrt(penalty) * theta, and their Jacobian."""
    n = len(x)
    out, jac = numpy_net(theta, x)
    r, j = (out - y[:, 0]) / np.sqrt(n), jac / np.sqrt(n)
    if penalty is not None:
        r = np.concatenate([r, np.sqrt(penalty) * theta])
        j = np.concatenate([j, np.diag(np.sqrt(penalty))])
    return r, j


def numpy_lm_ladder(
    theta, x, y, mu, attempts=10, learning_rate=1.0, penalty=None, curvature_rows=None
):
    """Levenberg-Marquardt with the tutorial's rule, from the formula (sum of squares).

    `curvature_rows`: indices of the examples whose rows estimate `J^T J` (subsampled
    Gauss-Newton): `(n / m) J_S^T J_S` plus the penalty's rows; the gradient stays `J^T r`.
    """
    r, j = numpy_residuals(theta, x, y, penalty)
    loss = np.sum(r**2)
    a, g = j.T @ j, j.T @ r
    if curvature_rows is not None:
        n, rows = len(x), j[np.asarray(curvature_rows)]
        a = n / len(rows) * rows.T @ rows + j[n:].T @ j[n:]
    for k in range(attempts):
        delta = np.linalg.solve(a + mu * np.eye(len(theta)), g)
        trial = theta - learning_rate * delta
        trial_loss = np.sum(numpy_residuals(trial, x, y, penalty)[0] ** 2)
        if trial_loss < loss:
            return trial, mu / 10.0, k
        mu *= 10.0
    return theta, mu, attempts


def flat_weights(model):
    return np.concatenate([w.ravel() for w in model.get_weights()])
