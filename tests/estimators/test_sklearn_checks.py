"""scikit-learn's own estimator checks on DEC and IDEC with a tiny training budget."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from keras_cluster.estimators import DEC, IDEC

CHECK_BUDGET = dict(
    dims=(4, 2),
    pretrain="end_to_end",
    finetune_epochs=1,
    update_interval=2,
    max_iter=4,
    kmeans_n_init=1,
    batch_size=32,
    random_state=0,
    verbose=0,
)


@parametrize_with_checks([DEC(n_clusters=3, **CHECK_BUDGET)])
def test_dec_passes_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks([IDEC(n_clusters=3, **CHECK_BUDGET)])
def test_idec_passes_sklearn_checks(estimator, check):
    check(estimator)
