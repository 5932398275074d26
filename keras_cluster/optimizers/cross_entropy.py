"""Cross-entropy losses in the generalized Gauss-Newton form `J^T H J` for classification."""

import keras
from keras import ops

CROSS_ENTROPIES = {
    keras.losses.sparse_categorical_crossentropy: "sparse_categorical",
    keras.losses.categorical_crossentropy: "categorical",
    keras.losses.binary_crossentropy: "binary",
}
"""The Keras loss functions handled here, by the kind of cross-entropy they compute."""


class CrossEntropy:
    """A compiled cross-entropy on one output, with its curvature in the Gauss-Newton form.

    The loss is convex in the logits `z` of each example, so `J^T H J` (`J` the Jacobian of
    the logits, `H` the Hessian of the loss with respect to them) is positive semi-definite:
    the generalized Gauss-Newton matrix. It is summed as `(F^T J)^T (F^T J)` with a factor
    `F F^T = H / 2` (the halves keep the Levenberg-Marquardt convention `(C + mu D) delta = g`
    with `C`, `g` half the curvature and gradient). For a model that outputs probabilities
    (`from_logits=False`), `u = log(p)` (softmax) or `logit(p)` (sigmoid) are logits of the
    same probabilities, and `J_u^T H J_u = J_z^T H J_z` exactly (`H 1 = 0` for softmax), so the
    probability Jacobian `J_p` is used with `J_u = diag(du/dp) J_p`.

    Formula:
    ```
    softmax:  loss = sum_i c_i (-sum_k y_ik log p_ik),  p = softmax(z)
              g_i = c_i (s_i p_i - y_i),  H_i = c_i s_i (diag(p_i) - p_i p_i^T),  s_i = sum_k y_ik
              F_i = sqrt(c_i s_i / 2) (diag(sqrt(p_i)) - p_i sqrt(p_i)^T)
    sigmoid:  loss = sum_ik c_i / K (-y log p - (1 - y) log(1 - p)),  p = sigmoid(z)
              g = c / K (p - y),  H = c / K p (1 - p) (diagonal)
    c_i = w_i * loss_weight / N ("sum_over_batch_size") or w_i * loss_weight ("sum")
    ```
    The rows `F_i^T J_i` have residuals `q_i` with `F_i q_i = b_i` (`b` half the gradient), so
    that `J^T b = sum_i (F_i^T J_i)^T q_i` and the dual form of the damped system applies:
    ```
    softmax:  q_i = b_i / (a_i sqrt(p_i)),  a_i = sqrt(c_i s_i / 2)   (sum_k b_ik = 0)
    sigmoid:  q = b / F                     (F diagonal; 0 where F = 0)
    ```

    Args:
        kind: `"sparse_categorical"`, `"categorical"` or `"binary"`.
        from_logits: Whether the model outputs logits (else probabilities).
        coef: Float64 tensor `(N, 1)`, `c_i`.
        targets: Float64 tensor `(N, K)`, the (smoothed, one-hot for sparse) targets `y`.

    Example:
    >>> import numpy as np
    >>> loss = CrossEntropy("categorical", True, np.ones((1, 1)), np.array([[0.0, 1.0]]))
    >>> round(float(loss.loss(np.zeros((1, 2)))), 6)  # log 2
    0.693147

    References:
        Schraudolph, N. N. (2002). Fast curvature matrix-vector products for second-order
        gradient descent. Neural Computation 14(7).
        Martens, J. (2020). New insights and perspectives on the natural gradient method.
        JMLR 21(146), section 8.
    """

    def __init__(self, kind, from_logits, coef, targets):
        self.kind, self.from_logits = kind, from_logits
        self.coef, self.targets = ops.cast(coef, "float64"), ops.cast(targets, "float64")
        self.epsilon = keras.backend.epsilon()

    @property
    def softmax(self):
        return self.kind != "binary"

    def _element_coef(self):
        if self.softmax:
            return self.coef
        return self.coef / ops.cast(ops.shape(self.targets)[-1], "float64")

    def _probabilities(self, outputs):
        if self.from_logits:
            return ops.softmax(outputs, axis=-1) if self.softmax else ops.sigmoid(outputs)
        if self.softmax:
            outputs = outputs / ops.sum(outputs, axis=-1, keepdims=True)
        return ops.clip(outputs, self.epsilon, 1.0 - self.epsilon)

    def loss(self, outputs):
        """The loss as Keras computes it (float64), for float64 `outputs` `(N, K)`."""
        y = self.targets
        if self.softmax:
            if self.from_logits:
                log_p = ops.log_softmax(outputs, axis=-1)
            else:
                log_p = ops.log(self._probabilities(outputs))
            return -ops.sum(self.coef * ops.sum(y * log_p, axis=-1, keepdims=True))
        if self.from_logits:
            elementwise = ops.relu(outputs) - outputs * y + ops.log1p(ops.exp(-ops.abs(outputs)))
        else:
            p = self._probabilities(outputs)
            elementwise = -(y * ops.log(p) + (1.0 - y) * ops.log(1.0 - p))
        return ops.sum(self._element_coef() * elementwise)

    def curvature_factor(self, outputs):
        """`F` with `J_out^T F F^T J_out = J_z^T H J_z / 2`: `(N, K, K)` or diagonal `(N, K)`."""
        p = self._probabilities(outputs)
        y = self.targets
        if self.softmax:
            mass = self.coef * ops.sum(y, axis=-1, keepdims=True)
            root = ops.sqrt(p)
            if self.from_logits:  # F = diag(sqrt p) - p sqrt(p)^T
                factor = _diag(root) - p[:, :, None] * root[:, None, :]
            else:  # diag(1 / p) F = diag(1 / sqrt p) - 1 sqrt(p)^T
                factor = _diag(1.0 / root) - ops.ones_like(p)[:, :, None] * root[:, None, :]
            return ops.sqrt(mass / 2.0)[:, :, None] * factor
        variance = p * (1.0 - p)
        scale = variance if self.from_logits else 1.0 / variance
        return ops.sqrt(self._element_coef() / 2.0 * scale)

    def row_residuals(self, outputs):
        """`q` with `F q = b` per example, `(N, K)`: the residuals of the rows `F^T J_out`.

        For softmax, `F = a (diag(s) - p s^T)` (logits) or `a (diag(1 / s) - 1 s^T)`
        (probabilities), `s = sqrt(p)`; since `sum_k b_k = 0` (logits) and `sum_k p_k b_k = 0`
        (probabilities), `q = b / (a s)` and `q = s b / a` solve `F q = b`.
        """
        p = self._probabilities(outputs)
        b = self.half_gradient(outputs)
        if not self.softmax:
            factor = self.curvature_factor(outputs)
            return ops.where(factor > 0, b / ops.where(factor > 0, factor, 1.0), 0.0)
        scale = ops.sqrt(self.coef * ops.sum(self.targets, axis=-1, keepdims=True) / 2.0)
        scale = scale * ops.sqrt(p) if self.from_logits else scale / ops.sqrt(p)
        return ops.where(scale > 0, b / ops.where(scale > 0, scale, 1.0), 0.0)

    def half_gradient(self, outputs):
        """`b` with `J_out^T b` half the gradient of the loss, `(N, K)`."""
        p = self._probabilities(outputs)
        y = self.targets
        if self.softmax:
            mass = ops.sum(y, axis=-1, keepdims=True)
            gradient = mass * p - y
            if not self.from_logits:
                gradient = gradient / p
            return self.coef / 2.0 * gradient
        gradient = p - y
        if not self.from_logits:
            gradient = gradient / (p * (1.0 - p))
        return self._element_coef() / 2.0 * gradient


