"""SNNL-disentangled autoencoder followed by k-means (Agarap & Azcarraga 2020), sklearn style."""

import keras
import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils.validation import _num_samples

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.callbacks.temperature_annealing import TemperatureAnnealing
from keras_cluster.estimators.base import CALLBACKS, BaseDeepClusterer, check_features
from keras_cluster.estimators.nearest_centroid import NearestCentroidMixin
from keras_cluster.layers.centroid_distances import CentroidDistances
from keras_cluster.losses.snnl import DISTANCES
from keras_cluster.models.autoencoder import DEFAULT_DIMS, fresh_optimizer
from keras_cluster.models.prebuilt_optimizer import compile_prebuilt
from keras_cluster.models.snnl import LABELS, TARGET
from keras_cluster.models.snnl_autoencoder import build_snnl_autoencoder
from keras_cluster.validation import (
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    OPTIMIZER,
    POSITIVE,
    POSITIVE_INT,
    Interval,
    Options,
    SequenceOf,
    check_array,
)


@keras_cluster_export("keras_cluster.estimators.SNNLKMeans")
class SNNLKMeans(NearestCentroidMixin, BaseDeepClusterer):
    """Autoencoder trained with SNNL on its code (labelled subset), then k-means on the codes.

    1. Train `X-dims-X` on `mse(x, x_hat) + snnl_weight * SNNL(y, z, T)` for `epochs`, T annealed
       as `temperature / (1 + epoch)^annealing_rate` (0 keeps it fixed), cosine distance by
       default. SNNL sees only the labelled samples: `y` < 0 marks unlabelled ones, and
       `n_labelled` keeps that many labels (drawn at random) and hides the rest.
    2. k-means (`n_init=kmeans_n_init`) on the codes gives `labels_` and `cluster_centers_`.

    `fit(X, y)` needs labels (it is semi-supervised); `predict` assigns new samples to the
    nearest centroid in the code space.

    Args:
        n_clusters: number of clusters.
        dims: encoder widths (the paper: 500, 500, 2000, d).
        snnl_weight: weight of SNNL (> 0).
        temperature: initial temperature (> 0).
        annealing_rate: exponent of the annealing (>= 0; 0.55 in the paper).
        distance: `"cosine"` or `"euclidean"`.
        n_labelled: number of labels kept (None: all given labels).
        l2: L2 factor of the kernel regularizers (>= 0; 0 = none).
        optimizer: default Adam(1e-3).
        batch_size: mini-batch size.
        epochs: training epochs.
        kmeans_n_init: k-means restarts.
        callbacks: extra Keras callbacks.
        random_state: seed; None leaves the seeds alone.
        verbose: 0 silent, 1 summaries, 2 Keras progress too.

    Attributes:
        labels_: hard assignment of each training sample.
        cluster_centers_: centroids in the embedding.
        model_: Keras model `X -> squared distances` to the centroids.
        encoder_: Keras model `X -> z`.
        autoencoder_: Keras model `X -> X_hat`.
        network_: the trained `SoftNearestNeighborModel`.
        kmeans_: the k-means fitted on the trained embedding.
        history_: the training `History`.
        labelled_mask_: the samples whose label SNNL used.
        fit_time_: seconds spent in `fit`.

    Example:

    >>> from keras_cluster.datasets import load_digits
    >>> X, y = load_digits()
    >>> est = SNNLKMeans(10, dims=(32, 10), epochs=1, n_labelled=100, verbose=0)
    >>> est.fit(X[:500], y[:500]).labels_.shape
    (500,)

    References:
        Agarap & Azcarraga, "Improving k-Means Clustering Performance with Disentangled Internal
        Representations", IJCNN 2020.
    """

    def __init__(
        self,
        n_clusters=10,
        *,
        dims=DEFAULT_DIMS,
        snnl_weight=1.0,
        temperature=1.0,
        annealing_rate=0.55,
        distance="cosine",
        n_labelled=None,
        l2=0.0,
        optimizer=None,
        batch_size=256,
        epochs=20,
        kmeans_n_init=20,
        callbacks=None,
        random_state=None,
        verbose=1,
    ):
        self.n_clusters = n_clusters
        self.dims = dims
        self.snnl_weight = snnl_weight
        self.temperature = temperature
        self.annealing_rate = annealing_rate
        self.distance = distance
        self.n_labelled = n_labelled
        self.l2 = l2
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.epochs = epochs
        self.kmeans_n_init = kmeans_n_init
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    _parameter_constraints = {
        **BaseDeepClusterer._parameter_constraints,
        "dims": [SequenceOf(POSITIVE_INT)],
        "snnl_weight": [POSITIVE],
        "temperature": [POSITIVE],
        "annealing_rate": [NON_NEGATIVE],
        "distance": [Options(*DISTANCES)],
        "n_labelled": [None, Interval("int", 2, None, closed="left")],
        "l2": [NON_NEGATIVE],
        "optimizer": [None, OPTIMIZER],
        "epochs": [NON_NEGATIVE_INT],
        "kmeans_n_init": [POSITIVE_INT],
        "callbacks": [None, CALLBACKS],
    }

    def fit(self, X, y=None):
        """Fit on `X` with class labels `y` (`(n_samples,)` integers, < 0 = unlabelled)."""
        check_features(X)
        if y is None:
            raise ValueError("SNNLKMeans needs labels: `y` should be given. Received: y=None")
        y = check_array("y", y, ndim=1)
        if not np.issubdtype(y.dtype, np.integer) or len(y) != _num_samples(X):
            raise ValueError(
                "`y` should be a 1-D integer array with one label per sample of `X`. "
                f"Received: y with shape {y.shape} and dtype {y.dtype} for {_num_samples(X)} "
                "samples"
            )
        classes = np.unique(y[y >= 0])
        if len(classes) < 2:
            raise ValueError(
                "`y` should hold at least 2 classes among its labelled samples (labels >= 0; "
                f"< 0 marks unlabelled): SNNL compares classes. Received: y with "
                f"{int(np.sum(y >= 0))} labelled samples of classes {classes.tolist()[:10]}"
            )
        self._fit_labels = y
        try:
            return super().fit(X)
        finally:
            del self._fit_labels

    def _labelled_mask(self, y):
        labelled = y >= 0
        if self.n_labelled is not None:
            if self.n_labelled > labelled.sum():
                raise ValueError(
                    "`n_labelled` should be <= the number of labelled samples "
                    f"({int(labelled.sum())}). Received: n_labelled={self.n_labelled}"
                )
            rng = np.random.default_rng(self.random_state)
            keep = rng.choice(np.flatnonzero(labelled), size=self.n_labelled, replace=False)
            labelled = np.zeros_like(labelled)
            labelled[keep] = True
        return labelled

    def _fit(self, source):
        X = source.array
        self.labelled_mask_ = self._labelled_mask(self._fit_labels)
        labels = np.where(self.labelled_mask_, self._fit_labels, -1)
        regularizer = keras.regularizers.L2(self.l2) if self.l2 else None
        self.network_, self.encoder_ = build_snnl_autoencoder(
            X.shape[1],
            dims=tuple(self.dims),
            weight=float(self.snnl_weight),
            temperature=float(self.temperature),
            distance=self.distance,
            kernel_regularizer=regularizer,
        )
        self.autoencoder_ = self.network_.base_model
        compile_prebuilt(
            self.network_,
            optimizer=fresh_optimizer(
                self.optimizer, lambda: keras.optimizers.Adam(learning_rate=1e-3)
            ),
            loss="mse",
        )
        annealing = TemperatureAnnealing(
            initial_temperature=float(self.temperature), rate=float(self.annealing_rate)
        )
        self._log(
            f"Training the SNNL autoencoder: {self.epochs} epochs, "
            f"{int(self.labelled_mask_.sum())} labelled of {X.shape[0]}"
        )
        self.history_ = self.network_.fit(
            X,
            {TARGET: X, LABELS: labels},
            batch_size=self.batch_size,
            epochs=self.epochs,
            callbacks=[annealing, *(self.callbacks or [])],
            verbose=self._keras_verbose,
        )
        embedding = self.encoder_.predict(X, batch_size=self._predict_batch_size, verbose=0)
        self.kmeans_ = KMeans(
            self.n_clusters, n_init=self.kmeans_n_init, random_state=self.random_state
        ).fit(embedding)
        self.cluster_centers_ = self.kmeans_.cluster_centers_.astype(np.float32)
        head = CentroidDistances(
            self.n_clusters,
            initial_centroids=self.cluster_centers_,
            trainable_centroids=False,
            name="clustering",
        )
        self.model_ = keras.Model(
            self.encoder_.input, head(self.encoder_.output), name="snnl_kmeans"
        )
        self.labels_ = self.kmeans_.labels_.astype(np.int64)
        self._log(f"k-means on the codes: inertia {self.kmeans_.inertia_:.4g}")
