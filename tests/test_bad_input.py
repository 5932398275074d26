"""Every public entry point against bad input: one row of `CASES` per (entry point, bad input).

Each row names the call, the error it must raise and a pattern of the message, which names the
argument and the value received. No row trains a model: validation happens before training.
The same table is the page `docs/bad_input.md`; regenerate it after changing a row with

    python -m tests.test_bad_input > docs/bad_input.md

(`test_docs_page_is_the_table` fails when the page and the table differ).
"""

import dataclasses
import pathlib
import re
import sys
from collections.abc import Callable

import keras
import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.exceptions import NotFittedError

from keras_cluster.callbacks import (
    BatchPosition,
    DECSelfTraining,
    MuAdaptation,
    TemperatureAnnealing,
)
from keras_cluster.datasets import load_mnist
from keras_cluster.estimators import DCN, DEC, IDEC, N2D, SNNLKMeans
from keras_cluster.layers import CentroidDistances, ClusteringLayer, soft_assignment
from keras_cluster.losses import (
    DECLoss,
    KMeansLoss,
    SoftNearestNeighborLoss,
    dec_loss,
    kmeans_loss,
    soft_nearest_neighbor_loss,
    target_distribution,
)
from keras_cluster.metrics import (
    AdjustedRandIndex,
    ClusteringAccuracy,
    NormalizedMutualInformation,
    adjusted_rand_index,
    clustering_accuracy,
    normalized_mutual_info,
)
from keras_cluster.metrics.linear_assignment import linear_sum_assignment
from keras_cluster.models import (
    DeepClusteringNetwork,
    SoftNearestNeighborModel,
    build_autoencoder,
    pretrain_autoencoder,
)
from keras_cluster.optimizers import GaussNewton, LevenbergMarquardt

DOCS_PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "bad_input.md"
TINY = {"dims": (4, 2), "finetune_epochs": 1, "kmeans_n_init": 1, "verbose": 0}
RNG = np.random.default_rng(0)
X = RNG.random((20, 3))
Q = np.full((4, 2), 0.5, "float32")


def with_value(value, row=0, column=0):
    x = X.copy()
    x[row, column] = value
    return x


@dataclasses.dataclass(frozen=True)
class Case:
    entry: str  # the public entry point
    bad: str  # the bad input, in words
    call: Callable[[], object]
    error: type
    match: str  # a regular expression the message must match


NON_FINITE = r"`X` should not contain NaN or inf. Received: X with 1 non-finite value\(s\) of 60"


def estimator_cases(name, make, fit_args=()):
    """The rows every estimator shares: the data, then `n_clusters` against it."""

    def fit(x, **params):
        return lambda: make(**params).fit(x, *fit_args)

    return [
        Case(f"{name}.fit", "X 1-D", fit(X[:, 0]), ValueError, r"`X` should be a 2D array.*ndim 1"),
        Case(f"{name}.fit", "X 3-D", fit(X[:, :, None]), ValueError, r"`X`.*ndim 3"),
        Case(
            f"{name}.fit",
            "X with NaN",
            fit(with_value(np.nan)),
            ValueError,
            "`X` should not contain NaN",
        ),
        Case(
            f"{name}.fit",
            "X with inf",
            fit(with_value(np.inf)),
            ValueError,
            "`X` should not contain NaN or inf",
        ),
        Case(
            f"{name}.fit",
            "X of strings",
            fit(np.array([["a", "b", "c"]] * 20)),
            ValueError,
            r"`X` should hold numbers.*dtype <U1",
        ),
        Case(
            f"{name}.fit",
            "X holding a dict",
            fit(np.array([[{"a": 1}, 1.0, 2.0]] * 20, dtype=object)),
            TypeError,
            r"`X` should hold numbers.*float\(\) argument must be a string or a real number",
        ),
        Case(
            f"{name}.fit",
            "X a SciPy sparse matrix",
            fit(scipy.sparse.csr_matrix(X)),
            ValueError,
            r"`X` should be a dense array: SciPy sparse.*`X.toarray\(\)`.*csr_matrix",
        ),
        Case(f"{name}.fit", "X None", fit(None), ValueError, "`X` should be an array.*X=None"),
        Case(
            f"{name}.fit",
            "n_clusters > samples",
            fit(X, n_clusters=21),
            ValueError,
            "n_clusters=21 with n_samples=20",
        ),
        Case(f"{name}.fit", "n_clusters=0", fit(X, n_clusters=0), ValueError, "n_clusters=0"),
        Case(
            f"{name}.fit", "n_clusters=2.0", fit(X, n_clusters=2.0), ValueError, r"n_clusters=2\.0"
        ),
        Case(f"{name}.fit", "batch_size=0", fit(X, batch_size=0), ValueError, "batch_size=0"),
        Case(
            f"{name}.fit", "random_state=-1", fit(X, random_state=-1), ValueError, "random_state=-1"
        ),
        Case(f"{name}.fit", "dims=(4, 0)", fit(X, dims=(4, 0)), ValueError, r"dims=\(4, 0\)"),
        Case(f"{name}.fit", "verbose=-1", fit(X, verbose=-1), ValueError, "verbose=-1"),
    ]