def cross_entropy_terms(kind, config, loss_weight, reduction, y_pred, y, sample_weight, replicas):
    """The `CrossEntropy` of a compiled Keras cross-entropy on the output `y_pred` `(N, K)`.

    Args:
        kind: A value of `CROSS_ENTROPIES`.
        config: The loss's `get_config()` (`from_logits`, `label_smoothing`, ...).
        loss_weight: Float, the output's loss weight.
        reduction: `"sum_over_batch_size"` or `"sum"`.
        y_pred: The output, `(N, K)`.
        y: The targets: class indices `(N,)` or `(N, 1)` for `"sparse_categorical"`, else
            `(N, K)`.
        sample_weight: None or `(N,)` / `(N, 1)`.
        replicas: Number of replicas the global batch is split over.

    Returns:
        A `CrossEntropy`.
    """
    for arg, default in (("axis", -1), ("ignore_class", None)):
        if config.get(arg, default) != default:
            raise ValueError(
                f"LevenbergMarquardt supports cross-entropies with {arg}={default!r}. "
                f"Received: {arg}={config[arg]!r}"
            )
    if len(y_pred.shape) != 2:
        raise ValueError(
            "LevenbergMarquardt's cross-entropies need an output of shape (batch, classes). "
            f"Received an output of shape {y_pred.shape}."
        )
    classes = y_pred.shape[-1]
    batch = ops.shape(y_pred)[0]
    if kind == "sparse_categorical":
        targets = ops.one_hot(ops.reshape(ops.cast(y, "int32"), (-1,)), classes, dtype="float64")
    else:
        targets = ops.reshape(ops.cast(y, "float64"), (-1, classes))
    smoothing = float(config.get("label_smoothing", 0.0) or 0.0)
    if smoothing:
        uniform = smoothing / classes if kind == "categorical" else 0.5 * smoothing
        targets = targets * (1.0 - smoothing) + uniform
    coef = ops.full((batch, 1), loss_weight, dtype="float64")
    if sample_weight is not None:
        coef = coef * ops.reshape(ops.cast(sample_weight, "float64"), (-1, 1))
    if reduction != "sum":
        coef = coef / ops.cast(batch * replicas, "float64")
    return CrossEntropy(kind, bool(config.get("from_logits", False)), coef, targets)


def _diag(values):
    return values[:, :, None] * ops.eye(ops.shape(values)[-1], dtype=values.dtype)[None]
