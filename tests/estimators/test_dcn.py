import numpy as np
import pytest
from sklearn.base import clone

from keras_cluster.datasets import load_digits
from keras_cluster.estimators import DCN, DEC
from tests.distributed import run_workers

SMALL = dict(
    dims=(32, 8),
    pretrain="end_to_end",
    finetune_epochs=3,
    epochs=2,
    kmeans_n_init=2,
    batch_size=64,
    random_state=0,
    verbose=0,
)
DEC_TINY = {key: SMALL[key] for key in ("dims", "finetune_epochs", "batch_size", "random_state")}
DEC_TINY.update(kmeans_n_init=2, verbose=0)


def test_fit_sets_the_sklearn_attributes():
    X, _ = load_digits()
    X = X[:300]
    estimator = DCN(4, l2=1e-4, **SMALL)
    labels = estimator.fit_predict(X)
    assert labels.shape == (300,) and set(labels) <= set(range(4))
    np.testing.assert_array_equal(estimator.predict(X), labels)
    distances = estimator.distances(X)
    np.testing.assert_array_equal(distances.argmin(axis=1), labels)
    assert estimator.cluster_centers_.shape == (4, 8)
    assert estimator.transform(X).shape == (300, 8)
    codes = estimator.transform(X)
    expected = np.sum((codes[:, None] - estimator.cluster_centers_[None]) ** 2, axis=-1)
    np.testing.assert_allclose(distances, expected, rtol=1e-3, atol=1e-3)
    assert estimator.model_ is not None and estimator.autoencoder_ is not None
    assert estimator.encoder_ is not None and "kmeans" in estimator.history_.history
    assert not hasattr(estimator, "predict_proba")
    assert clone(estimator).get_params()["l2"] == 1e-4


def test_dcn_starts_from_a_shared_autoencoder_and_given_centroids(tmp_path):
    X, _ = load_digits()
    X = X[:200]
    pretrained = DEC(4, **{**DEC_TINY, "max_iter": 0}).fit(X)
    path = str(tmp_path / "ae.weights.h5")
    pretrained.autoencoder_.save_weights(path)
    shared = {**SMALL, "finetune_epochs": 0, "autoencoder_weights": path}
    # The DEC-pretrained autoencoder, k-means with the same seed: the same start as DEC's.
    estimator = DCN(4, **{**shared, "epochs": 0}).fit(X)
    assert estimator.pretrain_epochs_ == 0
    np.testing.assert_allclose(
        estimator.transform(X), pretrained.transform(X), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        estimator.kmeans_.cluster_centers_,
        pretrained.kmeans_.cluster_centers_,
        rtol=1e-4,
        atol=1e-5,
    )
    # Given centroids: kept when no epoch runs, and the partition is the nearest-centroid one.
    centroids = pretrained.kmeans_.cluster_centers_[::-1].copy()
    given = DCN(4, **{**shared, "epochs": 0, "init": centroids}).fit(X)
    np.testing.assert_allclose(given.cluster_centers_, centroids, rtol=1e-6)
    codes = given.transform(X)
    nearest = ((codes[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(given.init_labels_, nearest)
    np.testing.assert_array_equal(given.labels_, nearest)


def test_dcn_gmm_init_starts_from_the_mixture_partition():
    X, _ = load_digits()
    X = X[:200]
    estimator = DCN(4, **{**SMALL, "epochs": 0, "init": "gmm"}).fit(X)
    codes = estimator.transform(X)
    assert estimator.gaussian_mixture_ is not None
    np.testing.assert_array_equal(
        estimator.init_labels_, estimator.gaussian_mixture_.predict(codes.astype(np.float64))
    )
    expected = np.stack([codes[estimator.init_labels_ == k].mean(0) for k in range(4)])
    np.testing.assert_allclose(estimator.cluster_centers_, expected, rtol=1e-4, atol=1e-5)


def test_dcn_manifold_init_starts_from_the_n2d_partition():
    pytest.importorskip("umap")
    X, _ = load_digits()
    X = X[:200]
    estimator = DCN(4, **{**SMALL, "epochs": 0, "init": "manifold"}).fit(X)
    codes = estimator.transform(X)
    expected = np.stack([codes[estimator.init_labels_ == k].mean(0) for k in range(4)])
    np.testing.assert_allclose(estimator.cluster_centers_, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"clustering_weight": -1}, "clustering_weight"),
        ({"centroid_update": "em"}, "centroid_update"),
        ({"initial_count": 0}, "initial_count"),
        ({"l2": -0.1}, "l2"),
        ({"epochs": -1}, "epochs"),
        ({"pretrain": "rbm"}, "pretrain"),
        ({"init": "random"}, "init='random'"),
        ({"init": np.zeros((2, 8))}, r"Received: init with shape \(2, 8\)"),
        ({"autoencoder_weights": "missing.weights.h5"}, "autoencoder_weights='missing"),
    ],
)
def test_bad_parameters_raise(kwargs, message):
    X, _ = load_digits()
    with pytest.raises(ValueError, match=message):
        DCN(3, **{**SMALL, **kwargs}).fit(X[:50])


WORKERS_SCRIPT = """
import json
import tensorflow as tf
from keras_cluster.datasets import load_digits
from keras_cluster.estimators import DCN, DEC
from tests.distributed import run_workers
from tests.estimators.test_dcn import SMALL

X, _ = load_digits()
strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    estimator = DCN(4, **{**SMALL, "pretrain": "layerwise", "pretrain_epochs": 1}).fit(X[:300])
print(json.dumps({
    "replicas": estimator.network_.distribute_strategy.num_replicas_in_sync,
    "counts": estimator.network_.counts.numpy().tolist(),
    "centers": estimator.cluster_centers_.tolist(),
    "labels": estimator.labels_.tolist(),
}))
"""


@pytest.mark.slow
def test_fit_across_two_workers_counts_every_sample_of_both():
    """Layer-wise pretraining, then DCN; each worker draws 32 of each batch of 64."""
    workers = run_workers(WORKERS_SCRIPT)
    assert [w["replicas"] for w in workers] == [2, 2]
    assert workers[0]["labels"] == workers[1]["labels"]
    np.testing.assert_array_equal(workers[0]["centers"], workers[1]["centers"])
    steps = 2 * -(-300 // 64)  # epochs x steps per epoch
    for worker in workers:
        assert sum(worker["counts"]) == pytest.approx(4 * 100.0 + steps * 64)


def test_a_stream_is_refused_clearly():
    import tensorflow as tf

    stream = tf.data.Dataset.from_tensor_slices(np.zeros((8, 2), "float32")).batch(4)
    with pytest.raises(ValueError, match="`X` should be an array for DCN"):
        DCN(n_clusters=2, dims=(2,), verbose=0).fit(stream)
