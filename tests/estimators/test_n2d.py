import sys

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from keras_cluster.estimators import DEC, N2D
from keras_cluster.metrics import clustering_accuracy

pytest.importorskip("umap", reason="N2D needs the umap extra; the test extra installs it")

TINY = dict(dims=(32, 5), finetune_epochs=10, batch_size=64, random_state=0, verbose=0)
# Enough pretraining for digits' clusters to show (600 rows: train ACC 0.82, measured).
FITTED = {**TINY, "finetune_epochs": 30}


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return x.astype("float32"), y


@pytest.fixture(scope="module")
def fitted(digits):
    x, _ = digits
    return N2D(n_clusters=10, **FITTED).fit(x[:600])


def test_fitted_attributes_and_shapes(fitted, digits):
    x, _ = digits
    assert fitted.labels_.shape == (600,) and set(fitted.labels_) <= set(range(10))
    assert fitted.cluster_centers_.shape == (10, 10)  # n_components defaults to n_clusters
    assert fitted.embedding_.shape == (600, 10)
    assert fitted.encoder_.predict(x[:3], verbose=0).shape == (3, 5)
    assert fitted.n_features_in_ == 64 and fitted.fit_time_ > 0


def test_clusters_digits_far_above_chance(fitted, digits):
    x, y = digits
    assert clustering_accuracy(y[:600], fitted.labels_) > 0.7


def test_predict_on_unseen_rows_goes_through_umap_transform(fitted, digits):
    x, y = digits
    unseen = x[600:900]
    labels = fitted.predict(unseen)
    assert labels.shape == (300,)
    # New rows land in the clusters of their digit about as well as the training rows do.
    train_accuracy = clustering_accuracy(y[:600], fitted.labels_)
    assert clustering_accuracy(y[600:900], labels) > max(0.6, train_accuracy - 0.15)
    # The training rows, mapped again, keep their labels.
    assert np.mean(fitted.predict(x[:600]) == fitted.labels_) > 0.95
    coordinates = fitted.transform(unseen)
    assert coordinates.shape == (300, 10)
    np.testing.assert_array_equal(fitted.clusterer_.predict(coordinates), labels)


def test_predict_proba_is_the_student_t_q_of_the_manifold(fitted, digits):
    x, _ = digits
    u = fitted.transform(x[:5]).astype(np.float64)
    distances = ((u[:, None] - fitted.cluster_centers_[None].astype(np.float64)) ** 2).sum(-1)
    q = 1.0 / (1.0 + distances)
    q /= q.sum(1, keepdims=True)
    np.testing.assert_allclose(fitted.predict_proba(x[:5]), q, rtol=1e-6)


def test_gmm_clusterer(digits):
    x, _ = digits
    estimator = N2D(n_clusters=4, clusterer="gmm", kmeans_n_init=1, **TINY).fit(x[:200])
    proba = estimator.predict_proba(x[:10])
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(proba.argmax(1), estimator.predict(x[:10]))


def test_shares_the_pretraining_of_dec(digits, tmp_path):
    x, _ = digits
    dec = DEC(n_clusters=4, max_iter=0, **TINY).fit(x[:200])
    path = tmp_path / "ae.weights.h5"
    dec.autoencoder_.save_weights(path)
    n2d = N2D(n_clusters=4, autoencoder_weights=str(path), **{**TINY, "finetune_epochs": 0})
    n2d.fit(x[:200])
    np.testing.assert_allclose(n2d.encoder_.predict(x[:5], verbose=0), dec.transform(x[:5]))


def test_encoder_round_trips_through_keras_files(fitted, digits, tmp_path):
    x, _ = digits
    fitted.encoder_.save(tmp_path / "encoder.keras")
    loaded = keras.models.load_model(tmp_path / "encoder.keras")
    np.testing.assert_allclose(
        loaded.predict(x[:5], verbose=0), fitted.encoder_.predict(x[:5], verbose=0), rtol=1e-6
    )


def test_without_umap_the_error_names_the_extra(monkeypatch, digits):
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(ImportError, match=r"keras-cluster\[umap\]"):
        N2D(n_clusters=3, **TINY).fit(digits[0][:50])


def test_predict_before_fit_raises_not_fitted(digits):
    from sklearn.exceptions import NotFittedError

    for method in ("predict", "predict_proba", "transform"):
        with pytest.raises(NotFittedError):
            getattr(N2D(n_clusters=3), method)(digits[0][:5])


def test_too_few_samples_for_umap(digits):
    with pytest.raises(ValueError, match="at least 3 samples.*n_samples = 2"):
        N2D(n_clusters=2, **TINY).fit(digits[0][:2])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"clusterer": "dbscan"}, "clusterer='dbscan'"),
        ({"n_neighbors": 1}, "n_neighbors=1"),
        ({"min_dist": -0.1}, "min_dist=-0.1"),
        ({"n_components": 0}, "n_components=0"),
        ({"normalization": "minmax"}, "normalization='minmax'"),
    ],
)
def test_bad_parameters_name_the_argument(kwargs, match, digits):
    with pytest.raises(ValueError, match=match):
        N2D(n_clusters=3, **{**TINY, **kwargs}).fit(digits[0][:50])
