"""The k-means clustering loss: squared distance of each code to its nearest centroid."""

import keras
from keras import ops

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.validation import check_array

# Up to this many elements in the n x k x d difference tensor, the broadcast form is as fast or
# faster (fewer kernels); above it, the matmul + gather form wins (see
# `nearest_centroid_distances`). Measured forward + backward on CPU, with and without XLA: even
# at n, k, d = 512, 10, 10 the two are level and at 2000, 10, 10 matmul + gather is 1.35-2x faster.
BROADCAST_MAX_ELEMENTS = 2**15


def nearest_centroid_distances(embeddings, centroids, broadcast=None):
    """Squared distance of each code to its nearest centroid, exact, shape `(n,)`.

    Two forms, chosen by shape unless `broadcast` says which:

    - broadcast: `min_k sum_d (z_id - mu_kd)^2` over an `(n, k, d)` tensor. Exact; best for
      tiny shapes (`n * k * d <= BROADCAST_MAX_ELEMENTS`, 32768).
    - matmul + gather: the nearest centroid `a_i = argmin_k |mu_k|^2 - 2 <z_i, mu_k>` from one
      matmul (`|z_i|^2` is constant within a row), then the exact `|z_i - mu_{a_i}|^2` on the
      gathered centroid. No `(n, k, d)` tensor, and since the value and its gradient come from
      the difference form, the cancellation of `|z|^2 - 2 z mu + |mu|^2` (float32 error about
      eps |z|^2, TF32 on GPUs) can at worst pick a centroid that is within that error of
      the nearest one: the loss stays exact to that error, the gradient
      `2 (z_i - mu_{a_i})` is the true one.

    Args:
        embeddings: codes, shape `(n, d)`.
        centroids: centroids, shape `(k, d)`.
        broadcast: `None` (choose by shape), `True` or `False`.

    Returns:
        Tensor of shape `(n,)`.
    """
    embeddings = ops.convert_to_tensor(embeddings)
    centroids = ops.cast(centroids, embeddings.dtype)
    if len(embeddings.shape) != 2 or len(centroids.shape) != 2:
        raise ValueError(
            "`embeddings` and `centroids` should be 2-D, (n, d) and (k, d). Received shapes: "
            f"embeddings.shape={embeddings.shape}, centroids.shape={centroids.shape}"
        )
    n, d = embeddings.shape
    k, centroid_d = centroids.shape
    if None not in (d, centroid_d) and d != centroid_d:
        raise ValueError(
            "`embeddings` and `centroids` should have the same width d. Received shapes: "
            f"embeddings.shape={embeddings.shape}, centroids.shape={centroids.shape}"
        )
    if broadcast is None:
        broadcast = n is not None and n * k * d <= BROADCAST_MAX_ELEMENTS
    if broadcast:
        difference = embeddings[:, None, :] - centroids[None, :, :]
        return ops.min(ops.sum(ops.square(difference), axis=-1), axis=1)
    scores = ops.sum(ops.square(centroids), axis=1)[None, :] - 2.0 * ops.matmul(
        embeddings, ops.transpose(centroids)
    )
    nearest = ops.stop_gradient(ops.argmin(scores, axis=1))
    return ops.sum(ops.square(embeddings - ops.take(centroids, nearest, axis=0)), axis=1)


def nearest_centroid(embeddings, centroids):
    """Index of the nearest centroid of each code, shape `(n,)` (one matmul)."""
    embeddings = ops.convert_to_tensor(embeddings)
    centroids = ops.cast(centroids, embeddings.dtype)
    scores = ops.sum(ops.square(centroids), axis=1)[None, :] - 2.0 * ops.matmul(
        embeddings, ops.transpose(centroids)
    )
    return ops.argmin(scores, axis=1)


@keras_cluster_export("keras_cluster.losses.kmeans_loss")
def kmeans_loss(embeddings, centroids):
    """k-means loss: mean squared distance of each code to its nearest centroid.

    Formula:

    ```
    L = mean_i min_k |z_i - mu_k|^2
    ```

    Exact in value and gradient at every shape (see `nearest_centroid_distances` for the two
    forms); never builds the `(n, k, d)` tensor at large shapes. Gradients flow to both the codes
    and the centroids (`stop_gradient` the centroids to hold them, as DCN's network step does).

    Args:
        embeddings: codes, shape `(n, d)`.
        centroids: centroids, shape `(k, d)`.

    Returns:
        Scalar loss.

    Example:

    >>> import numpy as np
    >>> z = np.array([[0.0, 0.0], [1.0, 1.0]], dtype="float32")
    >>> mu = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
    >>> float(kmeans_loss(z, mu))
    0.5

    References:
        Yang, Fu, Sidiropoulos & Hong, "Towards K-means-friendly Spaces: Simultaneous Deep
        Learning and Clustering", ICML 2017, eq. (5).
    """
    return ops.mean(nearest_centroid_distances(embeddings, centroids))


@keras_cluster_export("keras_cluster.losses.KMeansLoss", keras_serializable=True)
class KMeansLoss(keras.losses.Loss):
    """k-means loss as a Keras loss: `y_pred` = codes, `y_true` ignored, centroids held here.

    Formula:

    ```
    loss_i = min_k |z_i - mu_k|^2      (reduced over the batch as any Keras loss)
    ```

    The centroids live in a `keras.Variable` (`self.centroids`, not trainable here) so that a
    callback or an estimator can update them between batches (DCN's count-based update); to train
    centroids by gradient descent, hold them in a model
    (`keras_cluster.models.DeepClusteringNetwork`).

    Args:
        centroids: initial centroids, array of shape `(k, d)`.
        reduction: as `keras.losses.Loss`.
        name: as `keras.losses.Loss`.
        dtype: as `keras.losses.Loss`.

    Example:

    >>> import numpy as np
    >>> loss = KMeansLoss(np.zeros((3, 2), "float32"))
    >>> z = np.ones((4, 2), "float32")
    >>> float(loss(np.zeros(4), z))
    2.0

    References:
        Yang, Fu, Sidiropoulos & Hong, "Towards K-means-friendly Spaces", ICML 2017.
    """

    def __init__(self, centroids, reduction="sum_over_batch_size", name="kmeans_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        centroids = check_array("centroids", ops.convert_to_numpy(centroids), ndim=None)
        if centroids.ndim != 2 or centroids.shape[0] < 1:
            raise ValueError(
                "`centroids` should have shape (n_clusters, dim) with n_clusters >= 1. "
                f"Received: centroids.shape={centroids.shape}"
            )
        self.centroids = keras.Variable(
            centroids.astype("float32"), trainable=False, name="centroids"
        )

    def call(self, y_true, y_pred):
        return nearest_centroid_distances(y_pred, self.centroids)

    def get_config(self):
        config = super().get_config()
        config["centroids"] = ops.convert_to_numpy(self.centroids).tolist()
        return config
