"""Input normalization fitted on the training data and carried inside the Keras models.

The deep clustering estimators put an adapted `keras.layers.Normalization` in front of the
encoder, so the scaling is part of `model_`, its `.keras` file and its SavedModel: the served model
takes the user's raw rows. Two modes:

- `"global"` (the default): each feature is centred and all are divided by one common scale
  `s = sqrt(mean_j var_j)`. Distances between samples are those of the user's features divided
  by `s`, so the clustering sees the geometry the user chose (as k-means does), while any affine
  rescaling `a * x + b` of the data gives the same normalized input, and so the same training.
- `"feature"`: each feature is standardized on its own (zero mean, unit variance), the usual
  preprocessing of tabular data with columns in unrelated units. A feature of (near) zero
  variance is divided by `1e-3` times the mean standard deviation instead, so that rare values
  in an almost constant feature (a border pixel) do not become huge.
"""

import keras
import numpy as np

from keras_cluster.api_export import keras_cluster_export

NORMALIZATIONS = ("global", "feature", None)

# A feature's scale is never taken below this fraction of the features' root-mean variance.
RELATIVE_SCALE_FLOOR = 1e-3


@keras_cluster_export("keras_cluster.models.normalization_statistics")
def normalization_statistics(x, mode="global"):
    """The per-feature `(mean, variance)` that `mode` divides by, in float64.

    Formula:

    ```
    mean_j = (1/n) sum_i x_ij,   var_j = (1/n) sum_i (x_ij - mean_j)^2
    "global":  variance_j = v = (1/d) sum_k var_k             for every j
    "feature": variance_j = max(var_j, (1e-3)^2 * v)
    ```

    (`v = 1` when every feature is constant.)

    Args:
        x: array `(n_samples, n_features)`.
        mode: `"global"` or `"feature"`.

    Returns:
        `(mean, variance)`, two float64 arrays of shape `(n_features,)`.

    Example:

    >>> mean, variance = normalization_statistics(np.array([[0.0, 10.0], [2.0, 30.0]]))
    >>> mean.tolist(), variance.tolist()
    ([1.0, 20.0], [50.5, 50.5])
    """
    x = np.asarray(x, dtype=np.float64)
    return statistics_from_moments(x.mean(axis=0), x.var(axis=0), mode)


def statistics_from_moments(mean, feature_variance, mode="global"):
    """`normalization_statistics` from the per-feature mean and variance of the rows.

    For rows read in one streaming pass (`keras_cluster.row_source.RowSource.moments`), so the
    data never has to be held in memory.

    Example:

    >>> mean, variance = statistics_from_moments(np.array([1.0, 20.0]), np.array([1.0, 100.0]))
    >>> variance.tolist()
    [50.5, 50.5]
    """
    if mode not in NORMALIZATIONS[:2]:
        raise ValueError(f"`mode` should be one of {NORMALIZATIONS[:2]}. Received: mode={mode!r}")
    mean = np.asarray(mean, dtype=np.float64)
    feature_variance = np.asarray(feature_variance, dtype=np.float64)
    common = float(feature_variance.mean())
    if common <= 0.0:
        common = 1.0
    if mode == "global":
        variance = np.full_like(mean, common)
    else:
        variance = np.maximum(feature_variance, RELATIVE_SCALE_FLOOR**2 * common)
    return mean, variance


def normalization_layer(mean, variance, invert=False, name="normalization"):
    """A built `keras.layers.Normalization` holding `mean` and `variance` as its weights.

    The statistics are the layer's non-trainable weights, as after `adapt`, so they are saved
    with the model's weights, its `.keras` file and its SavedModel, and `load_weights` restores
    them.

    Args:
        mean: per-feature means, shape `(n_features,)`.
        variance: per-feature variances, shape `(n_features,)`.
        invert: build the inverse map `z * sqrt(variance) + mean`.
        name: layer name.

    Returns:
        A built `keras.layers.Normalization`.
    """
    mean = np.asarray(mean).reshape(-1)
    layer = keras.layers.Normalization(axis=-1, invert=invert, name=name)
    layer.build((None, mean.shape[0]))
    layer.adapt_mean.assign(mean.astype(layer.adapt_mean.dtype))
    layer.adapt_variance.assign(np.asarray(variance).reshape(-1).astype(layer.adapt_mean.dtype))
    layer.finalize_state()
    return layer


@keras_cluster_export("keras_cluster.models.fitted_normalization")
def fitted_normalization(x, mode="global", invert=False, name="normalization"):
    """A `keras.layers.Normalization` holding `normalization_statistics(x, mode)`.

    Args:
        x: array `(n_samples, n_features)`.
        mode: `"global"` or `"feature"`.
        invert: build the inverse map `z * sqrt(variance) + mean`.
        name: layer name.

    Returns:
        A built `keras.layers.Normalization` (see `normalization_layer`).

    Example:

    >>> layer = fitted_normalization(np.array([[0.0, 10.0], [2.0, 30.0]]), mode="feature")
    >>> keras.ops.convert_to_numpy(layer(np.array([[2.0, 10.0]]))).round(3).tolist()
    [[1.0, -1.0]]
    """
    return normalization_layer(*normalization_statistics(x, mode), invert=invert, name=name)


def layer_statistics(layer):
    """The `(mean, variance)` of a built `keras.layers.Normalization`, as float64 arrays."""
    if not isinstance(layer, keras.layers.Normalization) or not layer.built:
        raise ValueError(
            "`normalization` should be a built (adapted) `keras.layers.Normalization`. "
            f"Received: normalization={layer!r}"
        )
    mean = keras.ops.convert_to_numpy(layer.mean).astype(np.float64).reshape(-1)
    variance = keras.ops.convert_to_numpy(layer.variance).astype(np.float64).reshape(-1)
    return mean, variance
