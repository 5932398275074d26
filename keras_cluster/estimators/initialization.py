"""Where the centroids of the centroid-based estimators (DEC, IDEC, DCN) start: the `init` argument.

- `"kmeans"` (the papers): k-means with `kmeans_n_init` restarts on the pretrained embedding.
- `"gmm"`: a Gaussian mixture with full covariances fitted on the embedding, started from that
  k-means (`gaussian_mixture_start`); the centroids are the means, in the embedding, of the
  partition it gives. Each cluster may take its own shape and size, where k-means cuts the
  embedding into cells of one shape.
- `"manifold"`: the centroids, in the embedding, of N2D's UMAP + k-means partition of the
  embedding (needs the umap extra). The clustering stage then starts from N2D's partition.
- an array `(n_clusters, dims[-1])`: the initial centroids themselves.

Each estimator pretrains (or loads `autoencoder_weights`) first; with `backup_dir` the chosen
centroids are checkpointed (`BaseDeepClusterer._initialization`).
"""

import warnings

import keras
import numpy as np
from sklearn.mixture import GaussianMixture

from keras_cluster.estimators.n2d import import_umap, manifold_clustering
from keras_cluster.losses.kmeans import nearest_centroid
from keras_cluster.validation import Options, Satisfies, check_array

INITS = ("kmeans", "gmm", "manifold")


def _is_array_like(value):
    return not isinstance(value, str) and np.ndim(value) > 0


# An array is checked against `n_clusters` and `dims` in `CentroidInitMixin._validate_init`.
INIT_CONSTRAINTS = {
    "init": [Options(*INITS), Satisfies(_is_array_like, "an array of initial centroids")],
}


class CentroidInitMixin:
    """`init` for a `BaseDeepClusterer` with `autoencoder_weights`, `dims` and `kmeans_n_init`."""

    def _validate_init(self):
        if isinstance(self.init, str):
            return
        expected = (self.n_clusters, tuple(self.dims)[-1])
        try:
            centroids = check_array("init", self.init)
        except ValueError as error:
            raise ValueError(
                f"`init` as an array should hold finite initial centroids of shape {expected} "
                f"(n_clusters, dims[-1]). {error}"
            ) from error
        if centroids.shape != expected:
            raise ValueError(
                f"`init` as an array should hold finite initial centroids of shape {expected} "
                f"(n_clusters, dims[-1]). Received: init with shape {centroids.shape} and dtype "
                f"{centroids.dtype}"
            )

    def _initial_centroids(self, source, kernel_regularizer=None):
        """Pretrain (or load `autoencoder_weights`), then the centroids `init` asks for.

        Sets `init_labels_` (and `kmeans_` with `init="kmeans"` or `"gmm"`, and
        `gaussian_mixture_` with `"gmm"`).
        """
        self.__dict__.pop("gaussian_mixture_", None)  # a previous fit's, with another init
        if isinstance(self.init, str) and self.init == "gmm":
            self.gaussian_mixture_ = None  # stays None when restored from `backup_dir`
        if isinstance(self.init, str) and self.init == "manifold":
            import_umap()  # before the pretraining: a missing extra fails at once
        self._build_and_pretrain(
            source, kernel_regularizer=kernel_regularizer, weights=self.autoencoder_weights
        )
        if isinstance(self.init, str) and self.init == "kmeans":
            return self._initialization(source, self._kmeans_initialization)
        if isinstance(self.init, str) and self.init == "gmm":
            return self._initialization(source, self._mixture_initialization)
        return self._initialization(source, self._given_initialization)

    def _mixture_initialization(self, source):
        """`init="gmm"`: the partition of a Gaussian mixture started from k-means's centroids."""
        embedding = self._predict_rows(self.encoder_, source)
        kmeans_centroids, kmeans_labels = self._kmeans_initialization(source, embedding)
        sample = self._clustering_sample(source, embedding)
        mixture, labels = gaussian_mixture_start(
            embedding, sample, kmeans_centroids, self.random_state
        )
        self.gaussian_mixture_ = mixture
        if mixture is None:
            return kmeans_centroids, kmeans_labels
        # A component that takes no row keeps its mean.
        centroids = partition_means(
            embedding.astype(np.float64), labels, self.n_clusters, empty=mixture.means_
        )
        moved = float(np.mean(labels != kmeans_labels))
        self._log(f"Gaussian mixture from the k-means start: {moved:.1%} of the rows moved")
        return centroids.astype(np.float32), labels

    def _given_initialization(self, source):
        """`init="manifold"` or an array: the centroids and the partition they induce."""
        embedding = self._predict_rows(self.encoder_, source)
        if isinstance(self.init, str):
            _, _, clusterer = manifold_clustering(
                embedding,
                self.n_clusters,
                n_init=self.kmeans_n_init,
                random_state=self.random_state,
            )
            labels = clusterer.labels_.astype(np.int64)
            self._log("Centroids from N2D's UMAP + k-means partition of the embedding")
            return partition_means(embedding, labels, self.n_clusters), labels
        centroids = np.asarray(self.init, dtype=np.float32)
        nearest = nearest_centroid(keras.ops.convert_to_tensor(embedding), centroids)
        return centroids, keras.ops.convert_to_numpy(nearest).astype(np.int64)


