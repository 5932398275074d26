"""Soft Nearest Neighbor Loss (Frosst et al.), computed in log space."""

import keras
from keras import ops

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.validation import POSITIVE, Options, Satisfies, validate

DISTANCES = ("cosine", "euclidean")


# A temperature: a positive float, or a scalar tensor / `keras.Variable` (annealed or learned),
# whose value is only known in the graph.
TEMPERATURE = (
    POSITIVE,
    Satisfies(
        lambda value: isinstance(value, keras.Variable) or ops.is_tensor(value),
        "a scalar tensor or keras.Variable",
    ),
)


def pairwise_distances(features, distance="cosine"):
    """All pairwise distances within a batch, shape `(n, n)`, clamped at 0.

    `"cosine"`: `1 - <z_i, z_j> / (|z_i| |z_j|)`. `"euclidean"`: the *squared* Euclidean distance
    `|z_i - z_j|^2`, computed as `|c_i|^2 + |c_j|^2 - 2 <c_i, c_j>` on the batch-centred codes
    `c = z - mean(z)` (distances do not change, float32 cancellation shrinks with the norms).
    One matmul either way. The diagonal is not forced to 0 here: callers mask it.

    On GPUs TensorFlow runs float32 matmuls in TF32 unless
    `tf.config.experimental.enable_tensor_float_32_execution(False)` is called; at low
    temperature that rounding (about 1e-3 of |z|^2) shows in the loss.
    """
    validate("distance", distance, Options(*DISTANCES))
    if distance == "cosine":
        squared_norm = ops.sum(ops.square(features), axis=1, keepdims=True)
        unit = features * ops.rsqrt(ops.maximum(squared_norm, keras.config.epsilon() ** 2))
        distances = 1.0 - ops.matmul(unit, ops.transpose(unit))
    else:
        centred = features - ops.mean(features, axis=0, keepdims=True)
        squared_norm = ops.sum(ops.square(centred), axis=1)
        gram = ops.matmul(centred, ops.transpose(centred))
        distances = squared_norm[:, None] + squared_norm[None, :] - 2.0 * gram
    return ops.maximum(distances, 0.0)


def _row_max(logits, mask):
    """Each row's maximum over `mask` (held constant: a shift), 0 for rows with no entry."""
    row_max = ops.max(ops.where(mask, logits, float("-inf")), axis=1)
    return ops.stop_gradient(ops.where(ops.any(mask, axis=1), row_max, 0.0))


def _snnl_rows_from_logits(logits, same, other):
    """Per-row SNNL `log sum_{neighbours} exp - log sum_{same class} exp`, with its gradient.

    `same` and `other` are the disjoint masks of same-class and other-class neighbours. Each set
    is shifted by its own row maximum, so a non-empty set holds a term exp(0) = 1 and never
    underflows, whatever the temperature; one `exp` serves both sets. The loss is
    `softplus(log_other - log_same)`, exact even when it is tiny. The gradient is the closed form
    `d loss_i / d logit_ij = softmax_neighbours(logits_i)_j - softmax_same(logits_i)_j`, one
    elementwise pass instead of differentiating through the masks. Rows with no same-class or no
    other-class neighbour give 0 and a zero gradient.
    """
    active = ops.logical_or(same, other)
    shift_same, shift_other = _row_max(logits, same), _row_max(logits, other)
    shift = ops.where(same, shift_same[:, None], shift_other[:, None])

    @ops.custom_gradient
    def rows_of(logits):
        terms = ops.exp(ops.where(active, logits - shift, float("-inf")))
        sum_same = ops.sum(ops.where(same, terms, 0.0), axis=1)
        sum_other = ops.sum(ops.where(other, terms, 0.0), axis=1)
        has_both = ops.logical_and(sum_same > 0, sum_other > 0)
        sum_same = ops.where(has_both, sum_same, 1.0)
        log_same = shift_same + ops.log(sum_same)
        log_other = shift_other + ops.log(ops.where(has_both, sum_other, 1.0))
        rows = ops.where(has_both, ops.softplus(log_other - log_same), 0.0)
        log_all = log_same + rows

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            weight = ops.where(has_both, upstream, 0.0)
            # softmax_all_ij = terms_ij * exp(shift_ij - log_all_i): one exp per row and set.
            scale_same = weight * (ops.exp(shift_same - log_all) - 1.0 / sum_same)
            scale_other = weight * ops.exp(shift_other - log_all)
            return terms * ops.where(same, scale_same[:, None], scale_other[:, None])

        return rows, grad

    return rows_of(logits), ops.any(same, axis=1)


