"""The compiled loss of a Keras model written as squared residuals or Gauss-Newton terms."""

import keras
from keras import ops

from keras_cluster.optimizers import keras_internals
from keras_cluster.optimizers.cross_entropy import CROSS_ENTROPIES, cross_entropy_terms

REDUCTIONS = ("sum_over_batch_size", "sum")


def least_squares_terms(model, y_pred, y, sample_weight, replicas=1):
    """Per-element weights and targets that write the compiled loss as a sum of squares.

    Formula:
    ```
    loss = sum_{i, j} (sqrt_coef[i, j] * (flat(y_pred)[i, j] - targets[i, j]))^2
    sqrt_coef[i, j] = sqrt(w_i * lambda_k / (N * size_k))    reduction "sum_over_batch_size"
                      sqrt(w_i * lambda_k / last_dim_k)      reduction "sum"
    ```
    for column `j` of output `k` (loss weight `lambda_k`, `size_k` values per example, `N` the
    global batch size over `replicas`), `w_i` the sample weight.

    Args:
        model: A compiled Keras model whose losses are all mean squared errors.
        y_pred: The model's outputs on the batch (any structure).
        y: The targets, same structure as `y_pred`.
        sample_weight: None or per-example weights of shape `(N,)` or `(N, 1)`.
        replicas: Number of replicas the global batch is split over.

    Returns:
        `(sqrt_coef, targets)`, float64 tensors of shape `(N, total output size)`.

    Example:
    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> model.compile(loss="mse")
    >>> x, y = np.ones((4, 1)), np.zeros((4, 1))
    >>> _ = model.compute_loss(x, y, model(x))
    >>> sqrt_coef, _ = least_squares_terms(model, model(x), y, None)
    >>> np.asarray(sqrt_coef).ravel().tolist()
    [0.5, 0.5, 0.5, 0.5]

    References:
        Nocedal, J., Wright, S. J. (2006). Numerical Optimization, 2nd ed., chapter 10.
    """
    flat_pred = keras.tree.flatten(y_pred)
    paths = [tuple(path) for path, _ in keras.tree.flatten_with_path(y_pred)]
    terms = {}
    for path, loss_fn, loss_weight, name in keras_internals.compiled_losses(model):
        fn = getattr(loss_fn, "fn", None)
        reduction = getattr(loss_fn, "reduction", None)
        if fn is not keras.losses.mean_squared_error or reduction not in REDUCTIONS + ("mean",):
            raise ValueError(
                "LevenbergMarquardt supports the mean squared error (`loss='mse'` or "
                "`keras.losses.MeanSquaredError(reduction=...)` with reduction "
                f"'sum_over_batch_size' or 'sum'). Received for output {name!r}: "
                f"loss={loss_fn!r} with reduction={reduction!r}."
            )
        terms[path] = (1.0 if loss_weight is None else float(loss_weight), reduction)
    flat_true = keras.tree.flatten(y)
    if len(flat_true) != len(flat_pred):
        raise ValueError(
            f"LevenbergMarquardt expects one target per model output. Received "
            f"{len(flat_true)} targets for {len(flat_pred)} outputs."
        )
    flat_weight = keras.tree.flatten(sample_weight) if sample_weight is not None else []
    batch = ops.shape(flat_pred[0])[0]
    coefs, targets = [], []
    for index, (path, pred, true) in enumerate(zip(paths, flat_pred, flat_true, strict=True)):
        if path in terms:
            loss_weight, reduction = terms[path]
        elif len(terms) == len(flat_pred):
            loss_weight, reduction = list(terms.values())[index]
        else:
            loss_weight, reduction = 0.0, "sum"
        if len(pred.shape) < 2:
            raise ValueError(
                "LevenbergMarquardt needs outputs of shape (batch, ...). Received an output "
                f"of shape {pred.shape}."
            )
        size = 1
        for dim in pred.shape[1:]:
            size *= dim
        true = ops.reshape(ops.cast(true, "float64"), (-1, size))
        coef = ops.full((batch, 1), loss_weight, dtype="float64")
        if flat_weight:
            weight = flat_weight[index if len(flat_weight) > 1 else 0]
            coef = coef * ops.reshape(ops.cast(weight, "float64"), (-1, 1))
        if reduction == "sum":
            coef = coef / pred.shape[-1]
        else:
            coef = coef / (ops.cast(batch * replicas, "float64") * size)
        coefs.append(ops.broadcast_to(ops.sqrt(coef), (batch, size)))
        targets.append(true)
    return ops.concatenate(coefs, axis=1), ops.concatenate(targets, axis=1)


class SquaredError:
    """The compiled mean squared error as residuals `r = sqrt_coef * (outputs - targets)`.

    Formula:
    ```
    loss = sum r^2,   F = sqrt_coef (diagonal),   b = sqrt_coef^2 (outputs - targets)
    ```
    so that `J^T F F^T J = J_r^T J_r` and `J^T b = J_r^T r` (see `least_squares_terms`); the
    rows' residuals `c` with `F c = b` (the dual form) are `r` itself.
    """

    def __init__(self, sqrt_coef, targets):
        self.sqrt_coef, self.targets = sqrt_coef, targets

    def residuals(self, outputs):
        """`(N, K)` residuals of float64 `outputs`."""
        return self.sqrt_coef * (outputs - self.targets)

    def loss(self, outputs):
        return ops.sum(ops.square(self.residuals(outputs)))

    def curvature_factor(self, outputs):
        return self.sqrt_coef

    def half_gradient(self, outputs):
        return self.sqrt_coef * self.residuals(outputs)

    def row_residuals(self, outputs):
        """`c` with `F c = b`: the residuals `r`, `(N, K)`."""
        return self.residuals(outputs)


