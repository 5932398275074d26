import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_cluster.callbacks import MuAdaptation
from keras_cluster.optimizers import GaussNewton, LevenbergMarquardt, levenberg_marquardt
from keras_cluster.optimizers.curvature_sample import curvature_sample
from keras_cluster.optimizers.damped_solve import low_rank_damped_solve
from tests.distributed import run_on_logical_cpus
from tests.optimizers.reference import (
    HIDDEN,
    flat_weights,
    numpy_lm_ladder,
    numpy_net,
    numpy_residuals,
    tiny_data,
    tiny_model,
)


@pytest.fixture(autouse=True)
def _float64():
    """fit casts float NumPy inputs to floatx: make it float64 so float64 references apply."""
    keras.backend.set_floatx("float64")
    yield
    keras.backend.set_floatx("float32")


def fit_steps(model, x, y, optimizer, epochs=1, **fit_kwargs):
    model.compile(optimizer=optimizer, loss="mse")
    return model.fit(
        x,
        y,
        batch_size=len(x),
        epochs=epochs,
        shuffle=False,
        callbacks=[MuAdaptation(verbose=0)] + fit_kwargs.pop("callbacks", []),
        verbose=0,
        **fit_kwargs,
    )


def test_one_step_matches_numpy_reference_and_golden_values():
    x, y = tiny_data(n=20)
    model = tiny_model()
    theta0 = flat_weights(model)
    history = fit_steps(model, x, y, LevenbergMarquardt())
    expected, expected_mu, attempts = numpy_lm_ladder(theta0, x, y, 1e-3)
    assert attempts == 1  # mu = 1e-3 is rejected, 1e-2 accepted, then mu = 1e-2 / 10
    np.testing.assert_allclose(flat_weights(model), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(float(model.optimizer.mu), expected_mu, rtol=1e-12)
    np.testing.assert_allclose(history.history["mu"][0], expected_mu, rtol=1e-12)
    # Golden values of the float64 NumPy reference above.
    np.testing.assert_allclose(expected[:3], [-1.11501061, 0.65664675, -0.9536101], rtol=1e-7)
    np.testing.assert_allclose(np.mean((numpy_net(theta0, x)[0] - y[:, 0]) ** 2), 12.285776738877)
    np.testing.assert_allclose(np.mean((numpy_net(expected, x)[0] - y[:, 0]) ** 2), 9.5155595505)
    np.testing.assert_allclose(history.history["loss"][0], 12.285776738877, rtol=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"jacobian_chunk_rows": 3},
        {"jacobian_chunk_rows": 7},
        {"curvature_batch_size": 50},  # a curvature sample as large as the batch: exact
    ],
)
def test_chunked_or_whole_sample_steps_match_exact_numpy_reference(kwargs):
    x, y = tiny_data(n=20)
    model = tiny_model()
    theta, mu = flat_weights(model), 1e-3
    fit_steps(model, x, y, LevenbergMarquardt(**kwargs), epochs=2)
    for _ in range(2):
        theta, mu, _ = numpy_lm_ladder(theta, x, y, mu)
    np.testing.assert_allclose(flat_weights(model), theta, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(float(model.optimizer.mu), mu, rtol=1e-12)


def test_five_steps_track_numpy_reference():
    x, y = tiny_data(n=40)
    model = tiny_model()
    theta, mu = flat_weights(model), 1e-3
    fit_steps(model, x, y, LevenbergMarquardt(), epochs=5)
    for _ in range(5):
        theta, mu, _ = numpy_lm_ladder(theta, x, y, mu)
    np.testing.assert_allclose(flat_weights(model), theta, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(float(model.optimizer.mu), mu, rtol=1e-12)


def test_rejected_trials_raise_mu_until_one_is_accepted():
    x, y = tiny_data(n=40)
    model = tiny_model()
    theta0 = flat_weights(model)
    fit_steps(model, x, y, LevenbergMarquardt(learning_rate=30.0))
    expected, expected_mu, attempts = numpy_lm_ladder(theta0, x, y, 1e-3, learning_rate=30.0)
    assert 0 < attempts < 10
    np.testing.assert_allclose(flat_weights(model), expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(float(model.optimizer.mu), expected_mu, rtol=1e-12)


def test_all_trials_rejected_keeps_weights_and_stops_at_mu_max(capsys):
    x, y = tiny_data(n=40)
    model = tiny_model()
    theta0 = flat_weights(model)
    model.compile(
        optimizer=LevenbergMarquardt(learning_rate=1e6, max_attempts=2, mu=1e-3, mu_max=1e3),
        loss="mse",
    )
    history = model.fit(x, y, batch_size=40, epochs=10, callbacks=[MuAdaptation()], verbose=0)
    np.testing.assert_array_equal(flat_weights(model), theta0)
    # 1e-3 -> trials 1e-3, 1e-2 fail -> 1e-1 -> trials 1e-1, 1 fail -> 10 -> ... -> 1e3 (max).
    np.testing.assert_allclose(history.history["mu"], [1e-1, 1e1, 1e3], rtol=1e-12)
    assert len(history.history["loss"]) == 3
    assert "maximum mu reached (1000) at epoch 3" in capsys.readouterr().out


def test_nielsen_rule_matches_gain_ratio_formula():
    x, y = tiny_data(n=40)
    model = tiny_model()
    theta0 = flat_weights(model)
    fit_steps(model, x, y, LevenbergMarquardt(mu=1e-2, mu_rule="nielsen"))
    out, jac = numpy_net(theta0, x)
    r, j = (out - y[:, 0]) / np.sqrt(40), jac / np.sqrt(40)
    delta = np.linalg.solve(j.T @ j + 1e-2 * np.eye(13), j.T @ r)
    new_loss = np.mean((numpy_net(theta0 - delta, x)[0] - y[:, 0]) ** 2)
    rho = (np.sum(r**2) - new_loss) / (delta @ (j.T @ r) + 1e-2 * delta @ delta)
    assert rho > 0
    np.testing.assert_allclose(flat_weights(model), theta0 - delta, rtol=1e-8, atol=1e-10)
    expected_mu = 1e-2 * max(1 / 3, 1 - (2 * rho - 1) ** 3)
    np.testing.assert_allclose(float(model.optimizer.mu), expected_mu, rtol=1e-8)


def test_marquardt_damping_scales_by_diagonal():
    x, y = tiny_data(n=40)
    model = tiny_model()
    theta0 = flat_weights(model)
    fit_steps(model, x, y, LevenbergMarquardt(damping="marquardt", mu=0.1))
    out, jac = numpy_net(theta0, x)
    r, j = (out - y[:, 0]) / np.sqrt(40), jac / np.sqrt(40)
    a = j.T @ j
    delta = np.linalg.solve(a + 0.1 * np.diag(np.diag(a)), j.T @ r)
    np.testing.assert_allclose(flat_weights(model), theta0 - delta, rtol=1e-8, atol=1e-10)


def test_dual_form_when_fewer_rows_than_weights_matches_primal_formula():
    x, y = tiny_data(n=4)
    model = tiny_model()
    theta0 = flat_weights(model)
    fit_steps(model, x, y, LevenbergMarquardt(mu=0.5))
    expected, expected_mu, _ = numpy_lm_ladder(theta0, x, y, 0.5)
    np.testing.assert_allclose(flat_weights(model), expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(float(model.optimizer.mu), expected_mu, rtol=1e-12)


def test_non_finite_trial_is_rejected_and_weights_stay_finite():
    x, y = tiny_data(n=40)
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(3, "exponential"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=LevenbergMarquardt(learning_rate=1e8, max_attempts=3), loss="mse")
    before = flat_weights(model)
    model.fit(x, y, batch_size=40, epochs=2, callbacks=[MuAdaptation(verbose=0)], verbose=0)
    assert np.all(np.isfinite(flat_weights(model)))
    np.testing.assert_array_equal(flat_weights(model), before)


def test_float32_model_trains():
    x, y = tiny_data(n=64)
    model = tiny_model(dtype="float32")
    history = fit_steps(model, x.astype("float32"), y.astype("float32"), LevenbergMarquardt(), 10)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    assert model.optimizer.mu.dtype == "float64"


def fit_small_batches(jit_compile=False, steps_per_execution=1, **optimizer_kwargs):
    x, y = tiny_data(n=16)
    model = tiny_model()
    model.compile(
        optimizer=LevenbergMarquardt(**optimizer_kwargs),
        loss="mse",
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    model.fit(
        x, y, batch_size=4, epochs=2, shuffle=False, callbacks=[MuAdaptation(verbose=0)], verbose=0
    )
    return flat_weights(model), float(model.optimizer.mu)


def test_steps_per_execution_matches_one_step_per_call():
    weights, mu = fit_small_batches()
    keras.backend.clear_session()
    weights_4, mu_4 = fit_small_batches(steps_per_execution=4)
    np.testing.assert_allclose(weights_4, weights, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mu_4, mu, rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [{}, {"curvature_batch_size": 2, "seed": 0}])
def test_jit_compile_matches_plain_fit(kwargs):
    weights, mu = fit_small_batches(**kwargs)
    keras.backend.clear_session()
    weights_xla, mu_xla = fit_small_batches(jit_compile=True, **kwargs)
    np.testing.assert_allclose(weights_xla, weights, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(mu_xla, mu, rtol=1e-12)


def test_unsupported_loss_raises():
    x, y = tiny_data()
    model = tiny_model()
    model.compile(optimizer=LevenbergMarquardt(), loss="mae")
    with pytest.raises(ValueError, match="mean squared error"):
        model.fit(x, y, epochs=1, callbacks=[MuAdaptation()], verbose=0)


def regularised_model(kernel_regularizer, bias_regularizer=None, activity_regularizer=None):
    model = tiny_model()
    weights = model.get_weights()
    regularised = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(HIDDEN, "tanh", kernel_regularizer=kernel_regularizer),
            keras.layers.Dense(
                1, bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer
            ),
        ]
    )
    regularised.set_weights(weights)
    return regularised


@pytest.mark.parametrize("learning_rate, retried", [(1.0, False), (30.0, True)])
def test_l2_regularisers_enter_as_residual_rows(learning_rate, retried):
    x, y = tiny_data(n=20)
    model = regularised_model(
        keras.regularizers.L2(0.03), bias_regularizer=keras.regularizers.L1L2(l2=0.2)
    )
    penalty = np.concatenate([np.full(6, 0.03), np.zeros(6), np.full(1, 0.2)])
    theta0 = flat_weights(model)
    model.compile(optimizer=LevenbergMarquardt(learning_rate=learning_rate), loss="mse")
    reported = float(model.evaluate(x, y, batch_size=20, verbose=0))
    history = model.fit(
        x, y, batch_size=20, shuffle=False, callbacks=[MuAdaptation(verbose=0)], verbose=0
    )
    expected, expected_mu, attempts = numpy_lm_ladder(
        theta0, x, y, 1e-3, learning_rate=learning_rate, penalty=penalty
    )
    assert (0 < attempts < 10) if retried else attempts == 0
    np.testing.assert_allclose(flat_weights(model), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(float(model.optimizer.mu), expected_mu, rtol=1e-12)
    # The loss LM minimises is the loss Keras reports: data term plus the penalties.
    loss0 = np.sum(numpy_residuals(theta0, x, y, penalty)[0] ** 2)
    np.testing.assert_allclose(history.history["loss"][0], loss0, rtol=1e-9)
    np.testing.assert_allclose(reported, loss0, rtol=1e-9)


def sample_rows(n, size, seed, steps):
    return [np.asarray(curvature_sample(n, size, seed, step)) for step in range(steps)]


@pytest.mark.parametrize("size, woodbury", [(4, True), (16, False)])
def test_subsampled_curvature_steps_match_numpy_reference(size, woodbury, monkeypatch):
    """`curvature_batch_size`: J^T J estimated each step from `size` examples drawn by
    `curvature_sample(n, size, seed, step)`, scaled by n / size; the gradient and the
    accept/reject stay on the whole batch. 4 examples (4 rows < 13 weights) are solved through
    the rows x rows system (Woodbury), 16 through the weight-space sums."""
    calls = []

    def spy(*args, **kwargs):
        calls.append(args)
        return low_rank_damped_solve(*args, **kwargs)

    monkeypatch.setattr(levenberg_marquardt, "low_rank_damped_solve", spy)
    x, y = tiny_data(n=20)
    model = tiny_model()
    theta, mu = flat_weights(model), 1e-3
    exact = numpy_lm_ladder(theta, x, y, mu)[0]
    fit_steps(model, x, y, LevenbergMarquardt(curvature_batch_size=size, seed=3), epochs=3)
    assert bool(calls) == woodbury
    for step, rows in enumerate(sample_rows(20, size, 3, 3)):
        assert len(set(rows.tolist())) == size
        theta, mu, _ = numpy_lm_ladder(theta, x, y, mu, curvature_rows=rows)
        if step == 0:
            assert not np.allclose(theta, exact, rtol=1e-3)  # the sample changes the step
    np.testing.assert_allclose(flat_weights(model), theta, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(float(model.optimizer.mu), mu, rtol=1e-12)


def test_subsampled_curvature_keeps_the_l2_rows_whole():
    """The penalty's rows sqrt(l2) * w are not sampled: (n / m) J_S^T J_S + diag(l2)."""
    x, y = tiny_data(n=20)
    model = regularised_model(keras.regularizers.L2(0.03))
    penalty = np.concatenate([np.full(6, 0.03), np.zeros(7)])
    theta, mu = flat_weights(model), 1e-3
    model.compile(optimizer=LevenbergMarquardt(curvature_batch_size=5, seed=11), loss="mse")
    model.fit(x, y, batch_size=20, epochs=2, shuffle=False, callbacks=[MuAdaptation(0)], verbose=0)
    for rows in sample_rows(20, 5, 11, 2):
        theta, mu, _ = numpy_lm_ladder(theta, x, y, mu, penalty=penalty, curvature_rows=rows)
    np.testing.assert_allclose(flat_weights(model), theta, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(float(model.optimizer.mu), mu, rtol=1e-12)


def test_subsampled_curvature_is_reproducible_from_its_seed():
    x, y = tiny_data(n=40)

    def trained(**kwargs):
        model = tiny_model()
        fit_steps(model, x, y, LevenbergMarquardt(curvature_batch_size=3, **kwargs), epochs=3)
        return flat_weights(model)

    np.testing.assert_array_equal(trained(seed=5), trained(seed=5))
    assert not np.allclose(trained(seed=5), trained(seed=6))
    keras.utils.set_random_seed(1)
    first = LevenbergMarquardt(curvature_batch_size=3).seed
    keras.utils.set_random_seed(1)
    assert LevenbergMarquardt(curvature_batch_size=3).seed == first  # drawn as Keras draws
    assert LevenbergMarquardt().seed is None  # no sample, no seed


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kernel_regularizer": keras.regularizers.L1(0.1)}, "L1"),
        ({"kernel_regularizer": keras.regularizers.L1L2(l1=0.1, l2=0.1)}, "L1L2"),
        ({"kernel_regularizer": None, "activity_regularizer": "l2"}, "activity_regularizer"),
    ],
)
def test_non_quadratic_penalty_raises_naming_it(kwargs, match):
    x, y = tiny_data()
    model = regularised_model(**kwargs)
    model.compile(optimizer=LevenbergMarquardt(), loss="mse")
    before = flat_weights(model)
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, epochs=1, callbacks=[MuAdaptation()], verbose=0)
    np.testing.assert_array_equal(flat_weights(model), before)


class AddsLoss(keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(ops.sum(inputs))
        return inputs


def test_add_loss_raises():
    x, y = tiny_data()
    model = keras.Sequential([keras.Input((2,)), AddsLoss(), keras.layers.Dense(1)])
    model.compile(optimizer=LevenbergMarquardt(), loss="mse")
    with pytest.raises(ValueError, match="1 loss\\(es\\) from add_loss"):
        model.fit(x, y, epochs=1, callbacks=[MuAdaptation()], verbose=0)


def test_fit_without_callback_raises_naming_it():
    x, y = tiny_data()
    model = tiny_model()
    model.compile(optimizer=LevenbergMarquardt(), loss="mse")
    before = flat_weights(model)
    with pytest.raises(ValueError, match="MuAdaptation"):
        model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(flat_weights(model), before)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"mu": -1.0}, r"`mu` should be a float >= 0.*Received: mu=-1.0"),
        ({"mu_max": 1e-12}, "mu_max"),
        ({"mu_increase": 1.0}, "mu_increase"),
        ({"mu_decrease": 0.5}, "mu_decrease"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"mu_rule": "adam"}, "mu_rule"),
        ({"damping": "fletcher"}, "damping"),
        ({"curvature": "fisher"}, "curvature"),
        ({"mu": 0.0}, r"`mu` should be > 0 .* for mu_rule='tutorial'.*mu=0.0"),
        (
            {"mu": 1e11},
            r"`mu` should be > 0 and <= mu_max .*mu=100000000000.0, mu_max=10000000000.0",
        ),
        ({"clipnorm": 1.0}, "clipnorm"),
        ({"weight_decay": 0.1}, "weight_decay"),
        ({"jacobian_chunk_rows": 0}, "jacobian_chunk_rows=0"),
        ({"jacobian_chunk_rows": 2.5}, "jacobian_chunk_rows=2.5"),
        ({"curvature_batch_size": 0}, "curvature_batch_size=0"),
        ({"curvature_batch_size": 8.0}, "curvature_batch_size=8.0"),
        ({"curvature_batch_size": 8, "seed": -1}, "seed=-1"),
        (
            {"curvature_batch_size": 8, "curvature": "hessian"},
            r"exact Hessian has no such estimate.*curvature_batch_size=8, curvature='hessian'",
        ),
        (
            {"curvature_batch_size": 8, "mu": 0.0, "mu_rule": "fixed"},
            r"needs `mu` > 0.*curvature_batch_size=8, mu=0.0, mu_rule='fixed'",
        ),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LevenbergMarquardt(**kwargs)


def test_gauss_newton_refuses_a_curvature_sample():
    with pytest.raises(ValueError, match="curvature_batch_size=8, mu=0.0"):
        GaussNewton(curvature_batch_size=8)


def test_default_mu_floor_depends_on_the_loss():
    assert LevenbergMarquardt().mu_floor(cross_entropy=False) == 1e-10  # trainlm's
    assert LevenbergMarquardt().mu_floor(cross_entropy=True) == 0.1
    assert LevenbergMarquardt(mu_min=0.5).mu_floor(cross_entropy=False) == 0.5
    # Full-batch training (one batch an epoch): a cross-entropy takes the squared error's floor.
    assert LevenbergMarquardt().mu_floor(cross_entropy=True, one_batch_per_epoch=True) == 1e-10
    assert LevenbergMarquardt(mu_min=0.5).mu_floor(True, one_batch_per_epoch=True) == 0.5
    assert LevenbergMarquardt(mu_min=0.5).get_config()["mu_min"] == 0.5
    assert LevenbergMarquardt().get_config()["mu_min"] is None
    # A squared error's mu stays below the cross-entropy floor (1e-3 here, as in the first test).
    x, y = tiny_data(n=20)
    model = tiny_model()
    fit_steps(model, x, y, LevenbergMarquardt())
    assert float(model.optimizer.mu) < 0.1


def test_config_round_trip():
    optimizer = LevenbergMarquardt(
        learning_rate=0.5,
        mu=0.1,
        mu_rule="nielsen",
        damping="marquardt",
        max_attempts=4,
        jacobian_chunk_rows=128,
        curvature_batch_size=64,
    )
    config = optimizer.get_config()
    restored = LevenbergMarquardt.from_config(config)
    assert restored.jacobian_chunk_rows == 128
    assert (restored.curvature_batch_size, restored.seed) == (64, optimizer.seed)
    assert restored.get_config() == config
    serialized = keras.optimizers.serialize(optimizer)
    assert type(keras.optimizers.deserialize(serialized)) is LevenbergMarquardt


def test_keras_file_round_trip_restores_mu(tmp_path):
    x, y = tiny_data(n=40)
    model = tiny_model()
    fit_steps(model, x, y, LevenbergMarquardt(mu_rule="nielsen"), epochs=3)
    path = tmp_path / "lm.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.optimizer, LevenbergMarquardt)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    np.testing.assert_allclose(float(loaded.optimizer.mu), float(model.optimizer.mu), rtol=0)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    fit_steps_loaded = loaded.fit(
        x, y, batch_size=40, epochs=1, callbacks=[MuAdaptation(verbose=0)], verbose=0
    )
    model.fit(x, y, batch_size=40, epochs=1, callbacks=[MuAdaptation(verbose=0)], verbose=0)
    np.testing.assert_allclose(fit_steps_loaded.history["mu"], float(model.optimizer.mu))
    np.testing.assert_allclose(flat_weights(loaded), flat_weights(model), rtol=1e-10)


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    import keras
    from keras_cluster.callbacks import MuAdaptation
    from keras_cluster.optimizers import LevenbergMarquardt

    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (64, 2))
    y = (2.5 - x[:, :1]) ** 2 + 2.5 * (x[:, 1:] - x[:, :1] ** 2) ** 2
    initial = None

    def run(strategy):
        global initial
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((2,), dtype="float64"),
                                      keras.layers.Dense(4, "tanh", dtype="float64"),
                                      keras.layers.Dense(1, dtype="float64")])
            if initial is None:
                initial = model.get_weights()
            model.set_weights(initial)
            model.compile(optimizer=LevenbergMarquardt(mu_rule=sys.argv[1]), loss="mse")
        history = model.fit(x, y, batch_size=64, epochs=3, shuffle=False, verbose=0,
                            callbacks=[MuAdaptation(verbose=0)])
        weights = np.concatenate([w.ravel() for w in model.get_weights()])
        return weights, history.history["mu"], history.history["loss"]

    single = run(tf.distribute.get_strategy())
    mirrored = run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    print(json.dumps({"single": [np.asarray(v).tolist() for v in single],
                      "mirrored": [np.asarray(v).tolist() for v in mirrored]}))
    """
)


@pytest.mark.parametrize("mu_rule", ["tutorial"])
def test_mirrored_strategy_step_equals_single_device(mu_rule):
    out = run_on_logical_cpus(MIRRORED_SCRIPT, mu_rule)
    for single, mirrored in zip(out["single"], out["mirrored"], strict=True):
        np.testing.assert_allclose(mirrored, single, rtol=1e-6, atol=1e-12)
    assert out["single"][2][-1] < out["single"][2][0]


@pytest.mark.parametrize(
    "layer, name",
    [
        (keras.layers.Dropout(0.5, name="drop"), "drop \\(Dropout\\)"),
        (keras.layers.GaussianNoise(0.1, name="noise"), "noise \\(GaussianNoise\\)"),
        (keras.layers.BatchNormalization(name="norm"), "norm \\(BatchNormalization\\)"),
    ],
)
def test_layers_active_in_training_raise_at_the_first_step(layer, name):
    x, y = tiny_data(n=16)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, "tanh"), layer])
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=LevenbergMarquardt(), loss="mse")
    before = flat_weights(model)
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"training mode.*{name}"):
        model.fit(x, y, batch_size=16, callbacks=[MuAdaptation(0)], verbose=0)
    np.testing.assert_array_equal(flat_weights(model), before)


@pytest.mark.parametrize(
    "make_layer",
    [
        lambda: keras.layers.Dropout(0.0),
        # Frozen, with moving mean 0 and variance 1: the identity up to epsilon.
        lambda: keras.layers.BatchNormalization(trainable=False, epsilon=1e-14),
    ],
)
def test_layers_inert_in_training_train_as_without_them(make_layer):
    layer = make_layer()  # created under the float64 fixture
    x, y = tiny_data(n=16)
    plain = tiny_model()
    with_layer = keras.Sequential([keras.Input((2,)), *plain.layers[:1], layer, *plain.layers[1:]])
    theta = flat_weights(plain)
    fit_steps(with_layer, x, y, LevenbergMarquardt(), epochs=2)
    mu = 1e-3
    for _ in range(2):
        theta, mu, _ = numpy_lm_ladder(theta, x, y, mu)
    np.testing.assert_allclose(flat_weights(plain), theta, rtol=1e-9, atol=1e-12)
