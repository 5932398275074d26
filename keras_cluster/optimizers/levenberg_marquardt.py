"""Levenberg-Marquardt: a damped Gauss-Newton step for least-squares training in `model.fit`."""

import keras
import tensorflow as tf
from keras import ops

from keras_cluster.api_export import keras_cluster_export

MU_RULES = ("tutorial", "nielsen", "fixed")
DAMPINGS = ("identity", "marquardt")
CURVATURES = ("gauss_newton", "hessian")
REDUCTIONS = ("sum_over_batch_size", "sum")
_CALLBACK_HINT = (
    "pass `keras_cluster.callbacks.MuAdaptation()` in `model.fit(..., callbacks=[...])`"
)


@keras_cluster_export
class LevenbergMarquardt(keras.optimizers.Optimizer):
    """Levenberg-Marquardt optimizer for mean-squared-error models, used through `model.fit`.

    Each training step computes the residuals `r` of the compiled mean squared error (scaled so
    that `sum(r**2)` equals the loss) and their Jacobian `J` with respect to all trainable
    weights, one example at a time (vectorised, memory O(batch x weights)). It then solves the
    damped normal equations in float64 and moves the weights by `-learning_rate * delta`. A
    ladder of `max_attempts` increasing damping values is evaluated at once (one forward pass
    each, one all-reduce of their losses under `tf.distribute`); the first one whose loss falls
    is taken and `mu` is adapted by `mu_rule`. When none falls the weights are left unchanged.

    Keras's `train_step` hands an optimizer gradients only, so the step needs the model: pass
    `keras_cluster.callbacks.MuAdaptation()` to `fit`. Without it the first step raises.

    Formula:
    ```
    (J^T J + mu * D) delta = J^T r,     D = I ("identity") or diag(J^T J) ("marquardt")
    w <- w - learning_rate * delta      if loss(w - learning_rate * delta) < loss(w)
    ```
    When the batch has fewer residual rows than weights, the dual form is solved instead:
    `delta = D^-1 J^T (J D^-1 J^T + mu I)^-1 r`. With `curvature="hessian"`, `J^T J` is
    replaced by half the Hessian of the loss (Newton's method; for tiny models).

    `mu_rule`:
    - `"tutorial"`: `mu <- mu / mu_decrease` after an accepted step; a rejected trial retries
      with `mu * mu_increase` (as MATLAB `trainlm`).
    - `"nielsen"`: gain ratio `rho = (L(w) - L(w - delta)) / (delta^T J^T r + mu delta^T D
      delta)`; accepted when `rho > 0`, then `mu <- mu * max(1/3, 1 - (2 rho - 1)^3)`,
      `nu <- 2`; rejected: `mu <- mu * nu`, `nu <- 2 nu`.
    - `"fixed"`: one trial at the given `mu`, taken whenever its loss is finite (`mu=0` gives
      Gauss-Newton, see `GaussNewton`).
    `mu` is clipped to `[mu_min, mu_max]`.

    Args:
        learning_rate: Float > 0, multiplies the step. Defaults to `1.0` (the plain LM step).
        mu: Float >= 0, initial damping. Defaults to `1e-3` (`trainlm`'s `mu`).
        mu_min: Float >= 0, lower bound of `mu`. Defaults to `1e-10`.
        mu_max: Float > `mu_min`, upper bound of `mu`; `MuAdaptation` stops training when it is
            reached. Defaults to `1e10`.
        mu_increase: Float > 1, factor after a rejected trial (`"tutorial"`). Defaults to 10.
        mu_decrease: Float > 1, divisor after an accepted step (`"tutorial"`). Defaults to 10.
        max_attempts: Int >= 1, trials per step (ignored by `"fixed"`, which makes one).
            Defaults to 10.
        mu_rule: One of `"tutorial"`, `"nielsen"`, `"fixed"`. Defaults to `"tutorial"`.
        damping: `"identity"` (D = I) or `"marquardt"` (D = diag(J^T J)). Defaults to
            `"identity"`.
        curvature: `"gauss_newton"` (J^T J) or `"hessian"` (exact Hessian, tiny models only).
            Defaults to `"gauss_newton"`.
        name: String, name of the optimizer.
        **kwargs: Other `keras.optimizers.Optimizer` arguments; gradient clipping, weight decay,
            EMA and gradient accumulation do not apply to this step and raise if set.

    Returns:
        An optimizer for `model.compile(optimizer=...)`; `fit` logs `mu` every step.

    Example:
    >>> import keras, numpy as np
    >>> from keras_cluster.callbacks import MuAdaptation
    >>> x = np.random.uniform(-1, 1, (64, 2)); y = x[:, :1] ** 2 + x[:, 1:]
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, "tanh"),
    ...                           keras.layers.Dense(1)])
    >>> model.compile(optimizer=LevenbergMarquardt(), loss="mse")
    >>> history = model.fit(x, y, batch_size=64, epochs=5, callbacks=[MuAdaptation()],
    ...                     verbose=0)
    >>> sorted(history.history)
    ['loss', 'mu']

    References:
        Levenberg, K. (1944). A method for the solution of certain non-linear problems in least
        squares. Quarterly of Applied Mathematics 2(2).
        Marquardt, D. W. (1963). An algorithm for least-squares estimation of nonlinear
        parameters. SIAM Journal on Applied Mathematics 11(2).
        Hagan, M. T., Menhaj, M. B. (1994). Training feedforward networks with the Marquardt
        algorithm. IEEE Transactions on Neural Networks 5(6).
        Nielsen, H. B. (1999). Damping parameter in Marquardt's method. IMM-REP-1999-05, DTU.
    """

    def __init__(
        self,
        learning_rate=1.0,
        mu=1e-3,
        mu_min=1e-10,
        mu_max=1e10,
        mu_increase=10.0,
        mu_decrease=10.0,
        max_attempts=10,
        mu_rule="tutorial",
        damping="identity",
        curvature="gauss_newton",
        name="levenberg_marquardt",
        **kwargs,
    ):
        _check_positive_float("learning_rate", learning_rate)
        for arg, value in (("mu", mu), ("mu_min", mu_min)):
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"`{arg}` should be a float >= 0. Received: {arg}={value!r}")
        _check_positive_float("mu_max", mu_max)
        if mu_max <= mu_min:
            raise ValueError(
                f"`mu_max` should be > `mu_min`. Received: mu_max={mu_max!r}, mu_min={mu_min!r}"
            )
        for arg, value in (("mu_increase", mu_increase), ("mu_decrease", mu_decrease)):
            if not isinstance(value, (int, float)) or value <= 1:
                raise ValueError(f"`{arg}` should be a float > 1. Received: {arg}={value!r}")
        if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or max_attempts < 1:
            raise ValueError(
                f"`max_attempts` should be an int >= 1. Received: max_attempts={max_attempts!r}"
            )
        for arg, value, allowed in (
            ("mu_rule", mu_rule, MU_RULES),
            ("damping", damping, DAMPINGS),
            ("curvature", curvature, CURVATURES),
        ):
            if value not in allowed:
                raise ValueError(f"`{arg}` should be one of {allowed}. Received: {arg}={value!r}")
        if mu_rule != "fixed" and not mu_min <= mu <= mu_max or mu_rule != "fixed" and mu == 0:
            raise ValueError(
                f"`mu` should be > 0 and within [mu_min, mu_max] for mu_rule={mu_rule!r}. "
                f"Received: mu={mu!r}, mu_min={mu_min!r}, mu_max={mu_max!r}"
            )
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        for arg in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, arg) is not None:
                raise ValueError(
                    f"`{arg}` does not apply to the Levenberg-Marquardt step. "
                    f"Received: {arg}={getattr(self, arg)!r}"
                )
        if self.use_ema or self.gradient_accumulation_steps:
            raise ValueError(
                "`use_ema` and `gradient_accumulation_steps` do not apply to the "
                f"Levenberg-Marquardt step. Received: use_ema={self.use_ema!r}, "
                f"gradient_accumulation_steps={self.gradient_accumulation_steps!r}"
            )
        self.mu_init = float(mu)
        self.mu_min = float(mu_min)
        self.mu_max = float(mu_max)
        self.mu_increase = float(mu_increase)
        self.mu_decrease = float(mu_decrease)
        self.max_attempts = max_attempts
        self.mu_rule = mu_rule
        self.damping = damping
        self.curvature = curvature

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._mu = self.add_variable(
            (),
            initializer=_float64_constant(self.mu_init),
            dtype="float64",
            aggregation="only_first_replica",
            name="mu",
        )
        self._nu = self.add_variable(
            (),
            initializer=_float64_constant(2.0),
            dtype="float64",
            aggregation="only_first_replica",
            name="nu",
        )

    @property
    def mu(self):
        """The current damping `mu` (a float64 optimizer variable, saved with the model)."""
        return self._mu

    def update_step(self, gradient, variable, learning_rate):
        """Moves `variable` by `-learning_rate * gradient`, where `gradient` is the LM `delta`."""
        learning_rate = ops.cast(learning_rate, variable.dtype)
        self.assign_sub(variable, ops.multiply(learning_rate, gradient))

    def apply(self, grads, trainable_variables=None):
        raise ValueError(
            "LevenbergMarquardt computes its step from the model's residual Jacobian, which "
            "Keras's default `train_step` does not hand to an optimizer (it passes gradients "
            f"only). To train with it, {_CALLBACK_HINT}; it must never fall back to gradient "
            "descent."
        )

    def candidate_mus(self):
        """The ladder of damping values tried in one step, and `nu` at each trial (float64)."""
        mu, nu = tf.convert_to_tensor(self._mu.value), tf.convert_to_tensor(self._nu.value)
        if self.mu_rule == "fixed":
            return ops.reshape(mu, (1,)), ops.reshape(nu, (1,))
        mus, nus = [], []
        for _ in range(self.max_attempts):
            mus.append(mu)
            nus.append(nu)
            if self.mu_rule == "tutorial":
                mu = ops.minimum(mu * self.mu_increase, self.mu_max)
            else:
                mu, nu = ops.minimum(mu * nu, self.mu_max), nu * 2.0
        return ops.stack(mus), ops.stack(nus)

    def train_step(self, model, data):
        """One Levenberg-Marquardt step of `model` on a batch; installed by `MuAdaptation`."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        variables = model.trainable_variables
        if not variables:
            raise ValueError("LevenbergMarquardt needs a model with trainable weights.")
        if model.losses:
            raise ValueError(
                "LevenbergMarquardt minimises a sum of squares; the model adds "
                f"{len(model.losses)} regularisation or activity loss(es), which it cannot "
                "take into account. Remove them or use another optimizer."
            )
        weights = [tf.convert_to_tensor(v.value) for v in variables]
        non_trainable = [tf.convert_to_tensor(v.value) for v in model.non_trainable_variables]
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1

        y_pred = model.stateless_call(weights, non_trainable, x, training=False)[0]
        model_loss = model.compute_loss(x, y, y_pred, sample_weight, training=True)
        sqrt_coef, targets = least_squares_terms(model, y_pred, y, sample_weight, replicas)

        def residuals_at(trial_weights):
            outputs = model.stateless_call(trial_weights, non_trainable, x, training=False)[0]
            return sqrt_coef * (_flat_outputs(outputs) - targets)

        residuals = ops.reshape(sqrt_coef * (_flat_outputs(y_pred) - targets), (-1,))
        loss = ops.sum(ops.square(residuals))
        jacobian = None
        if self.curvature == "hessian":
            curvature, gradient = _half_hessian_and_gradient(weights, residuals_at)
        else:
            # J^T J is accumulated in the model's dtype (float32: ~4x faster than float64 on
            # CPU); the damped system itself is always solved in float64.
            jacobian = output_jacobian(model, weights, non_trainable, x)
            jacobian = ops.cast(sqrt_coef, jacobian.dtype)[:, :, None] * jacobian
            jacobian = ops.reshape(jacobian, (-1, jacobian.shape[-1]))
            low_residuals = ops.cast(residuals, jacobian.dtype)
            gradient = ops.cast(
                tf.linalg.matvec(jacobian, low_residuals, transpose_a=True), "float64"
            )
        rows, num_weights = residuals.shape[0], gradient.shape[0]
        dual = jacobian is not None and replicas == 1 and rows is not None and rows < num_weights
        if jacobian is not None and not dual:
            transposed = ops.transpose(jacobian)  # faster than matmul(transpose_a) on CPU
            curvature = ops.cast(ops.matmul(transposed, jacobian), "float64")
        if replicas > 1:
            curvature, gradient, loss = context.all_reduce("sum", [curvature, gradient, loss])

        if dual:
            jacobian = ops.cast(jacobian, "float64")
            scale = _damping_scale(ops.sum(ops.square(jacobian), axis=0), self.damping)
            scaled = jacobian * scale
            system = (tf.matmul(scaled, scaled, transpose_b=True), residuals)
        else:
            scale = _damping_scale(tf.linalg.diag_part(curvature), self.damping)
            system = (curvature * scale[:, None] * scale[None, :], gradient * scale)
        learning_rate = ops.cast(self.learning_rate, "float64")

        def trials(trial_mus):
            solutions = damped_solve(*system, trial_mus)
            steps = (ops.matmul(solutions, scaled) if dual else solutions) * scale
            losses = ops.stack(
                [
                    ops.sum(ops.square(residuals_at(_moved(weights, -learning_rate * step))))
                    for step in ops.unstack(steps, axis=0)
                ]
            )
            if replicas > 1:
                losses = context.all_reduce("sum", losses)
            return steps, losses

        def acceptable(trial_losses, steps):
            finite = ops.isfinite(trial_losses) & ops.all(ops.isfinite(steps), axis=1)
            return finite if self.mu_rule == "fixed" else finite & (trial_losses < loss)

        mus, nus = self.candidate_mus()
        steps, trial_losses = trials(mus[:1])
        if self.max_attempts > 1 and self.mu_rule != "fixed":
            # The retry ladder: on one replica it runs only when the first trial fails;
            # under tf.distribute it is always evaluated, since an all-reduce may not sit
            # inside control flow of the replica function.
            def retry():
                return trials(mus[1:])

            def skip():
                return ops.zeros((mus.shape[0] - 1, num_weights), "float64"), ops.full(
                    (mus.shape[0] - 1,), float("inf"), "float64"
                )

            if replicas > 1:
                more_steps, more_losses = retry()
            else:
                more_steps, more_losses = tf.cond(acceptable(trial_losses, steps)[0], skip, retry)
            steps = ops.concatenate([steps, more_steps], axis=0)
            trial_losses = ops.concatenate([trial_losses, more_losses], axis=0)

        accepted = acceptable(trial_losses, steps)
        any_accepted = ops.any(accepted)
        first = ops.argmax(ops.cast(accepted, "int32"))
        step = ops.take(steps, first, axis=0)
        predicted = ops.sum(step * gradient) + ops.take(mus, first) * ops.sum(
            ops.square(step / scale)
        )
        rho = (loss - ops.take(trial_losses, first)) / predicted
        rho = ops.where(ops.isfinite(rho), rho, 1.0)  # a zero predicted reduction: shrink mu by 3
        self._adapt_mu(any_accepted, ops.take(mus, first), rho, mus, nus)

        step = ops.where(any_accepted, step, 0.0) / replicas
        super().apply(_unflatten(weights, step), variables)

        model._loss_tracker.update_state(
            model_loss * replicas, sample_weight=ops.shape(keras.tree.flatten(x)[0])[0]
        )
        logs = model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        logs["mu"] = tf.convert_to_tensor(self._mu.value)
        return logs

    def _adapt_mu(self, any_accepted, accepted_mu, rho, mus, nus):
        if self.mu_rule == "fixed":
            return
        if self.mu_rule == "tutorial":
            on_success = accepted_mu / self.mu_decrease
            on_failure = mus[-1] * self.mu_increase
            nu = tf.convert_to_tensor(self._nu.value)
        else:
            on_success = accepted_mu * ops.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
            on_failure = mus[-1] * nus[-1]
            nu = ops.where(any_accepted, 2.0, nus[-1] * 2.0)
        mu = ops.where(any_accepted, on_success, on_failure)
        self._mu.assign(ops.clip(mu, self.mu_min, self.mu_max))
        self._nu.assign(nu)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mu": self.mu_init,
                "mu_min": self.mu_min,
                "mu_max": self.mu_max,
                "mu_increase": self.mu_increase,
                "mu_decrease": self.mu_decrease,
                "max_attempts": self.max_attempts,
                "mu_rule": self.mu_rule,
                "damping": self.damping,
                "curvature": self.curvature,
            }
        )
        return config


def _float64_constant(value):
    """An initializer exact in float64 (`keras.initializers.Constant` rounds through float32)."""

    def initializer(shape, dtype=None):
        return ops.full(shape, value, dtype="float64")

    return initializer


def _check_positive_float(arg, value):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{arg}` should be a float > 0. Received: {arg}={value!r}")


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
    """
    compile_loss = model._compile_loss
    if compile_loss is None or not compile_loss.built:  # built by `model.compute_loss`
        raise ValueError("LevenbergMarquardt needs a model compiled with `loss='mse'`.")
    flat_pred = keras.tree.flatten(y_pred)
    paths = [path for path, _ in keras.tree.flatten_with_path(y_pred)]
    terms = {}
    for path, loss_fn, loss_weight, name in compile_loss._flat_losses:
        fn = getattr(loss_fn, "fn", None)
        reduction = getattr(loss_fn, "reduction", None)
        if fn is not keras.losses.mean_squared_error or reduction not in REDUCTIONS + ("mean",):
            raise ValueError(
                "LevenbergMarquardt supports the mean squared error (`loss='mse'` or "
                "`keras.losses.MeanSquaredError(reduction=...)` with reduction "
                f"'sum_over_batch_size' or 'sum'). Received for output {name!r}: "
                f"loss={loss_fn!r} with reduction={reduction!r}."
            )
        terms[tuple(path)] = (1.0 if loss_weight is None else float(loss_weight), reduction)
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
        if tuple(path) in terms:
            loss_weight, reduction = terms[tuple(path)]
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


