import numpy as np
import pytest

from keras_cluster.datasets import load_digits
from keras_cluster.estimators import SNNLKMeans
from keras_cluster.metrics.clustering import clustering_accuracy

SMALL = dict(dims=(32, 8), epochs=3, kmeans_n_init=2, batch_size=100, random_state=0, verbose=0)


def test_fit_uses_only_the_labelled_subset():
    X, y = load_digits()
    X, y = X[:400], y[:400]
    estimator = SNNLKMeans(10, n_labelled=50, **SMALL).fit(X, y)
    assert estimator.labelled_mask_.sum() == 50
    assert estimator.labels_.shape == (400,)
    np.testing.assert_array_equal(estimator.predict(X), estimator.labels_)
    assert estimator.cluster_centers_.shape == (10, 8)
    assert estimator.history_.history["temperature"][-1] == pytest.approx(1 / 3**0.55, rel=1e-5)
    assert not hasattr(estimator, "predict_proba")

    hidden = np.where(np.arange(400) < 200, y, -1)
    estimator = SNNLKMeans(10, **SMALL).fit(X, hidden)
    np.testing.assert_array_equal(estimator.labelled_mask_, np.arange(400) < 200)


@pytest.mark.parametrize(
    "kwargs,y,message",
    [
        ({}, None, "y"),
        ({}, np.zeros(10), "y"),
        ({"n_labelled": 10_000}, "labels", "n_labelled"),
        ({"snnl_weight": 0.0}, "labels", "snnl_weight"),
        ({"distance": "l1"}, "labels", "distance"),
        ({"annealing_rate": -1}, "labels", "annealing_rate"),
    ],
)
def test_bad_input_raises(kwargs, y, message):
    X, labels = load_digits()
    y = labels[:60] if isinstance(y, str) else y
    with pytest.raises(ValueError, match=message):
        SNNLKMeans(10, **{**SMALL, **kwargs}).fit(X[:60], y)


@pytest.mark.slow
def test_snnl_codes_cluster_better_than_plain_codes():
    X, y = load_digits()
    common = dict(SMALL, dims=(64, 64, 256, 10), epochs=20, kmeans_n_init=5)
    with_snnl = SNNLKMeans(10, n_labelled=500, **common).fit(X, y)
    without = SNNLKMeans(10, n_labelled=500, snnl_weight=1e-9, **common).fit(X, y)
    assert clustering_accuracy(y, with_snnl.labels_) > clustering_accuracy(y, without.labels_) + 0.1