def _dec(**params):
    return DEC(**{"n_clusters": 2, **TINY, **params})


def _idec(**params):
    return IDEC(**{"n_clusters": 2, **TINY, **params})


def _dcn(**params):
    return DCN(**{"n_clusters": 2, **TINY, "epochs": 1, **params})


def _n2d(**params):
    return N2D(**{"n_clusters": 2, **TINY, **params})


def _snnl_kmeans(**params):
    return SNNLKMeans(**{"n_clusters": 2, "dims": (4, 2), "epochs": 1, "verbose": 0, **params})


Y = np.arange(20) % 2


def _param(make, entry, **params):
    """A row for one bad constructor argument, found by `fit` before any training."""
    ((name, value),) = params.items()
    fit_args = (Y,) if make is _snnl_kmeans else ()
    return Case(
        f"{entry}.fit",
        f"{name}={value!r}",
        lambda: make(**params).fit(X, *fit_args),
        ValueError,
        re.escape(f"`{name}` should be") + ".*" + re.escape(f"Received: {name}={value!r}"),
    )


CASES = [
    *estimator_cases("DEC", _dec),
    *estimator_cases("IDEC", _idec),
    *estimator_cases("DCN", _dcn),
    *estimator_cases("N2D", _n2d),
    *estimator_cases("SNNLKMeans", _snnl_kmeans, fit_args=(Y,)),
    _param(_dec, "DEC", alpha=0.0),
    _param(_dec, "DEC", alpha=-1.0),
    _param(_dec, "DEC", tol=1.5),
    _param(_dec, "DEC", update_interval=0),
    _param(_dec, "DEC", max_iter=-1),
    _param(_dec, "DEC", target="given"),
    _param(_dec, "DEC", init="random"),
    _param(_dec, "DEC", normalization="minmax"),
    _param(_dec, "DEC", pretrain="rbm"),
    _param(_dec, "DEC", finetune_epochs="all"),
    _param(_dec, "DEC", dropout=1.0),
    _param(_dec, "DEC", pretrain_corruption=1.0),
    _param(_n2d, "N2D", pretrain_corruption=-0.5),
    _param(_dcn, "DCN", pretrain_corruption="0.1"),
    _param(_dec, "DEC", optimizer="nope"),
    _param(_dec, "DEC", autoencoder_weights="missing.weights.h5"),
    _param(_dec, "DEC", callbacks="early_stopping"),
    _param(_dec, "DEC", image_shape=(28,)),
    Case(
        "DEC.fit",
        "init array of the wrong shape",
        lambda: _dec(init=np.zeros((3, 2))).fit(X),
        ValueError,
        r"shape \(2, 2\).*Received: init with shape \(3, 2\)",
    ),
    Case(
        "DEC.fit",
        "init array with NaN",
        lambda: _dec(init=np.full((2, 2), np.nan)).fit(X),
        ValueError,
        "finite initial centroids.*`init` should not contain NaN",
    ),
    Case(
        "DEC.predict",
        "called before fit",
        lambda: _dec().predict(X),
        NotFittedError,
        "This DEC instance is not fitted yet",
    ),
    _param(_idec, "IDEC", gamma=-1.0),
    _param(_dcn, "DCN", clustering_weight=-1.0),
    _param(_dcn, "DCN", centroid_update="em"),
    _param(_dcn, "DCN", initial_count=0.0),
    _param(_dcn, "DCN", l2=-0.1),
    _param(_dcn, "DCN", epochs=-1),
    _param(_n2d, "N2D", n_neighbors=1),
    _param(_n2d, "N2D", min_dist=-0.1),
    _param(_n2d, "N2D", n_components=0),
    _param(_n2d, "N2D", clusterer="dbscan"),
    _param(_n2d, "N2D", metric=3),
    Case(
        "N2D.fit",
        "fewer than 3 samples",
        lambda: _n2d().fit(X[:2]),
        ValueError,
        "at least 3 samples.*n_samples = 2",
    ),
    _param(_snnl_kmeans, "SNNLKMeans", temperature=0.0),
    _param(_snnl_kmeans, "SNNLKMeans", temperature=-1.0),
    _param(_snnl_kmeans, "SNNLKMeans", snnl_weight=0.0),
    _param(_snnl_kmeans, "SNNLKMeans", annealing_rate=-1.0),
    _param(_snnl_kmeans, "SNNLKMeans", distance="l1"),
    _param(_snnl_kmeans, "SNNLKMeans", n_labelled=1),
    Case(
        "SNNLKMeans.fit",
        "labels missing",
        lambda: _snnl_kmeans().fit(X),
        ValueError,
        "`y` should be given. Received: y=None",
    ),
    Case(
        "SNNLKMeans.fit",
        "labels of another length",
        lambda: _snnl_kmeans().fit(X, Y[:10]),
        ValueError,
        r"`y` should be a 1-D integer array.*shape \(10,\).*for 20 samples",
    ),
    Case(
        "SNNLKMeans.fit",
        "float labels",
        lambda: _snnl_kmeans().fit(X, Y.astype(float)),
        ValueError,
        r"`y` should be a 1-D integer array.*dtype float64",
    ),
    Case(
        "SNNLKMeans.fit",
        "labels with NaN",
        lambda: _snnl_kmeans().fit(X, np.where(Y == 0, np.nan, 1.0)),
        ValueError,
        "`y` should not contain NaN",
    ),
    Case(
        "SNNLKMeans.fit",
        "one class labelled",
        lambda: _snnl_kmeans().fit(X, np.where(Y == 0, -1, 1)),
        ValueError,
        r"`y` should hold at least 2 classes.*10 labelled samples of classes \[1\]",
    ),
    Case(
        "SNNLKMeans.fit",
        "n_labelled > labelled samples",
        lambda: _snnl_kmeans(n_labelled=50).fit(X, Y),
        ValueError,
        r"`n_labelled` should be <= the number of labelled samples \(20\).*n_labelled=50",
    ),
    # Layers.
    Case("ClusteringLayer", "n_clusters=0", lambda: ClusteringLayer(0), ValueError, "n_clusters=0"),
    Case("ClusteringLayer", "alpha=0", lambda: ClusteringLayer(2, alpha=0), ValueError, "alpha=0"),
    Case(
        "ClusteringLayer",
        "alpha=-1.0",
        lambda: ClusteringLayer(2, alpha=-1.0),
        ValueError,
        r"`alpha` should be a float > 0. Received: alpha=-1\.0",
    ),
    Case(
        "ClusteringLayer",
        "initial_centroids with NaN",
        lambda: ClusteringLayer(2, initial_centroids=np.full((2, 3), np.nan)),
        ValueError,
        "`initial_centroids` should not contain NaN",
    ),
    Case(
        "ClusteringLayer",
        "initial_centroids with other rows",
        lambda: ClusteringLayer(2, initial_centroids=np.zeros((3, 2))),
        ValueError,
        "`initial_centroids` should have `n_clusters` rows.*3 rows for n_clusters=2",
    ),
    Case(
        "ClusteringLayer",
        "3-D input",
        lambda: ClusteringLayer(2, name="clustering")(np.zeros((2, 3, 4), "float32")),
        ValueError,
        "expected ndim=2, found ndim=3",
    ),
    Case(
        "ClusteringLayer.set_centroids",
        "centroids of another shape",
        lambda: _built(ClusteringLayer(2), 3).set_centroids(np.zeros((2, 4))),
        ValueError,
        r"`centroids` should have shape \(2, 3\). Received: shape \(2, 4\)",
    ),
    Case(
        "CentroidDistances",
        "n_clusters='3'",
        lambda: CentroidDistances("3"),
        ValueError,
        "n_clusters='3'",
    ),
    Case(
        "CentroidDistances",
        "initial_centroids 1-D",
        lambda: CentroidDistances(2, initial_centroids=np.zeros(2)),
        ValueError,
        r"`initial_centroids` should have shape \(2, dim\)",
    ),
    Case(
        "CentroidDistances",
        "input of another width",
        lambda: _built(CentroidDistances(2, np.zeros((2, 2)), name="distances"), 2)(
            np.zeros((1, 3), "float32")
        ),
        ValueError,
        "expected axis -1 of input shape to have value 2",
    ),
    Case(
        "soft_assignment",
        "alpha=0.0",
        lambda: soft_assignment(np.zeros((2, 2)), np.ones((3, 2)), alpha=0.0),
        ValueError,
        r"`alpha` should be a float > 0. Received: alpha=0\.0",
    ),
    # Losses.
    Case(
        "kmeans_loss",
        "1-D embeddings",
        lambda: kmeans_loss(np.zeros(3), np.zeros((2, 3))),
        ValueError,
        r"`embeddings` and `centroids` should be 2-D.*embeddings.shape=\(3,\)",
    ),
    Case(
        "kmeans_loss",
        "widths differ",
        lambda: kmeans_loss(np.zeros((4, 3)), np.zeros((2, 2))),
        ValueError,
        r"should have the same width d.*embeddings.shape=\(4, 3\), centroids.shape=\(2, 2\)",
    ),
    Case(
        "KMeansLoss",
        "centroids with NaN",
        lambda: KMeansLoss(np.full((2, 2), np.nan)),
        ValueError,
        "`centroids` should not contain NaN",
    ),
    Case(
        "KMeansLoss",
        "centroids 1-D",
        lambda: KMeansLoss(np.zeros(3)),
        ValueError,
        r"`centroids` should have shape \(n_clusters, dim\).*\(3,\)",
    ),
    Case(
        "soft_nearest_neighbor_loss",
        "temperature=0.0",
        lambda: soft_nearest_neighbor_loss([0, 1], np.ones((2, 2)), temperature=0.0),
        ValueError,
        r"`temperature` should be a float > 0 or a scalar tensor.*temperature=0\.0",
    ),
    Case(
        "soft_nearest_neighbor_loss",
        "temperature=-1.0",
        lambda: soft_nearest_neighbor_loss([0, 1], np.ones((2, 2)), temperature=-1.0),
        ValueError,
        r"temperature=-1\.0",
    ),
    Case(
        "soft_nearest_neighbor_loss",
        "temperature=nan",
        lambda: soft_nearest_neighbor_loss([0, 1], np.ones((2, 2)), temperature=float("nan")),
        ValueError,
        "temperature=nan",
    ),
    Case(
        "soft_nearest_neighbor_loss",
        "distance='manhattan'",
        lambda: soft_nearest_neighbor_loss([0, 1], np.ones((2, 2)), distance="manhattan"),
        ValueError,
        "distance='manhattan'",
    ),
    Case(
        "soft_nearest_neighbor_loss",
        "labels missing",
        lambda: soft_nearest_neighbor_loss(None, np.ones((2, 2))),
        ValueError,
        "`labels` should be one class label per row of `features`. Received: labels=None",
    ),
    Case(
        "soft_nearest_neighbor_loss",
        "fewer labels than rows",
        lambda: soft_nearest_neighbor_loss([0, 1, 1], np.ones((4, 2))),
        ValueError,
        r"one label per row.*labels with shape \(3,\) for features with shape \(4, 2\)",
    ),
    Case(
        "soft_nearest_neighbor_loss",
        "labels 3-D",
        lambda: soft_nearest_neighbor_loss(np.zeros((2, 1, 1)), np.ones((2, 2))),
        ValueError,
        r"`labels` should have shape \(n,\), \(n, 1\) or one-hot.*\(2, 1, 1\)",
    ),
    Case(
        "soft_nearest_neighbor_loss",
        "features 1-D",
        lambda: soft_nearest_neighbor_loss([0, 1], np.ones(2)),
        ValueError,
        r"`features` should have shape \(n, \.\.\.\).*shape \(2,\)",
    ),
    Case(
        "SoftNearestNeighborLoss",
        "temperature=0",
        lambda: SoftNearestNeighborLoss(temperature=0),
        ValueError,
        "`temperature` should be a float > 0. Received: temperature=0",
    ),
    Case(
        "SoftNearestNeighborLoss",
        "temperature=True",
        lambda: SoftNearestNeighborLoss(temperature=True),
        ValueError,
        "temperature=True",
    ),
    Case(
        "SoftNearestNeighborLoss",
        "distance='l2'",
        lambda: SoftNearestNeighborLoss(distance="l2"),
        ValueError,
        "distance='l2'",
    ),
    Case(
        "DECLoss", "target='given'", lambda: DECLoss(target="given"), ValueError, "target='given'"
    ),
    Case(
        "dec_loss",
        "p and q of other shapes",
        lambda: dec_loss(np.full((4, 3), 1 / 3), Q),
        ValueError,
        r"`p` and `q` should have the same shape.*\(4, 3\).*\(4, 2\)",
    ),
    Case(
        "target_distribution",
        "q 1-D",
        lambda: target_distribution(np.full(4, 0.5)),
        ValueError,
        r"`q` should be 2-D.*shape \(4,\)",
    ),
    # Callbacks.
    Case(
        "BatchPosition",
        "start not a variable",
        lambda: BatchPosition(0),
        ValueError,
        r"`start` should be a scalar integer keras.Variable.*Received: start=0",
    ),
    Case(
        "BatchPosition",
        "start a float variable",
        lambda: BatchPosition(keras.Variable(0.0, name="start")),
        ValueError,
        r"`start` should be a scalar integer keras.Variable",
    ),
    Case(
        "TemperatureAnnealing",
        "initial_temperature=0.0",
        lambda: TemperatureAnnealing(initial_temperature=0.0),
        ValueError,
        r"`initial_temperature` should be a float > 0. Received: initial_temperature=0\.0",
    ),
    Case(
        "TemperatureAnnealing",
        "rate=-1",
        lambda: TemperatureAnnealing(rate=-1),
        ValueError,
        "`rate` should be a float >= 0. Received: rate=-1",
    ),
    Case(
        "TemperatureAnnealing",
        "temperature a float",
        lambda: TemperatureAnnealing(temperature=1.0),
        ValueError,
        r"`temperature` should be None or a `keras.Variable`. Received: temperature=1\.0",
    ),
    Case(
        "DECSelfTraining",
        "x 1-D",
        lambda: DECSelfTraining(np.zeros(4), 2),
        ValueError,
        r"`x` should be 2-D, \(n_samples, n_features\).*shape \(4,\)",
    ),
    Case(
        "DECSelfTraining",
        "x with NaN",
        lambda: DECSelfTraining(with_value(np.nan), 2),
        ValueError,
        "`x` should not contain NaN or inf.*1 non-finite",
    ),
    Case(
        "DECSelfTraining",
        "x a SciPy sparse matrix",
        lambda: DECSelfTraining(scipy.sparse.csr_matrix(X), 2),
        ValueError,
        r"`x` should be a dense array: SciPy sparse.*`x.toarray\(\)`",
    ),
    Case(
        "DECSelfTraining",
        "x of strings",
        lambda: DECSelfTraining(np.array([["a", "b"]] * 4), 2),
        ValueError,
        "`x` should hold numbers",
    ),
    Case(
        "DECSelfTraining",
        "n_clusters > samples",
        lambda: DECSelfTraining(X, 21),
        ValueError,
        r"`n_clusters` should be <= the number of samples.*n_clusters=21 with x of shape \(20, 3\)",
    ),
    Case(
        "DECSelfTraining",
        "update_interval=0",
        lambda: DECSelfTraining(X, 2, update_interval=0),
        ValueError,
        "update_interval=0",
    ),
    Case("DECSelfTraining", "tol=1.5", lambda: DECSelfTraining(X, 2, tol=1.5), ValueError, "tol"),
    Case(
        "DECSelfTraining",
        "max_iter=2.5",
        lambda: DECSelfTraining(X, 2, max_iter=2.5),
        ValueError,
        r"`max_iter` should be None or an integer >= 0. Received: max_iter=2\.5",
    ),
    Case("MuAdaptation", "verbose=2", lambda: MuAdaptation(verbose=2), ValueError, "verbose=2"),
    # Optimizers.
    Case(
        "LevenbergMarquardt",
        "learning_rate=0",
        lambda: LevenbergMarquardt(learning_rate=0),
        ValueError,
        "`learning_rate` should be a float > 0. Received: learning_rate=0",
    ),
    Case(
        "LevenbergMarquardt",
        "mu=nan",
        lambda: LevenbergMarquardt(mu=float("nan")),
        ValueError,
        "mu=nan",
    ),
    Case(
        "LevenbergMarquardt",
        "mu_increase=1",
        lambda: LevenbergMarquardt(mu_increase=1),
        ValueError,
        "`mu_increase` should be a float > 1",
    ),
    Case(
        "LevenbergMarquardt",
        "max_attempts=2.0",
        lambda: LevenbergMarquardt(max_attempts=2.0),
        ValueError,
        r"max_attempts=2\.0",
    ),
    Case(
        "LevenbergMarquardt",
        "mu_rule='adam'",
        lambda: LevenbergMarquardt(mu_rule="adam"),
        ValueError,
        "mu_rule='adam'",
    ),
    Case(
        "LevenbergMarquardt",
        "jacobian_chunk_rows=True",
        lambda: LevenbergMarquardt(jacobian_chunk_rows=True),
        ValueError,
        "jacobian_chunk_rows=True",
    ),
    Case(
        "LevenbergMarquardt",
        "curvature_batch_size=0",
        lambda: LevenbergMarquardt(curvature_batch_size=0),
        ValueError,
        "curvature_batch_size=0",
    ),
    Case(
        "GaussNewton",
        "curvature_batch_size=32 (mu 0)",
        lambda: GaussNewton(curvature_batch_size=32),
        ValueError,
        "curvature_batch_size=32, mu=0.0, mu_rule='fixed'",
    ),
    # Metrics.
    Case(
        "clustering_accuracy",
        "labels missing",
        lambda: clustering_accuracy(None, [0, 1]),
        ValueError,
        "`y_true` should be an array. Received: y_true=None",
    ),
    Case(
        "clustering_accuracy",
        "labels 2-D",
        lambda: clustering_accuracy(np.zeros((2, 2)), [0, 1]),
        ValueError,
        r"`y_true` should be a 1-D vector of labels.*shape \(2, 2\)",
    ),
    Case(
        "normalized_mutual_info",
        "labels with NaN",
        lambda: normalized_mutual_info([0, 1], [0.0, np.nan]),
        ValueError,
        "`y_pred` should not contain NaN or inf",
    ),
    Case(
        "adjusted_rand_index",
        "lengths differ",
        lambda: adjusted_rand_index([0, 1, 1], [0, 1]),
        ValueError,
        r"len\(y_true\)=3, len\(y_pred\)=2",
    ),
    Case(
        "adjusted_rand_index",
        "labels a SciPy sparse matrix",
        lambda: adjusted_rand_index(scipy.sparse.csr_matrix([[0, 1]]), [0, 1]),
        ValueError,
        "`y_true` should be a dense array: SciPy sparse",
    ),
    Case(
        "linear_sum_assignment",
        "cost 1-D",
        lambda: linear_sum_assignment(np.zeros(3)),
        ValueError,
        r"`cost` should be a matrix with a static shape. Received: shape \(3,\)",
    ),
    Case(
        "ClusteringAccuracy",
        "n_clusters=0",
        lambda: ClusteringAccuracy(0),
        ValueError,
        "`n_clusters` should be an integer >= 1. Received: n_clusters=0",
    ),
    Case(
        "NormalizedMutualInformation",
        "n_classes=2.5",
        lambda: NormalizedMutualInformation(2, n_classes=2.5),
        ValueError,
        r"`n_classes` should be None or an integer >= 1. Received: n_classes=2\.5",
    ),
    Case(
        "AdjustedRandIndex.update_state",
        "labels missing",
        lambda: AdjustedRandIndex(2).update_state(None, Q),
        ValueError,
        "`y_true` should hold one integer class label per sample. Received: y_true=None",
    ),
    Case(
        "ClusteringAccuracy.update_state",
        "q of another width",
        lambda: ClusteringAccuracy(3).update_state(np.zeros(4), Q),
        ValueError,
        r"`y_pred` should be the soft assignment q of shape \(batch, 3\).*\(4, 2\)",
    ),
    # Models.
    Case(
        "build_autoencoder",
        "input_dim=0",
        lambda: build_autoencoder(0),
        ValueError,
        "`input_dim` should be an integer >= 1. Received: input_dim=0",
    ),
    Case(
        "build_autoencoder",
        "dims=()",
        lambda: build_autoencoder(3, dims=()),
        ValueError,
        r"`dims` should be a non-empty sequence of integers >= 1. Received: dims=\(\)",
    ),
    Case(
        "pretrain_autoencoder",
        "x with NaN",
        lambda: pretrain_autoencoder(build_autoencoder(3, dims=(2,))[0], with_value(np.nan)),
        ValueError,
        "`x` should not contain NaN",
    ),
    Case(
        "pretrain_autoencoder",
        "x of another width",
        lambda: pretrain_autoencoder(build_autoencoder(4, dims=(2,))[0], X),
        ValueError,
        r"`x` should have the autoencoder's 4 features. Received: x with shape \(20, 3\)",
    ),
    Case(
        "pretrain_autoencoder",
        "dropout=1.0",
        lambda: pretrain_autoencoder(build_autoencoder(3, dims=(2,))[0], X, dropout=1.0),
        ValueError,
        r"`dropout` should be a float in \[0, 1\). Received: dropout=1\.0",
    ),
    Case(
        "pretrain_autoencoder",
        "corruption=1.0",
        lambda: pretrain_autoencoder(build_autoencoder(3, dims=(2,))[0], X, corruption=1.0),
        ValueError,
        r"`corruption` should be a float in \[0, 1\). Received: corruption=1\.0",
    ),
    Case(
        "DeepClusteringNetwork",
        "n_clusters=0",
        lambda: DeepClusteringNetwork(build_autoencoder(3, dims=(2,))[0], "encoder_0", 0),
        ValueError,
        "n_clusters=0",
    ),
    Case(
        "SoftNearestNeighborModel",
        "temperature=0",
        lambda: SoftNearestNeighborModel(build_autoencoder(3, dims=(2,))[0], "encoder_0", 1, 0),
        ValueError,
        "temperature=0",
    ),
    Case(
        "SoftNearestNeighborModel.fit",
        "labels missing",
        lambda: _snnl_model().fit(X, epochs=1, verbose=0),
        ValueError,
        "needs class labels to train.*Received: y=None",
    ),
    # Datasets.
    Case(
        "load_mnist",
        "subset='validation'",
        lambda: load_mnist(subset="validation"),
        ValueError,
        r"`subset` should be one of \('test', 'train', 'all'\). Received: subset='validation'",
    ),
    Case(
        "load_mnist",
        "path=3",
        lambda: load_mnist(path=3),
        ValueError,
        "`path` should be None or a file or folder path.*Received: path=3",
    ),
    Case(
        "load_mnist",
        "path that does not exist",
        lambda: load_mnist(path="nowhere.npz"),
        FileNotFoundError,
        r"nowhere\.npz.*`path` argument",
    ),
]


