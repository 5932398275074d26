"""The callback that runs Levenberg-Marquardt steps with an adaptive damping `mu` in `fit`."""

import functools

import keras
import numpy as np

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.optimizers import keras_internals
from keras_cluster.optimizers.levenberg_marquardt import LevenbergMarquardt
from keras_cluster.validation import Options, validate

_COMPILED_STEP = "_keras_cluster_lm_train_function"


@keras_cluster_export("keras_cluster.callbacks.MuAdaptation", keras_serializable=True)
class MuAdaptation(keras.callbacks.Callback):
    """Runs `LevenbergMarquardt` steps in `fit`, adapting `mu`, and stops when `mu` saturates.

    Keras's `train_step` hands an optimizer gradients only, while a Levenberg-Marquardt step
    needs the model (its residual Jacobian and trial evaluations). This callback compiles the
    optimizer's step into a train function once per model, compilation and optimizer (later
    `fit` calls reuse it, with no retracing) and hands it to `fit` for each batch, putting the
    model's own train function back after every call, also when a step raises, so a later
    `fit` without this callback trains as Keras would. Every batch does one LM step with the
    retry ladder and the `mu` rule of
    the optimizer (`mu_rule`: the tutorial's /10 on success, x10 and retry on failure, within
    `mu_min` ... `mu_max`, by default `trainlm`'s 1e-10 ... 1e10 for a squared error and
    0.1 ... 1e10 for a cross-entropy on mini-batches; or Nielsen's gain-ratio rule). `mu` is
    logged as `mu`. Where `fit` runs one batch an epoch (`steps` of the callbacks' `params` is
    1: full-batch training), a cross-entropy's default floor is the squared error's 1e-10
    (`LevenbergMarquardt.mu_floor`).
    When `mu` reaches the optimizer's `mu_max` (no step can reduce the loss any more) training
    stops with a message, as MATLAB's `trainlm` does ("Maximum MU reached").

    `mu` lives in the optimizer's variables, so it is restored by checkpoints,
    `BackupAndRestore` and `.keras` files; the callback itself keeps no state between fits.

    Formula:
    ```
    tutorial: mu <- mu / 10 after an accepted step;  mu <- 10 mu and retry after a rejected one
    nielsen:  rho = actual / predicted loss reduction; rho > 0: mu <- mu max(1/3, 1-(2rho-1)^3)
              otherwise mu <- mu nu, nu <- 2 nu
    stop when mu >= mu_max
    ```

    Args:
        verbose: 0 or 1; 1 prints a line when training stops at `mu_max`. Defaults to 1.

    Returns:
        A callback for `model.fit(..., callbacks=[MuAdaptation()])`; `stopped_epoch` is the
        epoch at which `mu_max` stopped training (`None` otherwise).

    Example:
    >>> import keras, numpy as np
    >>> from keras_cluster.optimizers import LevenbergMarquardt
    >>> x = np.linspace(-1, 1, 32)[:, None]; y = np.sin(3 * x)
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(6, "tanh"),
    ...                           keras.layers.Dense(1)])
    >>> model.compile(optimizer=LevenbergMarquardt(), loss="mse")
    >>> history = model.fit(x, y, epochs=3, callbacks=[MuAdaptation()], verbose=0)
    >>> len(history.history["mu"])
    3

    References:
        Hagan, M. T., Menhaj, M. B. (1994). Training feedforward networks with the Marquardt
        algorithm. IEEE Transactions on Neural Networks 5(6).
        Nielsen, H. B. (1999). Damping parameter in Marquardt's method. IMM-REP-1999-05, DTU.
    """

    def __init__(self, verbose=1):
        super().__init__()
        validate("verbose", verbose, Options(0, 1))
        self.verbose = verbose
        self.stopped_epoch = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.stopped_epoch = None
        self._epoch = 0
        optimizer = self.model.optimizer
        if not isinstance(optimizer, LevenbergMarquardt):
            raise ValueError(
                "MuAdaptation drives a `keras_cluster.optimizers.LevenbergMarquardt` optimizer. "
                f"Received: model.optimizer={optimizer!r}"
            )
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        one_batch_per_epoch = (self.params or {}).get("steps") == 1
        self._train_function = _lm_train_function(self.model, optimizer, one_batch_per_epoch)

    def on_train_batch_begin(self, batch, logs=None):
        self.model.train_function = self._train_function

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        optimizer = self.model.optimizer
        if float(np.asarray(optimizer.mu)) >= optimizer.mu_max:
            self.model.stop_training = True
            self.stopped_epoch = self._epoch
            if self.verbose:
                print(
                    f"\nMuAdaptation: maximum mu reached ({optimizer.mu_max:g}) at epoch "
                    f"{self._epoch + 1}; no step reduces the loss, stopping training."
                )

    def get_config(self):
        return {"verbose": self.verbose}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _lm_train_function(model, optimizer, one_batch_per_epoch=False):
    """The compiled LM train function of `model`, built once and reused while still valid.

    It is cached on the model with the train function `fit` built for the model's current
    compilation (`compile` discards that one), the optimizer and `one_batch_per_epoch` (the
    step's default `mu` floor depends on it): a recompilation, another optimizer or a change
    between full-batch and mini-batch fits builds a new one. Each call puts the model's own
    train function back.
    """
    own = model.train_function
    cached = model.__dict__.get(_COMPILED_STEP)
    if (
        cached is not None
        and cached[0] is own
        and cached[1] is optimizer
        and cached[2] == one_batch_per_epoch
    ):
        return cached[3]
    compiled = keras_internals.compile_train_function(
        model,
        functools.partial(optimizer.train_step, model, one_batch_per_epoch=one_batch_per_epoch),
    )

    def train_function(iterator):
        try:
            return compiled(iterator)
        finally:
            model.train_function = own

    model.__dict__[_COMPILED_STEP] = (own, optimizer, one_batch_per_epoch, train_function)
    return train_function
