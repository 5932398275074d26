"""Where the centroids of the centroid-based estimators (DEC, IDEC, DCN) start: the `init` argument.

- `"kmeans"` (the papers): k-means with `kmeans_n_init` restarts on the pretrained embedding.
- `"manifold"`: the centroids, in the embedding, of N2D's UMAP + k-means partition of the
  embedding (needs the umap extra). The clustering stage then starts from N2D's partition.
- an array `(n_clusters, dims[-1])`: the initial centroids themselves.

Each estimator pretrains (or loads `autoencoder_weights`) first; with `backup_dir` the chosen
centroids are checkpointed (`BaseDeepClusterer._initialization`).
"""

import keras
import numpy as np

from keras_cluster.estimators.n2d import import_umap, manifold_clustering
from keras_cluster.losses.kmeans import nearest_centroid
from keras_cluster.validation import Options, Satisfies, check_array

INITS = ("kmeans", "manifold")


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

        Sets `init_labels_` (and `kmeans_` with `init="kmeans"`).
        """
        if isinstance(self.init, str) and self.init == "manifold":
            import_umap()  # before the pretraining: a missing extra fails at once
        self._build_and_pretrain(
            source, kernel_regularizer=kernel_regularizer, weights=self.autoencoder_weights
        )
        if isinstance(self.init, str) and self.init == "kmeans":
            return self._initialization(source, self._kmeans_initialization)
        return self._initialization(source, self._given_initialization)

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
            centroids = np.stack([embedding[labels == k].mean(0) for k in range(self.n_clusters)])
            return centroids, labels
        centroids = np.asarray(self.init, dtype=np.float32)
        nearest = nearest_centroid(keras.ops.convert_to_tensor(embedding), centroids)
        return centroids, keras.ops.convert_to_numpy(nearest).astype(np.int64)
