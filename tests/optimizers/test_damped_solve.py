import numpy as np
import tensorflow as tf

from keras_cluster.optimizers.damped_solve import (
    damped_solve,
    damping_scale,
    low_rank_damped_solve,
)


def test_damped_solve_cholesky_and_pseudo_inverse_fallback():
    rng = np.random.default_rng(0)
    j = rng.normal(size=(3, 5))
    a = j.T @ j  # rank 3: singular
    g = a @ rng.normal(size=5)
    mus = np.array([0.0, 1e-2, 1.0])
    solved = damped_solve(tf.constant(a), tf.constant(g), tf.constant(mus)).numpy()
    np.testing.assert_allclose(solved[0], np.linalg.pinv(a) @ g, rtol=1e-6, atol=1e-8)
    for mu, row in zip(mus[1:], solved[1:], strict=True):
        np.testing.assert_allclose(row, np.linalg.solve(a + mu * np.eye(5), g), rtol=1e-6)
    spd = a + np.eye(5)
    solved = damped_solve(tf.constant(spd), tf.constant(g), tf.constant(mus)).numpy()
    for mu, row in zip(mus, solved, strict=True):
        np.testing.assert_allclose(row, np.linalg.solve(spd + mu * np.eye(5), g), rtol=1e-10)


def test_marquardt_scale_turns_diagonal_damping_into_identity():
    rng = np.random.default_rng(1)
    j = rng.normal(size=(6, 4)) * np.array([1.0, 10.0, 0.1, 3.0])
    a, g, mu = j.T @ j, j.T @ rng.normal(size=6), 0.3
    s = np.asarray(damping_scale(tf.constant(np.diag(a)), "marquardt"))
    z = np.asarray(damped_solve(s[:, None] * a * s[None], s * g, np.array([mu])))[0]
    np.testing.assert_allclose(s * z, np.linalg.solve(a + mu * np.diag(np.diag(a)), g), rtol=1e-10)
    np.testing.assert_array_equal(np.asarray(damping_scale(tf.constant([0.0, 4.0]), "identity")), 1)
    np.testing.assert_array_equal(
        np.asarray(damping_scale(tf.constant([0.0, 4.0]), "marquardt")), [1, 0.5]
    )


def test_without_fallback_an_indefinite_system_gives_a_non_finite_solution():
    a = np.diag([1.0, -1.0])
    solved = damped_solve(a, np.ones(2), np.array([0.5, 2.0]), pseudo_inverse_fallback=False)
    solved = np.asarray(solved)
    assert not np.all(np.isfinite(solved[0]))
    np.testing.assert_allclose(solved[1], [1 / 3, 1.0], rtol=1e-12)


def test_low_rank_damped_solve_equals_the_weight_space_solve():
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(4, 9))
    rhs = rng.normal(size=9)  # not in the span of the rows
    for mu in (1e-6, 0.3, 50.0):
        expected = np.linalg.solve(rows.T @ rows + mu * np.eye(9), rhs)
        got = low_rank_damped_solve(
            tf.constant(rows), tf.constant(rhs), tf.constant(mu, "float64")
        ).numpy()
        # At mu = 1e-6 the system's condition number is about 1e7: digits lost in both.
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        gram = tf.constant(rows @ rows.T)
        shared = low_rank_damped_solve(rows, rhs, mu, gram=gram).numpy()
        np.testing.assert_allclose(shared, got, rtol=1e-12)
