"""Levenberg-Marquardt: a damped Gauss-Newton step for least-squares training in `model.fit`."""

import random

import keras
import tensorflow as tf
from keras import ops

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.optimizers import keras_internals
from keras_cluster.optimizers.cross_entropy import CrossEntropy
from keras_cluster.optimizers.curvature_sample import curvature_sample
from keras_cluster.optimizers.damped_solve import (
    DAMPINGS,
    damped_solve,
    damping_scale,
    low_rank_damped_solve,
)
from keras_cluster.optimizers.jacobian import (
    default_chunk_rows,
    flat_outputs,
    gauss_newton_sums,
    output_jacobian,
    output_vjp,
    scaled_rows,
)
from keras_cluster.optimizers.mu_rules import (
    CROSS_ENTROPY_MU_MIN,
    LEAST_SQUARES_MU_MIN,
    MU_RULES,
    MuRule,
    gain_ratio,
)
from keras_cluster.optimizers.residuals import (
    check_only_weight_penalties,
    loss_terms,
    weight_penalties,
)
from keras_cluster.validation import (
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    Interval,
    Options,
    validate,
)

CURVATURES = ("gauss_newton", "hessian")
GREATER_THAN_ONE = Interval("real", 1, None, closed="neither")
_TRAINING_TIME_LAYERS = (
    keras.layers.Dropout,
    keras.layers.AlphaDropout,
    keras.layers.GaussianDropout,
    keras.layers.GaussianNoise,
    keras.layers.BatchNormalization,
)
_CALLBACK_HINT = (
    "pass `keras_cluster.callbacks.MuAdaptation()` in `model.fit(..., callbacks=[...])`"
)


