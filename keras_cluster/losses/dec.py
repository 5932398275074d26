"""DEC's target distribution and its KL(P || Q) clustering loss."""

import keras
from keras import ops

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.validation import Options, validate

# Where P comes from: computed over the full dataset and given as `y_true` (the paper), or from
# each batch's own Q.
TARGETS = ("full", "batch")


@keras_cluster_export("keras_cluster.losses.target_distribution")
def target_distribution(q):
    """DEC's auxiliary target distribution P from soft assignments Q.

    Formula:

    ```
    f_j  = sum_i q_ij
    p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j')
    ```

    Squaring sharpens confident assignments; dividing by the cluster frequency f_j keeps large
    clusters from swallowing the rest. Works on NumPy arrays and tensors alike.

    Args:
        q: soft assignments, shape `(n, n_clusters)`, rows summing to 1.

    Returns:
        p, same shape as `q`, rows summing to 1.

    References:
        Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for Clustering Analysis", ICML 2016,
        eq. (3).
    """
    q = ops.convert_to_tensor(q)
    if len(q.shape) != 2:
        raise ValueError(
            f"`q` should be 2-D, (n, n_clusters). Received: q with shape {tuple(q.shape)}"
        )
    weight = ops.square(q) / ops.sum(q, axis=0, keepdims=True)
    return weight / ops.sum(weight, axis=1, keepdims=True)


@keras_cluster_export("keras_cluster.losses.dec_loss", keras_serializable=True)
def dec_loss(p, q):
    """Per-sample KL(P || Q) = sum_j p_ij log(p_ij / q_ij), with 0 log 0 = 0.

    Formula:

    ```
    loss_i = sum_j p_ij * (log p_ij - log q_ij)
    ```

    `q` is clipped to [epsilon, 1] inside the log so that a q_ij of exactly 0 gives a large,
    finite loss rather than inf.

    Args:
        p: target distribution, shape `(batch, n_clusters)`.
        q: soft assignments, shape `(batch, n_clusters)`.

    Returns:
        The KL divergence of each row, shape `(batch,)`.
    """
    q = ops.convert_to_tensor(q)
    p = ops.cast(p, q.dtype)
    if len(p.shape) != len(q.shape) or any(
        a is not None and b is not None and a != b for a, b in zip(p.shape, q.shape, strict=False)
    ):
        raise ValueError(
            "`p` and `q` should have the same shape (batch, n_clusters). Received: p with "
            f"shape {tuple(p.shape)}, q with shape {tuple(q.shape)}"
        )
    epsilon = keras.config.epsilon()
    log_ratio = ops.log(ops.maximum(p, epsilon)) - ops.log(ops.clip(q, epsilon, 1.0))
    return ops.sum(ops.where(p > 0, p * log_ratio, ops.zeros_like(p)), axis=-1)


@keras_cluster_export("keras_cluster.losses.DECLoss", keras_serializable=True)
class DECLoss(keras.losses.Loss):
    """KL(P || Q) between the target distribution P and the soft assignments Q (DEC).

    Formula:

    ```
    L = mean_i sum_j p_ij log(p_ij / q_ij)
    ```

    With `target="full"` (the paper's way) `y_true` is P, computed over the full dataset and
    held fixed between updates (see `keras_cluster.callbacks.DECSelfTraining`). With
    `target="batch"` `y_true` is ignored and P is computed from the batch's own Q (no gradient
    flows through P).

    Args:
        target: `"full"` (P over the full dataset, given as `y_true`) or `"batch"`; the same
            option as `keras_cluster.estimators.DEC(target=...)`.
        reduction: as `keras.losses.Loss`.
        name: loss name.
        dtype: loss dtype.

    Example:

    >>> import numpy as np
    >>> q = np.array([[0.7, 0.3], [0.2, 0.8]], dtype="float32")
    >>> float(DECLoss()(target_distribution(q), q)) > 0
    True

    References:
        Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for Clustering Analysis", ICML 2016.
    """

    def __init__(self, target="full", reduction="sum_over_batch_size", name="dec_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.target = validate("target", target, Options(*TARGETS))

    def call(self, y_true, y_pred):
        if self.target == "batch":
            y_true = ops.stop_gradient(target_distribution(y_pred))
        return dec_loss(y_true, y_pred)

    def get_config(self):
        config = super().get_config()
        config["target"] = self.target
        return config

    @classmethod
    def from_config(cls, config):
        # Files saved by keras_cluster 0.1.0 name the full-data target "given".
        if config.get("target") == "given":
            config = {**config, "target": "full"}
        return cls(**config)
