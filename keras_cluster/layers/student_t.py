"""Student's t soft assignment of embeddings to centroids (the DEC clustering layer)."""

import keras
from keras import ops

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.validation import POSITIVE, POSITIVE_INT, check_array, validate


@keras_cluster_export("keras_cluster.layers.soft_assignment")
def soft_assignment(z, centroids, alpha=1.0):
    """Student's t soft assignment of each row of `z` to each centroid.

    Formula:

    ```
    q_ij = (1 + ||z_i - mu_j||^2 / alpha)^(-(alpha + 1) / 2)
           / sum_j' (1 + ||z_i - mu_j'||^2 / alpha)^(-(alpha + 1) / 2)
    ```

    Computed in log space (a softmax over `-(alpha + 1)/2 * log1p(d / alpha)`), so distant
    points never underflow to a row of zeros.

    Args:
        z: embeddings, shape `(batch, d)`.
        centroids: cluster centres, shape `(n_clusters, d)`.
        alpha: degrees of freedom of the Student's t kernel (> 0).

    Returns:
        q, shape `(batch, n_clusters)`, rows summing to 1.
    """
    validate("alpha", alpha, POSITIVE)
    diff = ops.expand_dims(z, 1) - ops.expand_dims(centroids, 0)
    squared_distance = ops.sum(ops.square(diff), axis=-1)
    logits = -(alpha + 1.0) / 2.0 * ops.log1p(squared_distance / alpha)
    return ops.softmax(logits, axis=-1)


@keras_cluster_export("keras_cluster.layers.ClusteringLayer", keras_serializable=True)
class ClusteringLayer(keras.layers.Layer):
    """Soft-assigns embeddings to trainable centroids with a Student's t kernel (DEC).

    Formula:

    ```
    q_ij = (1 + ||z_i - mu_j||^2 / alpha)^(-(alpha + 1) / 2)
           / sum_j' (1 + ||z_i - mu_j'||^2 / alpha)^(-(alpha + 1) / 2)
    ```

    The centroids `mu` are the layer's weight `centroids`, shape `(n_clusters, d)`; set them
    from k-means with `layer.set_centroids(kmeans.cluster_centers_)` (or `initial_centroids=`).
    They are saved with the model.

    Args:
        n_clusters: number of clusters (>= 1).
        alpha: degrees of freedom of the Student's t kernel (> 0); the paper uses 1.
        initial_centroids: optional array `(n_clusters, d)` used to initialise the centroids.
        centroids_initializer: initializer used when `initial_centroids` is not given.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np
    >>> layer = ClusteringLayer(3)
    >>> q = layer(np.random.rand(4, 2).astype("float32"))
    >>> tuple(q.shape)
    (4, 3)

    References:
        Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for Clustering Analysis", ICML 2016.
    """

    def __init__(
        self,
        n_clusters,
        alpha=1.0,
        initial_centroids=None,
        centroids_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        n_clusters = int(validate("n_clusters", n_clusters, POSITIVE_INT))
        validate("alpha", alpha, POSITIVE)
        if initial_centroids is not None:
            initial_centroids = check_array(
                "initial_centroids", keras.ops.convert_to_numpy(initial_centroids)
            )
            if len(initial_centroids) != n_clusters:
                raise ValueError(
                    "`initial_centroids` should have `n_clusters` rows. "
                    f"Received: {len(initial_centroids)} rows for n_clusters={n_clusters}"
                )
            initial_centroids = initial_centroids.tolist()
        self.n_clusters = n_clusters
        self.alpha = float(alpha)
        self.initial_centroids = initial_centroids
        self.centroids_initializer = keras.initializers.get(centroids_initializer)
        self.input_spec = keras.layers.InputSpec(ndim=2)

    def build(self, input_shape):
        dim = input_shape[-1]
        if self.initial_centroids is not None:
            if len(self.initial_centroids[0]) != dim:
                raise ValueError(
                    "`initial_centroids` should have one column per input feature. Received: "
                    f"{len(self.initial_centroids[0])} columns for inputs of width {dim}"
                )
            initializer = keras.initializers.Constant(self.initial_centroids)
        else:
            initializer = self.centroids_initializer
        self.centroids = self.add_weight(
            name="centroids", shape=(self.n_clusters, dim), initializer=initializer
        )
        self.input_spec = keras.layers.InputSpec(ndim=2, axes={-1: dim})

    def set_centroids(self, centroids):
        """Assign `centroids` (array `(n_clusters, d)`), e.g. k-means' `cluster_centers_`."""
        centroids = check_array("centroids", keras.ops.convert_to_numpy(centroids), ndim=None)
        if tuple(centroids.shape) != tuple(self.centroids.shape):
            raise ValueError(
                f"`centroids` should have shape {tuple(self.centroids.shape)}. "
                f"Received: shape {tuple(centroids.shape)}"
            )
        self.centroids.assign(centroids.astype(self.centroids.dtype))

    def call(self, inputs):
        return soft_assignment(inputs, self.centroids, self.alpha)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_clusters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_clusters": self.n_clusters,
                "alpha": self.alpha,
                "initial_centroids": self.initial_centroids,
                "centroids_initializer": keras.initializers.serialize(self.centroids_initializer),
            }
        )
        return config
