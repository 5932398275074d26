"""scikit-learn's own estimator checks on DEC, IDEC and N2D.

The slow suite (`pytest -m slow`) runs them with only the epoch and iteration budgets made small:
the default architecture (500-500-2000-10), optimizers, learning rates, normalization and batch
size are those a user gets, so a check that failed through divergence (as three did before the
in-model normalization) would fail there. The default suite runs DEC's checks on a small
architecture, for the scikit-learn API alone.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from keras_cluster.estimators import DEC, IDEC, N2D

EPOCH_BUDGET = dict(finetune_epochs=2, random_state=0, verbose=0)
ITERATION_BUDGET = dict(update_interval=2, max_iter=4)

# Checks that cannot apply, with the reason. scikit-learn itself also skips
# `check_array_api_input` ("SCIPY_ARRAY_API is not set"): the estimators take NumPy input only and
# do not declare array-API support.
EXPECTED_FAILED_CHECKS = {
    "check_methods_sample_order_invariance": (
        "TensorFlow's float32 matmul rounds a row differently by its position in the batch "
        "(about 1e-6 relative, measured 3e-8 absolute); the check asserts rtol=1e-7"
    ),
}


@parametrize_with_checks(
    [DEC(n_clusters=3, dims=(4, 2), kmeans_n_init=1, **EPOCH_BUDGET, **ITERATION_BUDGET)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_dec_api_passes_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(
    [DEC(n_clusters=3, **EPOCH_BUDGET, **ITERATION_BUDGET)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_dec_passes_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(
    [IDEC(n_clusters=3, **EPOCH_BUDGET, **ITERATION_BUDGET)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_idec_passes_sklearn_checks(estimator, check):
    check(estimator)


N2D_EXPECTED_FAILED_CHECKS = {
    **EXPECTED_FAILED_CHECKS,
    "check_methods_subset_invariance": (
        "UMAP's transform places new points by an optimisation with random negative samples, "
        "whose draws depend on the other points of the batch, so a row's coordinates (and, near "
        "a boundary, its label) differ between a batch and its subsets"
    ),
}


@pytest.mark.slow
@parametrize_with_checks(
    [N2D(n_clusters=3, **EPOCH_BUDGET)],
    expected_failed_checks=lambda estimator: N2D_EXPECTED_FAILED_CHECKS,
)
def test_n2d_passes_sklearn_checks(estimator, check):
    pytest.importorskip("umap")
    check(estimator)
