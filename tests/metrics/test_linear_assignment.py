import itertools

import numpy as np
import pytest
import tensorflow as tf

from keras_cluster.metrics.linear_assignment import linear_sum_assignment


def brute_force_optimum(cost, maximize):
    """Best total over all injective maps of the smaller side into the larger, float64."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.shape[0] > cost.shape[1]:
        cost = cost.T
    n_rows, n_cols = cost.shape
    totals = [
        cost[np.arange(n_rows), list(cols)].sum()
        for cols in itertools.permutations(range(n_cols), n_rows)
    ]
    return max(totals) if maximize else min(totals)


def check_assignment(cost, rows, cols, maximize):
    rows, cols = np.asarray(rows), np.asarray(cols)
    n = min(cost.shape)
    assert rows.shape == cols.shape == (n,)
    assert len(set(rows.tolist())) == n and len(set(cols.tolist())) == n
    assert np.all(np.diff(rows) > 0)
    np.testing.assert_allclose(cost[rows, cols].sum(), brute_force_optimum(cost, maximize))


@pytest.mark.parametrize("maximize", [False, True])
def test_matches_brute_force_on_small_matrices(rng, maximize):
    for _ in range(20):
        n_rows, n_cols = rng.integers(1, 6, size=2)
        cost = rng.integers(0, 4, size=(n_rows, n_cols)).astype(np.float64)  # many ties
        rows, cols = linear_sum_assignment(cost, maximize=maximize)
        check_assignment(cost, rows, cols, maximize)


def test_real_valued_costs(rng):
    cost = rng.normal(size=(6, 6))
    rows, cols = linear_sum_assignment(cost)
    check_assignment(cost, rows, cols, maximize=False)


def test_compiles_with_xla_and_matches_scipy(rng):
    from scipy.optimize import linear_sum_assignment as scipy_lsa

    solve = tf.function(lambda c: linear_sum_assignment(c, maximize=True), jit_compile=True)
    for shape in [(10, 10), (12, 7), (7, 12)]:
        cost = rng.integers(0, 1000, size=shape).astype(np.float64)
        rows, cols = solve(tf.constant(cost))
        ref_rows, ref_cols = scipy_lsa(cost, maximize=True)
        assert cost[rows.numpy(), cols.numpy()].sum() == cost[ref_rows, ref_cols].sum()


def test_rejects_non_matrix():
    with pytest.raises(ValueError, match=r"`cost` should be a matrix.*\(3,\)"):
        linear_sum_assignment(np.zeros(3))
