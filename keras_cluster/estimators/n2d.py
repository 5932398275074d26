"""N2D (McConville et al. 2020): autoencoder, UMAP of its embedding, then k-means or a GMM."""

import keras
import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from keras_cluster import defaults
from keras_cluster.api_export import keras_cluster_export
from keras_cluster.estimators.base import PRETRAINING_CONSTRAINTS, WEIGHTS_FILE, BaseDeepClusterer
from keras_cluster.layers.student_t import soft_assignment
from keras_cluster.validation import (
    NON_NEGATIVE,
    POSITIVE_INT,
    InstanceOf,
    Interval,
    Options,
    Satisfies,
)

CLUSTERERS = ("kmeans", "gmm")
# UMAP's graph needs at least 2 neighbours besides each point itself.
MIN_SAMPLES = 3
UMAP_EXTRA = 'pip install "keras-cluster[umap]"'


def import_umap():
    """The `umap` module (umap-learn), or an ImportError that names the extra to install."""
    try:
        import umap
    except ImportError as error:
        raise ImportError(
            f"N2D needs umap-learn, an optional dependency: {UMAP_EXTRA} "
            "(or pip install umap-learn)."
        ) from error
    return umap


def manifold_clustering(
    embedding,
    n_clusters,
    n_components=None,
    n_neighbors=defaults.UMAP_N_NEIGHBORS,
    min_dist=0.0,
    metric="euclidean",
    clusterer="kmeans",
    n_init=10,
    random_state=None,
):
    """N2D's clustering of an embedding: UMAP to `n_components` dimensions, then a clusterer.

    Args:
        embedding: array `(n_samples, d)`, e.g. `encoder.predict(x)`.
        n_clusters: number of clusters.
        n_components: UMAP dimensions (None: `n_clusters`).
        n_neighbors, min_dist, metric: UMAP's (capped at `n_samples - 1` neighbours).
        clusterer: `"kmeans"` or `"gmm"` (full covariance).
        n_init: restarts of the clusterer.
        random_state: seed of UMAP (single-threaded when set) and of the clusterer.

    Returns:
        `(umap_model, coordinates, fitted_clusterer)`.
    """
    umap = import_umap()
    umap_model = umap.UMAP(
        n_components=n_components or n_clusters,
        n_neighbors=min(n_neighbors, embedding.shape[0] - 1),
        min_dist=min_dist,
        metric=metric,
        random_state=random_state,
        n_jobs=1 if random_state is not None else -1,
    )
    coordinates = umap_model.fit_transform(embedding).astype(np.float32)
    if clusterer == "kmeans":
        fitted = KMeans(n_clusters, n_init=n_init, random_state=random_state)
    else:
        fitted = GaussianMixture(
            n_clusters, covariance_type="full", n_init=n_init, random_state=random_state
        )
    return umap_model, coordinates, fitted.fit(coordinates)