@keras_cluster_export("keras_cluster.optimizers.LevenbergMarquardt", keras_serializable=True)
class LevenbergMarquardt(keras.optimizers.Optimizer):
    """Levenberg-Marquardt optimizer for least-squares and classification models in `model.fit`.

    Each training step computes the residuals `r` of the compiled mean squared error (scaled so
    that `sum(r**2)` equals the loss), with one more row `sqrt(l2) * w` per weight that has an
    `L2` regularizer (so the step minimises exactly the loss Keras reports), and sums `J^T J`
    and `J^T r` over chunks of `jacobian_chunk_rows` examples (the Jacobian `J` with respect
    to all trainable weights is vectorised over a chunk: memory O(chunk x weights +
    weights^2), flat in the batch size). A compiled cross-entropy (sparse, categorical, binary;
    logits or probabilities) gives the generalized Gauss-Newton matrix `J^T H J / 2` instead,
    `H` the loss's Hessian with respect to the logits (`diag(p) - p p^T` for softmax). The
    damped normal equations are solved in float64 and the weights move by
    `-learning_rate * delta`. The damping values of a ladder of `max_attempts` are tried one
    after the other (one solve and one forward pass each) until the true loss falls; `mu` is
    then adapted by `mu_rule`. When none falls the weights are left unchanged. The model is
    evaluated with `training=False`; a layer that computes other outputs in training mode
    (Dropout, noise, trainable BatchNormalization) fails the first step, naming it.

    Keras's `train_step` hands an optimizer gradients only, so the step needs the model: pass
    `keras_cluster.callbacks.MuAdaptation()` to `fit`. Without it the first step raises.

    Formula:
    ```
    (J^T J + mu * D) delta = J^T r,     D = I ("identity") or diag(J^T J) ("marquardt")
    w <- w - learning_rate * delta      if loss(w - learning_rate * delta) < loss(w)
    ```
    With a cross-entropy, `J^T J` and `J^T r` are the `J^T H J / 2` and half gradient above.
    When the batch has fewer residual rows than weights, the dual form is solved instead
    (chosen while tracing for a static batch size, at run time for a dynamic one, as Keras gives
    arrays whose last batch is partial):
    `delta = D^-1 J^T (J D^-1 J^T + mu I)^-1 r`, a rows x rows system; for a cross-entropy the
    rows are `F_i^T J_i` and `r_i = q_i` with `F_i q_i = b_i` (`CrossEntropy.row_residuals`).
    With `curvature="hessian"`, `J^T J` is replaced by half the Hessian of the loss (Newton's
    method; for tiny models).

    With `curvature_batch_size=m` (subsampled Gauss-Newton), `J^T J` (or `J^T H J`) is
    estimated each step from `m` examples of the batch drawn at random without replacement
    (`curvature_sample`, a stateless draw from `seed` and the step number), their rows scaled
    by `sqrt(batch / m)`; the gradient `J^T r` (one backward pass), the accept/reject test and
    the penalties' rows stay those of the whole batch. When the sample has fewer residual rows
    than there are weights, the step is solved through the rows x rows system (Woodbury):
    ```
    A = rows of the sample * sqrt(batch / m),   g = J^T r of the whole batch
    delta = (g - A^T (A A^T + mu I)^-1 A g) / mu        = (A^T A + mu I)^-1 g
    ```
    A step then costs O(m^2 x outputs^2 x weights) instead of O(batch x outputs x weights^2),
    which makes full-batch training of a classifier cheap: on the digits classifier of
    `benchmarks/peers/lm_digits.py` (full batch, 2,410 weights, seeds 0-4, every method fed
    by a `tf.data` pipeline), `curvature_batch_size=32` reached 97% validation accuracy in a
    median 0.95 s (12-34 epochs; the first, tracing, 0.55-0.74 s, the others about 13 ms) where
    the exact step took 8.9 s (6 epochs). Adam(0.01) on batches of 32, the fastest of three
    learning rates, took a median 0.71 s (5-12 epochs; its first 0.37-0.43 s): not faster than
    Adam there, whose step traces in a fraction of the time. Sampling leaves the estimate
    noisy: more epochs, each far cheaper.

    `mu_rule`:
    - `"tutorial"`: `mu <- mu / mu_decrease` after an accepted step; a rejected trial retries
      with `mu * mu_increase` (as MATLAB `trainlm` and tf-levenberg-marquardt).
    - `"nielsen"`: gain ratio `rho = (L(w) - L(w - delta)) / (delta^T J^T r + mu delta^T D
      delta)`; accepted when `rho > 0`, then `mu <- mu * max(1/3, 1 - (2 rho - 1)^3)`,
      `nu <- 2`; rejected: `mu <- mu * nu`, `nu <- 2 nu`. Measured against `"tutorial"` with
      `benchmarks/lm_defaults_sweep.py`: on the 6-D Rosenbrock fit (311 weights, 50 epochs, 10
      initial weights) its validation MSE is lower on 9 of 10 seeds (median 0.00084 against
      0.0076), but on the tutorial's 2-D task (31 weights, 100 epochs, 5 seeds) higher on all
      5 (median 0.036 against 0.009): there its `mu` stays near 0.03 while the tutorial rule's
      falls to 1e-6. Hence not the default.
    - `"fixed"`: one trial at the given `mu`, taken whenever its loss is finite (`mu=0` gives
      Gauss-Newton, see `GaussNewton`).
    `mu` is clipped to `[mu_min, mu_max]`. The default `mu_min` depends on the compiled loss:
    `trainlm`'s 1e-10 for a squared error, 0.1 for a cross-entropy trained on mini-batches
    (`mu_rules.CROSS_ENTROPY_MU_MIN`: a cross-entropy has no finite minimiser on a batch it
    separates, and without a floor the steps fit each batch exactly). When `fit` runs one batch
    an epoch (`MuAdaptation` reads `steps` from `fit`: full-batch training), every step is
    judged on the whole training loss and a cross-entropy takes the squared error's 1e-10:
    on the digits classifier of `benchmarks/peers/lm_digits.py` (full batch, seed 0), 97%
    validation accuracy after 6 epochs (8.9 s), where the floor 0.1 had not reached it after
    95 epochs (120 s).
    A `fit` over a dataset that yields another batch each one-step epoch is mini-batch training:
    pass `mu_min` there.

    Args:
        learning_rate: Float > 0, multiplies the step. Defaults to `1.0` (the plain LM step).
        mu: Float >= 0, initial damping (raised to `mu_min` if below it). Defaults to `1e-3`
            (`trainlm`'s `mu`).
        mu_min: None or float >= 0, lower bound of `mu`. Defaults to `None`: 1e-10 for a
            squared error, 0.1 for a cross-entropy on several batches an epoch, 1e-10 for
            one on one batch an epoch.
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
        jacobian_chunk_rows: None or int >= 1, examples whose Jacobian is held at once.
            Defaults to `None`: `JACOBIAN_BUDGET // (weights x outputs per example)`, at
            least 1 (`keras_cluster.optimizers.jacobian.JACOBIAN_BUDGET` = 2**22 entries).
        curvature_batch_size: None or int >= 1, examples of each batch on which the
            curvature is estimated (subsampled Gauss-Newton, above); a batch no larger is
            used whole. Needs `mu > 0` (not `GaussNewton`) and `curvature="gauss_newton"`.
            Defaults to `None`: the whole batch (the exact step).
        seed: None or int >= 0, the seed of the curvature samples. Defaults to `None`: drawn
            as Keras draws a default seed (`keras.utils.set_random_seed` fixes it) when
            `curvature_batch_size` is set, and saved in the config.
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
        Schraudolph, N. N. (2002). Fast curvature matrix-vector products for second-order
        gradient descent. Neural Computation 14(7).
    """

    def __init__(
        self,
        learning_rate=1.0,
        mu=1e-3,
        mu_min=None,
        mu_max=1e10,
        mu_increase=10.0,
        mu_decrease=10.0,
        max_attempts=10,
        mu_rule="tutorial",
        damping="identity",
        curvature="gauss_newton",
        jacobian_chunk_rows=None,
        curvature_batch_size=None,
        seed=None,
        name="levenberg_marquardt",
        **kwargs,
    ):
        validate("learning_rate", learning_rate, POSITIVE)
        validate("mu", mu, NON_NEGATIVE)
        validate("mu_min", mu_min, None, NON_NEGATIVE)
        validate("mu_max", mu_max, POSITIVE)
        floors = (LEAST_SQUARES_MU_MIN, CROSS_ENTROPY_MU_MIN) if mu_min is None else (mu_min,)
        if mu_max <= max(floors):
            raise ValueError(
                f"`mu_max` should be > `mu_min` ({max(floors)!r} when `mu_min` is None). "
                f"Received: mu_max={mu_max!r}, mu_min={mu_min!r}"
            )
        validate("mu_increase", mu_increase, GREATER_THAN_ONE)
        validate("mu_decrease", mu_decrease, GREATER_THAN_ONE)
        validate("max_attempts", max_attempts, POSITIVE_INT)
        validate("mu_rule", mu_rule, Options(*MU_RULES))
        validate("damping", damping, Options(*DAMPINGS))
        validate("curvature", curvature, Options(*CURVATURES))
        if mu_rule != "fixed" and not 0 < mu <= mu_max:  # a mu below mu_min starts at mu_min
            raise ValueError(
                f"`mu` should be > 0 and <= mu_max for mu_rule={mu_rule!r}. "
                f"Received: mu={mu!r}, mu_max={mu_max!r}"
            )
        validate("jacobian_chunk_rows", jacobian_chunk_rows, None, POSITIVE_INT)
        validate("curvature_batch_size", curvature_batch_size, None, POSITIVE_INT)
        validate("seed", seed, None, NON_NEGATIVE_INT)
        if curvature_batch_size is not None and curvature == "hessian":
            raise ValueError(
                "`curvature_batch_size` estimates the Gauss-Newton matrix on a sample; the "
                "exact Hessian has no such estimate. Received: "
                f"curvature_batch_size={curvature_batch_size!r}, curvature='hessian'"
            )
        if curvature_batch_size is not None and mu_rule == "fixed" and mu == 0:
            raise ValueError(
                "`curvature_batch_size` needs `mu` > 0: the curvature estimated on a sample "
                "is singular along the gradient's other directions. Received: "
                f"curvature_batch_size={curvature_batch_size!r}, mu={mu!r}, mu_rule='fixed'"
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
        self.mu_min = None if mu_min is None else float(mu_min)
        self.mu_max = float(mu_max)
        self.mu_increase = float(mu_increase)
        self.mu_decrease = float(mu_decrease)
        self.max_attempts = max_attempts
        self.mu_rule = mu_rule
        self.damping = damping
        self.curvature = curvature
        self.jacobian_chunk_rows = jacobian_chunk_rows
        self.curvature_batch_size = curvature_batch_size
        if seed is None and curvature_batch_size is not None:
            # Drawn as Keras draws a default seed (`keras.random.SeedGenerator`), from Python's
            # generator, which `keras.utils.set_random_seed` fixes.
            seed = random.randint(1, int(1e9))
        self.seed = seed

    def mu_floor(self, cross_entropy, one_batch_per_epoch=False):
        """The lower bound of `mu` for a squared error or (`cross_entropy=True`) a cross-entropy.

        `one_batch_per_epoch`: whether `fit` trains on one batch an epoch (the whole training
        data), where a cross-entropy needs no floor above the squared error's.
        """
        if self.mu_min is not None:
            return self.mu_min
        if cross_entropy and not one_batch_per_epoch:
            return CROSS_ENTROPY_MU_MIN
        return LEAST_SQUARES_MU_MIN

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

    def train_step(self, model, data, one_batch_per_epoch=False):
        """One Levenberg-Marquardt step of `model` on a batch; run by `MuAdaptation`.

        `one_batch_per_epoch`: whether `fit` trains on one batch an epoch (see `mu_floor`).
        """
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        variables = model.trainable_variables
        if not variables:
            raise ValueError("LevenbergMarquardt needs a model with trainable weights.")
        penalties = weight_penalties(model)
        weights = [tf.convert_to_tensor(v.value) for v in variables]
        non_trainable = [tf.convert_to_tensor(v.value) for v in model.non_trainable_variables]
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1

        y_pred, _, losses = model.stateless_call(
            weights, non_trainable, x, training=False, return_losses=True
        )
        check_only_weight_penalties(model, losses, penalties)
        checks = _check_inference_mode(model, weights, non_trainable, x, y_pred)
        model.compute_loss(x, y, y_pred, sample_weight, training=True)  # builds the losses
        terms = loss_terms(model, y_pred, y, sample_weight, replicas)
        rule = MuRule(
            self.mu_rule,
            self.max_attempts,
            self.mu_increase,
            self.mu_decrease,
            self.mu_floor(isinstance(terms, CrossEntropy), one_batch_per_epoch),
            self.mu_max,
        )
        theta = ops.concatenate([ops.reshape(ops.cast(w, "float64"), (-1,)) for w in weights], 0)
        penalty = ops.concatenate(
            [ops.full((_size(w),), p, "float64") for w, p in zip(weights, penalties, strict=True)],
            0,
        )
        regularised = any(penalties)

        def loss_at(trial_weights):
            outputs = model.stateless_call(trial_weights, non_trainable, x, training=False)[0]
            return terms.loss(flat_outputs(outputs))

        def penalty_at(trial_theta):
            return ops.sum(penalty * ops.square(trial_theta)) if regularised else 0.0

        with tf.control_dependencies(checks):  # no update before the checks pass
            outputs = tf.identity(flat_outputs(y_pred))
        loss = terms.loss(outputs)
        num_weights = theta.shape[0]
        mus, nus = rule.ladder(self._mu.value, self._nu.value)
        dtype = weights[0].dtype
        sampled = self.curvature_batch_size is not None
        if sampled:  # subsampled Gauss-Newton: the curvature from a sample of the batch
            batch_rows = ops.shape(outputs)[0]
            index = curvature_sample(
                batch_rows, self.curvature_batch_size, self.seed, self.iterations.value
            )
            # Rows weighted by sqrt(batch / sample): the sample's sum estimates the batch's.
            root = ops.sqrt(ops.cast(batch_rows, dtype) / ops.cast(ops.shape(index)[0], dtype))
            x_curvature = keras.tree.map_structure(lambda t: tf.gather(t, index), x)
        else:
            index, root, x_curvature = None, None, x

        def curvature_factor():
            factor = ops.cast(terms.curvature_factor(outputs), dtype)
            return tf.gather(factor, index) * root if sampled else factor

        def whole_batch_gradient():
            half_gradient = ops.cast(terms.half_gradient(outputs), dtype)
            return output_vjp(model, weights, non_trainable, x, half_gradient)

        def solve(dual):
            """Build the damped system in one form, walk the mu ladder on it.

            Returns `(step, any_accepted, accepted_mu, rho, loss)`, the same shapes for both
            forms, so that the form can be chosen at run time.
            """
            step_loss = loss
            if self.curvature == "hessian":
                curvature, gradient = _half_hessian_and_gradient(weights, loss_at)
            elif dual:
                # The rows F^T J in the model's dtype (float32: the Gram matrix ~4x faster than
                # in float64 on CPU); the damped system and the step are float64.
                jacobian = output_jacobian(model, weights, non_trainable, x_curvature)
                rows = ops.reshape(scaled_rows(curvature_factor(), jacobian), (-1, num_weights))
                if sampled:  # the gradient of the whole batch is not in the rows' span
                    gradient = whole_batch_gradient()
                else:
                    residuals = ops.reshape(terms.row_residuals(outputs), (-1,))
                    gradient = tf.linalg.matvec(
                        ops.cast(rows, "float64"), residuals, transpose_a=True
                    )
            else:
                chunk_rows = self.jacobian_chunk_rows or default_chunk_rows(
                    num_weights, outputs.shape[-1]
                )
                # Sampled: the sums give the sample's curvature alone (its gradient would be
                # the sample's, not the whole batch's).
                curvature, gradient = gauss_newton_sums(
                    model,
                    weights,
                    non_trainable,
                    x_curvature,
                    curvature_factor(),
                    None if sampled else ops.cast(terms.half_gradient(outputs), dtype),
                    chunk_rows,
                )
                if sampled:
                    gradient = whole_batch_gradient()
            if replicas > 1:
                curvature, gradient, step_loss = context.all_reduce(
                    "sum", [curvature, gradient, step_loss]
                )
            if regularised:
                curvature = curvature + ops.diag(penalty)
                gradient = gradient + penalty * theta
                step_loss = step_loss + penalty_at(theta)

            scaled = None
            if dual:
                scale = damping_scale(
                    ops.cast(ops.sum(ops.square(rows), 0), "float64"), self.damping
                )
                scaled = rows * ops.cast(scale, rows.dtype)
                gram = ops.cast(ops.matmul(scaled, ops.transpose(scaled)), "float64")
                # Sampled: the Woodbury solve of (A^T A + mu I) z = S g; else the dual of J^T r.
                system = (gram, gradient * scale if sampled else residuals)
                scaled = ops.cast(scaled, "float64")
            else:
                scale = damping_scale(tf.linalg.diag_part(curvature), self.damping)
                system = (curvature * scale[:, None] * scale[None, :], gradient * scale)
            learning_rate = ops.cast(self.learning_rate, "float64")

            def trial(trial_mu):
                # A damped matrix that is not numerically positive definite (J^T J summed in
                # float32) gives a non-finite trial, rejected: the ladder retries with a larger
                # mu. Only a fixed mu (Gauss-Newton, Newton) falls back on a pseudo-inverse.
                if dual and sampled:
                    gram, rhs = system
                    step = low_rank_damped_solve(scaled, rhs, trial_mu, gram=gram)
                else:
                    solution = damped_solve(
                        *system,
                        ops.reshape(trial_mu, (1,)),
                        pseudo_inverse_fallback=rule.name == "fixed",
                    )[0]
                    step = solution
                    if dual:
                        step = tf.linalg.matvec(scaled, solution, transpose_a=True)
                step = step * scale
                trial_loss = loss_at(_moved(weights, -learning_rate * step))
                if replicas > 1:
                    trial_loss = context.all_reduce("sum", trial_loss)
                return step, trial_loss + penalty_at(theta - learning_rate * step)

            # The ladder is walked one damped solve at a time (memory: one weights^2 factor),
            # and on one replica it stops at the first accepted trial. Under tf.distribute every
            # trial is evaluated, since an all-reduce may not sit inside control flow of the
            # replica function.
            if replicas > 1:
                steps, trial_losses = zip(*[trial(m) for m in ops.unstack(mus)], strict=True)
                steps, trial_losses = ops.stack(steps), ops.stack(trial_losses)
                accepted = rule.accepts(trial_losses, steps, step_loss)
                any_accepted = ops.any(accepted)
                first = ops.argmax(ops.cast(accepted, "int32"))
                step, trial_loss = ops.take(steps, first, axis=0), ops.take(trial_losses, first)
            else:

                def walk(index, found, step, trial_loss):
                    step, trial_loss = trial(ops.take(mus, index))
                    found = rule.accepts(trial_loss[None], step[None], step_loss)[0]
                    return index + 1, found, step, trial_loss

                count, any_accepted, step, trial_loss = tf.while_loop(
                    lambda index, found, *_: (index < rule.attempts) & ~found,
                    walk,
                    (
                        ops.convert_to_tensor(0, "int32"),
                        ops.convert_to_tensor(False),
                        ops.zeros((num_weights,), "float64"),
                        ops.convert_to_tensor(float("inf"), "float64"),
                    ),
                    parallel_iterations=1,
                )
                first = count - 1
            accepted_mu = ops.take(mus, first)
            rho = gain_ratio(step_loss, trial_loss, step, gradient, accepted_mu, scale)
            return step, any_accepted, accepted_mu, rho, step_loss

        # The dual form (a rows x rows system) when the batch has fewer residual rows than
        # there are weights. With a static batch size the form is chosen while tracing; Keras
        # gives arrays whose last batch is partial a dynamic batch size, and then it is chosen
        # at run time (both forms traced), so `fit(x, y, batch_size=32)` gets it too.
        # With `curvature_batch_size`, the rows are those of the sample (at most that many
        # examples), so the form is chosen from it while tracing.
        dual_possible = self.curvature == "gauss_newton" and replicas == 1 and not regularised
        static_rows = outputs.shape[0]
        if sampled:
            static_rows = min(static_rows or self.curvature_batch_size, self.curvature_batch_size)
        if not dual_possible:
            result = solve(False)
        elif static_rows is not None and outputs.shape[1] is not None:
            result = solve(static_rows * outputs.shape[1] < num_weights)
        else:
            dynamic_rows = ops.shape(outputs)[0] * ops.shape(outputs)[1]
            result = tf.cond(dynamic_rows < num_weights, lambda: solve(True), lambda: solve(False))
        step, any_accepted, accepted_mu, rho, loss = result
        mu, nu = rule.update(any_accepted, accepted_mu, rho, mus, nus, self._nu.value)
        self._mu.assign(mu)
        self._nu.assign(nu)

        step = ops.where(any_accepted, step, 0.0) / replicas
        super().apply(_unflatten(weights, step), variables)

        batch_size = ops.shape(keras.tree.flatten(x)[0])[0]
        keras_internals.update_loss_tracker(model, loss, batch_size)
        logs = model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        logs["mu"] = tf.convert_to_tensor(self._mu.value)
        return logs

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
                "jacobian_chunk_rows": self.jacobian_chunk_rows,
                "curvature_batch_size": self.curvature_batch_size,
                "seed": self.seed,
            }
        )
        return config


