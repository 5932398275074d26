"""The uncertainty of a least-squares fit: Gauss-Newton parameter covariance, delta method."""

import dataclasses
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.optimizers.jacobian import (
    default_chunk_rows,
    flat_outputs,
    gauss_newton_sums,
    output_jacobian,
)


@keras_cluster_export("keras_cluster.optimizers.FitUncertainty")
@dataclasses.dataclass(frozen=True)
class FitUncertainty:
    """The Gauss-Newton covariance of a model's weights, from `fit_uncertainty`.

    Attributes:
        covariance: Float64 array `(P, P)`, `sigma2 * pinv(J^T J)`, in the order of
            `model.trainable_variables` flattened.
        sigma2: Float, the residual variance `RSS / dof`.
        dof: Int, the residual degrees of freedom `n - rank`.
        rank: Int, the numerical rank of `J^T J` (`P` when it is invertible).
        model: The Keras model the covariance belongs to.
    """

    covariance: np.ndarray
    sigma2: float
    dof: int
    rank: int
    model: keras.Model

    @property
    def standard_errors(self):
        """Standard errors of the flattened weights, `sqrt(diag(covariance))`."""
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))

    def weight_standard_errors(self):
        """The standard errors shaped as `model.trainable_variables`, one array each."""
        errors, start = [], 0
        for variable in self.model.trainable_variables:
            size = int(np.prod(variable.shape))
            errors.append(self.standard_errors[start : start + size].reshape(variable.shape))
            start += size
        return errors

    def prediction_standard_errors(self, x):
        """Standard errors of the model's outputs at `x` by the delta method.

        Formula:
        ```
        se(f(x_i)_k) = sqrt(J_ik^T Cov J_ik),   J_ik = d f(x_i)_k / d theta
        ```

        Args:
            x: Inputs, as for `model.predict`.

        Returns:
            Float64 array `(N, total output size)`.
        """
        jacobian = _jacobian_function(self.model)(x).numpy().astype("float64")
        variance = np.einsum("nkp,pq,nkq->nk", jacobian, self.covariance, jacobian)
        return np.sqrt(np.clip(variance, 0.0, None))


@keras_cluster_export("keras_cluster.optimizers.fit_uncertainty")
def fit_uncertainty(model, x, y, jacobian_chunk_rows=None, rcond=1e-10):
    """The Gauss-Newton covariance of the weights of a model fitted by least squares.

    For a model `f(x; theta)` fitted to `y` by (unweighted) least squares, the asymptotic
    covariance of the weights is `sigma^2 (J^T J)^-1`. Over-parametrised networks have a
    singular `J^T J`: then the pseudo-inverse is used (directions the data do not determine
    get no variance) and a warning gives the rank.

    Formula:
    ```
    r = y - f(x; theta),   sigma^2 = r^T r / (n - rank(J^T J)),   n = N x outputs
    Cov(theta) = sigma^2 pinv(J^T J)
    ```
    For a linear model this is the ordinary-least-squares `sigma^2 (X^T X)^-1`.

    Args:
        model: A Keras model (trained with a squared error, no regularizer).
        x: Inputs, `N` examples (arrays or a structure of arrays).
        y: Targets, of the model's output shape.
        jacobian_chunk_rows: None or int >= 1, examples whose Jacobian is held at once (as in
            `LevenbergMarquardt`). Defaults to `None` (chosen from the weight count).
        rcond: Float, relative cut-off of the eigenvalues of `J^T J` treated as zero.

    Returns:
        A `FitUncertainty` (`covariance`, `standard_errors`, `weight_standard_errors()`,
        `prediction_standard_errors(x)`).

    Example:
    >>> import keras, numpy as np
    >>> x = np.linspace(0, 1, 20)[:, None]; y = 2 * x + 1 + 0.1 * np.sin(40 * x)
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> _ = model.layers[0].kernel.assign([[2.0]]); _ = model.layers[0].bias.assign([1.0])
    >>> result = fit_uncertainty(model, x, y)
    >>> result.dof, result.standard_errors.shape
    (18, (2,))

    References:
        Seber, G. A. F., Wild, C. J. (1989). Nonlinear Regression, sections 2.1-2.3, 5.1.
        Bates, D. M., Watts, D. G. (1988). Nonlinear Regression Analysis and Its
        Applications, section 2.3.
    """
    if jacobian_chunk_rows is not None and (
        not isinstance(jacobian_chunk_rows, int) or jacobian_chunk_rows < 1
    ):
        raise ValueError(
            "`jacobian_chunk_rows` should be None or an int >= 1. Received: "
            f"jacobian_chunk_rows={jacobian_chunk_rows!r}"
        )
    if not model.trainable_variables:
        raise ValueError("fit_uncertainty needs a model with trainable weights.")
    x = keras.tree.map_structure(lambda t: tf.convert_to_tensor(t, model.compute_dtype), x)
    outputs = flat_outputs(model(x, training=False)).numpy()
    targets = np.reshape(np.asarray(y, dtype="float64"), outputs.shape)
    residuals = targets - outputs
    weights = [v.value for v in model.trainable_variables]
    num_weights = sum(int(np.prod(w.shape)) for w in weights)
    chunk_rows = jacobian_chunk_rows or default_chunk_rows(num_weights, outputs.shape[1])
    ones = tf.ones(outputs.shape, model.compute_dtype)

    @tf.function
    def sums(inputs):
        non_trainable = [v.value for v in model.non_trainable_variables]
        return gauss_newton_sums(model, weights, non_trainable, inputs, ones, None, chunk_rows)[0]

    curvature = sums(x).numpy()
    values, vectors = np.linalg.eigh(curvature)
    kept = values > rcond * max(values.max(), 0.0)
    rank = int(kept.sum())
    if rank < num_weights:
        warnings.warn(
            f"J^T J is singular (rank {rank} of {num_weights} weights): the covariance uses "
            "its pseudo-inverse, and the weights are not all determined by the data.",
            UserWarning,
            stacklevel=2,
        )
    rows = residuals.size
    dof = rows - rank
    if dof <= 0:
        raise ValueError(
            "fit_uncertainty needs more residuals than determined weights to estimate the "
            f"noise variance. Received: {rows} residuals for a rank of {rank}."
        )
    sigma2 = float(np.sum(residuals**2) / dof)
    inverse = (vectors[:, kept] / values[kept]) @ vectors[:, kept].T
    return FitUncertainty(sigma2 * inverse, sigma2, dof, rank, model)


def _jacobian_function(model):
    @tf.function
    def jacobian(inputs):
        weights = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        return output_jacobian(model, weights, non_trainable, inputs)

    return lambda x: jacobian(
        keras.tree.map_structure(lambda t: tf.convert_to_tensor(t, model.compute_dtype), x)
    )
