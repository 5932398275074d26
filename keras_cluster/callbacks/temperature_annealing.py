"""Anneal a temperature variable (Soft Nearest Neighbor Loss) by epoch."""

import keras

from keras_cluster.api_export import keras_cluster_export
from keras_cluster.validation import NON_NEGATIVE, POSITIVE, InstanceOf, validate


def _is_variable(value):
    return isinstance(value, keras.Variable)


@keras_cluster_export("keras_cluster.callbacks.TemperatureAnnealing")
class TemperatureAnnealing(keras.callbacks.Callback):
    """Set a temperature variable to `initial_temperature / (1 + epoch)^rate` each epoch.

    Formula (epoch counted from 0, so the first epoch runs at `initial_temperature`):

    ```
    T_epoch = initial_temperature / (1 + epoch) ** rate
    ```

    With the defaults this is the schedule of Agarap & Azcarraga, T = 1 / (1 + epoch)^0.55.
    The temperature is written into a `keras.Variable`, so the compiled (and XLA) train step
    reads the new value with no retracing. Which variable: `temperature` if given, else the model's
    `temperature` attribute (`keras_cluster.models.SoftNearestNeighborModel`), else its
    compiled loss's (`keras_cluster.losses.SoftNearestNeighborLoss`). A learnable temperature
    cannot be annealed and raises. The current value is logged as `temperature`.

    Args:
        temperature: optional `keras.Variable` to write; found on the model when `None`.
        initial_temperature: positive float, temperature of epoch 0.
        rate: non-negative float, exponent of the decay.

    Example:

    >>> import keras, numpy as np
    >>> from keras_cluster.losses import SoftNearestNeighborLoss
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> model.compile("adam", SoftNearestNeighborLoss())
    >>> x, y = np.random.rand(32, 4), np.arange(32) % 2
    >>> history = model.fit(x, y, epochs=3, callbacks=[TemperatureAnnealing()], verbose=0)
    >>> [round(t, 3) for t in history.history["temperature"]]
    [1.0, 0.683, 0.546]

    References:
        Agarap & Azcarraga, "Improving k-Means Clustering Performance with Disentangled Internal
        Representations", IJCNN 2020.
    """

    def __init__(self, temperature=None, initial_temperature=1.0, rate=0.55):
        super().__init__()
        validate(
            "temperature",
            temperature,
            None,
            InstanceOf(keras.Variable, description="a `keras.Variable`"),
        )
        validate("initial_temperature", initial_temperature, POSITIVE)
        validate("rate", rate, NON_NEGATIVE)
        self.temperature = temperature
        self.initial_temperature = float(initial_temperature)
        self.rate = float(rate)
        self._target = None

    def schedule(self, epoch):
        """The temperature of `epoch` (a Python float)."""
        return self.initial_temperature / (1.0 + epoch) ** self.rate

    def _find_target(self):
        if self.temperature is not None:
            return self.temperature
        candidates = [getattr(self.model, "temperature", None)]
        candidates.append(getattr(getattr(self.model, "loss", None), "temperature", None))
        for candidate in candidates:
            if _is_variable(candidate):
                return candidate
        raise ValueError(
            "TemperatureAnnealing found no temperature variable: pass `temperature=`, or train a "
            "`SoftNearestNeighborModel` (not with `learn_temperature=True`) or a model compiled "
            f"with `SoftNearestNeighborLoss`. Received: model={self.model!r} with "
            f"temperature={candidates[0]!r}, loss={getattr(self.model, 'loss', None)!r}"
        )

    def on_train_begin(self, logs=None):
        self._target = self._find_target()

    def on_epoch_begin(self, epoch, logs=None):
        self._target.assign(self.schedule(epoch))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["temperature"] = float(keras.ops.convert_to_numpy(self._target))
