"""Squared Euclidean distances of embeddings to held centroids (hard clustering heads)."""

import keras
from keras import ops

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.validation import POSITIVE_INT, check_array, validate


@keras_cluster_export("keras_cluster.layers.CentroidDistances", keras_serializable=True)
class CentroidDistances(keras.layers.Layer):
    """Squared distance of each embedding to each centroid: the head of k-means style models.

    Formula:

    ```
    d_ik = |z_i - mu_k|^2 = |z_i|^2 - 2 <z_i, mu_k> + |mu_k|^2   (clamped at 0)
    ```

    One matmul; the nearest cluster is `argmin_k d_ik`. The centroids are the weight
    `centroids`, shape `(n_clusters, d)`, trainable or not, saved with the model. (For the
    exact loss value use `keras_cluster.losses.kmeans_loss`.)

    Args:
        n_clusters: number of clusters (>= 1).
        initial_centroids: optional array `(n_clusters, d)`.
        trainable_centroids: whether gradient descent moves the centroids.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np
    >>> layer = CentroidDistances(2, initial_centroids=np.array([[0.0, 0.0], [3.0, 4.0]]))
    >>> keras.ops.convert_to_numpy(layer(np.zeros((1, 2), "float32"))).tolist()
    [[0.0, 25.0]]
    """

    def __init__(self, n_clusters, initial_centroids=None, trainable_centroids=True, **kwargs):
        super().__init__(**kwargs)
        n_clusters = int(validate("n_clusters", n_clusters, POSITIVE_INT))
        validate("trainable_centroids", trainable_centroids, "boolean")
        if initial_centroids is not None:
            initial_centroids = check_array(
                "initial_centroids", initial_centroids, ndim=None, dtype="float32"
            )
            if initial_centroids.ndim != 2 or initial_centroids.shape[0] != n_clusters:
                raise ValueError(
                    f"`initial_centroids` should have shape ({n_clusters}, dim). Received: "
                    f"initial_centroids.shape={initial_centroids.shape}"
                )
        self.n_clusters = n_clusters
        self.initial_centroids = initial_centroids
        self.trainable_centroids = bool(trainable_centroids)

    def build(self, input_shape):
        dim = input_shape[-1]
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: dim})
        if self.initial_centroids is not None and self.initial_centroids.shape[1] != dim:
            raise ValueError(
                f"`initial_centroids` should have {dim} columns to match the input. Received: "
                f"initial_centroids.shape={self.initial_centroids.shape}"
            )
        initializer = (
            keras.initializers.Constant(self.initial_centroids)
            if self.initial_centroids is not None
            else "glorot_uniform"
        )
        self.centroids = self.add_weight(
            shape=(self.n_clusters, dim),
            initializer=initializer,
            trainable=self.trainable_centroids,
            name="centroids",
        )

    def call(self, inputs):
        centroids = ops.cast(self.centroids, inputs.dtype)
        scores = ops.matmul(inputs, ops.transpose(centroids))
        squared = ops.sum(ops.square(inputs), axis=-1, keepdims=True)
        return ops.maximum(squared - 2.0 * scores + ops.sum(ops.square(centroids), axis=-1), 0.0)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.n_clusters)

    def get_config(self):
        config = super().get_config()
        config.update(
            n_clusters=self.n_clusters,
            initial_centroids=None
            if self.initial_centroids is None
            else self.initial_centroids.tolist(),
            trainable_centroids=self.trainable_centroids,
        )
        return config
