import keras
import numpy as np
import pytest

from keras_cluster.callbacks import MuAdaptation
from keras_cluster.optimizers import LevenbergMarquardt, levenberg_marquardt
from keras_cluster.optimizers.cross_entropy import CrossEntropy
from keras_cluster.optimizers.curvature_sample import curvature_sample
from keras_cluster.optimizers.jacobian import output_jacobian
from keras_cluster.optimizers.mu_rules import CROSS_ENTROPY_MU_MIN, LEAST_SQUARES_MU_MIN
from keras_cluster.optimizers.residuals import loss_terms

CLASSES = 3
# The default floor of `mu` for a cross-entropy fit on one batch an epoch (full batch).
FULL_BATCH_MU_MIN = LEAST_SQUARES_MU_MIN


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def targets(kind, rng, n):
    labels = rng.integers(0, CLASSES, n)
    if kind == "sparse_categorical":
        return labels
    if kind == "categorical":
        return np.eye(CLASSES)[labels]
    return rng.integers(0, 2, (n, CLASSES)).astype("float64")


LOSSES = {
    "sparse_categorical": keras.losses.SparseCategoricalCrossentropy,
    "categorical": keras.losses.CategoricalCrossentropy,
    "binary": keras.losses.BinaryCrossentropy,
}
CASES = [(kind, logits) for kind in LOSSES for logits in (True, False)]