def _float64_constant(value):
    """An initializer exact in float64 (`keras.initializers.Constant` rounds through float32)."""

    def initializer(shape, dtype=None):
        return ops.full(shape, value, dtype="float64")

    return initializer


def _check_inference_mode(model, weights, non_trainable, x, y_pred):
    """Fails the step when a layer computes other outputs in training mode than in inference.

    The step evaluates the model with `training=False`, a deterministic function of its
    weights (Levenberg-Marquardt compares losses of trial weights on the same function).
    Dropout, noise layers and trainable BatchNormalization compute other outputs when Keras's
    own `fit` trains: rather than a silent difference, the step compares both modes on the
    batch (one more forward pass) and raises, naming the layers that take `training`. Dense and
    EinsumDense take `training` and ignore it (`keras_internals.TRAINING_ARGUMENT_UNUSED`): a
    model made of them alone pays no such pass.

    Returns:
        The list of assertion ops (empty when no layer takes `training`).
    """
    layers = keras_internals.layers_with_training_argument(model)
    if not layers:
        return []
    trained = model.stateless_call(weights, non_trainable, x, training=True)[0]
    suspects = [layer for layer in layers if isinstance(layer, _TRAINING_TIME_LAYERS)] or layers
    names = ", ".join(f"{layer.name} ({type(layer).__name__})" for layer in suspects)
    outputs = zip(keras.tree.flatten(y_pred), keras.tree.flatten(trained), strict=True)
    checks = []
    for inference, training in outputs:
        tolerance = 1e-6 * (1.0 + ops.max(ops.abs(inference)))
        check = tf.debugging.assert_less_equal(
            ops.max(ops.abs(training - inference)),
            ops.cast(tolerance, inference.dtype),
            message=(
                "LevenbergMarquardt evaluates the model with training=False (a deterministic "
                "function of its weights), but its outputs differ in training mode: "
                f"{names}. Set Dropout/noise rates to 0, freeze "
                "BatchNormalization (`layer.trainable = False`), or use another optimizer."
            ),
        )
        checks.append(check)
    return [check for check in checks if check is not None]  # None when run eagerly


def _size(tensor):
    size = 1
    for dim in tensor.shape:
        size *= dim
    return size


def _half_hessian_and_gradient(weights, loss_at):
    flat = ops.concatenate([ops.reshape(ops.cast(w, "float64"), (-1,)) for w in weights], axis=0)
    with tf.GradientTape() as outer:
        outer.watch(flat)
        with tf.GradientTape() as inner:
            inner.watch(flat)
            loss = loss_at(_unflatten(weights, flat))
        gradient = inner.gradient(loss, flat)
    hessian = outer.jacobian(gradient, flat)
    return 0.5 * hessian, 0.5 * gradient


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