def output_jacobian(model, weights, non_trainable, x):
    """Jacobian of the flattened outputs with respect to `weights`, one example at a time.

    Vectorised with `tf.vectorized_map` over the batch, so memory grows as
    O(batch x outputs x weights) rather than with batch^2 as one `tape.jacobian` would.

    Args:
        model: A Keras model whose layers act on each example independently.
        weights: List of tensors, the trainable weights to differentiate with respect to.
        non_trainable: List of tensors, the non-trainable weights.
        x: The batch of inputs (any structure).

    Returns:
        A tensor of shape `(batch, total output size, total number of weights)`.
    """

    def one_example(example):
        example = keras.tree.map_structure(lambda t: t[None], example)
        local = [tf.identity(w) for w in weights]  # the traced loop body's own copies to watch
        with tf.GradientTape() as tape:
            tape.watch(local)
            outputs = model.stateless_call(local, non_trainable, example, training=False)[0]
            flat = ops.reshape(_flat_outputs(outputs, dtype=None), (-1,))
            single = flat[0]
        if flat.shape[0] == 1:
            jacobians = tape.gradient(
                single, local, unconnected_gradients=tf.UnconnectedGradients.ZERO
            )
            jacobians = [j[None] for j in jacobians]
        else:
            jacobians = tape.jacobian(
                flat, local, unconnected_gradients=tf.UnconnectedGradients.ZERO
            )
        return ops.concatenate([ops.reshape(j, (flat.shape[0], -1)) for j in jacobians], axis=1)

    return tf.vectorized_map(one_example, x)