def partition_means(embedding, labels, n_clusters, empty=None):
    """The mean of each cluster `0 .. n_clusters - 1` of `labels` in `embedding`, `(k, d)`.

    In the dtype of `embedding`. A cluster without rows takes its row of `empty` (`(k, d)`);
    with `empty=None` such a cluster is an error that gives the cluster sizes.

    Example:
    >>> partition_means(np.array([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0]]), [0, 0, 1], 2)
    array([[1., 0.],
           [5., 5.]])
    """
    labels = np.asarray(labels)
    sizes = np.bincount(labels, minlength=n_clusters)
    if len(sizes) != n_clusters or (empty is None and not sizes.all()):
        raise ValueError(
            f"Every cluster 0..{n_clusters - 1} should hold a row. Received: cluster sizes "
            f"{sizes.tolist()}"
        )
    return np.stack(
        [
            embedding[labels == k].mean(0) if sizes[k] else np.asarray(empty[k], embedding.dtype)
            for k in range(n_clusters)
        ]
    )


def gaussian_mixture_start(embedding, sample, kmeans_centroids, random_state):
    """A full-covariance Gaussian mixture fitted on `sample`, started from `kmeans_centroids`.

    Fitted in float64 with a covariance floor of `1e-6` times the mean variance of `sample`
    (scikit-learn's `reg_covar`, made relative so that the scale of the embedding does not
    matter). If EM still fails on a degenerate component, a `UserWarning` says so and the
    k-means start is kept: the pretraining before it is not lost.

    Args:
        embedding: Array `(n, d)`, the rows to label.
        sample: Array `(m, d)`, the rows the mixture is fitted on (`embedding` itself, or a
            sample of it for a streamed X).
        kmeans_centroids: Array `(k, d)`, the components' initial means.
        random_state: Seed of scikit-learn's `GaussianMixture`.

    Returns:
        `(mixture, labels)`: the fitted `GaussianMixture` and the component of each row of
        `embedding` (int64), or `(None, None)` when the fit failed.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> wide = rng.normal(0.0, 3.0, (200, 2))  # one wide cluster and one narrow beside it
    >>> narrow = rng.normal(0.0, 0.1, (50, 2)) + [4.0, 0.0]
    >>> z = np.concatenate([wide, narrow])
    >>> mixture, labels = gaussian_mixture_start(z, z, [[-1.0, 0.0], [4.0, 0.0]], 0)
    >>> np.bincount(labels[200:], minlength=2).tolist()  # the narrow cluster: one component
    [0, 50]
    """
    sample = np.asarray(sample, np.float64)
    scale = float(np.mean(np.var(sample, axis=0)))
    mixture = GaussianMixture(
        len(kmeans_centroids),
        covariance_type="full",
        reg_covar=1e-6 * scale if scale > 0 else 1e-6,
        means_init=np.asarray(kmeans_centroids, np.float64),
        random_state=random_state,
    )
    try:
        mixture.fit(sample)
    except ValueError as error:  # ill-defined covariances (scikit-learn's message)
        warnings.warn(
            f'init="gmm": the Gaussian mixture could not be fitted ({error}); the centroids '
            "start from k-means instead",
            UserWarning,
            stacklevel=2,
        )
        return None, None
    return mixture, mixture.predict(np.asarray(embedding, np.float64)).astype(np.int64)