def _built(layer, width):
    layer.build((None, width))
    return layer


def _snnl_model():
    autoencoder, _ = build_autoencoder(3, dims=(2,))
    model = SoftNearestNeighborModel(autoencoder, "encoder_0")
    model.compile("adam", "mse")
    return model


@pytest.fixture(autouse=True)
def _seed_and_clear():
    """No training here: skip the session clearing of `conftest.py`, which dominates the time."""
    yield


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.entry}: {case.bad}")
def test_bad_input_raises_naming_it(case):
    with pytest.raises(case.error, match=case.match):
        case.call()


def test_every_public_entry_point_has_rows():
    import keras_cluster

    entries = {case.entry.split(".")[0] for case in CASES}
    for module in ("estimators", "layers", "losses", "callbacks", "metrics", "optimizers"):
        public = set(getattr(keras_cluster, module).__all__)
        # GaussNewton and Newton are LevenbergMarquardt with fixed settings (its `__init__`).
        for name in public - {
            "BaseDeepClusterer",
            "GaussNewton",
            "Newton",
            "FitUncertainty",
            "fit_uncertainty",
        }:
            assert name in entries, f"no bad-input row for keras_cluster.{module}.{name}"
    assert {"build_autoencoder", "load_mnist"} <= entries


@pytest.mark.parametrize("estimator", [DEC, IDEC, DCN, N2D, SNNLKMeans])
def test_every_estimator_parameter_has_constraints(estimator):
    """As scikit-learn's `check_param_validation`: one declaration per constructor argument."""
    assert set(estimator._parameter_constraints) == set(estimator().get_params(deep=False))


