"""Clustering scores against ground-truth labels: accuracy (Hungarian matching), NMI and ARI.

Two faces of the same three scores:

- NumPy functions `clustering_accuracy`, `normalized_mutual_info`, `adjusted_rand_index` for
  label vectors (SciPy / scikit-learn do the work);
- Keras metrics `ClusteringAccuracy`, `NormalizedMutualInformation`, `AdjustedRandIndex` for
  `model.compile(metrics=...)` on a model whose output is the soft assignment q: they keep the
  contingency matrix (classes x clusters) in a Keras variable and score it in-graph.
"""

import functools

import keras
import numpy as np
from keras import ops
from scipy.optimize import linear_sum_assignment as scipy_linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.metrics.linear_assignment import linear_sum_assignment
from keras_cluster.validation import POSITIVE_INT, check_array, validate


def _check_label_vectors(y_true, y_pred):
    """Both label vectors as 1-D arrays of equal, non-zero length, without NaN."""
    arrays = [
        check_array(name, labels, ndim=1, numeric=False, shape_words="a 1-D vector of labels")
        for name, labels in (("y_true", y_true), ("y_pred", y_pred))
    ]
    y_true, y_pred = arrays
    if len(y_true) != len(y_pred):
        raise ValueError(
            "`y_true` and `y_pred` should have the same length. "
            f"Received: len(y_true)={len(y_true)}, len(y_pred)={len(y_pred)}"
        )
    if len(y_true) == 0:
        raise ValueError("`y_true` and `y_pred` should not be empty. Received: 0 labels")
    return y_true, y_pred


@keras_cluster_export("keras_cluster.metrics.clustering_accuracy")
def clustering_accuracy(y_true, y_pred):
    """Unsupervised clustering accuracy: the best one-to-one map of clusters to classes.

    Formula:

    ```
    ACC = max over injective maps m: clusters -> classes of (1/n) sum_i 1{y_true_i = m(y_pred_i)}
    ```

    The map is found with the Hungarian algorithm (`scipy.optimize.linear_sum_assignment`) on
    the contingency matrix. Works when the number of clusters differs from the number of
    classes: only `min(n_classes, n_clusters)` clusters are then matched, the others count as
    errors.

    Args:
        y_true: ground-truth labels, 1-D, any hashable values.
        y_pred: cluster labels, 1-D, same length.

    Returns:
        Float in [0, 1].

    Example:

    >>> clustering_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0

    References:
        Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for Clustering Analysis", ICML
        2016 (the metric); Kuhn, "The Hungarian method for the assignment problem", 1955.
    """
    y_true, y_pred = _check_label_vectors(y_true, y_pred)
    _, true_index = np.unique(y_true, return_inverse=True)
    _, pred_index = np.unique(y_pred, return_inverse=True)
    contingency = np.zeros((true_index.max() + 1, pred_index.max() + 1), dtype=np.int64)
    np.add.at(contingency, (true_index, pred_index), 1)
    rows, cols = scipy_linear_sum_assignment(contingency, maximize=True)
    return float(contingency[rows, cols].sum() / len(y_true))


@keras_cluster_export("keras_cluster.metrics.normalized_mutual_info")
def normalized_mutual_info(y_true, y_pred):
    """Normalized mutual information, arithmetic normalisation (scikit-learn's default).

    Formula:

    ```
    NMI = I(T; C) / ((H(T) + H(C)) / 2)
    ```

    Args:
        y_true: ground-truth labels, 1-D.
        y_pred: cluster labels, 1-D, same length.

    Returns:
        Float in [0, 1]; 1.0 when both labellings have a single group.

    Example:

    >>> normalized_mutual_info([0, 0, 1, 1], [1, 1, 0, 0])
    1.0

    References:
        Strehl & Ghosh, "Cluster ensembles", JMLR 2002.
    """
    y_true, y_pred = _check_label_vectors(y_true, y_pred)
    return float(normalized_mutual_info_score(y_true, y_pred))