def loss_terms(model, y_pred, y, sample_weight, replicas=1):
    """The compiled loss as `SquaredError` (mean squared errors) or `CrossEntropy` terms.

    Args:
        model: A compiled Keras model whose compiled loss is built.
        y_pred: The model's outputs on the batch (any structure).
        y: The targets, same structure as `y_pred`.
        sample_weight: None or per-example weights.
        replicas: Number of replicas the global batch is split over.

    Returns:
        An object with `loss(outputs)`, `curvature_factor(outputs)` and
        `half_gradient(outputs)` of the float64 flat outputs `(N, K)`.

    Raises:
        ValueError: For a loss that is neither, or a cross-entropy on a multi-output model.
    """
    compiled = keras_internals.compiled_losses(model)
    kinds = [CROSS_ENTROPIES.get(getattr(loss, "fn", None)) for _, loss, _, _ in compiled]
    if not any(kinds):
        return SquaredError(*least_squares_terms(model, y_pred, y, sample_weight, replicas))
    flat_pred, flat_true = keras.tree.flatten(y_pred), keras.tree.flatten(y)
    if len(compiled) != 1 or len(flat_pred) != 1 or len(flat_true) != 1:
        raise ValueError(
            "LevenbergMarquardt supports a cross-entropy on a model with one output. Received "
            f"{len(flat_pred)} outputs with losses {[name for *_, name in compiled]}."
        )
    _, loss, loss_weight, _ = compiled[0]
    reduction = getattr(loss, "reduction", None)
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"LevenbergMarquardt supports the reductions {REDUCTIONS}. Received: "
            f"reduction={reduction!r}"
        )
    weight = None if sample_weight is None else keras.tree.flatten(sample_weight)[0]
    return cross_entropy_terms(
        kinds[0],
        loss.get_config(),
        1.0 if loss_weight is None else float(loss_weight),
        reduction,
        flat_pred[0],
        flat_true[0],
        weight,
        replicas,
    )


def weight_penalties(model):
    """The factor `lambda` of each trainable weight's quadratic penalty, as residual rows.

    Keras adds `lambda * sum(w^2)` to the loss for a weight created with
    `regularizer=keras.regularizers.L2(lambda)` (or `L1L2(l1=0, l2=lambda)`); that is the sum
    of squares of the residuals `sqrt(lambda) * w`, one row per entry of `w`. Any other weight
    regularizer is not a sum of squares and raises.

    Formula:
    ```
    loss = data loss + sum_p penalty_p * theta_p^2,   residual rows sqrt(penalty_p) * theta_p
    ```

    Args:
        model: A built Keras model.

    Returns:
        A list of floats, one per `model.trainable_variables` (0 for no regularizer).

    Raises:
        ValueError: For a weight regularizer other than `L2` or `L1L2` with `l1=0`, naming
            the weight and the regularizer.

    Example:
    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(
    ...     1, kernel_regularizer=keras.regularizers.L2(0.25))])
    >>> weight_penalties(model)
    [0.25, 0.0]

    References:
        Tikhonov, A. N. (1963). Solution of incorrectly formulated problems and the
        regularization method. Soviet Mathematics Doklady 4.
    """
    penalties = []
    for variable in model.trainable_variables:
        regularizer = getattr(variable, "regularizer", None)
        if regularizer is None:
            penalties.append(0.0)
        elif isinstance(regularizer, keras.regularizers.L2):
            penalties.append(float(regularizer.l2))
        elif isinstance(regularizer, keras.regularizers.L1L2) and regularizer.l1 == 0:
            penalties.append(float(regularizer.l2))
        else:
            raise ValueError(
                "LevenbergMarquardt minimises a sum of squares: a weight regularizer must be "
                "`keras.regularizers.L2` or `L1L2` with `l1=0` (rows sqrt(l2) * w). Received: "
                f"regularizer={regularizer!r} ({_describe(regularizer)}) on weight "
                f"{variable.path!r}."
            )
    return penalties


def check_only_weight_penalties(model, losses, penalties):
    """Raises if the model adds losses other than its quadratic weight penalties.

    Args:
        model: The Keras model.
        losses: The losses collected by `model.stateless_call(..., return_losses=True)`.
        penalties: `weight_penalties(model)`.

    Raises:
        ValueError: Naming the activity regularizers, or the number of `add_loss` losses.
    """
    extra = len(losses) - sum(1 for p in penalties if p)
    if extra <= 0:
        return
    activity = [
        f"{layer.name}: {layer.activity_regularizer!r}"
        for layer in keras_internals.all_layers(model)
        if getattr(layer, "activity_regularizer", None) is not None
    ]
    received = (
        f"activity_regularizer on {activity}" if activity else f"{extra} loss(es) from add_loss"
    )
    raise ValueError(
        "LevenbergMarquardt minimises a sum of squares of the outputs and of the weights; the "
        "model adds losses that are neither (activity regularizers, `add_loss`). Remove them "
        f"or use another optimizer. Received: {received}."
    )


def _describe(regularizer):
    config = getattr(regularizer, "get_config", lambda: {})()
    return f"{type(regularizer).__name__} {config}"