def test_dataframes_and_integer_arrays_are_taken_as_scikit_learn_takes_them():
    frame = pd.DataFrame((X * 10).astype(np.int64), columns=["a", "b", "c"])
    estimator = DEC(n_clusters=2, **TINY, max_iter=2, random_state=0).fit(frame)
    assert list(estimator.feature_names_in_) == ["a", "b", "c"]
    assert estimator.labels_.shape == (20,)
    np.testing.assert_array_equal(estimator.predict(frame), estimator.labels_)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(estimator.predict(frame.to_numpy()), estimator.labels_)
    assert clustering_accuracy(pd.Series(Y), Y) == 1.0
    assert DECSelfTraining(frame, 2).source.array.dtype == np.float32
    assert float(kmeans_loss(np.zeros((2, 2), np.int32), np.ones((1, 2)))) == 2.0


def test_out_of_range_labels_make_the_keras_metrics_nan():
    """In-graph code cannot raise on values: a label outside [0, n_classes) makes it NaN."""
    for metric in (ClusteringAccuracy(2), NormalizedMutualInformation(2), AdjustedRandIndex(2)):
        metric.update_state(np.array([0, 1, 2, 1]), Q)
        assert np.isnan(float(metric.result()))


def render_table():
    """The markdown page of `CASES`: entry point, bad input and the error raised."""
    lines = [
        "# Bad input",
        "",
        "What each public entry point raises on bad input. Every row is a test",
        "(`tests/test_bad_input.py`); the message names the argument and the value received.",
        "Arguments are checked by one mechanism, `keras_cluster.validation` (declared",
        "constraints, Keras-form messages), before any training starts.",
        "",
        "Accepted as scikit-learn accepts them: pandas DataFrames (their column names become",
        "`feature_names_in_`) and integer arrays. Refused: SciPy sparse matrices (the models are",
        "dense; convert with `.toarray()`). In a compiled Keras step values cannot raise: a",
        "label outside `[0, n_classes)` makes the clustering metrics NaN instead.",
        "",
        "| Entry point | Bad input | Error |",
        "| --- | --- | --- |",
    ]
    for case in CASES:
        try:
            case.call()
        except case.error as error:
            message = " ".join(str(error).split())
            message = re.sub(r"0x[0-9a-f]+", "0x...", message)
            message = message if len(message) <= 300 else message[:297] + "..."
            message = message.replace("|", "\\|")
            lines.append(f"| `{case.entry}` | {case.bad} | `{type(error).__name__}`: {message} |")
        else:
            raise AssertionError(f"{case.entry} with {case.bad} raised nothing")
    return "\n".join(lines) + "\n"


def test_docs_page_is_the_table():
    assert DOCS_PAGE.read_text() == render_table(), (
        "docs/bad_input.md differs from tests/test_bad_input.py: regenerate it with "
        "`python -m tests.test_bad_input > docs/bad_input.md`"
    )


if __name__ == "__main__":
    keras.utils.set_random_seed(0)
    sys.stdout.write(render_table())