@keras_cluster_export("keras_cluster.metrics.adjusted_rand_index")
def adjusted_rand_index(y_true, y_pred):
    """Adjusted Rand index: pair-counting agreement, corrected for chance.

    Formula:

    ```
    ARI = (sum_ij C(n_ij, 2) - E) / ((sum_i C(a_i, 2) + sum_j C(b_j, 2)) / 2 - E),
    E = sum_i C(a_i, 2) sum_j C(b_j, 2) / C(n, 2)
    ```

    Args:
        y_true: ground-truth labels, 1-D.
        y_pred: cluster labels, 1-D, same length.

    Returns:
        Float in [-0.5, 1]; 0 in expectation for random labels.

    Example:

    >>> adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0])
    1.0

    References:
        Hubert & Arabie, "Comparing partitions", Journal of Classification 1985.
    """
    y_true, y_pred = _check_label_vectors(y_true, y_pred)
    return float(adjusted_rand_score(y_true, y_pred))


def _accuracy_from_contingency(contingency):
    """In-graph ACC from a float64 contingency matrix (exact Hungarian in `keras.ops`)."""
    rows, cols = linear_sum_assignment(contingency, maximize=True)
    n_cols = contingency.shape[1]
    matched = ops.sum(ops.take(ops.reshape(contingency, (-1,)), rows * n_cols + cols))
    return matched / ops.maximum(ops.sum(contingency), 1e-300)


def _entropy_from_counts(counts, total):
    p = counts / total
    return -ops.sum(ops.where(counts > 0, p * ops.log(ops.where(counts > 0, p, 1.0)), 0.0))


def _nmi_from_contingency(contingency):
    """In-graph NMI (arithmetic) from a float64 contingency matrix, as scikit-learn computes it."""
    total = ops.maximum(ops.sum(contingency), 1e-300)
    row_sums = ops.sum(contingency, axis=1)
    col_sums = ops.sum(contingency, axis=0)
    nonzero = contingency > 0
    outer = ops.expand_dims(row_sums, 1) * ops.expand_dims(col_sums, 0)
    ratio = ops.where(nonzero, contingency * total / ops.where(nonzero, outer, 1.0), 1.0)
    mutual_info = ops.maximum(ops.sum(contingency / total * ops.log(ratio)), 0.0)
    normalizer = (_entropy_from_counts(row_sums, total) + _entropy_from_counts(col_sums, total)) / 2
    single_groups = ops.logical_and(
        ops.sum(ops.cast(row_sums > 0, "int32")) <= 1,
        ops.sum(ops.cast(col_sums > 0, "int32")) <= 1,
    )
    nmi = ops.where(
        mutual_info <= np.finfo(np.float64).eps,
        0.0,
        mutual_info / ops.maximum(normalizer, np.finfo(np.float64).eps),
    )
    return ops.where(single_groups, 1.0, nmi)


def _ari_from_contingency(contingency):
    """In-graph ARI from a float64 contingency matrix (pair confusion matrix, as scikit-learn)."""
    total = ops.sum(contingency)
    row_sums = ops.sum(contingency, axis=1)
    col_sums = ops.sum(contingency, axis=0)
    sum_squares = ops.sum(ops.square(contingency))
    tp = sum_squares - total
    fp = ops.sum(contingency * ops.expand_dims(col_sums, 0)) - sum_squares
    fn = ops.sum(contingency * ops.expand_dims(row_sums, 1)) - sum_squares
    tn = ops.square(total) - fp - fn - sum_squares
    denominator = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)
    ari = 2.0 * (tp * tn - fn * fp) / ops.where(denominator == 0, 1.0, denominator)
    return ops.where(ops.logical_and(fn == 0, fp == 0), 1.0, ari)