def classifier(kind, from_logits, hidden=4, seed=0, dtype="float64"):
    activation = None if from_logits else ("sigmoid" if kind == "binary" else "softmax")
    rng = np.random.default_rng(seed)
    model = keras.Sequential(
        [
            keras.Input((2,), dtype=dtype),
            keras.layers.Dense(hidden, "tanh", dtype=dtype),
            keras.layers.Dense(CLASSES, activation, dtype=dtype),
        ]
    )
    model.set_weights([rng.normal(0, 1.0, w.shape) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("kind, from_logits", CASES)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
def test_loss_equals_the_compiled_keras_loss(kind, from_logits, reduction):
    rng = np.random.default_rng(1)
    x, y, weight = rng.normal(size=(7, 2)), targets(kind, rng, 7), rng.uniform(0.5, 2, 7)
    model = classifier(kind, from_logits)
    smoothing = {} if kind == "sparse_categorical" else {"label_smoothing": 0.1}
    model.compile(loss=LOSSES[kind](from_logits=from_logits, reduction=reduction, **smoothing))
    y_pred = model(x)
    expected = float(model.compute_loss(x, y, y_pred, weight))
    terms = loss_terms(model, y_pred, y, weight)
    assert isinstance(terms, CrossEntropy)
    np.testing.assert_allclose(float(terms.loss(np.asarray(y_pred))), expected, rtol=1e-6)


@pytest.mark.parametrize("kind, from_logits", CASES)
def test_factor_and_gradient_are_half_the_logit_hessian_and_gradient(kind, from_logits):
    """F F^T = H/2 and b = g/2 in logit space, through dp/dz when the outputs are p."""
    rng = np.random.default_rng(2)
    n, coef = 5, rng.uniform(0.5, 2.0, (5, 1))
    z = rng.normal(size=(n, CLASSES))
    y = targets(kind, rng, n)
    y = np.eye(CLASSES)[y] if kind == "sparse_categorical" else y
    if kind != "binary":
        y = 0.8 * y + 0.2 / CLASSES  # smoothed targets: sum 1
    terms = CrossEntropy(kind, from_logits, coef, y)
    for i in range(n):
        if kind == "binary":
            p = sigmoid(z[i])
            hessian = coef[i] / CLASSES * np.diag(p * (1 - p))
            gradient = coef[i] / CLASSES * (p - y[i])
            dp_dz = np.diag(p * (1 - p))
        else:
            p = softmax(z[i : i + 1])[0]
            hessian = coef[i] * (np.diag(p) - np.outer(p, p))
            gradient = coef[i] * (p - y[i])
            dp_dz = np.diag(p) - np.outer(p, p)
        outputs = z if from_logits else (sigmoid(z) if kind == "binary" else softmax(z))
        factor = np.asarray(terms.curvature_factor(outputs))[i]
        factor = np.diag(factor) if factor.ndim == 1 else factor
        half_gradient = np.asarray(terms.half_gradient(outputs))[i]
        chain = np.eye(CLASSES) if from_logits else dp_dz  # J_out = chain @ J_z
        np.testing.assert_allclose(chain.T @ factor @ factor.T @ chain, hessian / 2, atol=1e-12)
        np.testing.assert_allclose(chain.T @ half_gradient, gradient / 2, atol=1e-12)


@pytest.mark.parametrize("kind, from_logits", CASES)
def test_row_residuals_solve_the_factor_for_half_the_gradient(kind, from_logits):
    """F q = b per example: the rows F^T J with residuals q give J^T b (the dual form)."""
    rng = np.random.default_rng(6)
    n, coef = 5, rng.uniform(0.5, 2.0, (5, 1))
    coef[0] = 0.0  # a zero sample weight: F = 0 and b = 0, q = 0
    z = rng.normal(size=(n, CLASSES))
    y = targets(kind, rng, n)
    y = np.eye(CLASSES)[y] if kind == "sparse_categorical" else y
    if kind != "binary":
        y = 0.8 * y + 0.2 / CLASSES
    terms = CrossEntropy(kind, from_logits, coef, y)
    outputs = z if from_logits else (sigmoid(z) if kind == "binary" else softmax(z))
    factor = np.asarray(terms.curvature_factor(outputs))
    half_gradient = np.asarray(terms.half_gradient(outputs))
    q = np.asarray(terms.row_residuals(outputs))
    for i in range(n):
        f = np.diag(factor[i]) if factor.ndim == 2 else factor[i]
        np.testing.assert_allclose(f @ q[i], half_gradient[i], atol=1e-12)
    np.testing.assert_array_equal(q[0], 0.0)


def numpy_classifier(theta, x, hidden=4):
    """2-hidden(tanh)-3 logits and their Jacobian (formula), Keras's weight order."""
    w1 = theta[: 2 * hidden].reshape(2, hidden)
    b1 = theta[2 * hidden : 3 * hidden]
    w2 = theta[3 * hidden : 3 * hidden + hidden * CLASSES].reshape(hidden, CLASSES)
    b2 = theta[3 * hidden + hidden * CLASSES :]
    h = np.tanh(x @ w1 + b1)
    z = h @ w2 + b2
    dpre = (1 - h**2)[:, :, None] * w2[None]  # (n, hidden, classes): dz_k / d pre_h
    eye = np.eye(CLASSES)
    jac = np.concatenate(
        [
            (x[:, :, None, None] * dpre[:, None]).reshape(len(x), 2 * hidden, CLASSES),
            dpre,
            (h[:, :, None, None] * eye[None, None]).reshape(len(x), hidden * CLASSES, CLASSES),
            np.broadcast_to(eye, (len(x), CLASSES, CLASSES)),
        ],
        axis=1,
    )
    return z, np.transpose(jac, (0, 2, 1))  # (n, classes, weights)


def numpy_ggn_ladder(
    theta,
    x,
    labels,
    mu,
    attempts=10,
    penalty=0.0,
    mu_min=CROSS_ENTROPY_MU_MIN,
    curvature_rows=None,
):
    """One LM step with the generalized Gauss-Newton matrix of the mean softmax cross-entropy
    plus the quadratic penalty `sum(penalty * theta^2)` (its rows sqrt(penalty) * theta); `mu`
    starts at `max(mu, mu_min)` and is divided by 10 after the accepted trial, down to `mu_min`
    (the optimizer's default floor for a cross-entropy on mini-batches; a full-batch fit, one
    batch an epoch, has the squared error's `LEAST_SQUARES_MU_MIN`). `curvature_rows`: the
    examples whose `J^T H J` estimates the matrix (mean over them instead of over all n)."""
    mu = max(mu, mu_min)
    n = len(x)
    onehot = np.eye(CLASSES)[labels]

    def loss(t):
        z = numpy_classifier(t, x)[0]
        return -np.mean(np.sum(onehot * np.log(softmax(z)), axis=1)) + np.sum(penalty * t**2)

    z, jac = numpy_classifier(theta, x)
    p = softmax(z)
    rows = np.arange(n) if curvature_rows is None else np.asarray(curvature_rows)
    ggn = sum(jac[i].T @ (np.diag(p[i]) - np.outer(p[i], p[i])) @ jac[i] for i in rows) / len(rows)
    ggn = ggn + 2 * np.diag(np.broadcast_to(penalty, theta.shape))
    gradient = np.einsum("nkp,nk->p", jac, p - onehot) / n + 2 * penalty * theta
    loss0 = loss(theta)
    for k in range(attempts):
        delta = np.linalg.solve(ggn / 2 + mu * np.eye(len(theta)), gradient / 2)
        if loss(theta - delta) < loss0:
            return theta - delta, max(mu / 10, mu_min), k, loss0
        mu *= 10
    return theta, mu, attempts, loss0


@pytest.fixture
def _float64():
    keras.backend.set_floatx("float64")
    yield
    keras.backend.set_floatx("float32")


@pytest.mark.usefixtures("_float64")
@pytest.mark.parametrize("from_logits", [True, False])
def test_ggn_step_matches_numpy_reference(from_logits):
    rng = np.random.default_rng(3)
    x, labels = rng.normal(size=(30, 2)), rng.integers(0, CLASSES, 30)
    model = classifier("sparse_categorical", from_logits, seed=4)
    theta = np.concatenate([w.ravel() for w in model.get_weights()])
    model.compile(
        optimizer=LevenbergMarquardt(jacobian_chunk_rows=7),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
    )
    history = model.fit(
        x, labels, batch_size=30, shuffle=False, callbacks=[MuAdaptation(0)], verbose=0
    )
    expected, expected_mu, _, loss0 = numpy_ggn_ladder(
        theta, x, labels, 1e-3, mu_min=FULL_BATCH_MU_MIN
    )
    got = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(float(model.optimizer.mu), expected_mu, rtol=1e-12)
    np.testing.assert_allclose(history.history["loss"][0], loss0, rtol=1e-9)


@pytest.mark.usefixtures("_float64")
@pytest.mark.parametrize("from_logits", [True, False])
def test_dual_ggn_step_with_fewer_rows_than_weights_matches_numpy_reference(
    from_logits, monkeypatch
):
    """5 examples x 3 classes = 15 rows < 27 weights: the step is solved in the dual form
    D^-1 A^T (A D^-1 A^T + mu I)^-1 q (rows A = F^T J), equal to the weight-space formula."""
    calls = []

    def spy(*args):
        calls.append(args)
        return output_jacobian(*args)

    monkeypatch.setattr(levenberg_marquardt, "output_jacobian", spy)  # called by the dual path
    rng = np.random.default_rng(7)
    x, labels = rng.normal(size=(5, 2)), rng.integers(0, CLASSES, 5)
    model = classifier("sparse_categorical", from_logits, seed=8)
    theta = np.concatenate([w.ravel() for w in model.get_weights()])
    model.compile(
        optimizer=LevenbergMarquardt(mu=0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
    )
    history = model.fit(x, labels, batch_size=5, callbacks=[MuAdaptation(0)], verbose=0)
    assert calls  # the dual path ran
    expected, expected_mu, _, loss0 = numpy_ggn_ladder(
        theta, x, labels, 0.05, mu_min=FULL_BATCH_MU_MIN
    )
    got = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(float(model.optimizer.mu), expected_mu, rtol=1e-12)
    np.testing.assert_allclose(history.history["loss"][0], loss0, rtol=1e-9)


@pytest.mark.usefixtures("_float64")
def test_dual_form_runs_for_arrays_with_a_partial_last_batch(monkeypatch):
    """7 rows in batches of 5: Keras traces a dynamic batch size, and the form is then chosen at
    run time; both steps (5 and 2 examples, 15 and 6 rows < 27 weights) take the dual form and
    equal the weight-space formula applied batch after batch."""
    dual_steps = keras.Variable(0, dtype="int32", trainable=False)

    def spy(*args):
        dual_steps.assign_add(1)  # runs only when the dual branch runs
        return output_jacobian(*args)

    monkeypatch.setattr(levenberg_marquardt, "output_jacobian", spy)
    rng = np.random.default_rng(9)
    x, labels = rng.normal(size=(7, 2)), rng.integers(0, CLASSES, 7)
    model = classifier("sparse_categorical", True, seed=10)
    theta = np.concatenate([w.ravel() for w in model.get_weights()])
    model.compile(
        optimizer=LevenbergMarquardt(mu=0.5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, labels, batch_size=5, shuffle=False, callbacks=[MuAdaptation(0)], verbose=0)
    assert int(dual_steps.numpy()) == 2
    mu = 0.5
    for rows in (slice(0, 5), slice(5, 7)):
        theta, mu, _, _ = numpy_ggn_ladder(theta, x[rows], labels[rows], mu)
    got = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(got, theta, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(float(model.optimizer.mu), mu, rtol=1e-12)


@pytest.mark.usefixtures("_float64")
@pytest.mark.parametrize("from_logits", [True, False])
def test_subsampled_ggn_steps_match_numpy_reference(from_logits):
    """`curvature_batch_size=5` on 30 examples: J^T H J from the 5 examples of each step's
    `curvature_sample` (15 rows < 27 weights: the Woodbury form), the gradient and the loss
    test on all 30."""
    rng = np.random.default_rng(12)
    x, labels = rng.normal(size=(30, 2)), rng.integers(0, CLASSES, 30)
    model = classifier("sparse_categorical", from_logits, seed=13)
    theta, mu = np.concatenate([w.ravel() for w in model.get_weights()]), 1e-3
    model.compile(
        optimizer=LevenbergMarquardt(curvature_batch_size=5, seed=4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
    )
    history = model.fit(
        x, labels, batch_size=30, epochs=3, shuffle=False, callbacks=[MuAdaptation(0)], verbose=0
    )
    losses = []
    for step in range(3):
        rows = np.asarray(curvature_sample(30, 5, 4, step))
        theta, mu, _, loss = numpy_ggn_ladder(
            theta, x, labels, mu, mu_min=FULL_BATCH_MU_MIN, curvature_rows=rows
        )
        losses.append(loss)
    got = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(got, theta, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(float(model.optimizer.mu), mu, rtol=1e-12)
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-9)
    assert losses[-1] < losses[0]


@pytest.mark.usefixtures("_float64")
def test_ggn_step_with_l2_regulariser_matches_numpy_reference():
    rng = np.random.default_rng(5)
    x, labels = rng.normal(size=(30, 2)), rng.integers(0, CLASSES, 30)
    reference = classifier("sparse_categorical", True, seed=4)
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(4, "tanh", kernel_regularizer=keras.regularizers.L2(0.05)),
            keras.layers.Dense(CLASSES),
        ]
    )
    model.set_weights(reference.get_weights())
    theta = np.concatenate([w.ravel() for w in model.get_weights()])
    penalty = np.concatenate([np.full(8, 0.05), np.zeros(len(theta) - 8)])
    model.compile(
        optimizer=LevenbergMarquardt(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(
        x, labels, batch_size=30, shuffle=False, callbacks=[MuAdaptation(0)], verbose=0
    )
    expected, _, _, loss0 = numpy_ggn_ladder(
        theta, x, labels, 1e-3, penalty=penalty, mu_min=FULL_BATCH_MU_MIN
    )
    got = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(history.history["loss"][0], loss0, rtol=1e-9)


@pytest.mark.slow
def test_ggn_fits_a_three_class_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2)).astype("float32")
    labels = (np.arctan2(x[:, 1], x[:, 0]) + np.pi) // (2 * np.pi / 3)
    model = classifier("sparse_categorical", True, hidden=8, dtype="float32")
    model.compile(
        optimizer=LevenbergMarquardt(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        x, labels, batch_size=300, epochs=30, callbacks=[MuAdaptation(0)], verbose=0
    )
    assert history.history["accuracy"][-1] > 0.95


def test_cross_entropy_on_several_outputs_raises():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, [keras.layers.Dense(3)(inputs), keras.layers.Dense(1)(inputs)])
    model.compile(optimizer=LevenbergMarquardt(), loss=["sparse_categorical_crossentropy", "mse"])
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="one output"):
        model.fit(x, [np.zeros(4), np.zeros((4, 1))], callbacks=[MuAdaptation(0)], verbose=0)


def test_ignore_class_raises_naming_it():
    model = classifier("sparse_categorical", True)
    model.compile(
        optimizer=LevenbergMarquardt(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    with pytest.raises(ValueError, match="Received: ignore_class=0"):
        model.fit(np.zeros((4, 2)), np.zeros(4), callbacks=[MuAdaptation(0)], verbose=0)
