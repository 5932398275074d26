"""The callback that runs Levenberg-Marquardt steps with an adaptive damping `mu` in `fit`."""

import functools

import keras
import numpy as np

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.optimizers.levenberg_marquardt import LevenbergMarquardt


@keras_cluster_export
class MuAdaptation(keras.callbacks.Callback):
    """Runs `LevenbergMarquardt` steps in `fit`, adapting `mu`, and stops when `mu` saturates.

    Keras's `train_step` hands an optimizer gradients only, while a Levenberg-Marquardt step
    needs the model (its residual Jacobian and trial evaluations). At the start of `fit` this
    callback points `model.train_step` at the optimizer's step and rebuilds the (compiled)
    train function, so every batch does one LM step with the retry ladder and the `mu` rule of
    the optimizer (`mu_rule`: the tutorial's /10 on success, x10 and retry on failure, with
    `trainlm`'s bounds 1e-10 ... 1e10; or Nielsen's gain-ratio rule). `mu` is logged as `mu`.
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
        if verbose not in (0, 1):
            raise ValueError(f"`verbose` should be 0 or 1. Received: verbose={verbose!r}")
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
        self.model.train_step = functools.partial(optimizer.train_step, self.model)
        self.model.make_train_function(force=True)

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

    def on_train_end(self, logs=None):
        self.model.__dict__.pop("train_step", None)

    def get_config(self):
        return {"verbose": self.verbose}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