@functools.cache
def _compiled(score):
    """`score` (contingency -> scalar) as one XLA-compiled call on the TensorFlow backend.

    In a plain (non-XLA) train step, Keras calls `result()` every step and the scorers' ops
    (the assignment solver's while-loops above all) would run one by one: a 10 x 10 assignment
    took 5-10 ms per call that way and 1.0-1.4 ms as one XLA call on the shared 2-core machine
    (`python -m benchmarks.speed.clustering_metrics_overhead`). Nested in an XLA-compiled step
    the call is simply inlined.
    """
    if keras.backend.backend() != "tensorflow":
        return score
    import tensorflow as tf

    compiled = tf.function(score, jit_compile=True)
    # A plain tensor in, so that under tf.distribute each replica reads its own variable.
    return lambda contingency: compiled(tf.convert_to_tensor(contingency))


class _ContingencyMetric(keras.metrics.Metric):
    """Accumulates the (classes x clusters) contingency matrix of labels vs argmax(q).

    Subclasses name the score computed from it in `_score`.
    """

    def __init__(self, n_clusters, n_classes=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        n_clusters = int(validate("n_clusters", n_clusters, POSITIVE_INT))
        validate("n_classes", n_classes, None, POSITIVE_INT)
        self.n_clusters = n_clusters
        self.n_classes = n_clusters if n_classes is None else int(n_classes)
        self.contingency = self.add_variable(
            shape=(self.n_classes, n_clusters),
            initializer="zeros",
            dtype="float64",
            name="contingency",
        )
        self.invalid_labels = self.add_variable(
            shape=(), initializer="zeros", dtype="float64", name="invalid_labels"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: `y_true` integer labels `(batch,)` or `(batch, 1)`, `y_pred` q."""
        if y_true is None:
            raise ValueError(
                "`y_true` should hold one integer class label per sample. Received: y_true=None"
            )
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.convert_to_tensor(y_true)
        if len(y_pred.shape) != 2 or y_pred.shape[-1] != self.n_clusters:
            raise ValueError(
                f"`y_pred` should be the soft assignment q of shape (batch, {self.n_clusters}) "
                f"(n_clusters={self.n_clusters}). Received: shape {tuple(y_pred.shape)}"
            )
        if len(y_true.shape) == 2 and y_true.shape[-1] == 1:
            y_true = ops.squeeze(y_true, axis=-1)
        if len(y_true.shape) != 1:
            raise ValueError(
                "`y_true` should hold one integer class label per sample, shape (batch,) or "
                f"(batch, 1). Received: shape {tuple(y_true.shape)}"
            )
        if None not in (y_true.shape[0], y_pred.shape[0]) and y_true.shape[0] != y_pred.shape[0]:
            raise ValueError(
                "`y_true` and `y_pred` should have the same batch size. "
                f"Received: {y_true.shape[0]} and {y_pred.shape[0]}"
            )
        labels = ops.cast(y_true, "int32")
        valid = ops.logical_and(labels >= 0, labels < self.n_classes)
        if sample_weight is None:
            weights = ops.ones_like(labels, dtype="float64")
        else:
            weights = ops.reshape(ops.cast(sample_weight, "float64"), (-1,))
        true_one_hot = ops.one_hot(ops.where(valid, labels, 0), self.n_classes, dtype="float64")
        true_one_hot = true_one_hot * ops.expand_dims(ops.where(valid, weights, 0.0), 1)
        pred_one_hot = ops.one_hot(ops.argmax(y_pred, axis=-1), self.n_clusters, dtype="float64")
        self.contingency.assign_add(ops.matmul(ops.transpose(true_one_hot), pred_one_hot))
        self.invalid_labels.assign_add(ops.sum(ops.cast(ops.logical_not(valid), "float64")))

    def result(self):
        """The score of everything seen since the last reset; NaN if a label was out of range."""
        score = _compiled(self._score)(self.contingency)
        score = ops.where(ops.sum(self.contingency) > 0, score, 0.0)
        score = ops.where(self.invalid_labels > 0, float("nan"), score)
        return ops.cast(score, self.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"n_clusters": self.n_clusters, "n_classes": self.n_classes})
        return config


_METRIC_DOC = """{purpose}

    For a model whose output is the soft assignment q `(batch, n_clusters)` (e.g. DEC's
    `model_`), with integer class labels as targets. The state is the contingency matrix
    `counts[class, argmax(q)]` (sample-weighted) in a float64 Keras variable, summed across
    replicas; `result()` {how}. On TensorFlow the scoring runs as one XLA-compiled call.

    Formula:

    ```
    {formula}
    ```

    Args:
        n_clusters: width of q (>= 1).
        n_classes: number of classes; labels must lie in `[0, n_classes)`. Defaults to
            `n_clusters`. A label outside that range makes the result NaN (in-graph code
            cannot raise), so a wrong `n_classes` shows instead of being dropped.
        name: metric name, default `"{default_name}"`.
        dtype: dtype of the result.

    Returns (from `result()`):
        The score of all batches since the last reset, 0.0 before any sample.

    Example:

    >>> import numpy as np
    >>> m = {cls}(n_clusters=2)
    >>> m.update_state(np.array([0, 0, 1]), np.array([[0.1, 0.9], [0.2, 0.8], [0.7, 0.3]]))
    >>> float(m.result())
    1.0

    References:
        {reference}
"""


@keras_cluster_export("keras_cluster.metrics.ClusteringAccuracy", keras_serializable=True)
class ClusteringAccuracy(_ContingencyMetric):
    __doc__ = _METRIC_DOC.format(
        purpose="Clustering accuracy (best one-to-one cluster-to-class map) as a Keras metric.",
        how=(
            "solves the Hungarian assignment exactly in-graph (`keras.ops` while-loops, "
            "float64, the shortest augmenting path algorithm of `scipy`), so the metric runs "
            "inside the compiled train/test step, XLA and `tf.distribute` included, where a "
            "host callback (`tf.numpy_function`) would not compile"
        ),
        formula="ACC = max_m sum_c counts[m(c), c] / sum counts   (m: clusters -> classes)",
        default_name="cluster_acc",
        cls="ClusteringAccuracy",
        reference="Xie, Girshick & Farhadi, ICML 2016; Crouse, IEEE TAES 2016.",
    )
    _score = staticmethod(_accuracy_from_contingency)

    def __init__(self, n_clusters, n_classes=None, name="cluster_acc", dtype=None):
        super().__init__(n_clusters, n_classes=n_classes, name=name, dtype=dtype)


@keras_cluster_export("keras_cluster.metrics.NormalizedMutualInformation", keras_serializable=True)
class NormalizedMutualInformation(_ContingencyMetric):
    __doc__ = _METRIC_DOC.format(
        purpose="Normalized mutual information (arithmetic mean normalisation) as a Keras metric.",
        how="computes it from the contingency matrix with `keras.ops`, as scikit-learn does",
        formula="NMI = I(T; C) / ((H(T) + H(C)) / 2)",
        default_name="nmi",
        cls="NormalizedMutualInformation",
        reference="Strehl & Ghosh, JMLR 2002.",
    )
    _score = staticmethod(_nmi_from_contingency)

    def __init__(self, n_clusters, n_classes=None, name="nmi", dtype=None):
        super().__init__(n_clusters, n_classes=n_classes, name=name, dtype=dtype)


@keras_cluster_export("keras_cluster.metrics.AdjustedRandIndex", keras_serializable=True)
class AdjustedRandIndex(_ContingencyMetric):
    __doc__ = _METRIC_DOC.format(
        purpose="Adjusted Rand index as a Keras metric.",
        how="computes it from the pair confusion counts of the contingency matrix",
        formula="ARI = 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn))",
        default_name="ari",
        cls="AdjustedRandIndex",
        reference="Hubert & Arabie, Journal of Classification 1985.",
    )
    _score = staticmethod(_ari_from_contingency)

    def __init__(self, n_clusters, n_classes=None, name="ari", dtype=None):
        super().__init__(n_clusters, n_classes=n_classes, name=name, dtype=dtype)
