import numpy as np
import pytest

from keras_cluster.optimizers.mu_rules import MuRule, gain_ratio


def rule(name, attempts=4):
    return MuRule(name, attempts, 10.0, 5.0, 1e-6, 1e3)


def test_ladders_follow_their_formulas():
    mus, _ = rule("tutorial").ladder(1e-1, 2.0)
    np.testing.assert_allclose(np.asarray(mus), [1e-1, 1.0, 10.0, 100.0], rtol=1e-15)
    mus, nus = rule("nielsen").ladder(1e-1, 2.0)  # mu nu, then nu doubles
    np.testing.assert_allclose(np.asarray(mus), [0.1, 0.2, 0.8, 6.4], rtol=1e-15)
    np.testing.assert_allclose(np.asarray(nus), [2, 4, 8, 16])
    mus, _ = rule("tutorial").ladder(100.0, 2.0)  # clipped at mu_max
    np.testing.assert_allclose(np.asarray(mus), [100.0, 1000.0, 1000.0, 1000.0])
    mus, _ = rule("fixed").ladder(0.5, 2.0)
    np.testing.assert_allclose(np.asarray(mus), [0.5])


def test_ladders_start_within_the_bounds():
    mus, _ = rule("tutorial").ladder(1e-9, 2.0)  # raised to mu_min = 1e-6
    np.testing.assert_allclose(np.asarray(mus), [1e-6, 1e-5, 1e-4, 1e-3], rtol=1e-15)
    mus, _ = rule("nielsen").ladder(1e-9, 2.0)
    np.testing.assert_allclose(np.asarray(mus), [1e-6, 2e-6, 8e-6, 6.4e-5], rtol=1e-15)
    mus, _ = rule("fixed").ladder(0.0, 2.0)  # a fixed mu is used as given (Gauss-Newton)
    np.testing.assert_array_equal(np.asarray(mus), [0.0])


def test_acceptance():
    steps = np.zeros((3, 2))
    losses = np.array([2.0, np.nan, 0.5])
    np.testing.assert_array_equal(
        np.asarray(rule("tutorial").accepts(losses, steps, 1.0)), [0, 0, 1]
    )
    np.testing.assert_array_equal(np.asarray(rule("fixed").accepts(losses, steps, 1.0)), [1, 0, 1])


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9])
def test_updates_follow_their_formulas(rho):
    rho, accepted_mu, tiny = np.float64(rho), np.float64(0.2), np.float64(1e-6)
    mus, nus = np.array([0.1, 0.2]), np.array([2.0, 4.0])
    mu, nu = rule("nielsen").update(True, accepted_mu, rho, mus, nus, 2.0)
    np.testing.assert_allclose(float(mu), 0.2 * max(1 / 3, 1 - (2 * rho - 1) ** 3), rtol=1e-14)
    assert float(nu) == 2.0
    mu, nu = rule("nielsen").update(False, accepted_mu, rho, mus, nus, 2.0)
    assert (float(mu), float(nu)) == (0.8, 8.0)
    mu, _ = rule("tutorial").update(True, accepted_mu, rho, mus, nus, 2.0)
    np.testing.assert_allclose(float(mu), 0.2 / 5.0)
    mu, _ = rule("tutorial").update(False, accepted_mu, rho, mus, nus, 2.0)
    np.testing.assert_allclose(float(mu), 2.0)
    mu, _ = rule("tutorial").update(True, tiny, rho, mus, nus, 2.0)
    assert float(mu) == 1e-6  # clipped at mu_min


def test_gain_ratio_formula():
    step, gradient, scale = np.array([1.0, 2.0]), np.array([0.5, 0.25]), np.array([1.0, 0.5])
    predicted = step @ gradient + 0.1 * np.sum((step / scale) ** 2)
    np.testing.assert_allclose(
        float(gain_ratio(3.0, 2.0, step, gradient, 0.1, scale)), 1 / predicted
    )
    assert float(gain_ratio(3.0, 2.0, 0 * step, 0 * gradient, 0.1, scale)) == 1.0