@keras_cluster_export("keras_cluster.estimators.N2D")
class N2D(BaseDeepClusterer):
    """N2D: cluster the UMAP manifold of an autoencoder's embedding.

    1. Pretrain the autoencoder `X-dims-X` exactly as `DEC` does (same defaults, normalization,
       `augmentation` and `autoencoder_weights`, so one pretraining can serve both).
    2. UMAP (`n_components` dimensions, default `n_clusters`; `n_neighbors=30`, `min_dist=0`)
       of the embedding `z = encoder(X)`: the local manifold structure the autoencoder learned
       becomes clusters that a simple clusterer separates.
    3. `clusterer="kmeans"` (default, `kmeans_n_init` restarts) or `"gmm"` (a full-covariance
       Gaussian mixture, N2D's published choice) on the manifold coordinates.

    `predict` maps new rows through the encoder, UMAP's `transform` and the clusterer;
    `transform` returns the manifold coordinates, where `cluster_centers_` live.
    `predict_proba` is the mixture's responsibilities (`"gmm"`) or, for k-means, DEC's Student's
    t soft assignment `q_ij ∝ (1 + |u_i - mu_j|^2)^-1` to the centres. UMAP is not a Keras layer,
    so there is no end-to-end `model_`: the Keras parts are `encoder_` and `autoencoder_`.

    `fit` also takes a `tf.data.Dataset` or `keras.utils.PyDataset` of row batches (the same
    rows in the same order each pass): the autoencoder reads them batch by batch, but UMAP needs
    the whole embedding in memory, `n_samples × dims[-1]` values (X itself is never held).

    Needs umap-learn: `pip install "keras-cluster[umap]"`.

    Args:
        n_clusters: number of clusters.
        dims: the pretraining's, as `DEC`.
        normalization: the pretraining's, as `DEC`.
        pretrain: the pretraining's, as `DEC`.
        autoencoder_weights: the pretraining's, as `DEC`.
        pretrain_epochs: the pretraining's, as `DEC`.
        finetune_epochs: the pretraining's, as `DEC`.
        pretrain_optimizer: the pretraining's, as `DEC`.
        dropout: the pretraining's, as `DEC`.
        pretrain_corruption: the pretraining's, as `DEC`.
        batch_size: the pretraining's, as `DEC`.
        augmentation: the pretraining's, as `DEC`.
        image_shape: the pretraining's, as `DEC`.
        n_components: UMAP dimensions (None: `n_clusters`, as N2D).
        n_neighbors: UMAP neighbourhood size (30; N2D used 20, which measured lower on digits,
            see `keras_cluster.defaults.UMAP_N_NEIGHBORS`).
        min_dist: UMAP minimum distance (0, as N2D: tight clumps).
        metric: UMAP metric on the embedding.
        clusterer: `"kmeans"` or `"gmm"`.
        kmeans_n_init: restarts of k-means (and of the mixture's initialisation).
        backup_dir: optional folder for a backup of the pretraining, as `DEC`'s: a fit killed
            and started again resumes it. UMAP and the clusterer are not backed up (they run
            again). Removed when the fit succeeds.
        random_state: seed of Keras, UMAP and the clusterer; with it UMAP runs single-threaded,
            as umap-learn requires for reproducibility. None leaves the seeds alone.
        verbose: 0 silent, 1 stage summaries, 2 Keras progress too.

    Attributes:
        labels_: hard assignment of each training sample.
        cluster_centers_: centres `(n_clusters, n_components)`, in the manifold.
        encoder_: Keras model `X -> z`.
        autoencoder_: Keras model `X -> X_hat`.
        umap_: the fitted `umap.UMAP`.
        clusterer_: the fitted `KMeans` or `GaussianMixture`.
        embedding_: the training rows' manifold coordinates.
        fit_time_: seconds spent in `fit`.

    Example:

    >>> from keras_cluster.datasets import load_digits
    >>> X, y = load_digits()
    >>> n2d = N2D(n_clusters=10, dims=(32, 10), finetune_epochs=3, random_state=0,
    ...           verbose=0).fit(X[:500])
    >>> n2d.labels_.shape, n2d.transform(X[:2]).shape, n2d.predict(X[:2]).shape
    ((500,), (2, 10), (2,))

    References:
        McConville, Santos-Rodriguez, Piechocki & Craddock, "N2D: (Not Too) Deep Clustering via
        Clustering the Local Manifold of an Autoencoded Embedding", ICPR 2020.
    """

    def __init__(
        self,
        n_clusters=10,
        *,
        dims=defaults.DIMS,
        normalization=defaults.NORMALIZATION,
        pretrain=defaults.PRETRAIN,
        autoencoder_weights=None,
        pretrain_epochs=defaults.LAYERWISE_EPOCHS,
        finetune_epochs=defaults.FINETUNE_EPOCHS,
        pretrain_optimizer=None,
        dropout=defaults.DROPOUT,
        pretrain_corruption=defaults.PRETRAIN_CORRUPTION,
        batch_size=defaults.BATCH_SIZE,
        augmentation=None,
        image_shape=None,
        n_components=None,
        n_neighbors=defaults.UMAP_N_NEIGHBORS,
        min_dist=0.0,
        metric="euclidean",
        clusterer="kmeans",
        kmeans_n_init=defaults.KMEANS_N_INIT,
        backup_dir=None,
        random_state=None,
        verbose=1,
    ):
        self.n_clusters = n_clusters
        self.dims = dims
        self.normalization = normalization
        self.pretrain = pretrain
        self.autoencoder_weights = autoencoder_weights
        self.pretrain_epochs = pretrain_epochs
        self.finetune_epochs = finetune_epochs
        self.pretrain_optimizer = pretrain_optimizer
        self.dropout = dropout
        self.pretrain_corruption = pretrain_corruption
        self.batch_size = batch_size
        self.augmentation = augmentation
        self.image_shape = image_shape
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.clusterer = clusterer
        self.kmeans_n_init = kmeans_n_init
        self.backup_dir = backup_dir
        self.random_state = random_state
        self.verbose = verbose

    _fitted_attribute = "clusterer_"
    _streams = True
    _parameter_constraints = {
        **BaseDeepClusterer._parameter_constraints,
        **PRETRAINING_CONSTRAINTS,
        "autoencoder_weights": [None, WEIGHTS_FILE],
        "n_components": [None, POSITIVE_INT],
        "n_neighbors": [Interval("int", 2, None, closed="left")],
        "min_dist": [NON_NEGATIVE],
        "metric": [
            InstanceOf(str, description="a UMAP metric name"),
            Satisfies(callable, "a callable"),
        ],
        "clusterer": [Options(*CLUSTERERS)],
    }

    def _validate_params(self):
        super()._validate_params()
        self._validate_pretraining_params()

    def _fit(self, source):
        if source.n_rows < MIN_SAMPLES:
            raise ValueError(
                f"N2D needs at least {MIN_SAMPLES} samples (UMAP's neighbourhood graph). "
                f"Received: n_samples = {source.n_rows}"
            )
        import_umap()  # before the pretraining: a missing extra fails at once
        self._build_and_pretrain(source, weights=self.autoencoder_weights)
        # UMAP needs the whole embedding, n_samples x dims[-1], in memory (X is never held).
        embedding = self._predict_rows(self.encoder_, source)
        self._log(f"UMAP of the embedding to {self.n_components or self.n_clusters} dimensions")
        self.umap_, self.embedding_, self.clusterer_ = manifold_clustering(
            embedding,
            self.n_clusters,
            n_components=self.n_components,
            n_neighbors=self.n_neighbors,
            min_dist=self.min_dist,
            metric=self.metric,
            clusterer=self.clusterer,
            n_init=self.kmeans_n_init,
            random_state=self.random_state,
        )
        centers = getattr(self.clusterer_, "cluster_centers_", None)
        if centers is None:
            centers = self.clusterer_.means_
        self.cluster_centers_ = centers.astype(np.float32)
        self.labels_ = self.clusterer_.predict(self.embedding_).astype(np.int64)
        self._log(
            f"Done: {self.clusterer} on the manifold, cluster sizes "
            f"{np.bincount(self.labels_, minlength=self.n_clusters).tolist()}"
        )

    def transform(self, X):
        """The manifold coordinates `umap.transform(encoder(X))`, `(n_samples, n_components)`."""
        X = self._validated(X)
        embedding = self.encoder_.predict(X, batch_size=self._predict_batch_size, verbose=0)
        return self.umap_.transform(embedding).astype(np.float32)

    def predict(self, X):
        """Cluster of each row: the clusterer's label of its manifold coordinates."""
        coordinates = self.transform(X)  # checks that the estimator is fitted
        return self.clusterer_.predict(coordinates).astype(np.int64)

    def predict_proba(self, X):
        """Soft assignments `(n_samples, n_clusters)`: GMM responsibilities or Student's t q."""
        coordinates = self.transform(X)
        if self.clusterer == "gmm":
            return self.clusterer_.predict_proba(coordinates)
        q = soft_assignment(
            coordinates.astype(np.float64), self.cluster_centers_.astype(np.float64)
        )
        return keras.ops.convert_to_numpy(q)