def _flat_labels(labels, features):
    """The labels as a vector `(n,)`: class indices as given, or the argmax of one-hot rows."""
    if labels is None:
        raise ValueError(
            "`labels` should be one class label per row of `features`. Received: labels=None"
        )
    labels = ops.convert_to_tensor(labels)
    if len(labels.shape) == 2 and labels.shape[-1] is not None and labels.shape[-1] > 1:
        labels = ops.argmax(labels, axis=-1)
    elif len(labels.shape) > 2:
        raise ValueError(
            "`labels` should have shape (n,), (n, 1) or one-hot (n, classes). "
            f"Received: labels with shape {tuple(labels.shape)}"
        )
    n, rows = labels.shape[0] if len(labels.shape) else 1, features.shape[0]
    if n is not None and rows is not None and n != rows:
        raise ValueError(
            "`labels` should hold one label per row of `features`. Received: labels with "
            f"shape {tuple(labels.shape)} for features with shape {tuple(features.shape)}"
        )
    return ops.reshape(labels, (ops.shape(features)[0],))


def soft_nearest_neighbor_rows(labels, features, temperature=1.0, distance="cosine", valid=None):
    """Per-row SNNL terms and the mask of rows that take part in the mean.

    See `soft_nearest_neighbor_loss`; this returns `(loss_i, row_valid)`, both of shape `(n,)`.
    Rows that are not valid (no same-class neighbour, or `valid` False) hold 0.
    """
    validate("temperature", temperature, *TEMPERATURE)
    features = ops.convert_to_tensor(features)
    if len(features.shape) < 2:
        raise ValueError(
            "`features` should have shape (n, ...) with one row per sample. "
            f"Received: features with shape {tuple(features.shape)}"
        )
    if features.dtype in ("float16", "bfloat16") or "int" in str(features.dtype):
        features = ops.cast(features, "float32")
    batch_size = ops.shape(features)[0]
    labels = _flat_labels(labels, features)
    features = ops.reshape(features, (batch_size, -1))
    temperature = ops.cast(temperature, features.dtype)

    distances = pairwise_distances(features, distance)
    logits = -distances / temperature
    not_self = ops.logical_not(ops.cast(ops.eye(batch_size), "bool"))
    neighbour = not_self
    if valid is not None:
        valid = ops.reshape(ops.cast(valid, "bool"), (batch_size,))
        neighbour = ops.logical_and(neighbour, ops.logical_and(valid[:, None], valid[None, :]))
    same_label = ops.equal(labels[:, None], labels[None, :])
    same_class = ops.logical_and(neighbour, same_label)
    other_class = ops.logical_and(neighbour, ops.logical_not(same_label))

    rows, row_valid = _snnl_rows_from_logits(logits, same_class, other_class)
    return rows, row_valid