def damped_solve(matrix, rhs, mus):
    """Solves `(matrix + mu_k I) z_k = rhs` for every `mu_k` in float64.

    Cholesky for all candidates at once; when one factorisation is not finite (the damped
    matrix is not numerically positive definite), all candidates are solved from one symmetric
    eigendecomposition instead, dropping the null directions (a pseudo-inverse).

    Args:
        matrix: Symmetric positive semi-definite float64 tensor of shape `(n, n)`.
        rhs: Float64 tensor of shape `(n,)`.
        mus: Float64 tensor of shape `(K,)`.

    Returns:
        Float64 tensor of shape `(K, n)`.
    """
    eye = tf.eye(ops.shape(matrix)[0], dtype="float64")
    factors = tf.linalg.cholesky(matrix[None] + mus[:, None, None] * eye[None])
    rhs_batch = ops.broadcast_to(rhs[None, :, None], (ops.shape(mus)[0], ops.shape(rhs)[0], 1))

    def by_cholesky():
        return tf.linalg.cholesky_solve(factors, rhs_batch)[..., 0]

    def by_eigh():
        values, vectors = tf.linalg.eigh(matrix)
        damped = values[None] + mus[:, None]
        tolerance = 1e-12 * ops.max(ops.abs(values))
        kept = ops.abs(damped) > tolerance  # an indefinite Hessian keeps its negative values
        inverse = ops.where(kept, 1.0 / ops.where(kept, damped, 1.0), 0.0)
        projected = tf.linalg.matvec(vectors, rhs, transpose_a=True)
        return ops.matmul(inverse * projected[None], ops.transpose(vectors))

    return tf.cond(ops.all(ops.isfinite(factors)), by_cholesky, by_eigh)