@keras_cluster_export("keras_cluster.losses.soft_nearest_neighbor_loss")
def soft_nearest_neighbor_loss(labels, features, temperature=1.0, distance="cosine", valid=None):
    """Soft Nearest Neighbor Loss: how entangled the classes are in `features`.

    Formula (log space, d = `distance`, T = `temperature`):

    ```
    loss_i = logsumexp_{j != i} (-d_ij / T) - logsumexp_{j != i, y_j = y_i} (-d_ij / T)
    loss   = mean of loss_i over the rows i that have a same-class neighbour j != i
    ```

    Written with each row's own maximum as shift, so no row underflows at low temperature (the
    exp/epsilon form becomes a constant with zero gradient there). The diagonal is masked
    explicitly, distances are clamped at 0, and a row with no same-class neighbour in the batch is
    left out of the mean instead of biasing it. Compiles with XLA (`jit_compile=True`).

    Args:
        labels: class labels, shape `(n,)` or `(n, 1)`, or one-hot `(n, c)`.
        features: codes, shape `(n, ...)`; flattened to `(n, -1)`.
        temperature: positive float, or a scalar tensor / `keras.Variable` (annealed or learned).
        distance: `"cosine"` or `"euclidean"` (squared Euclidean, as Frosst et al.).
        valid: optional boolean `(n,)`; rows that are False take no part at all (neither as
            anchor nor as neighbour), e.g. unlabelled samples in a semi-supervised batch.

    Returns:
        Scalar loss (0 when no row has a same-class neighbour).

    Example:

    >>> import numpy as np
    >>> z = np.array([[0.0, 1.0], [0.1, 1.0], [1.0, 0.0], [1.0, 0.1]], dtype="float32")
    >>> float(soft_nearest_neighbor_loss([0, 0, 1, 1], z, temperature=0.1)) < 1e-3
    True

    References:
        Frosst, Papernot & Hinton, "Analyzing and Improving Representations with the Soft
        Nearest Neighbor Loss", ICML 2019. Salakhutdinov & Hinton, AISTATS 2007.
    """
    rows, row_valid = soft_nearest_neighbor_rows(labels, features, temperature, distance, valid)
    count = ops.sum(ops.cast(row_valid, rows.dtype))
    return ops.sum(rows) / ops.maximum(count, 1.0)


@keras_cluster_export("keras_cluster.losses.SoftNearestNeighborLoss", keras_serializable=True)
class SoftNearestNeighborLoss(keras.losses.Loss):
    """Soft Nearest Neighbor Loss as a Keras loss: `y_true` = labels, `y_pred` = features.

    Formula:

    ```
    loss = mean_i [logsumexp_{j != i}(-d_ij / T) - logsumexp_{j != i, y_j = y_i}(-d_ij / T)]
    ```

    over the rows with a same-class neighbour (see `soft_nearest_neighbor_loss`). The loss is
    already a batch mean, so `sample_weight` scales it as a whole. The temperature lives in a
    non-trainable `keras.Variable` (`self.temperature`), so
    `keras_cluster.callbacks.TemperatureAnnealing` can anneal it during `fit`. To learn it, use
    `keras_cluster.models.SoftNearestNeighborModel(learn_temperature=True)`.

    Args:
        temperature: positive float, initial temperature.
        distance: `"cosine"` or `"euclidean"` (squared).
        reduction: as `keras.losses.Loss`.
        name: as `keras.losses.Loss`.
        dtype: as `keras.losses.Loss`.

    Example:

    >>> import keras, numpy as np
    >>> inputs = keras.Input((4,))
    >>> model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    >>> model.compile("adam", SoftNearestNeighborLoss(temperature=0.5))
    >>> x, y = np.random.rand(32, 4), np.arange(32) % 2
    >>> _ = model.fit(x, y, batch_size=16, epochs=1, verbose=0)

    References:
        Frosst, Papernot & Hinton, "Analyzing and Improving Representations with the Soft
        Nearest Neighbor Loss", ICML 2019.
    """

    def __init__(
        self,
        temperature=1.0,
        distance="cosine",
        reduction="sum_over_batch_size",
        name="soft_nearest_neighbor_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        validate("temperature", temperature, POSITIVE)
        validate("distance", distance, Options(*DISTANCES))
        self.distance = distance
        self.temperature = keras.Variable(
            float(temperature), trainable=False, dtype="float32", name="temperature"
        )

    def call(self, y_true, y_pred):
        return soft_nearest_neighbor_loss(y_true, y_pred, self.temperature, self.distance)

    def get_config(self):
        config = super().get_config()
        config.update(temperature=float(self.temperature.numpy()), distance=self.distance)
        return config