def _damping_scale(diagonal, damping):
    if damping == "identity":
        return ops.ones_like(diagonal)
    return ops.where(diagonal > 0, 1.0 / ops.sqrt(ops.where(diagonal > 0, diagonal, 1.0)), 1.0)


def _half_hessian_and_gradient(weights, residuals_at):
    flat = ops.concatenate([ops.reshape(ops.cast(w, "float64"), (-1,)) for w in weights], axis=0)
    with tf.GradientTape() as outer:
        outer.watch(flat)
        with tf.GradientTape() as inner:
            inner.watch(flat)
            loss = ops.sum(ops.square(residuals_at(_unflatten(weights, flat))))
        gradient = inner.gradient(loss, flat)
    hessian = outer.jacobian(gradient, flat)
    return 0.5 * hessian, 0.5 * gradient


def _flat_outputs(outputs, dtype="float64"):
    flat = [ops.reshape(t, (ops.shape(t)[0], -1)) for t in keras.tree.flatten(outputs)]
    flat = ops.concatenate(flat, axis=1) if len(flat) > 1 else flat[0]
    return flat if dtype is None else ops.cast(flat, dtype)


def _unflatten(like, flat):
    pieces, start = [], 0
    for tensor in like:
        size = 1
        for dim in tensor.shape:
            size *= dim
        pieces.append(ops.cast(ops.reshape(flat[start : start + size], tensor.shape), tensor.dtype))
        start += size
    return pieces


def _moved(weights, step):
    return [w + d for w, d in zip(weights, _unflatten(weights, step), strict=True)]
